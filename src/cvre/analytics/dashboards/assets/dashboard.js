/* CVRE dashboards: every number and figure is recomputed from the embedded deal rows when a slicer changes. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("cvre-data").textContent);
  const rows = D.deals;
  const COLORS = { ev: "#2f6fad", leak: "#c0392b", healthy: "#27ae60", model: "#8e44ad", truth: "#95a5a6",
    causal: "#e67e22" };
  const PLOT = { displaylogo: false, responsive: true };
  const LAYOUT = { margin: { t: 10, r: 20, b: 60, l: 80 }, height: 340, paper_bgcolor: "#fff", plot_bgcolor: "#fff" };

  const euros = (v) => {
    const a = Math.abs(v);
    if (a >= 1e9) return "EUR " + (v / 1e9).toFixed(2) + "B";
    if (a >= 1e6) return "EUR " + (v / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return "EUR " + (v / 1e3).toFixed(0) + "k";
    return "EUR " + v.toFixed(0);
  };
  const pct = (v) => (Number.isFinite(v) ? (v * 100).toFixed(1) + "%" : "n/a");
  const times = (v) => (Number.isFinite(v) ? v.toFixed(1) + "x" : "n/a");
  const words = (s) => s.replace(/_/g, " ");
  const sum = (col, idx) => idx.reduce((s, i) => s + col[i], 0);
  const ratio = (a, b) => (b ? a / b : 0);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const filter = (key) => D.filters.find((f) => f.key === key);

  function selection() {
    const active = D.filters.filter((f) => f.choice >= 0);
    const idx = [];
    for (let i = 0; i < rows.ev.length; i++) {
      if (active.every((f) => rows.seg[f.key][i] === f.choice)) idx.push(i);
    }
    return idx;
  }

  function trust(idx) {
    const parts = {};
    for (const [name, col] of Object.entries(rows.trust)) {
      const known = idx.filter((i) => col[i] !== null);
      parts[name] = known.length ? sum(col, known) / known.length : NaN;
    }
    const shares = Object.values(parts).filter(Number.isFinite);
    return { parts, score: shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : NaN };
  }

  function aggregate(idx) {
    const a = { deals: idx.length, ev: sum(rows.ev, idx), leaked: sum(rows.leaked, idx), recovered: {}, trust: trust(idx) };
    D.scenarios.forEach((s) => { a.recovered[s.name] = sum(rows.recovered[s.name], idx); });
    a.recoverable = a.recovered[D.recoverable_scenario];
    a.behaviours = D.behaviours.map((b, bit) => {
      const flagged = idx.filter((i) => rows.flags[i] & (1 << bit));
      const primary = idx.filter((i) => rows.primary[i] === bit);
      return { name: b.name, haircut: b.haircut, deals: flagged.length, atRisk: sum(rows.ev, flagged) * b.haircut,
        leaked: sum(rows.leaked, primary) };
    });
    return a;
  }

  function groupBy(idx, key, col) {
    const f = filter(key);
    const totals = f.values.map(() => 0);
    const base = f.values.map(() => 0);
    idx.forEach((i) => { totals[rows.seg[key][i]] += col[i]; base[rows.seg[key][i]] += rows.ev[i]; });
    const order = f.values.map((_, k) => k).filter((k) => base[k] || totals[k]).sort((x, y) => totals[y] - totals[x]);
    const top = order.slice(0, D.top_values);
    const rest = order.slice(D.top_values);
    const out = { names: top.map((k) => f.values[k]), values: top.map((k) => totals[k]), ev: top.map((k) => base[k]) };
    if (rest.length) {
      out.names.push("other (" + rest.length + ")");
      out.values.push(rest.reduce((s, k) => s + totals[k], 0));
      out.ev.push(rest.reduce((s, k) => s + base[k], 0));
    }
    return out;
  }

  function kpis(cards) {
    document.getElementById("kpis").innerHTML = cards.map((c) =>
      `<div class="kpi ${c.tone || ""}"><div class="label">${esc(c.label)}</div>` +
      `<div class="value">${esc(c.value)}</div><div class="sub">${esc(c.sub || "")}</div></div>`).join("");
  }

  function table(id, headers, body) {
    const head = headers.map((h) => `<th class="${h.num ? "num" : ""}">${esc(h.label)}</th>`).join("");
    const lines = body.map((r) => "<tr>" + r.map((v, k) => `<td class="${headers[k].num ? "num" : ""}">${esc(v)}</td>`)
      .join("") + "</tr>");
    document.getElementById(id).innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${lines.join("")}</tbody></table>`;
  }

  const plot = (id, traces, layout) => Plotly.react(id, traces, Object.assign({}, LAYOUT, layout), PLOT);
  const breakdown = () => document.getElementById("breakdown").value;

  function renderHealth(idx, a) {
    const h = a.trust.score;
    kpis([
      { label: "Pipeline expected value", value: euros(a.ev), sub: a.deals.toLocaleString("en") + " deals" },
      { label: "Leaked EV", value: euros(a.leaked), sub: pct(ratio(a.leaked, a.ev)) + " of EV", tone: "bad" },
      { label: "Recoverable EV", value: euros(a.recoverable), sub: pct(ratio(a.recoverable, a.leaked)) + " of leakage",
        tone: "good" },
      { label: "Healthy EV", value: euros(a.ev - a.leaked), sub: "EV after leakage" },
      { label: "CRM trust score", value: pct(h), sub: "mean of four data-evidence shares" },
    ]);
    const steps = a.behaviours.filter((b) => b.haircut > 0);
    plot("waterfall", [{
      type: "waterfall", measure: ["absolute", ...steps.map(() => "relative"), "total"],
      x: ["Pipeline EV", ...steps.map((b) => words(b.name)), "Healthy EV"],
      y: [a.ev, ...steps.map((b) => -b.leaked), a.ev - a.leaked],
      text: [euros(a.ev), ...steps.map((b) => "-" + euros(b.leaked).slice(4)), euros(a.ev - a.leaked)],
      textposition: "outside", cliponaxis: false,
      increasing: { marker: { color: COLORS.ev } }, decreasing: { marker: { color: COLORS.leak } },
      totals: { marker: { color: COLORS.healthy } },
    }], { yaxis: { title: { text: "EUR" } }, showlegend: false });
    plot("behaviours", [{
      type: "bar", orientation: "h", y: a.behaviours.map((b) => words(b.name)), x: a.behaviours.map((b) => b.atRisk),
      text: a.behaviours.map((b) => `${euros(b.atRisk)} | ${b.deals} deals`), textposition: "auto",
      marker: { color: COLORS.leak },
    }], { xaxis: { title: { text: "EV at risk (EUR; a deal counts under each of its behaviours)" } },
      yaxis: { autorange: "reversed" }, margin: { t: 10, r: 20, b: 50, l: 130 } });
    const g = groupBy(idx, breakdown(), rows.leaked);
    plot("segments", [
      { type: "bar", name: "leaked EV", x: g.names, y: g.values, marker: { color: COLORS.leak },
        text: g.values.map(euros), textposition: "auto" },
      { type: "scatter", mode: "markers", name: "leaked share of EV", x: g.names, y: g.values.map((v, k) => ratio(v, g.ev[k])),
        yaxis: "y2", marker: { color: COLORS.ev, size: 9 } },
    ], { yaxis: { title: { text: "leaked EV (EUR)" } }, legend: { orientation: "h", y: 1.12 },
      yaxis2: { overlaying: "y", side: "right", tickformat: ".0%", rangemode: "tozero" }, xaxis: { type: "category" } });
    const parts = Object.entries(a.trust.parts);
    plot("trust", [{
      type: "bar", x: parts.map(([k]) => words(k)), y: parts.map(([, v]) => (Number.isFinite(v) ? v : 0)),
      text: parts.map(([, v]) => pct(v)), textposition: "auto", marker: { color: COLORS.ev },
    }], { yaxis: { tickformat: ".0%", range: [0, 1] } });
    const top = idx.filter((i) => rows.leaked[i] > 0).sort((x, y) => rows.leaked[y] - rows.leaked[x]).slice(0, D.top_deals);
    table("top-deals", [{ label: "deal" }, ...D.filters.map((f) => ({ label: f.label })), { label: "EV", num: true },
      { label: "leaked", num: true }, { label: "leak driver" }],
    top.map((i) => [rows.id[i], ...D.filters.map((f) => f.values[rows.seg[f.key][i]]), euros(rows.ev[i]),
      euros(rows.leaked[i]), words(D.behaviours[rows.primary[i]].name)]));
  }

  function rulebook(idx) {
    const tier = filter("tier");
    const rules = D.rulebook.map((r) => {
      const tiers = (r.tiers || []).map((t) => tier.values.indexOf(t));
      const scope = r.tiers ? idx.filter((i) => tiers.includes(rows.seg.tier[i])) : idx;
      const bits = r.behaviours.map((b) => 1 << D.behaviours.findIndex((x) => x.name === b));
      const deals = scope.filter((i) => bits.some((bit) => rows.flags[i] & bit)).length;
      const value = r.scenario ? sum(rows.recovered[r.scenario], scope) : null;
      return { r, deals, value };
    });
    rules.sort((x, y) => (y.value ?? -1) - (x.value ?? -1) || y.deals - x.deals);
    table("rulebook", [{ label: "priority" }, { label: "rule" }, { label: "deals affected", num: true },
      { label: "EV recovered", num: true }, { label: "ROI", num: true }, { label: "priced by" }],
    rules.map((x, k) => ["P" + (k + 1), x.r.rule, x.deals.toLocaleString("en"),
      x.value === null ? "trust (data quality)" : euros(x.value), x.value === null ? "-" : times(x.value / D.cost),
      x.r.scenario ? words(x.r.scenario) + (x.r.tiers ? " (tier " + x.r.tiers.join(", ") + " only)" : "") : "-"]));
  }

  function renderRecovery(idx, a, filtered) {
    const name = D.recoverable_scenario;
    const chosen = D.scenarios.find((s) => s.name === name);
    const truth = chosen.truth;
    const causal = chosen.causal !== null && rows.causal && rows.causal[name];
    const lead = causal ? [{ label: "Recovered EV (causal estimate)", tone: "good",
      value: euros(filtered ? sum(rows.causal[name], idx) : chosen.causal),
      sub: filtered ? "filtered deals (interval: whole pipeline only)"
        : "95% interval " + euros(chosen.ci_low) + " to " + euros(chosen.ci_high) + ", " + chosen.estimand }] : [];
    kpis([
      ...lead,
      { label: causal ? "Seed 000's rules" : "Recoverable EV", value: euros(a.recoverable),
        sub: words(name) + " scenario" + (causal ? " (EV x haircut x rate)" : ""), tone: causal ? "" : "good" },
      { label: "Governance ROI", value: times(a.recoverable / D.cost), sub: "on " + euros(D.cost) + " governance cost" },
      { label: "Share of leakage recovered", value: pct(ratio(a.recoverable, a.leaked)), sub: "of " + euros(a.leaked) },
      { label: "Leakage left", value: euros(a.leaked - a.recoverable), sub: "after the rules", tone: "bad" },
      { label: "Truth (simulated)", value: truth === null || filtered ? "n/a" : euros(truth),
        sub: truth === null ? "not known for this data" : filtered ? "whole pipeline only" : "true recovery, combined" },
    ]);
    const names = D.scenarios.map((s) => words(s.name));
    const traces = [{ type: "bar", name: "rule engine", x: names, y: D.scenarios.map((s) => a.recovered[s.name]),
      text: D.scenarios.map((s) => euros(a.recovered[s.name])), textposition: "auto", marker: { color: COLORS.ev } }];
    if (causal) {
      const est = D.scenarios.map((s) => (filtered ? sum(rows.causal[s.name] || [], idx) : s.causal));
      traces.unshift({ type: "bar", name: "causal (95% interval)", x: names, y: est, text: est.map(euros),
        textposition: "auto", marker: { color: COLORS.causal }, error_y: filtered ? undefined : { type: "data",
          symmetric: false, array: D.scenarios.map((s) => s.ci_high - s.causal),
          arrayminus: D.scenarios.map((s) => s.causal - s.ci_low) } });
    }
    for (const kind of filtered ? [] : ["model", "truth"]) {
      if (D.scenarios.some((s) => s[kind] !== null)) {
        traces.push({ type: "bar", name: kind === "model" ? "win model" : "truth (simulated)", x: names,
          y: D.scenarios.map((s) => s[kind]), text: D.scenarios.map((s) => (s[kind] === null ? "" : euros(s[kind]))),
          textposition: "auto", marker: { color: COLORS[kind] } });
      }
    }
    plot("scenarios", traces, { barmode: "group", yaxis: { title: { text: "EV recovered (EUR)" } },
      legend: { orientation: "h", y: 1.12 } });
    document.getElementById("scenarios-note").textContent = filtered
      ? "Model and truth estimates cover the whole pipeline: clear the filters to compare them." : "";
    const roi = D.scenarios.map((s) => a.recovered[s.name] / D.cost);
    plot("roi", [{ type: "bar", x: names, y: roi, text: roi.map(times), textposition: "auto", marker: { color: COLORS.healthy } }],
      { yaxis: { title: { text: "EV recovered / governance cost" } },
        shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 1, y1: 1, line: { dash: "dot", color: COLORS.leak } }] });
    rulebook(idx);
    const g = groupBy(idx, breakdown(), rows.recovered[name]);
    plot("start", [{ type: "bar", x: g.names, y: g.values, text: g.values.map(euros), textposition: "auto",
      marker: { color: COLORS.healthy } }], { yaxis: { title: { text: "recoverable EV (EUR)" } }, xaxis: { type: "category" } });
  }

  function update() {
    const idx = selection();
    const filtered = D.filters.some((f) => f.choice >= 0);
    document.getElementById("selection").textContent = filtered
      ? `Filtered: ${idx.length.toLocaleString("en")} of ${rows.ev.length.toLocaleString("en")} deals`
      : `All ${rows.ev.length.toLocaleString("en")} deals`;
    const a = aggregate(idx);
    if (document.body.dataset.page === "health") renderHealth(idx, a);
    else renderRecovery(idx, a, filtered);
  }

  function controls() {
    const bar = document.getElementById("filters");
    D.filters.forEach((f) => {
      f.choice = -1;
      const options = ['<option value="-1">All</option>', ...f.values.map((v, k) => `<option value="${k}">${esc(v)}</option>`)];
      const label = document.createElement("label");
      label.innerHTML = `${esc(f.label)}<select id="filter-${esc(f.key)}">${options.join("")}</select>`;
      label.querySelector("select").addEventListener("change", (e) => { f.choice = Number(e.target.value); update(); });
      bar.appendChild(label);
    });
    const reset = document.createElement("button");
    reset.textContent = "Clear filters";
    reset.id = "clear-filters";
    reset.addEventListener("click", () => {
      D.filters.forEach((f) => { f.choice = -1; document.getElementById("filter-" + f.key).value = "-1"; });
      update();
    });
    bar.appendChild(reset);
    const by = document.getElementById("breakdown");
    by.innerHTML = D.filters.map((f) => `<option value="${esc(f.key)}">${esc(f.label)}</option>`).join("");
    by.addEventListener("change", update);
  }

  controls();
  update();
})();

/* CVRE Clients page: customers, trends and target lists recomputed from the embedded rows when a slicer changes. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("cvre-data").textContent);
  const C = D.customers;
  const N = C.id.length;
  const PLOT = { displaylogo: false, responsive: true };
  const LAYOUT = { margin: { t: 10, r: 20, b: 60, l: 80 }, height: 340, paper_bgcolor: "#fff", plot_bgcolor: "#fff" };
  const BLUE = "#2f6fad", GREEN = "#27ae60", RED = "#c0392b";
  const money = (v) => {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + "B";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return (v / 1e3).toFixed(0) + "k";
    return v.toFixed(0);
  };
  const pct = (v) => (Number.isFinite(v) ? (v * 100).toFixed(1) + "%" : "n/a");
  const words = (s) => String(s).replace(/_/g, " ");
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const sum = (col, idx) => idx.reduce((s, i) => s + (col[i] || 0), 0);
  const plot = (id, traces, layout) => Plotly.react(id, traces, Object.assign({}, LAYOUT, layout), PLOT);
  const segName = (i) => D.filters[0].values[C.seg.segment[i]];
  let search = "";
  let targetName = Object.keys(D.targets)[0] || null;
  let current = [];

  function selection() {
    const active = D.filters.filter((f) => f.choice >= 0);
    const idx = [];
    for (let i = 0; i < N; i++) {
      if (active.every((f) => C.seg[f.key][i] === f.choice)) idx.push(i);
    }
    return idx;
  }

  function kpis(cards) {
    document.getElementById("kpis").innerHTML = cards.map((c) =>
      `<div class="kpi ${c.tone || ""}"><div class="label">${esc(c.label)}</div>` +
      `<div class="value">${esc(c.value)}</div><div class="sub">${esc(c.sub || "")}</div></div>`).join("");
  }

  function table(id, headers, body, extra) {
    const head = headers.map((h) => `<th class="${h.num ? "num" : ""}">${esc(h.label)}</th>`).join("");
    const lines = body.map((r) => "<tr>" + r.map((v, k) => `<td class="${headers[k].num ? "num" : ""}">${esc(v)}</td>`)
      .join("") + "</tr>");
    document.getElementById(id).innerHTML = (extra || "") +
      `<table><thead><tr>${head}</tr></thead><tbody>${lines.join("")}</tbody></table>`;
  }

  const COLUMNS = [
    ["customer", (i) => C.id[i]], ["segment", (i) => segName(i)], ["R", (i) => C.r[i]], ["F", (i) => C.f[i]],
    ["M", (i) => C.m[i]], ["recency_days", (i) => C.recency[i]], ["orders", (i) => C.orders[i]],
    ["revenue", (i) => C.revenue[i]], ["clv", (i) => (C.clv ? C.clv[i] : "")],
    ["clv_low", (i) => (C.clv_low ? C.clv_low[i] : "")], ["clv_high", (i) => (C.clv_high ? C.clv_high[i] : "")],
    ["p_alive", (i) => (C.p_alive ? C.p_alive[i] : "")], ["value_band", (i) => D.filters[2].values[C.seg.band[i]]],
    ["contact_by", (i) => C.contact_by[i]],
  ];

  function csv(idx) {
    const quote = (v) => (/[",\n]/.test(String(v)) ? '"' + String(v).replace(/"/g, '""') + '"' : String(v));
    return [COLUMNS.map((c) => c[0]).join(","), ...idx.map((i) => COLUMNS.map((c) => quote(c[1](i))).join(","))].join("\n");
  }

  function download(name, idx) {
    const blob = new Blob([csv(idx)], { type: "text/csv" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name + ".csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  window.CVRE = { csv: (which) => csv(which === "targets" ? targetRows() : current) };

  function renderKpis(idx) {
    const revenue = sum(C.revenue, idx);
    const orders = sum(C.orders, idx);
    const active = idx.filter((i) => C.recency[i] <= D.active_days).length;
    const repeat = idx.filter((i) => C.orders[i] > 1).length;
    const cards = [
      { label: "Customers", value: idx.length.toLocaleString("en"), sub: "with a purchase by " + D.headline.as_of },
      { label: "Active", value: active.toLocaleString("en"), sub: "bought in the last " + D.active_days + " days" },
      { label: "Revenue", value: money(revenue), sub: orders.toLocaleString("en") + " orders, all history" },
      { label: "Average basket", value: money(orders ? revenue / orders : 0), sub: "revenue per order" },
      { label: "Repeat rate", value: pct(idx.length ? repeat / idx.length : NaN), sub: "customers with 2+ orders" },
    ];
    if (C.clv) {
      cards.push({ label: "Lifetime value", value: money(sum(C.clv, idx)), tone: "good",
        sub: "next " + D.headline.clv_horizon_days + " days; 90% intervals per customer below" });
      const risk = idx.length ? idx.reduce((s, i) => s + 1 - C.p_alive[i], 0) / idx.length : NaN;
      cards.push({ label: "Churn risk", value: pct(risk), sub: "mean 1 - probability alive", tone: "bad" });
    }
    kpis(cards);
  }

  function renderKpiTrend() {
    const sel = document.getElementById("kpi-choice");
    const key = sel.value;
    const y = D.kpi_trend[key];
    const rate = key.endsWith("_rate");
    plot("kpi-trend", [{ type: "scatter", mode: "lines+markers", x: D.kpi_trend.period, y, marker: { color: BLUE } }],
      { yaxis: { tickformat: rate ? ".0%" : "", rangemode: "tozero" }, xaxis: { type: "category" } });
    const fmt = (k, v) => (v === null ? "n/a" : k.endsWith("_rate") ? pct(v) : money(v));
    const change = (v) => (v === null ? "n/a" : (v >= 0 ? "+" : "") + pct(v));
    const period = D.kpi_board.length ? D.kpi_board[0].period : "";
    document.getElementById("kpi-trend-note").innerHTML = `<b>KPI board, ${esc(period)}</b> (last complete period, ` +
      "whole base)" + "<table id=\"kpi-board\"><thead><tr><th>KPI</th><th class=\"num\">value</th>" +
      "<th class=\"num\">previous</th><th class=\"num\">change</th></tr></thead><tbody>" +
      D.kpi_board.map((r) => `<tr${r.kpi === key ? ' style="font-weight:600"' : ""}><td>${esc(words(r.kpi))}</td>` +
        `<td class="num">${esc(fmt(r.kpi, r.value))}</td><td class="num">${esc(fmt(r.kpi, r.previous))}</td>` +
        `<td class="num">${esc(change(r.change))}</td></tr>`).join("") + "</tbody></table>";
  }

  function renderSegments(idx) {
    const names = D.filters[0].values;
    const count = names.map(() => 0), revenue = names.map(() => 0);
    idx.forEach((i) => { count[C.seg.segment[i]] += 1; revenue[C.seg.segment[i]] += C.revenue[i]; });
    plot("segments", [
      { type: "bar", name: "customers", x: names.map(words), y: count, marker: { color: BLUE }, customdata: names },
      { type: "scatter", mode: "markers", name: "revenue", x: names.map(words), y: revenue, yaxis: "y2",
        marker: { color: GREEN, size: 10 }, customdata: names },
    ], { yaxis: { title: { text: "customers" } }, yaxis2: { overlaying: "y", side: "right", rangemode: "tozero" },
      legend: { orientation: "h", y: 1.12 }, xaxis: { type: "category" } });
    table("segment-rule", [{ label: "segment" }, { label: "R scores" }, { label: "F scores" }, { label: "action" },
      { label: "customers", num: true }],
    D.segments.map((s, k) => [words(s.segment), s.r_range, s.f_range, s.action, count[k].toLocaleString("en")]),
    "");
    const ranges = D.score_ranges.map((s) => `${s.score}: ${s.from}-${s.to} ${s.measure}`).join(" | ");
    document.getElementById("segment-rule").insertAdjacentHTML("beforeend", `<p class="note">${esc(ranges)}</p>`);
  }

  function renderSales() {
    const grain = document.getElementById("grain").value;
    const seg = D.filters[0].choice, cat = D.filters[1].choice;
    const totals = new Map();
    const cut = { day: 10, month: 7, year: 4 };
    for (let k = 0; k < D.daily.day.length; k++) {
      if ((seg >= 0 && D.daily.seg[k] !== seg) || (cat >= 0 && D.daily.cat[k] !== cat)) continue;
      const day = D.daily.days[D.daily.day[k]];
      const key = grain === "quarter" ? day.slice(0, 4) + "Q" + (Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1)
        : day.slice(0, cut[grain]);
      totals.set(key, (totals.get(key) || 0) + D.daily.revenue[k]);
    }
    const keys = [...totals.keys()].sort();
    plot("sales-trend", [{ type: grain === "day" ? "scatter" : "bar", x: keys, y: keys.map((k) => totals.get(k)),
      marker: { color: BLUE } }], { yaxis: { title: { text: "revenue" } }, xaxis: { type: "category" } });
    const cats = D.filters[1].values, byCat = cats.map(() => 0);
    for (let k = 0; k < D.daily.day.length; k++) {
      if (seg >= 0 && D.daily.seg[k] !== seg) continue;
      byCat[D.daily.cat[k]] += D.daily.revenue[k];
    }
    plot("categories", [{ type: "bar", x: cats.map(words), y: byCat, text: byCat.map(money), textposition: "auto",
      marker: { color: GREEN } }], { yaxis: { title: { text: "revenue" } }, xaxis: { type: "category" } });
  }

  function renderClv(idx) {
    const note = document.getElementById("clv-note");
    if (!C.clv) { note.textContent = "No lifetime value: too few repeat customers to fit the model."; return; }
    const names = D.filters[0].values, value = names.map(() => 0), alive = names.map(() => 0), n = names.map(() => 0);
    idx.forEach((i) => { const s = C.seg.segment[i]; value[s] += C.clv[i]; alive[s] += C.p_alive[i]; n[s] += 1; });
    plot("clv", [
      { type: "bar", name: "lifetime value", x: names.map(words), y: value, marker: { color: GREEN } },
      { type: "scatter", mode: "markers", name: "mean probability alive", x: names.map(words),
        y: alive.map((a, k) => (n[k] ? a / n[k] : null)), yaxis: "y2", marker: { color: RED, size: 10 } },
    ], { yaxis: { title: { text: "CLV" } }, yaxis2: { overlaying: "y", side: "right", range: [0, 1], tickformat: ".0%" },
      legend: { orientation: "h", y: 1.12 }, xaxis: { type: "category" } });
    note.textContent = "BG/NBD + Gamma-Gamma over " + D.headline.clv_horizon_days + " days; intervals from the fitted " +
      "parameters' uncertainty.";
  }

  function customerRows(list) {
    return list.map((i) => [C.id[i], words(segName(i)), C.r[i] + "" + C.f[i] + C.m[i], C.recency[i], C.orders[i],
      money(C.revenue[i]), C.clv ? money(C.clv[i]) + " (" + money(C.clv_low[i]) + "-" + money(C.clv_high[i]) + ")" : "-",
      C.p_alive ? pct(C.p_alive[i]) : "-", C.contact_by[i]]);
  }
  const CUSTOMER_HEADERS = [{ label: "customer" }, { label: "segment" }, { label: "RFM" },
    { label: "recency (days)", num: true }, { label: "orders", num: true }, { label: "revenue", num: true },
    { label: "CLV (interval)", num: true }, { label: "alive", num: true }, { label: "contact by" }];
  const byValue = (x, y) => (C.clv ? C.clv[y] - C.clv[x] : C.revenue[y] - C.revenue[x]);

  function renderCustomers(idx) {
    current = idx.filter((i) => !search || C.id[i].toLowerCase().includes(search)).sort(byValue);
    const shown = current.slice(0, 50);
    document.getElementById("customer-count").textContent =
      `${current.length.toLocaleString("en")} customers (top ${shown.length} by value shown)`;
    table("customer-table", CUSTOMER_HEADERS, customerRows(shown));
  }

  function targetRows() {
    if (!targetName) return [];
    const sel = new Set(selection());
    return D.targets[targetName].filter((i) => sel.has(i));
  }

  function renderTargets() {
    const rows = targetRows();
    document.getElementById("target-count").textContent =
      `${words(targetName || "none")}: ${rows.length.toLocaleString("en")} customers, value ` +
      money(rows.reduce((s, i) => s + (C.clv ? C.clv[i] : C.revenue[i]), 0));
    table("target-table", CUSTOMER_HEADERS, customerRows(rows.slice(0, 50)));
  }

  function update() {
    const idx = selection();
    const filtered = D.filters.some((f) => f.choice >= 0);
    document.getElementById("selection").textContent = filtered
      ? `Filtered: ${idx.length.toLocaleString("en")} of ${N.toLocaleString("en")} customers`
      : `All ${N.toLocaleString("en")} customers`;
    renderKpis(idx);
    renderSegments(idx);
    renderSales();
    renderClv(idx);
    renderCustomers(idx);
    renderTargets();
  }

  function setFilter(key, choice) {
    const f = D.filters.find((x) => x.key === key);
    f.choice = choice;
    document.getElementById("filter-" + key).value = String(choice);
    update();
  }

  function controls() {
    const bar = document.getElementById("filters");
    D.filters.forEach((f) => {
      f.choice = -1;
      const options = ['<option value="-1">All</option>', ...f.values.map((v, k) => `<option value="${k}">${esc(words(v))}</option>`)];
      const label = document.createElement("label");
      label.innerHTML = `${esc(f.label)}<select id="filter-${esc(f.key)}">${options.join("")}</select>`;
      label.querySelector("select").addEventListener("change", (e) => setFilter(f.key, Number(e.target.value)));
      bar.appendChild(label);
    });
    const reset = document.createElement("button");
    reset.textContent = "Clear filters";
    reset.id = "clear-filters";
    reset.addEventListener("click", () => D.filters.forEach((f) => setFilter(f.key, -1)));
    bar.appendChild(reset);
    const kpiPanel = document.getElementById("kpi-trend");
    kpiPanel.insertAdjacentHTML("beforebegin", '<label class="note">KPI <select id="kpi-choice">' +
      ["customers", "active", "revenue", "average_basket", "repeat_rate", "churn_rate"]
        .map((k) => `<option value="${k}">${words(k)}</option>`).join("") + "</select></label>");
    document.getElementById("kpi-choice").addEventListener("change", renderKpiTrend);
    document.getElementById("sales-trend").insertAdjacentHTML("beforebegin", '<label class="note">Grain <select id="grain">' +
      ["day", "month", "quarter", "year"].map((g) => `<option value="${g}"${g === "month" ? " selected" : ""}>${g}</option>`)
        .join("") + "</select></label>");
    document.getElementById("grain").addEventListener("change", renderSales);
    document.getElementById("customers").innerHTML = '<label class="note">Search customer <input id="customer-search" ' +
      'type="search" placeholder="customer id"></label> <button id="export-customers">Export CSV</button>' +
      '<p id="customer-count" class="note"></p><div id="customer-table"></div>';
    document.getElementById("customer-search").addEventListener("input", (e) => {
      search = e.target.value.trim().toLowerCase(); renderCustomers(selection());
    });
    document.getElementById("export-customers").addEventListener("click", () => download("customers", current));
    const names = Object.keys(D.targets);
    document.getElementById("targets").innerHTML = '<label class="note">Campaign <select id="target-choice">' +
      names.map((n) => `<option value="${esc(n)}">${esc(words(n))}</option>`).join("") + "</select></label> " +
      '<button id="export-targets">Export CSV</button><p id="target-count" class="note"></p><div id="target-table"></div>';
    document.getElementById("target-choice").addEventListener("change", (e) => { targetName = e.target.value; renderTargets(); });
    document.getElementById("export-targets").addEventListener("click", () => download("targets_" + targetName, targetRows()));
    document.getElementById("segments").on("plotly_click", (ev) => {
      const name = ev.points[0].customdata;
      setFilter("segment", D.filters[0].values.indexOf(name));
    });
  }

  plot("segments", [], {});
  controls();
  renderKpiTrend();
  update();
})();

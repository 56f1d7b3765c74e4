/* CVRE Engagement pages (seed 003): every figure drawn from the embedded tables written by `cvre engagement`. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("cvre-data").textContent);
  const H = D.headline;
  const PAGE = document.body.dataset.page;
  const PLOT = { displaylogo: false, responsive: true };
  const LAYOUT = { margin: { t: 10, r: 20, b: 60, l: 70 }, height: 340, paper_bgcolor: "#fff", plot_bgcolor: "#fff" };
  const BLUE = "#2f6fad", GREEN = "#27ae60", RED = "#c0392b", AMBER = "#e69f00", GREY = "#95a5a6";
  const RAG = { green: GREEN, amber: AMBER, red: RED, grey: GREY };
  const STEPS = ["sent", "delivered", "read", "replied"];
  const pct = (v) => (Number.isFinite(v) ? (v * 100).toFixed(1) + "%" : "n/a");
  const num = (v, d) => (Number.isFinite(v) ? v.toLocaleString("en-US", { maximumFractionDigits: d || 0 }) : "n/a");
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const el = (id) => document.getElementById(id);
  const plot = (id, traces, layout) => Plotly.react(id, traces, Object.assign({}, LAYOUT, layout), PLOT);
  const note = (id, text) => { const n = el(id + "-note"); if (n) n.textContent = text; };
  const absent = (id, what) => { el(id).innerHTML = `<p class="note">Not in this data: ${esc(what)}.</p>`; };

  function kpis(cards) {
    el("kpis").innerHTML = cards.map((c) =>
      `<div class="kpi ${c.tone || ""}" style="${c.color ? "border-top-color:" + c.color : ""}">` +
      `<div class="label">${esc(c.label)}</div><div class="value">${esc(c.value)}</div>` +
      `<div class="sub">${esc(c.sub || "")}</div></div>`).join("");
  }

  function table(id, headers, rows) {
    const head = headers.map((h) => `<th class="${h.num ? "num" : ""}">${esc(h.label)}</th>`).join("");
    const body = rows.map((r) => "<tr>" + r.map((v, k) => `<td class="${headers[k].num ? "num" : ""}">${esc(v)}</td>`)
      .join("") + "</tr>").join("");
    el(id).innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }

  function select(key, label, options, onChange, chosen) {
    const box = el("filters");
    const opts = options.map((o) => `<option value="${esc(o.value)}">${esc(o.text)}</option>`).join("");
    box.insertAdjacentHTML("beforeend", `<label>${esc(label)}<select id="pick-${key}">${opts}</select></label>`);
    const s = el("pick-" + key);
    if (chosen !== undefined) s.value = chosen;
    s.addEventListener("change", () => onChange(s.value));
  }

  // --- Morning Coffee -------------------------------------------------------------------------------------------
  function coffee() {
    const c = H.morning_coffee || {};
    const team = c.team_efficiency || { rag: {}, overall: "grey" };
    const active = c.active_campaigns || H.active_campaigns;
    const leads = c.new_leads || {};
    kpis([
      { label: "Total active contacts", value: num(c.total_active_contacts), sub: "read, replied or chatted recently" },
      { label: "Yesterday's new leads", value: num(leads.yesterday),
        sub: leads.day ? `${leads.day}; previous 7-day mean ${num(leads.previous_7_day_mean, 1)}` : "no leads table" },
      { label: "Active campaigns", value: active ? num(active.campaigns) : "n/a",
        sub: active ? `last ${active.days} days: read ${pct(active.read_rate)}, reply ${pct(active.reply_rate)}` : "" },
      { label: "Team efficiency", value: team.overall.toUpperCase(), color: RAG[team.overall],
        sub: `median response ${num(team.median_response_minutes, 1)} min` },
    ]);
    if (active && active.campaigns) {
      plot("coffee-campaigns", [{ type: "bar", x: ["delivered", "read", "replied"], marker: { color: BLUE },
        y: [active.delivered_rate, active.read_rate, active.reply_rate], text: [active.delivered_rate, active.read_rate,
          active.reply_rate].map(pct), textposition: "auto" }], { yaxis: { tickformat: ".0%", title: "step rate" } });
    } else absent("coffee-campaigns", "campaigns sent recently");
    const daily = D.new_contacts.filter((r) => r.period === "day").slice(-60);
    if (daily.length) {
      plot("coffee-growth", [{ type: "bar", x: daily.map((r) => r.period_start.slice(0, 10)), marker: { color: BLUE },
        y: daily.map((r) => r.new_contacts) }], { yaxis: { title: "new contacts" } });
    } else absent("coffee-growth", "contacts with a creation date");
    const t = team.thresholds || {};
    const rows = Object.entries(team.rag || {}).map(([k, status]) => [k.replace(/_/g, " "),
      num(team[k], 1), t[k] ? `<= ${t[k].green}` : "", t[k] ? `<= ${t[k].amber}` : "", status.toUpperCase()]);
    table("coffee-rag", [{ label: "measure" }, { label: "now", num: true }, { label: "green", num: true },
      { label: "amber", num: true }, { label: "status" }], rows);
    el("coffee-rag").querySelectorAll("tbody tr").forEach((tr, i) => {
      tr.lastChild.style.color = RAG[Object.values(team.rag)[i]];
      tr.lastChild.style.fontWeight = "600";
    });
    el("coffee-findings").innerHTML = "<ul>" + findings().map((f) => `<li>${esc(f)}</li>`).join("") + "</ul>";
  }

  function findings() {
    const out = [];
    const w = H.busiest_window;
    if (w && w.share !== null) {
      out.push(`${pct(w.share)} of customer messages arrive between ${w.start_hour}:00 and ${w.end_hour}:00 ` +
        `(${w.hours} of 24 hours; an even spread would be ${pct(w.uniform_share)}).`);
    }
    const ab = H.ab_test;
    if (ab) {
      out.push(ab.winner ? `Template ${ab.winner} wins on ${ab.metric}: ${pct(ab.rate_a)} (A) vs ${pct(ab.rate_b)} (B), ` +
        `difference ${pct(ab.difference)} [${pct(ab.ci_low)}, ${pct(ab.ci_high)}].`
        : `No template wins yet on ${ab.metric} (p = ${ab.p_value.toPrecision(2)}).`);
    }
    const hr = H.best_send_hour;
    if (hr) out.push(`Best hour to send: ${hr.best_hour}:00 (P(best) ${pct(hr.p_best)}).`);
    if (H.high_intent_contacts !== undefined) out.push(`${num(H.high_intent_contacts)} high-intent contacts ` +
      "exported for sales (high_intent.csv).");
    if (H.tickets) out.push(`Service desk: ${num(H.tickets.tickets)} tickets, SLA met for ${pct(H.tickets.sla_share)}.`);
    return out;
  }

  // --- Campaign ROI ---------------------------------------------------------------------------------------------
  function campaigns() {
    const F = D.funnel;
    const ab = H.ab_test;
    kpis([
      { label: "Campaigns", value: num(F.length) },
      { label: "A/B winner", value: ab ? (ab.winner || "none yet") : "n/a", sub: ab ? ab.metric : "" },
      { label: "Best send hour", value: H.best_send_hour ? H.best_send_hour.best_hour + ":00" : "n/a",
        sub: H.best_send_hour ? `P(best) ${pct(H.best_send_hour.p_best)}` : "" },
      { label: "High-intent contacts", value: num(H.high_intent_contacts), sub: "high_intent.csv, for sales" },
    ]);
    if (F.length) {
      const opts = F.map((r) => ({ value: r.campaign_id, text: `${r.campaign_name || r.campaign_id} (${r.campaign_id})` }));
      const last = F[F.length - 1].campaign_id, before = F[Math.max(0, F.length - 2)].campaign_id;
      select("funnel", "Funnel of", opts, drawFunnel, last);
      select("first", "Compare", opts, () => drawCompare(), before);
      select("second", "with", opts, () => drawCompare(), last);
      drawFunnel(last);
      drawCompare();
    } else { absent("funnel", "campaigns and messages"); absent("compare", "campaigns"); }
    drawHours();
    if (ab) {
      const rows = D.ab_test.map((r) => [r.metric, pct(r.rate_a), pct(r.rate_b), pct(r.difference),
        `[${pct(r.ci_low)}, ${pct(r.ci_high)}]`, r.p_value.toPrecision(2), r.winner || "none", pct(r.power_for_mde)]);
      table("abtest", [{ label: "metric" }, { label: "A", num: true }, { label: "B", num: true },
        { label: "B - A", num: true }, { label: "95% interval" }, { label: "p", num: true }, { label: "winner" },
        { label: `power for +${pct(ab.mde)}`, num: true }], rows);
      el("abtest").insertAdjacentHTML("beforeend", `<p class="note">Method: ${esc(ab.method)}; alpha ${ab.alpha}.</p>`);
    } else absent("abtest", "templates A and B");
    const lifts = [...new Set(D.sample_size.map((r) => r.lift))];
    const bases = [...new Set(D.sample_size.map((r) => r.baseline))];
    table("samplesize", [{ label: "baseline rate" }].concat(lifts.map((l) => ({ label: "+" + pct(l), num: true }))),
      bases.map((b) => [pct(b)].concat(lifts.map((l) => {
        const r = D.sample_size.find((s) => s.baseline === b && s.lift === l);
        return r ? num(r.per_arm) : "";
      }))));
    if (D.sample_size.length) el("samplesize").insertAdjacentHTML("beforeend", `<p class="note">Two-sided, alpha ` +
      `${D.sample_size[0].alpha}, power ${D.sample_size[0].power}: units needed in each arm to detect the lift.</p>`);
    if (D.experiment.length) {
      table("experiment", [{ label: "arm" }, { label: "metric" }, { label: "arm value", num: true },
        { label: "control", num: true }, { label: "lift", num: true }, { label: "95% interval" },
        { label: "Holm p", num: true }, { label: "published (arm / control)" }],
      D.experiment.map((r) => {
        const f = (v) => (r.metric === "revenue" ? num(v, 3) : pct(v));
        return [r.arm, r.metric, f(r.value), f(r.control_value), f(r.lift), `[${f(r.ci_low)}, ${f(r.ci_high)}]`,
          r.p_holm.toPrecision(2), r.published_value === undefined || r.published_value === null ? "" :
            `${f(r.published_value)} / ${f(r.published_control_value)}`];
      }));
    } else absent("experiment", "a randomised test (ab_units)");
  }

  function drawFunnel(id) {
    const r = D.funnel.find((f) => f.campaign_id === id);
    plot("funnel", [{ type: "funnel", y: STEPS, x: STEPS.map((s) => r[s]), marker: { color: BLUE },
      textinfo: "value+percent initial+percent previous" }], { margin: { t: 10, r: 20, b: 40, l: 90 } });
    note("funnel", `${r.campaign_name || id}: template ${r.template_variant || "-"}, sent ${String(r.sent_at).slice(0, 16)}` +
      ` (hour ${r.send_hour}); dropped: ${num(r.sent - r.delivered)} undelivered, ${num(r.delivered - r.read)} unread, ` +
      `${num(r.read - r.replied)} read without reply.`);
  }

  function drawCompare() {
    const a = el("pick-first").value, b = el("pick-second").value;
    const ra = D.funnel.find((f) => f.campaign_id === a), rb = D.funnel.find((f) => f.campaign_id === b);
    const labels = ["delivered / sent", "read / delivered", "replied / read"];
    const rates = (r) => [r.delivered / r.sent, r.read / r.delivered, r.replied / r.read];
    plot("compare", [
      { type: "bar", name: ra.campaign_name || a, x: labels, y: rates(ra), marker: { color: BLUE } },
      { type: "bar", name: rb.campaign_name || b, x: labels, y: rates(rb), marker: { color: AMBER } },
    ], { barmode: "group", yaxis: { tickformat: ".0%" }, legend: { orientation: "h", y: 1.12 } });
    const test = D.pairs[`${a}|${b}`] || D.pairs[`${b}|${a}`];
    const flip = !D.pairs[`${a}|${b}`];
    note("compare", test ? test.map((t) => {
      const d = flip ? -t.difference : t.difference;
      const lo = flip ? -t.ci_high : t.ci_low, hi = flip ? -t.ci_low : t.ci_high;
      return `${t.step}: ${pct(d)} [${pct(lo)}, ${pct(hi)}], p ${t.p_value.toPrecision(2)}`;
    }).join("; ") + " (second minus first)" : "Test precomputed for the most recent campaigns only.");
  }

  function drawHours() {
    const S = D.send_hour;
    if (!S.length) { absent("besthour", "campaign send hours"); return; }
    plot("besthour", [
      { type: "bar", name: "modelled read rate", x: S.map((r) => r.send_hour), y: S.map((r) => r.model_rate),
        marker: { color: S.map((r) => (r.send_hour === H.best_send_hour.best_hour ? GREEN : BLUE)) },
        error_y: { type: "data", symmetric: false, array: S.map((r) => r.ci_high - r.model_rate),
          arrayminus: S.map((r) => r.model_rate - r.ci_low) } },
      { type: "scatter", mode: "lines+markers", name: "P(best)", x: S.map((r) => r.send_hour), yaxis: "y2",
        y: S.map((r) => r.p_best), line: { color: RED } },
    ], { xaxis: { title: "send hour", dtick: 1 }, yaxis: { tickformat: ".0%", title: "read rate" },
      yaxis2: { overlaying: "y", side: "right", range: [0, 1], tickformat: ".0%", title: "P(best)" },
      legend: { orientation: "h", y: 1.12 } });
    note("besthour", `${H.best_send_hour.method}. Raw rates and campaign counts are in send_hour.csv.`);
  }

  // --- Customer success -----------------------------------------------------------------------------------------
  function supportPage() {
    const rt = H.response_time || {};
    const q = H.queue;
    kpis([
      { label: "Median response", value: num(rt.median_minutes, 1) + " min", sub: `p90 ${num(rt.p90_minutes, 1)} min` },
      { label: "Responses", value: num(rt.responses) },
      { label: "Unassigned now", value: q ? num(q.unassigned) : "n/a", tone: q ? (q.unassigned ? "bad" : "good") : "",
        sub: q ? `oldest ${num(q.unassigned_oldest_age_hours, 1)} h` : "no chats table" },
      { label: "Unanswered now", value: q ? num(q.unanswered) : "n/a", tone: q ? (q.unanswered ? "bad" : "good") : "",
        sub: q ? `${num(q.unanswered_stale)} stale (> ${q.stale_days} days)` : "" },
    ]);
    if (D.heatmap) {
      plot("heatmap", [{ type: "heatmap", z: D.heatmap.z, y: D.heatmap.rows, x: [...Array(24).keys()],
        colorscale: "Blues", reversescale: true }], { xaxis: { title: "hour of day", dtick: 1 }, height: 300 });
      const w = H.busiest_window;
      note("heatmap", `${pct(w.share)} of customer messages arrive between ${w.start_hour}:00 and ${w.end_hour}:00 ` +
        `(${w.hours} h; ${num(w.messages)} messages).`);
    } else absent("heatmap", "customer messages");
    table("leaderboard", [{ label: "rank", num: true }, { label: "agent" }, { label: "responses", num: true },
      { label: "median min", num: true }, { label: "p90 min", num: true }, { label: "done", num: true }],
    D.leaderboard.slice(0, 20).map((r) => [num(r.overall_rank), r.agent, num(r.responses), num(r.median_minutes, 1),
      num(r.p90_minutes, 1), r.done === undefined || r.done === null ? "" : num(r.done)]));
    if (D.done_per_agent.length) {
      plot("done", [{ type: "bar", x: D.done_per_agent.map((r) => r.agent), y: D.done_per_agent.map((r) => r.done),
        marker: { color: GREEN } }], { yaxis: { title: "chats done" } });
    } else absent("done", "chat status (marked as done)");
    if (D.topics.length) {
      const t = D.topics.slice().reverse();
      plot("topics", [{ type: "bar", orientation: "h", y: t.map((r) => r.keyword), x: t.map((r) => r.score),
        text: t.map((r) => `${pct(r.share)} of messages`), marker: { color: BLUE } }],
      { margin: { t: 10, r: 20, b: 40, l: 110 }, xaxis: { title: "mean TF-IDF weight" } });
    } else absent("topics", "message texts");
    if (q) {
      table("queue", [{ label: "" }, { label: "now", num: true }, { label: "median age h", num: true },
        { label: "oldest h", num: true }, { label: "stale", num: true }],
      ["unassigned", "unanswered"].map((k) => [k, num(q[k]), num(q[k + "_median_age_hours"], 1),
        num(q[k + "_oldest_age_hours"], 1), num(q[k + "_stale"])]));
    } else absent("queue", "chats with assignment and response times");
    if (D.resolvers.length) {
      table("tickets", [{ label: "resolver" }, { label: "tickets", num: true }, { label: "median h", num: true },
        { label: "p90 h", num: true }, { label: "SLA met", num: true }],
      D.resolvers.map((r) => [r.resolver, num(r.tickets), num(r.median_hours, 1), num(r.p90_hours, 1), pct(r.sla_share)]));
      el("tickets").insertAdjacentHTML("afterbegin", `<p class="note">${num(H.tickets.tickets)} tickets, median ` +
        `${num(H.tickets.median_hours_to_resolve, 1)} h to resolve, SLA met ${pct(H.tickets.sla_share)}.</p>`);
    } else absent("tickets", "a service-desk ticket log");
  }

  // --- Audience -------------------------------------------------------------------------------------------------
  function audiencePage() {
    const r = H.reach || {};
    kpis([
      { label: "Unique people", value: num(r.unique_people), sub: `${num(r.duplicates)} duplicate contact rows` },
      { label: "Reached by campaign or chat", value: num(r.reached_by_campaign_or_chat) },
      { label: "Countries", value: num(D.geography.filter((g) => g.region !== "unknown").length) },
    ]);
    const draw = (period) => {
      const rows = D.new_contacts.filter((x) => x.period === period);
      plot("growth", [{ type: "bar", x: rows.map((x) => x.period_start.slice(0, 10)), y: rows.map((x) => x.new_contacts),
        marker: { color: BLUE } }], { yaxis: { title: "new contacts" } });
      note("growth", `${num(rows.reduce((s, x) => s + x.new_contacts, 0))} new people over ${rows.length} ${period}s.`);
    };
    if (D.new_contacts.length) {
      select("period", "Per", ["day", "week", "month"].map((p) => ({ value: p, text: p })), draw, "month");
      draw("month");
    } else absent("growth", "contacts with a creation date");
    plot("geography", [{ type: "bar", x: D.geography.map((g) => g.region), y: D.geography.map((g) => g.contacts),
      marker: { color: BLUE } }], { yaxis: { title: "unique people" } });
    plot("segments", [
      { type: "bar", name: "contacts", x: D.segments.map((s) => s.segment), y: D.segments.map((s) => s.contacts),
        marker: { color: BLUE } },
      { type: "scatter", mode: "markers", name: "reply rate", x: D.segments.map((s) => s.segment), yaxis: "y2",
        y: D.segments.map((s) => s.reply_rate_per_delivered), marker: { color: RED, size: 12 } },
    ], { yaxis2: { overlaying: "y", side: "right", tickformat: ".0%" }, legend: { orientation: "h", y: 1.12 } });
  }

  ({ coffee, campaigns, support: supportPage, audience: audiencePage })[PAGE]();
  if (!el("filters").children.length) el("filters").style.display = "none";
})();

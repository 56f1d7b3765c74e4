/* CVRE recruitment pages: one question each; the slicer filters the table and chart, a click drills down. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("cvre-data").textContent);
  const T = D.table, S = D.chart;
  const cols = Object.keys(T);
  const N = T[cols[0]].length;
  const PLOT = { displaylogo: false, responsive: true };
  const COLORS = ["#2f6fad", "#27ae60", "#c0392b", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d"];
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const words = (s) => String(s).replace(/_/g, " ");
  const show = (v) => (v === null ? "" : typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en")
    : Math.abs(v) < 1 ? v.toFixed(3) : v.toLocaleString("en", { maximumFractionDigits: 1 })) : String(v));
  let slice = null, drill = null;
  window.CVRE = { csv: (which) => csv(which === "detail" ? D.detail : T, which === "detail" ? detailRows() : rows()) };

  function rows() {
    const idx = [];
    for (let i = 0; i < N; i++) if (slice === null || String(T[D.slicer][i]) === slice) idx.push(i);
    return idx;
  }

  function detailRows() {
    if (!D.detail || drill === null) return [];
    const col = D.detail[S.x];
    return col.map((_, i) => i).filter((i) => String(col[i]) === drill);
  }

  function csv(table, idx) {
    const names = Object.keys(table);
    const quote = (v) => (v === null ? "" : /[",\n]/.test(String(v)) ? '"' + String(v).replace(/"/g, '""') + '"' : String(v));
    return [names.join(","), ...idx.map((i) => names.map((n) => quote(table[n][i])).join(","))].join("\n");
  }

  function download(name, table, idx) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([csv(table, idx)], { type: "text/csv" }));
    a.download = name + ".csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  function renderTable(id, table, idx, limit) {
    const names = Object.keys(table);
    const head = names.map((n) => `<th>${esc(words(n))}</th>`).join("");
    const body = idx.slice(0, limit).map((i) => "<tr>" + names.map((n) =>
      `<td class="${typeof table[n][i] === "number" ? "num" : ""}">${esc(show(table[n][i]))}</td>`).join("") + "</tr>");
    document.getElementById(id).innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body.join("")}</tbody></table>`;
  }

  function traces(idx) {
    let use = idx;
    if (S.kind === "bar" && use.length > 40 && S.y.length) {  // long bar lists: the 40 largest
      use = [...use].sort((a, b) => (T[S.y[0]][b] || 0) - (T[S.y[0]][a] || 0)).slice(0, 40);
    }
    const groups = S.group ? [...new Set(use.map((i) => String(T[S.group][i])))] : [null];
    const out = [];
    groups.forEach((g, k) => {
      const part = g === null ? use : use.filter((i) => String(T[S.group][i]) === g);
      S.y.forEach((y, m) => {
        const color = COLORS[(k + m) % COLORS.length];
        const t = {
          name: g === null ? words(y) : words(g) + (S.y.length > 1 ? " " + words(y) : ""),
          x: part.map((i) => T[S.x][i]), y: part.map((i) => T[y][i]), customdata: part.map((i) => T[S.x][i]),
          type: S.kind === "bar" ? "bar" : "scatter", marker: { color },
          mode: S.kind === "scatter" ? "markers" : (y === "observed" ? "markers" : "lines+markers"),
          line: S.kind === "line" && S.group ? { shape: "hv" } : undefined,
        };
        if (S.text) t.text = part.map((i) => String(T[S.text][i])), t.hovertemplate = "%{text}<br>%{x}: %{y}<extra></extra>";
        if (S.low && m === 0) t.error_y = { type: "data", symmetric: false, array: part.map((i) => T[S.high][i] - T[y][i]),
          arrayminus: part.map((i) => T[y][i] - T[S.low][i]), color: "#95a5a6" };
        out.push(t);
      });
    });
    return out;
  }

  function update() {
    const idx = rows();
    document.getElementById("selection").textContent = slice === null
      ? `All ${N.toLocaleString("en")} rows` : `Filtered: ${idx.length.toLocaleString("en")} of ${N.toLocaleString("en")} rows (${words(D.slicer)} = ${slice})`;
    Plotly.react("chart", traces(idx), {
      margin: { t: 10, r: 20, b: 80, l: 80 }, height: 380, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      barmode: "group", legend: { orientation: "h", y: 1.15 }, xaxis: { title: { text: words(S.x) }, type: S.kind === "bar" ? "category" : "-" },
      yaxis: { tickformat: S.y_format, title: { text: S.y.map(words).join(", ") } },
    }, PLOT);
    renderTable("table-body", T, idx, 200);
    document.getElementById("table-count").textContent = `${idx.length.toLocaleString("en")} rows` + (idx.length > 200 ? " (first 200 shown)" : "");
    const d = detailRows();
    document.getElementById("detail-count").textContent = !D.detail ? "No row-level drill-down for this question."
      : drill === null ? `Click a bar or point to list its ${words(S.x)} rows.` : `${d.length.toLocaleString("en")} rows for ${words(S.x)} = ${drill}`;
    if (D.detail) renderTable("detail-body", D.detail, d, 200);
  }

  function controls() {
    const cards = Object.entries(D.headline).map(([k, v]) =>
      `<div class="kpi"><div class="label">${esc(k)}</div><div class="value">${esc(v)}</div></div>`);
    if (D.truth) cards.push(`<div class="kpi good"><div class="label">Checked against the simulator</div><div class="sub">${
      esc(Object.entries(D.truth).map(([k, v]) => words(k) + ": " + show(typeof v === "boolean" ? String(v) : v)).join("; "))}</div></div>`);
    document.getElementById("kpis").innerHTML = cards.join("");
    document.getElementById("chart-note").textContent = D.notes.join(" | ");
    const bar = document.getElementById("filters");
    if (D.slicer) {
      const values = [...new Set(T[D.slicer].map(String))].sort();
      const label = document.createElement("label");
      label.innerHTML = `${esc(words(D.slicer))}<select id="filter-${esc(D.slicer)}"><option value="">All</option>` +
        values.map((v) => `<option value="${esc(v)}">${esc(words(v))}</option>`).join("") + "</select>";
      label.querySelector("select").addEventListener("change", (e) => { slice = e.target.value === "" ? null : e.target.value; update(); });
      bar.appendChild(label);
    } else {
      bar.innerHTML = '<span class="note">No slicer for this question.</span>';
    }
    document.getElementById("answer-table").innerHTML = '<button id="export-table">Export CSV</button> ' +
      '<span id="table-count" class="note"></span><div id="table-body"></div>';
    document.getElementById("export-table").addEventListener("click", () => download(D.key, T, rows()));
    document.getElementById("detail").innerHTML = '<button id="export-detail">Export CSV</button> ' +
      '<span id="detail-count" class="note"></span><div id="detail-body"></div>';
    document.getElementById("export-detail").addEventListener("click", () => download(D.key + "_detail", D.detail || {}, detailRows()));
  }

  window.CVRE.drill = (value) => { drill = value === null ? null : String(value); update(); };
  controls();
  update();
  document.getElementById("chart").on("plotly_click", (ev) => window.CVRE.drill(ev.points[0].customdata));
})();

// Capacity resource page: hourly history, the forecast (point fit and p10–p90 band), the
// forecasting engine's daily forecast, limit and target lines; and ad-hoc scenarios compared
// through the API, added as columns next to the saved ones.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("capacity-data").textContent);
  const el = document.getElementById("capacity-chart");
  const status = document.getElementById("chart-status");

  function merged() {
    const rows = new Map();
    const put = (t, i, v) => {
      if (!rows.has(t)) rows.set(t, [null, null, null, null, null]);
      rows.get(t)[i] = v;
    };
    data.history.times.forEach((t, k) => put(t, 0, data.history.values[k]));
    if (data.band) data.band.times.forEach((t, k) => {
      put(t, 1, data.band.mean[k]); put(t, 2, data.band.lo[k]); put(t, 3, data.band.hi[k]);
    });
    const end = data.band ? data.band.times[data.band.times.length - 1] : Infinity;
    if (data.engine) data.engine.times.forEach((t, k) => { if (t <= end) put(t, 4, data.engine.mean[k]); });
    const times = Array.from(rows.keys()).sort((a, b) => a - b);
    const cols = [0, 1, 2, 3, 4].map((i) => times.map((t) => rows.get(t)[i]));
    return [times, ...cols, times.map(() => data.limit), times.map(() => data.target)];
  }

  function draw() {
    if (!el || !window.uPlot) return;
    if (!data.history.times.length && !data.band) { status.textContent = "no data yet"; return; }
    const values = merged();
    // "percent" as a suffix left no room for the number on a 64 px axis: short units, sized to fit.
    const SHORT = { percent: "%", bytes: " B", seconds: " s", replicas: "", vcpu: " vCPU", gb: " GB" };
    const unit = data.unit ? (SHORT[data.unit.toLowerCase()] ?? " " + data.unit) : "";
    const tick = (x) => window.HiveFmt.num(x, 1) + unit;
    el.innerHTML = "";
    new uPlot({
      width: el.clientWidth || 800, height: 280, cursor: { y: false },
      scales: { x: { time: true } },
      axes: [{ stroke: "#8a99a8", grid: { show: false } },
             { stroke: "#8a99a8", grid: { stroke: "#263241" }, size: 56 + 7 * Math.max(0, unit.length - 1), values: (u, v) => v.map(tick) }],
      series: [{},
        { label: "hourly mean", stroke: "#f5a623", width: 1.2, spanGaps: false },
        { label: "forecast", stroke: "#5b9cf5", width: 1.5, dash: [6, 4], spanGaps: true },
        { label: "p10", stroke: "rgba(91,156,245,.4)", width: 0.5, spanGaps: true },
        { label: "p90", stroke: "rgba(91,156,245,.4)", width: 0.5, spanGaps: true },
        { label: "engine", stroke: "#a78bfa", width: 1, dash: [2, 3], spanGaps: true },
        { label: "limit", stroke: "#e5484d", width: 1.5 },
        { label: "target", stroke: "#f5a623", width: 1, dash: [3, 3] }],
      bands: [{ series: [4, 3], fill: "rgba(91,156,245,.25)" }],
    }, values, el);
    status.textContent = data.changes.length ? data.changes.length + " change(s) detected" : "";
  }
  draw();
  let resizeTimer;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 200); });

  const form = document.getElementById("scenario-form");
  const table = document.getElementById("scenarios");
  const formStatus = document.getElementById("scenario-status");
  function csrf() {
    const m = document.cookie.match(/csrftoken=([^;]+)/);
    return m ? m[1] : "";
  }
  function days(v) { return v === null ? "later" : v < 2 ? (v * 24).toFixed(1) + " h" : v.toFixed(1) + " days"; }
  form && form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const item = { name: "what-if " + (table ? table.rows[0].cells.length : 1) };
    for (const [k, v] of f.entries()) if (v !== "") item[k] = k === "event_date" ? v : Number(v);
    formStatus.textContent = "computing…";
    try {
      const response = await fetch("/api/v1/capacity/resources/" + form.dataset.resource + "/scenarios", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify({ scenarios: [item] }),
      });
      const body = await response.json();
      if (!response.ok) { formStatus.textContent = "error: " + JSON.stringify(body); return; }
      const s = body.scenarios[body.scenarios.length - 1];
      if (table) {
        const cells = [s.name, [s.growth_pct_per_month ? "+" + s.growth_pct_per_month + " %/month" : "",
          s.event_multiplier !== 1 ? "×" + s.event_multiplier : "", s.added_allocation ? "+" + s.added_allocation : ""].join(" ").trim() || "as forecast",
          s.exhausted ? "now" : s.eta, Math.round(100 * s.peak_utilization) + " %",
          s.action.replace("_", " ") + (s.new_allocation !== null && s.action !== "keep" ? " → " + s.new_allocation : ""),
          (s.monthly_cost_change > 0 ? "+" : "") + s.monthly_cost_change.toFixed(2)];
        Array.from(table.rows).forEach((row, i) => {
          const cell = document.createElement(i === 0 ? "th" : "td");
          cell.textContent = cells[i];
          row.appendChild(cell);
        });
      }
      formStatus.textContent = "p50 " + days(s.tte_days.p50);
    } catch (err) {
      formStatus.textContent = "failed: " + err.message;
    }
  });
})();

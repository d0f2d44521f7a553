// SLO detail page: SLI per hour and the remaining error budget (burn-down) over the current
// window, from the chart data embedded in the page (json_script "slo-history").
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("slo-history").textContent);
  const pct = (v) => (v === null ? null : v * 100);

  function chart(el, label, ys, color, extra) {
    if (!el || !data.times.length) return;
    const series = [{}, { label, stroke: color, width: 1.5, spanGaps: false }];
    const values = [data.times, ys];
    if (extra) { series.push(extra.series); values.push(extra.values); }
    return new uPlot({
      width: el.clientWidth || 800, height: 220, cursor: { y: false },
      axes: [{ stroke: "#8a99a8", grid: { show: false } },
             { stroke: "#8a99a8", grid: { stroke: "#263241" }, size: 60, values: (u, v) => v.map((x) => x + "%") }],
      series,
    }, values, el);
  }

  const objective = data.times.map(() => data.objective * 100);
  chart(document.getElementById("sli-chart"), "SLI %", data.sli.map(pct), "#f5a623",
        { series: { label: "objective", stroke: "#d9534f", dash: [4, 4] }, values: objective });
  chart(document.getElementById("budget-chart"), "budget left %", data.budget_remaining.map(pct), "#5bc0de",
        { series: { label: "exhausted", stroke: "#d9534f", dash: [4, 4] }, values: data.times.map(() => 0) });
})();

// Incident page, "What else moved, and what moved first": loads the ranked series from
// /api/v1/incidents/<uid>/related and draws a small chart per series (value over the analysed
// window, a dashed line where the incident started), with its change score and lag.
(function () {
  "use strict";
  const panel = document.getElementById("insight-related");
  if (!panel) return;
  const status = document.getElementById("insight-status");
  const note = document.getElementById("insight-note");
  const box = document.getElementById("insight-series");

  function figure(title, subtitle, href) {
    const fig = document.createElement("figure");
    fig.className = "mini-chart";
    const cap = document.createElement("figcaption");
    const link = document.createElement("a");
    link.href = href;
    link.textContent = title;
    cap.appendChild(link);
    if (subtitle) {
      const small = document.createElement("small");
      small.className = "muted-inline";
      small.textContent = " " + subtitle;
      cap.appendChild(small);
    }
    const chart = document.createElement("div");
    chart.className = "chart";
    fig.append(cap, chart);
    box.appendChild(fig);
    return chart;
  }

  function draw(el, xs, ys, at, color) {
    const marker = {
      hooks: {
        draw: [(u) => {
          const x = u.valToPos(at, "x", true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#e5484d";
          ctx.setLineDash([4, 3]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.restore();
        }],
      },
    };
    new uPlot({
      width: el.clientWidth || 300, height: 120, legend: { show: false }, cursor: { y: false }, plugins: [marker],
      axes: [{ stroke: "#8a99a8", grid: { show: false }, size: 26 }, { stroke: "#8a99a8", grid: { stroke: "#263241" }, size: 44 }],
      series: [{}, { stroke: color, width: 1.5 }],
    }, [xs, ys], el);
  }

  async function load() {
    const res = await fetch(`/api/v1/incidents/${panel.dataset.uid}/related`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!res.ok) { status.textContent = `could not analyse (${res.status})`; return; }
    const data = await res.json();
    const a = data.analysis;
    const start = Date.parse(a.start) / 1000 - (Date.parse(a.start) / 1000) % a.step;
    const at = Date.parse(a.at) / 1000;
    const xsFor = (n) => Array.from({ length: n }, (_, i) => start + i * a.step);
    status.textContent = `${a.items.length} of ${a.candidates} series · ${a.seconds} s`;
    note.textContent = a.target
      ? `Ranked by change against the 6 h before and by how their moves line up with ${a.target.name} (the alert's series).`
      : "The incident's alerts name no series: ranked by change against the 6 h before only.";
    if (a.target && a.target_values) {
      draw(figure(a.target.name, "trigger", `/series/${a.target.series}/`), xsFor(a.target_values.length), a.target_values, at, "#e5484d");
    }
    a.items.forEach((item) => {
      const bits = [`score ${item.score.toFixed(2)}`];
      if (item.moved) bits.push(`${item.moved} (r ${item.correlation.toFixed(2)})`);
      draw(figure(item.name, bits.join(" · "), `/series/${item.series}/`), xsFor(item.values.length), item.values, at, "#f5a623");
    });
    if (!a.items.length) note.textContent = "No other series with enough data in the window.";
  }
  if (typeof uPlot === "undefined") { status.textContent = ""; return; }
  load().catch((e) => { status.textContent = "could not analyse"; console.warn(e); });
})();

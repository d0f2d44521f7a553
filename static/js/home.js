// Front page: one small uPlot chart per series, refreshed on "metric.tick" WebSocket events
// (at most every 5 s) and every 30 s as a fallback. Reconnects with backoff.
(function () {
  "use strict";
  const RANGE_S = 3 * 3600, STEP = "60";
  const cards = Array.from(document.querySelectorAll("[data-series]"));
  const status = document.getElementById("live-status");
  const charts = new Map();

  function setStatus(state, text) { if (status) { status.dataset.state = state; status.textContent = text; } }

  async function load(card) {
    const uid = card.dataset.series, end = Math.floor(Date.now() / 1000);
    const url = `/api/v1/query_range?series=${uid}&start=${end - RANGE_S}&end=${end}&step=${STEP}&agg=avg`;
    const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`query_range ${res.status}`);
    const body = await res.json();
    const xs = body.points.map((p) => p[0]), ys = body.points.map((p) => p[1]);
    const last = ys.filter((v) => v !== null).pop();
    if (last !== undefined) card.querySelector("[data-latest]").textContent = last.toFixed(2);
    const el = card.querySelector("[data-chart]");
    let chart = charts.get(uid);
    if (chart) { chart.setData([xs, ys]); return; }
    chart = new uPlot({
      width: el.clientWidth || 280, height: 110, legend: { show: false }, cursor: { y: false },
      axes: [{ stroke: "#8a99a8", grid: { show: false }, size: 24 }, { stroke: "#8a99a8", grid: { stroke: "#263241" }, size: 44 }],
      series: [{}, { stroke: "#f5a623", width: 1.5, spanGaps: false }],
    }, [xs, ys], el);
    charts.set(uid, chart);
  }

  let lastRefresh = 0;
  async function refreshAll() {
    lastRefresh = Date.now();
    await Promise.all(cards.map((c) => load(c).catch((e) => console.warn(e))));
  }

  let retry = 1000;
  function connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live/`);
    ws.onopen = () => { retry = 1000; setStatus("live", "live"); refreshAll(); };
    ws.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      if (event.type === "metric.tick" && Date.now() - lastRefresh > 5000) refreshAll();
    };
    ws.onclose = () => {
      setStatus("offline", `reconnecting in ${Math.round(retry / 1000)} s`);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  if (cards.length) {
    refreshAll();
    setInterval(() => { if (Date.now() - lastRefresh > 30000) refreshAll(); }, 5000);
  }
  connect();
  window.addEventListener("resize", () => charts.forEach((c, uid) => {
    const el = document.querySelector(`[data-series="${uid}"] [data-chart]`);
    c.setSize({ width: el.clientWidth, height: 110 });
  }));
})();

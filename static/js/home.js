// Front page: one small uPlot chart per series, refreshed on "metric.tick" WebSocket events (at
// most every 5 s; a tick inside that window is deferred to its end) and every 30 s as a fallback.
// Reconnects with backoff.
(function () {
  "use strict";
  const RANGE_S = 3 * 3600, STEP = "60";
  const cards = Array.from(document.querySelectorAll("[data-series]"));
  const status = document.getElementById("live-status");
  const charts = new Map();

  function setStatus(state, text) { if (status) { status.dataset.state = state; status.textContent = text; } }

  // Y axis as wide as its longest tick label ("1,000" does not fit a fixed width); see uPlot's axis-autosize demo.
  function yAxisSize(u, values, axisIdx, cycleNum) {
    const axis = u.axes[axisIdx];
    if (cycleNum > 1) return axis._size;
    const longest = (values || []).reduce((acc, v) => (v.length > acc.length ? v : acc), "");
    u.ctx.font = axis.font[0];
    return Math.ceil(axis.ticks.size + axis.gap + u.ctx.measureText(longest).width / devicePixelRatio) + 4;
  }

  async function load(card) {
    const uid = card.dataset.series, end = Math.floor(Date.now() / 1000);
    const url = `/api/v1/query_range?series=${uid}&start=${end - RANGE_S}&end=${end}&step=${STEP}&agg=last`;
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
      axes: [
        { stroke: "#8a99a8", grid: { show: false }, ticks: { size: 4 }, size: 26 },
        { stroke: "#8a99a8", grid: { stroke: "#263241" }, size: yAxisSize },
      ],
      series: [{}, { stroke: "#f5a623", width: 1.5, spanGaps: false }],
    }, [xs, ys], el);
    charts.set(uid, chart);
  }

  let lastRefresh = 0, pending = null;
  async function refreshAll() {
    clearTimeout(pending);
    pending = null;
    lastRefresh = Date.now();
    await Promise.all(cards.map((c) => load(c).catch((e) => console.warn(e))));
  }

  // At most one refresh per 5 s, but an event inside that window is deferred to its end, never dropped.
  function refreshSoon() {
    const wait = lastRefresh + 5000 - Date.now();
    if (wait <= 0) refreshAll();
    else if (pending === null) pending = setTimeout(refreshAll, wait);
  }

  let retry = 1000, connected = false;
  function connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live/`);
    ws.onopen = () => {
      retry = 1000;
      setStatus("live", "live");
      // After a reconnect, catch up on the ticks missed while offline (the page load just fetched).
      if (connected && cards.length) refreshSoon();
      connected = true;
    };
    ws.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      if (event.type !== "metric.tick") return;
      if (cards.length) refreshSoon(); else location.reload();  // the first series arrived
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

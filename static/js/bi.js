// Executive dashboard: draws the MTTA/MTTR trend (uPlot) from the figures embedded in the page
// (json_script "bi-data") and keeps the page current: on incident, alert, SLO or forecast events
// from the live WebSocket (and after a reconnect) it re-fetches the page and swaps #bi-body, at
// most once every 2 s. Uses the shared client static/js/live.js (reconnect, catch-up), or a
// plain WebSocket when that script is missing.
(function () {
  "use strict";
  const MIN_GAP_MS = 2000;
  const RELEVANT = /^(incident|alert|slo|sla|forecast|capacity)\./;
  let chart = null, pending = null, last = 0;

  function draw() {
    const el = document.getElementById("trend-chart");
    if (chart) { chart.destroy(); chart = null; }
    if (!el || typeof uPlot === "undefined") return;
    const data = JSON.parse(document.getElementById("bi-data").textContent);
    // The page only holds #trend-chart when some bucket has an MTTA or MTTR (else it says so).
    const times = data.trend.map((t) => Date.parse(t.start) / 1000);
    chart = new uPlot({
      width: el.clientWidth || 320, height: 200, cursor: { y: false },
      axes: [{ stroke: "#8a99a8", grid: { show: false },
                values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleDateString(undefined, { day: "numeric", month: "short" })) }, { stroke: "#8a99a8", grid: { stroke: "#263241" }, size: 50 }],
      series: [{}, { label: "MTTA", stroke: "#f5a623", width: 1.5, points: { show: true } },
               { label: "MTTR", stroke: "#5b9cf5", width: 1.5, points: { show: true } }],
    }, [times, data.trend.map((t) => t.mtta_minutes), data.trend.map((t) => t.mttr_minutes)], el);
  }

  function setStatus(state, text) {
    const el = document.getElementById("live-status");
    if (el) { el.dataset.state = state; el.textContent = text; }
  }

  async function refresh() {
    pending = null;
    last = Date.now();
    try {
      const response = await fetch(location.href, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.getElementById("bi-body");
      if (fresh) {
        document.getElementById("bi-body").replaceWith(fresh);
        draw();
        document.dispatchEvent(new CustomEvent("bi:refreshed"));
      }
    } catch (e) { /* offline: the next event or reconnect retries */ }
  }

  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(refresh, Math.max(0, last + MIN_GAP_MS - Date.now()));
  }

  function onEvent(event) {
    if (!event || !event.type) return;
    if (RELEVANT.test(event.type) || event.type === "resync") refreshSoon();
  }

  function connectOwn() {
    let retry = 1000, connected = false;
    (function connect() {
      const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live/`);
      ws.onopen = () => { retry = 1000; setStatus("live", "live"); if (connected) refreshSoon(); connected = true; };
      ws.onmessage = (msg) => {
        const data = JSON.parse(msg.data);
        (Array.isArray(data) ? data : [data]).forEach(onEvent);
      };
      ws.onclose = () => {
        setStatus("offline", `reconnecting in ${Math.round(retry / 1000)} s`);
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      };
    })();
  }

  function connectShared() {
    const live = window.HiveLive.connect({
      onStatus: setStatus,
      onResync: refreshSoon,  // the page refetches its figures; no reload needed
      onReady: () => { if (connectShared.ready) refreshSoon(); connectShared.ready = true; },  // caught up after a reconnect
    });
    live.on("*", onEvent);
  }

  draw();
  window.addEventListener("resize", () => {
    const el = document.getElementById("trend-chart");
    if (chart && el) chart.setSize({ width: el.clientWidth, height: 200 });
  });
  if (window.HiveLive) connectShared(); else connectOwn();
  window.hiveBi = { refresh };
})();

// Anomalies page: prepends a row for every "anomaly.detected" event of the live WebSocket that
// passes the page's filters (kind, min score). Reconnects with backoff, as the front page does.
(function () {
  "use strict";
  const MAX_ROWS = 200;
  const table = document.getElementById("anomaly-table");
  const rows = document.getElementById("anomaly-rows");
  const empty = document.getElementById("anomalies-empty");
  const status = document.getElementById("live-status");
  const kinds = new Map(JSON.parse(document.getElementById("anomaly-kinds").textContent));
  const kind = table.dataset.kind, minScore = parseFloat(table.dataset.minScore || "0") || 0;
  // "2 Dec 19:30" in the reader's time zone, like the server-rendered rows.
  const rowTime = new Intl.DateTimeFormat("en-GB", {
    timeZone: window.HiveFmt.tz, day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit",
  });

  function setStatus(state, text) { status.dataset.state = state; status.textContent = text; }
  const fixed = (v, digits) => window.HiveFmt.fixed(v, digits);

  function cell(content, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (typeof content === "string") td.textContent = content; else td.append(...content);
    return td;
  }

  function row(event) {
    const d = new Date(event.ts);
    const time = document.createElement("time");
    time.dateTime = event.ts;
    time.textContent = rowTime.format(d).replace(",", "");
    const link = document.createElement("a");
    link.href = `/series/${encodeURIComponent(event.series)}/`;
    link.textContent = event.metric;
    const labels = document.createElement("div");
    labels.className = "labels";
    Object.keys(event.labels || {}).sort().forEach((k) => {
      const span = document.createElement("span");
      span.className = "label";
      span.textContent = `${k}=${event.labels[k]}`;
      labels.append(span);
    });
    const band = event.lower === null || event.upper === null ? "–" : `${fixed(event.lower, 2)}–${fixed(event.upper, 2)}`;
    const tr = document.createElement("tr");
    tr.className = "fresh";
    tr.append(
      cell([time]), cell([link, labels]), cell(kinds.get(event.kind) || event.kind),
      cell(fixed(event.value, 2), "num"), cell(band, "num"), cell(fixed(event.score, 3), "num"),
    );
    return tr;
  }

  function onAnomaly(event) {
    if ((kind && event.kind !== kind) || event.score < minScore) return;
    rows.prepend(row(event));
    while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
    empty.hidden = true;
  }

  let retry = 1000;
  function connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live/`);
    ws.onopen = () => { retry = 1000; setStatus("live", "live"); };
    ws.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      if (event.type === "anomaly.detected") onAnomaly(event);
    };
    ws.onclose = () => {
      setStatus("offline", `reconnecting in ${Math.round(retry / 1000)} s`);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();

// Incident page: big acknowledge/resolve buttons and notes through the JSON API, reload on
// changes pushed over the WebSocket, and a small chart per affected series (value, expected band
// from the anomaly detector, anomalies as red dots).
(function () {
  "use strict";
  const root = document.getElementById("incident");
  const uid = root.dataset.uid;
  const csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  const toast = document.getElementById("toast");

  function say(text, bad) {
    toast.textContent = text;
    toast.dataset.bad = bad ? "1" : "";
    toast.classList.add("show");
  }
  async function post(action, body) {
    const res = await fetch(`/api/v1/incidents/${uid}/${action}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const msg = data.error || data.detail || Object.entries(data).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
      say(msg || `failed (${res.status})`, true);
      return false;
    }
    return true;
  }

  root.querySelectorAll("button[data-action]").forEach((button) => button.addEventListener("click", async () => {
    const action = button.dataset.action;
    let body = {};
    if (action === "resolve" && root.dataset.needsNote) {
      const note = window.prompt("Resolution note (this team requires one)");
      if (!note) return;
      body = { note };
    }
    button.disabled = true;
    if (await post(action, body)) location.reload(); else button.disabled = false;
  }));
  root.querySelectorAll("button[data-snooze]").forEach((button) => button.addEventListener("click", async () => {
    button.disabled = true;
    if (await post("snooze", { duration: button.dataset.snooze })) location.reload(); else button.disabled = false;
  }));
  document.getElementById("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = e.target.elements.text;
    if (await post("note", { text: input.value })) location.reload();
  });

  async function getJSON(url) {
    const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    return res.ok ? res.json() : null;
  }
  async function chart(fig) {
    const series = fig.dataset.series, end = Math.floor(Date.now() / 1000), start = end - 6 * 3600;
    const [values, scores, anomalies] = await Promise.all([
      getJSON(`/api/v1/query_range?series=${series}&start=${start}&end=${end}&step=60&agg=avg`),
      getJSON(`/api/v1/series/${series}/scores?start=${start}&end=${end}`),
      getJSON(`/api/v1/anomalies?series=${series}&since=${start}`),
    ]);
    if (!values) return;
    const xs = values.points.map((p) => p[0]);
    const ys = values.points.map((p) => p[1]);
    const band = (key) => {
      if (!scores || !scores.ts) return xs.map(() => null);
      const byMinute = new Map(scores.ts.map((t, i) => [Math.floor(t / 60) * 60, scores[key][i]]));
      return xs.map((x) => (byMinute.has(x) ? byMinute.get(x) : null));
    };
    const marks = new Map((anomalies || []).map((a) => [Math.floor(Date.parse(a.ts) / 60000) * 60, a.value]));
    const el = fig.querySelector("[data-chart]");
    new uPlot({
      width: el.clientWidth || 300, height: 140, legend: { show: false }, cursor: { y: false },
      axes: [{ stroke: "#8a99a8", grid: { show: false }, size: 26 }, { stroke: "#8a99a8", grid: { stroke: "#263241" }, size: 44 }],
      series: [{},
        { stroke: "#f5a623", width: 1.5 },
        { stroke: "rgba(48,164,108,.8)", width: 1, dash: [4, 3] },
        { stroke: "rgba(48,164,108,.8)", width: 1, dash: [4, 3] },
        { stroke: "#e5484d", width: 0, points: { show: true, size: 7, fill: "#e5484d" } }],
    }, [xs, ys, band("lower"), band("upper"), xs.map((x) => (marks.has(x) ? marks.get(x) : null))], el);
  }
  document.querySelectorAll("[data-series]").forEach((fig) => chart(fig).catch((e) => console.warn(e)));

  function connect(retry) {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live/`);
    ws.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      if (event.type === "incident.changed" && event.id === uid && event.status !== root.dataset.status) location.reload();
    };
    ws.onopen = () => { retry = 1000; };
    ws.onclose = () => setTimeout(() => connect(Math.min(retry * 2, 30000)), retry);
  }
  connect(1000);
})();

// Series page: the values with their expected band, anomaly markers and the forecast with its 80 %
// band on one uPlot chart, the anomaly score below. "Not an anomaly", "Revoke" and the sensitivity
// select call the JSON API and update the detection panel in place. Times are shown in the reader's time zone (HiveFmt).
(function () {
  "use strict";
  // range → [seconds shown, query_range step in seconds]
  const RANGES = { "6h": [6 * 3600, 60], "24h": [86400, 300], "7d": [7 * 86400, 1800] };
  const REFRESH_MS = 60000;
  const COLORS = {
    value: "#f5a623", band: "rgba(48,164,108,.22)", bandLine: "rgba(48,164,108,.6)", anomaly: "#e5484d",
    forecast: "#5b9cf5", fband: "rgba(91,156,245,.2)", fbandLine: "rgba(91,156,245,.5)", axis: "#8a99a8", grid: "#263241",
  };
  const root = document.getElementById("series-view");
  if (!root) return;
  const uid = root.dataset.series;
  let range = RANGES[root.dataset.range] ? root.dataset.range : "6h";
  let threshold = parseFloat(root.dataset.threshold);
  const status = document.getElementById("chart-status");
  const forecastStatus = document.getElementById("forecast-status");
  const valueEl = document.getElementById("value-chart"), scoreEl = document.getElementById("score-chart");
  const errorEl = document.getElementById("action-error");
  let valueChart = null, scoreChart = null, loadSeq = 0;

  const fmtTime = (iso) => window.HiveFmt.dateTime(iso); // the reader's time zone, as the page
  function setText(el, text) { if (el) el.textContent = text; }

  function csrfToken() {
    const input = document.querySelector("[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function call(url, method = "GET", body = undefined) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") { headers["X-CSRFToken"] = csrfToken(); headers["Content-Type"] = "application/json"; }
    const res = await fetch(url, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { ok: res.ok, status: res.status, body: data };
  }

  function showError(text) {
    if (!errorEl) return;
    errorEl.textContent = text;
    errorEl.hidden = !text;
  }

  // Y axis as wide as its longest tick label (as on the front page).
  function yAxisSize(u, values, axisIdx, cycleNum) {
    const axis = u.axes[axisIdx];
    if (cycleNum > 1) return axis._size;
    const longest = (values || []).reduce((acc, v) => (v.length > acc.length ? v : acc), "");
    u.ctx.font = axis.font[0];
    return Math.ceil(axis.ticks.size + axis.gap + u.ctx.measureText(longest).width / devicePixelRatio) + 4;
  }
  // Tick labels in the reader's time zone, 24-hour: "14:30", or the date at midnight and when
  // ticks are days apart.
  const tickHM = new Intl.DateTimeFormat("en-GB", { timeZone: window.HiveFmt.tz, hour: "2-digit", minute: "2-digit" });
  const tickDay = new Intl.DateTimeFormat("en-GB", { timeZone: window.HiveFmt.tz, day: "numeric", month: "short" });
  function timeTicks(u, splits, axisIdx, space, incr) {
    return splits.map((t) => {
      const d = new Date(t * 1000), hm = tickHM.format(d);
      return incr >= 86400 || hm === "00:00" ? tickDay.format(d) : hm;
    });
  }
  const axes = (ySize) => [
    { stroke: COLORS.axis, grid: { stroke: COLORS.grid }, ticks: { size: 4 }, values: timeTicks, space: 50, size: 30 },
    { stroke: COLORS.axis, grid: { stroke: COLORS.grid }, size: ySize || yAxisSize },
  ];
  const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), window.HiveFmt.tz); // legend times in the reader's zone
  const bigHeight = () => (valueEl.clientWidth < 500 ? 230 : 320);

  // One x axis for everything: value buckets, band (snapped to the buckets), anomalies and forecast
  // steps. Cells a source has no point at stay undefined, which uPlot joins over; null values
  // (empty buckets) stay gaps.
  function align(step, values, scores, anomalies, forecast) {
    const xs = new Set(values.map((p) => p[0]));
    const band = new Map();
    (scores.ts || []).forEach((t, i) => {
      if (scores.lower[i] === null || scores.upper[i] === null) return;
      const b = t - (t % step);
      const cell = band.get(b) || [0, 0, 0];
      band.set(b, [cell[0] + scores.lower[i], cell[1] + scores.upper[i], cell[2] + 1]);
      xs.add(b);
    });
    const marks = new Map();
    anomalies.forEach((a) => {
      const t = Date.parse(a.ts) / 1000, b = t - (t % step);
      if (!marks.has(b) || marks.get(b).score < a.score) marks.set(b, a);
      xs.add(b);
    });
    const fc = forecast ? forecast.times : [];
    fc.forEach((t) => xs.add(t));
    const x = Array.from(xs).sort((a, b) => a - b);
    const at = new Map(x.map((t, i) => [t, i]));
    const col = () => new Array(x.length).fill(undefined);
    const [val, lo, hi, mark, mean, flo, fhi] = [col(), col(), col(), col(), col(), col(), col()];
    values.forEach(([t, v]) => { val[at.get(t)] = v; });
    band.forEach(([l, u, n], b) => { lo[at.get(b)] = l / n; hi[at.get(b)] = u / n; });
    marks.forEach((a, b) => { mark[at.get(b)] = a.value; });
    fc.forEach((t, i) => {
      const k = at.get(t);
      [mean[k], flo[k], fhi[k]] = [forecast.mean[i], forecast.lo80[i], forecast.hi80[i]];
    });
    return [x, val, lo, hi, mark, mean, flo, fhi];
  }

  function drawValues(data) {
    if (valueChart) { valueChart.setData(data); return; }
    const line = (stroke, extra) => ({ stroke, width: 1, points: { show: false }, ...extra });
    valueChart = new uPlot({
      width: valueEl.clientWidth || 320, height: bigHeight(), legend: { show: false }, cursor: { y: false },
      tzDate: utc, axes: axes(),
      series: [
        {},
        line(COLORS.value, { label: "value", width: 1.75, spanGaps: false }),
        line(COLORS.bandLine, { label: "expected low" }),
        line(COLORS.bandLine, { label: "expected high" }),
        {
          label: "anomaly", stroke: COLORS.anomaly, paths: () => null,
          points: { show: true, size: 9, width: 1, stroke: "#fff", fill: COLORS.anomaly },
        },
        line(COLORS.forecast, { label: "forecast", width: 1.5, dash: [6, 4] }),
        line(COLORS.fbandLine, { label: "forecast low 80 %" }),
        line(COLORS.fbandLine, { label: "forecast high 80 %" }),
      ],
      bands: [{ series: [3, 2], fill: COLORS.band }, { series: [7, 6], fill: COLORS.fband }],
    }, data, valueEl);
  }

  function drawScores(scores) {
    const x = scores.ts || [];
    const data = [x, scores.score || [], x.map(() => threshold)];
    if (scoreChart) { scoreChart.setData(data); return; }
    scoreChart = new uPlot({
      width: scoreEl.clientWidth || 320, height: 120, legend: { show: false }, cursor: { y: false },
      tzDate: utc, axes: axes(40), scales: { y: { range: [0, 1] } },
      series: [
        {},
        { label: "score", stroke: COLORS.anomaly, width: 1, fill: "rgba(229,72,77,.12)", points: { show: false } },
        { label: "alert threshold", stroke: COLORS.axis, width: 1, dash: [4, 4], points: { show: false } },
      ],
    }, data, scoreEl);
  }

  function forecastTimes(body, end, span) {
    if (!body) return null;
    const start = Date.parse(body.start) / 1000, until = end + span / 3;  // keep the past readable
    const times = [], keep = [];
    body.mean.forEach((_, i) => {
      const t = start + i * body.step_s;
      if (t <= until) { times.push(t); keep.push(i); }
    });
    const pick = (a) => keep.map((i) => a[i]);
    return { times, mean: pick(body.mean), lo80: pick(body.lo80), hi80: pick(body.hi80), model: body.model,
             generated: body.generated_at };
  }

  async function load() {
    const seq = ++loadSeq;
    const [span, step] = RANGES[range];
    const end = Math.floor(Date.now() / 1000), start = end - span;
    setText(status, "loading…");
    const [values, scores, anomalies, forecast] = await Promise.all([
      call(`/api/v1/query_range?series=${uid}&start=${start}&end=${end}&step=${step}&agg=avg`),
      call(`/api/v1/series/${uid}/scores?start=${start}&end=${end}`),
      call(`/api/v1/anomalies?series=${uid}&since=${start}&limit=500`),
      call(`/api/v1/series/${uid}/forecast`),
    ]);
    if (seq !== loadSeq) return;  // another range was picked meanwhile
    if (!values.ok) { setText(status, `could not load the values (HTTP ${values.status})`); return; }
    const fc = forecast.ok ? forecastTimes(forecast.body, end, span) : null;
    const points = values.body.points, scoreBody = scores.ok ? scores.body : {}, marks = anomalies.ok ? anomalies.body : [];
    drawValues(align(step, points, scoreBody, marks, fc));
    drawScores(scoreBody);
    const count = points.filter((p) => p[1] !== null).length;
    setText(status, count ? `${marks.length} anomal${marks.length === 1 ? "y" : "ies"} in this range` : "no data in this range");
    if (forecast.status === 404) setText(forecastStatus, "no forecast yet: it needs a day of history");
    else if (!forecast.ok) setText(forecastStatus, `could not load the forecast (HTTP ${forecast.status})`);
    else setText(forecastStatus, `forecast by ${fc.model}, made ${fmtTime(fc.generated)}`);
  }

  function reload() { load().catch((e) => { setText(status, "could not load the charts"); console.warn(e); }); }

  // Detection panel
  function setThreshold(value) {
    threshold = value;
    document.querySelectorAll("[data-threshold-text]").forEach((el) => { el.textContent = window.HiveFmt.fixed(value, 3); });
    if (scoreChart) {
      const x = scoreChart.data[0];
      scoreChart.setData([x, scoreChart.data[1], x.map(() => value)]);
    }
  }

  function feedbackCount() {
    const n = document.querySelectorAll("#feedback-list [data-feedback]").length;
    setText(document.getElementById("feedback-count"), String(n));
    document.getElementById("feedback-empty").hidden = n > 0;
  }

  function feedbackItem(fb) {
    const li = document.createElement("li");
    li.dataset.feedback = fb.id;
    const who = fb.created_by ? ` · ${fb.created_by}` : "";
    const text = document.createElement("span");
    text.textContent = `Not an anomaly${fb.kind ? ` (${fb.kind})` : ""}${who} · ${fmtTime(fb.created_at)}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small secondary";
    button.dataset.revoke = fb.id;
    button.textContent = "Revoke";
    li.append(text, " ", button);
    return li;
  }

  async function refreshDetection() {
    const res = await call(`/api/v1/series/${uid}/detection`);
    if (res.ok) setThreshold(res.body.alert_threshold);
  }

  async function notAnomaly(button) {
    button.disabled = true;
    showError("");
    const res = await call(`/api/v1/anomalies/${button.dataset.notAnomaly}/not-anomaly`, "POST", { note: "" });
    if (!res.ok) {
      button.disabled = false;
      showError(`Could not record the feedback (HTTP ${res.status}).`);
      return;
    }
    const done = document.createElement("span");
    done.className = "muted";
    done.textContent = "marked normal";
    button.replaceWith(done);
    document.getElementById("feedback-list").prepend(feedbackItem(res.body));
    feedbackCount();
    await refreshDetection();
  }

  async function revoke(button) {
    button.disabled = true;
    showError("");
    const res = await call(`/api/v1/anomaly-feedback/${button.dataset.revoke}/revoke`, "POST");
    if (!res.ok) {
      button.disabled = false;
      showError(`Could not revoke the feedback (HTTP ${res.status}).`);
      return;
    }
    button.closest("li").remove();
    feedbackCount();
    const row = res.body.anomaly && document.querySelector(`[data-anomaly="${res.body.anomaly}"] td:last-child`);
    if (row && !row.querySelector("button")) {
      const again = document.createElement("button");
      again.type = "button";
      again.className = "small";
      again.dataset.notAnomaly = res.body.anomaly;
      again.textContent = "Not an anomaly";
      row.replaceChildren(again);
    }
    await refreshDetection();
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-not-anomaly], [data-revoke], .ranges [data-range]");
    if (!target) return;
    if (target.dataset.notAnomaly) notAnomaly(target);
    else if (target.dataset.revoke) revoke(target);
    else {
      event.preventDefault();
      range = target.dataset.range;
      document.querySelectorAll(".ranges [data-range]").forEach((a) => {
        a.classList.toggle("active", a === target);
        if (a === target) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
      });
      history.replaceState(null, "", `?range=${range}`);
      reload();
    }
  });

  const select = document.getElementById("sensitivity");
  if (select) {
    select.addEventListener("change", async () => {
      select.disabled = true;
      showError("");
      const res = await call(`/api/v1/series/${uid}/detection`, "PATCH", { sensitivity: select.value });
      select.disabled = false;
      if (res.ok) setThreshold(res.body.alert_threshold);
      else showError(`Could not change the sensitivity (HTTP ${res.status}).`);
    });
  }

  reload();
  setInterval(() => { if (!document.hidden) reload(); }, REFRESH_MS);
  window.addEventListener("resize", () => {
    if (valueChart) valueChart.setSize({ width: valueEl.clientWidth, height: bigHeight() });
    if (scoreChart) scoreChart.setSize({ width: scoreEl.clientWidth, height: 120 });
  });
})();

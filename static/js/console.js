// Operator console: the feed (counts, service health, open incidents and alerts) is re-fetched
// as server-rendered HTML when an alert or incident changes (WebSocket events, at most every
// 300 ms) and every 30 s as a fallback. Actions call the JSON API. Keyboard: j/k select, a ack,
// r resolve, n note, s silence, o/Enter open, / search, ? help.
(function () {
  "use strict";
  const feed = document.getElementById("feed");
  const status = document.getElementById("live-status");
  const toast = document.getElementById("toast");
  const csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  let selected = null; // uid of the selected row
  let lastRefresh = Date.now(), pending = null, inflight = false;

  function setStatus(state, text) { status.dataset.state = state; status.textContent = text; }
  function say(text, bad) {
    toast.textContent = text;
    toast.dataset.bad = bad ? "1" : "";
    toast.classList.add("show");
    clearTimeout(say.timer);
    say.timer = setTimeout(() => toast.classList.remove("show"), 4000);
  }

  async function refresh() {
    if (inflight) { pending = pending || setTimeout(refresh, 300); return; }
    clearTimeout(pending);
    pending = null;
    inflight = true;
    try {
      const res = await fetch(feed.dataset.url + location.search, { credentials: "same-origin" });
      if (res.ok) { feed.innerHTML = await res.text(); lastRefresh = Date.now(); restoreSelection(); saveForOffline(); }
    } catch (e) { console.warn(e); } finally { inflight = false; }
  }
  // The service worker keeps the last answer of this request for the offline page.
  function saveForOffline() {
    fetch("/api/v1/incidents?status=open", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .catch(() => {});
  }
  function refreshSoon() { if (pending === null) pending = setTimeout(refresh, 300); }

  function rows() { return Array.from(feed.querySelectorAll("tr[data-uid]")); }
  function restoreSelection() {
    const row = selected && feed.querySelector(`tr[data-uid="${selected}"]`);
    if (row) row.classList.add("selected"); else selected = null;
  }
  function select(row) {
    rows().forEach((r) => r.classList.remove("selected"));
    if (!row) return;
    row.classList.add("selected");
    selected = row.dataset.uid;
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const all = rows();
    const i = all.findIndex((r) => r.dataset.uid === selected);
    select(all[Math.max(0, Math.min(all.length - 1, i + step))] || all[0]);
  }

  async function post(row, action, body) {
    const base = row.dataset.kind === "incident" ? "incidents" : "alerts";
    const res = await fetch(`/api/v1/${base}/${row.dataset.uid}/${action}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({}));
    return { ok: res.ok, data };
  }
  function problem(data) {
    if (data.error) return data.error;
    if (data.detail) return data.detail;
    return Object.entries(data).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ") || "failed";
  }

  async function act(row, action) {
    if (!row) return;
    let body = {};
    if (action === "note") {
      const text = window.prompt("Note");
      if (!text) return;
      body = { text };
    } else if (action === "silence") {
      if (row.dataset.kind !== "alert") return say("silence works on alerts", true);
      body = { duration_minutes: 60, comment: "silenced for an hour from the console", expire_on_resolve: true };
    }
    let result = await post(row, action, body);
    if (!result.ok && action === "resolve" && row.dataset.kind === "incident" && /note/i.test(problem(result.data))) {
      const note = window.prompt("This team needs a resolution note");
      if (!note) return;
      result = await post(row, action, { note });
    }
    if (!result.ok) return say(problem(result.data), true);
    say(`${action === "acknowledge" ? "acknowledged" : action === "resolve" ? "resolved" : action === "note" ? "note added" : "silenced"}`);
    refresh();
  }

  feed.addEventListener("change", async (e) => {
    const picker = e.target.closest("select[data-snooze]");
    const row = e.target.closest("tr[data-uid]");
    if (!picker || !row || !picker.value) return;
    const label = picker.options[picker.selectedIndex].text;
    const result = await post(row, "snooze", { duration: picker.value });
    picker.value = "";
    if (!result.ok) return say(problem(result.data), true);
    say(`snoozed ${label}`);
    refresh();
  });

  feed.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    const row = e.target.closest("tr[data-uid]");
    if (row) select(row);
    if (button) act(row, button.dataset.action);
  });

  const help = document.getElementById("help");
  document.getElementById("help-open").addEventListener("click", () => help.showModal());
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, select, textarea") || e.metaKey || e.ctrlKey || e.altKey) return;
    const row = selected && feed.querySelector(`tr[data-uid="${selected}"]`);
    const keys = {
      j: () => move(1), k: () => move(-1),
      a: () => act(row, "acknowledge"), r: () => act(row, "resolve"), n: () => act(row, "note"), s: () => act(row, "silence"),
      o: () => row && row.dataset.href && (location.href = row.dataset.href),
      Enter: () => row && row.dataset.href && (location.href = row.dataset.href),
      "/": () => document.getElementById("search").focus(),
      "?": () => help.showModal(),
    };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });

  let retry = 1000, connected = false;
  function connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live/`);
    ws.onopen = () => {
      retry = 1000;
      setStatus("live", "live");
      if (connected) refresh(); // catch up on what changed while we were offline
      connected = true;
    };
    ws.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      if (event.type === "alert.changed" || event.type === "incident.changed") refreshSoon();
    };
    ws.onclose = () => {
      setStatus("offline", `reconnecting in ${Math.round(retry / 1000)} s`);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
  saveForOffline();
  setInterval(() => { if (Date.now() - lastRefresh > 30000) refresh(); }, 5000);
})();

// HiveOps live client: one WebSocket to /ws/live/ with reconnect/backoff, server-side filters,
// catch-up on reconnect and dispatch by event type. Load it before the page's own script:
//   <script src="{% static 'js/live.js' %}"></script>
//
// API
//   const live = HiveLive.connect({
//     severity: ["critical"],          // optional server-side filters; events without the
//     service: ["checkout", "api"],    //   field always pass
//     onStatus(state, text) {},        // "connecting" | "live" | "offline" (text: for a badge)
//     onResync(team) {},               // the server cannot replay what this page missed for the
//                                      //   team (log expired, Redis restarted): refetch state.
//                                      //   Default: location.reload(), at most once a minute
//     onReady(cursor) {},              // after connect + catch-up; cursor = {teamSlug: seq}
//   });
//   live.on("alert.changed", (event) => ...);  // one handler per type; "*" gets every event
//   live.off("alert.changed", handler);
//   live.setFilter({severity: [...], service: [...]});  // replaces both; remembered for reconnects
//   live.close();
//
// Events are objects with a `type`; logged ones also carry `team` (slug) and `seq`. The client
// keeps the highest `seq` per team and sends it as `?since=team:seq,...` when it reconnects: the
// server then replays what the page missed, in order, before new events. A new page starts
// without a cursor (its HTML is fresh), so nothing is replayed on the first connection. It asks
// for batched frames (`batch=1`: a JSON array when several events are pending) and unpacks them.
// Backoff: 1 s doubling to 30 s, reset when a connection opens. `cursor()` returns the cursor.
(function () {
  "use strict";
  const MIN_RETRY_MS = 1000, MAX_RETRY_MS = 30000, RELOAD_GUARD_MS = 60000;
  const RELOAD_KEY = "hiveops.live.reloadedAt";

  function load(key) {
    try { return JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function store(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  function defaultResync() {
    const last = load(RELOAD_KEY) || 0;
    if (Date.now() - last < RELOAD_GUARD_MS) return;  // no reload loop while Redis is unwell
    store(RELOAD_KEY, Date.now());
    location.reload();
  }

  function connect(options) {
    const opts = Object.assign({ onStatus() {}, onResync: defaultResync, onReady() {} }, options || {});
    const handlers = new Map();
    let filter = { severity: opts.severity || [], service: opts.service || [] };
    let cursor = {};
    let ws = null, retry = MIN_RETRY_MS, timer = null, closed = false;

    function url() {
      const since = Object.entries(cursor).map(([team, seq]) => `${team}:${seq}`).join(",");
      const params = new URLSearchParams({ since, batch: "1" });
      if (filter.severity.length) params.set("severity", filter.severity.join(","));
      if (filter.service.length) params.set("service", filter.service.join(","));
      return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live/?${params}`;
    }

    function advance(team, seq) {
      if (!(cursor[team] >= seq)) cursor[team] = seq;
    }

    function emit(event) {
      for (const key of [event.type, "*"]) {
        for (const handler of handlers.get(key) || []) {
          try { handler(event); } catch (e) { console.error(e); }
        }
      }
    }

    function handle(event) {
      if (event.type === "ready") {
        cursor = pick(cursor, Object.keys(event.cursor));  // teams the user left drop out
        for (const [team, seq] of Object.entries(event.cursor)) advance(team, seq);
        opts.onReady(Object.assign({}, cursor));
      } else if (event.type === "resync") {
        opts.onResync(event.team);
      } else if (event.type === "error") {
        console.warn("live:", event.detail);
      } else if (event.type !== "filter.applied") {
        if (event.team !== undefined && event.seq !== undefined) advance(event.team, event.seq);
        emit(event);
      }
    }

    function pick(obj, keys) {
      const out = {};
      for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
      return out;
    }

    function open() {
      if (closed) return;
      opts.onStatus("connecting", "connecting");
      ws = new WebSocket(url());
      ws.onopen = () => { retry = MIN_RETRY_MS; opts.onStatus("live", "live"); };
      ws.onmessage = (msg) => {
        const data = JSON.parse(msg.data);
        for (const event of Array.isArray(data) ? data : [data]) handle(event);
      };
      ws.onclose = () => {
        ws = null;
        if (closed) return;
        opts.onStatus("offline", `reconnecting in ${Math.round(retry / 1000)} s`);
        timer = setTimeout(open, retry);
        retry = Math.min(retry * 2, MAX_RETRY_MS);
      };
    }

    open();
    return {
      on(type, handler) {
        if (!handlers.has(type)) handlers.set(type, new Set());
        handlers.get(type).add(handler);
        return this;
      },
      off(type, handler) { (handlers.get(type) || new Set()).delete(handler); return this; },
      setFilter(next) {
        filter = { severity: (next && next.severity) || [], service: (next && next.service) || [] };
        if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(Object.assign({ type: "filter" }, filter)));
      },
      cursor() { return Object.assign({}, cursor); },
      close() { closed = true; clearTimeout(timer); if (ws) ws.close(); },
    };
  }

  window.HiveLive = { connect };
})();

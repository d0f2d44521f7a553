// One formatter for numbers people read on live pages (Intl), the same as the template filters
// in core/fmt.py: percent, duration "1 h 23 min", money with currency, date/time in the
// user's time zone (<body data-tz>), relative time. Exposed as window.HiveFmt.
(function () {
  "use strict";
  const tz = (document.body && document.body.dataset.tz) || "UTC";
  const DASH = "–";
  const ok = (v) => v !== null && v !== undefined && v !== "" && Number.isFinite(Number(v));
  const num = (v, digits = 2) =>
    ok(v) ? new Intl.NumberFormat("en", { maximumFractionDigits: digits }).format(Number(v)).replace("-", "−") : DASH;
  // Exactly `digits` decimals (table columns that line up): fixed(0.9, 3) → "0.900".
  const fixed = (v, digits = 2) =>
    ok(v) ? new Intl.NumberFormat("en", { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(v)).replace("-", "−") : DASH;
  const percent = (v, digits = 2) => (ok(v) ? num(v, digits) + "%" : DASH);
  const ratioPercent = (v, digits = 2) => (ok(v) ? percent(Number(v) * 100, digits) : DASH);
  function duration(seconds) {
    if (!ok(seconds)) return DASH;
    let s = Math.round(Math.abs(Number(seconds)));
    const sign = Number(seconds) < 0 ? "−" : "";
    if (s < 60) return `${sign}${s} s`;
    s = Math.round(s / 60) * 60; // past a minute, seconds are noise: to the nearest minute
    const parts = [];
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
      if (s >= size) { parts.push(`${Math.floor(s / size)} ${unit}`); s %= size; }
    }
    return sign + parts.slice(0, 2).join(" ");
  }
  const money = (v, currency = "USD") =>
    ok(v) ? new Intl.NumberFormat("en", { style: "currency", currency }).format(Number(v)).replace("-", "−") : DASH;
  const toDate = (v) => (v instanceof Date ? v : typeof v === "number" ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v));
  function dateTime(v) {
    if (v === null || v === undefined || v === "") return DASH;
    const d = toDate(v);
    if (Number.isNaN(d.getTime())) return DASH;
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: tz, day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    }).format(d);
  }
  function time(v) {
    const d = toDate(v);
    return Number.isNaN(d.getTime()) ? DASH : new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit" }).format(d);
  }
  function ago(v, now = Date.now()) {
    const d = toDate(v);
    if (Number.isNaN(d.getTime())) return DASH;
    const delta = (d.getTime() - now) / 1000;
    if (Math.abs(delta) < 45) return "just now";
    const text = duration(Math.abs(delta));
    return delta > 0 ? `in ${text}` : `${text} ago`;
  }
  const words = (v) => (v ? String(v).replace(/[_-]+/g, " ").toLowerCase() : DASH);
  window.HiveFmt = { tz, num, fixed, percent, ratioPercent, duration, money, dateTime, time, ago, words };
})();

// HiveOps service worker (served at /sw.js so its scope is the whole site).
// - Pages: network first; offline, the last copy of the page, else the offline page, which lists
//   the last known open incidents.
// - The open-incidents API answer is cached on every successful fetch (the console asks for it
//   after each refresh), so the offline page has something recent to show.
// - Static files: cache first (their names change with their version).
const VERSION = "hiveops-v3";
const OFFLINE = "/offline/";
const INCIDENTS = "/api/v1/incidents?status=open";
// Every page loads fmt.js (numbers) and menu.js (phone navigation): a saved page needs them offline.
const PRECACHE = [
  OFFLINE, "/static/css/app.css", "/static/js/offline.js", "/static/js/fmt.js", "/static/js/menu.js", "/static/pwa/icon.svg",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// A copy of the response that says when it was saved (the offline page shows it).
async function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set("x-saved-at", new Date().toISOString());
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

async function networkFirst(request, fallback) {
  const cache = await caches.open(VERSION);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) cache.put(request, await stamped(response.clone()));
    return response;
  } catch (err) {
    const hit = await cache.match(request, { ignoreVary: true });
    return hit || (fallback && (await cache.match(fallback))) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, OFFLINE));
  } else if (url.pathname + url.search === INCIDENTS) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

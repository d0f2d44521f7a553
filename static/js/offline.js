// Offline page: the last known open incidents from the service worker's cache, and a return to
// the console as soon as the network is back.
(function () {
  "use strict";
  const list = document.getElementById("offline-incidents");
  const when = document.getElementById("offline-when");
  async function show() {
    const hit = window.caches && (await caches.match("/api/v1/incidents?status=open", { ignoreVary: true }));
    if (!hit) { list.innerHTML = "<li>No incident list saved yet on this device.</li>"; return; }
    const saved = hit.headers.get("x-saved-at");
    if (saved) when.textContent = ` as of ${new Date(saved).toLocaleString()}`;
    const body = await hit.json();
    const items = body.results || body;
    list.innerHTML = "";
    if (!items.length) list.innerHTML = "<li>No open incidents.</li>";
    for (const incident of items) {
      const li = document.createElement("li");
      const status = document.createElement("span");
      status.className = `pill st-${incident.status}`;
      status.textContent = incident.status;
      li.append(`P${incident.priority} `, status, ` ${incident.title}`);
      list.append(li);
    }
  }
  show();
  window.addEventListener("online", () => location.replace("/console/"));
})();

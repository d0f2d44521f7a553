// Installable web app: register the service worker (offline incident list, see /sw.js), and on
// logout forget every page and answer it kept, so a shared phone shows nothing afterwards.
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
document.querySelectorAll('form[action="/logout/"]').forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.caches || form.dataset.cleared) return;
    event.preventDefault();
    caches.keys()
      .then((keys) => Promise.all(keys.map((key) => caches.delete(key))))
      .finally(() => { form.dataset.cleared = "1"; form.submit(); });
  });
});

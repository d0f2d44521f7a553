// Installable web app: register the service worker (offline incident list, see /sw.js).
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});

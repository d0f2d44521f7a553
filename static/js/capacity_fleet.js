// Capacity fleet page: while an analysis run is queued or running, show its progress and reload
// the page when it finishes (the table then shows the new analyses).
(function () {
  "use strict";
  const status = document.getElementById("run-status");
  if (!status || !status.dataset.run) return;
  let state = status.dataset.state;
  if (state !== "queued" && state !== "running") return;

  async function poll() {
    try {
      const response = await fetch("/api/v1/capacity/runs/" + status.dataset.run, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      const run = await response.json();
      state = run.status;
      status.dataset.state = state;
      if (state === "done" || state === "failed") {
        status.textContent = "Analysis " + state + " (" + run.done + " of " + run.total + "), reloading…";
        window.location.reload();
        return;
      }
      status.textContent = "Analysing… " + run.done + " of " + run.total + " resource(s)";
    } catch (err) {
      status.textContent = "Analysis status unavailable (" + err.message + "), retrying…";
    }
    setTimeout(poll, 2000);
  }
  poll();
})();

// live.js refreshes the jobs table every 2 s while a job runs, and the whole
// page once the last running job ended (new backups, charts). The page
// works without it.
(function () {
  "use strict";
  var box = document.getElementById("jobs");
  if (!box) return;
  function live() { return box.querySelectorAll("tr[data-live]").length; }
  var wasLive = live();
  function tick() {
    if (!live()) return;
    fetch("/fragments/jobs", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        box.innerHTML = html;
        if (wasLive && !live()) { location.reload(); return; }
        setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 10000); });
  }
  if (wasLive) setTimeout(tick, 2000);
})();

// Live progress of the run the console started: polls /runs/live.json every second while
// the run is in progress and shows its stage and counts; links the report when it is done.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  function show(s) {
    document.getElementById("live-stage").textContent = s.stage || "";
    document.getElementById("live-count").textContent = s.total ? s.done + " of " + s.total : "";
    var bar = document.getElementById("live-progress");
    bar.max = s.total || 1;
    bar.value = s.done || 0;
    live.dataset.running = String(s.running);
    if (s.running) { return; }
    var done = document.getElementById("live-done");
    done.textContent = "";
    if (s.error) {
      var e = document.createElement("span");
      e.className = "error";
      e.textContent = s.error;
      done.appendChild(e);
    } else if (s.run_id) {
      done.appendChild(document.createTextNode("Finished: " + s.issued + " issued. "));
      var a = document.createElement("a");
      a.id = "live-report";
      a.href = "/runs/" + s.run_id;
      a.textContent = "Open the report of run " + s.run_id;
      done.appendChild(a);
    }
    done.hidden = false;
  }
  function poll() {
    fetch("/runs/live.json", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) { show(s); if (s.running) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (live.dataset.running === "true") { poll(); }
})();

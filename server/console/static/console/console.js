// phiwatch console: the idle logoff countdown. No inline script anywhere (strict CSP).
// The server ends the session after data-idle-seconds without a request; this only
// shows the time left and leaves the page when it is up, so no PHI-adjacent page stays
// on an unattended screen.
(function () {
  "use strict";
  var body = document.body;
  var limit = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var url = body.getAttribute("data-idle-url");
  if (!limit || !url) { return; }
  var deadline = Date.now() + limit * 1000;
  var out = document.getElementById("idle-left");
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (out) {
      var m = Math.floor(left / 60), s = left % 60;
      out.textContent = "Time left: " + m + ":" + (s < 10 ? "0" : "") + s + ".";
    }
    if (left <= 0) {
      // One second late, so the server agrees the session is idle when we arrive.
      window.setTimeout(function () {
        window.location.assign(url + "&next=" + encodeURIComponent(window.location.pathname + window.location.search));
      }, 1000);
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();

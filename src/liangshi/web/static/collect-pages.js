// The collector's pages (issue 18: no inline script, so the CSP can say script-src 'self').
(function () {
  "use strict";
  // The area page: the offline app's service worker.
  if (document.querySelector("[data-register-sw]") && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/web/collect/sw.js", {scope: "/web/collect/"});
  }
  // The visit form: one submit only (a double tap must not send the visit twice).
  const form = document.getElementById("visit-form");
  if (form) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
    });
  }
  // Paradata: the position only when the collector ticks the box and the browser allows it.
  const box = document.getElementById("use-position");
  if (box) {
    box.addEventListener("change", (e) => {
      if (!e.target.checked || !navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition((pos) => {
        document.getElementById("latitude").value = pos.coords.latitude;
        document.getElementById("longitude").value = pos.coords.longitude;
        document.getElementById("position_accuracy").value = pos.coords.accuracy;
      }, () => { e.target.checked = false; }, {timeout: 10000});
    });
  }
})();

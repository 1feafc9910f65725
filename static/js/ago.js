/* Keeps "computed ... ago" texts current on an open page.
 *
 * Each <time data-ago datetime="ISO 8601"> holds the time since that moment in its
 * largest whole unit, as finops_portal/formats.py writes it; redrawn every 15 s.
 */
(function () {
  "use strict";

  function ageText(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) {
      return seconds + " s";
    }
    if (seconds < 3600) {
      return Math.floor(seconds / 60) + " min";
    }
    if (seconds < 86400) {
      return Math.floor(seconds / 3600) + " h";
    }
    return Math.floor(seconds / 86400) + " days";
  }

  function update() {
    document.querySelectorAll("time[data-ago]").forEach(function (el) {
      var moment = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(moment)) {
        el.textContent = ageText((Date.now() - moment) / 1000);
      }
    });
  }

  update();
  window.setInterval(update, 15000);
})();

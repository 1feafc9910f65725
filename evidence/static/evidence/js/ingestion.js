/* Follows an ingestion: polls its API entry every second and shows the stage,
 * the rows read, the speed, and every error once it has failed. */
(function () {
  "use strict";

  var POLL_MS = 1000;
  var STATUS = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

  function number(value) {
    return Math.round(value).toLocaleString("en-GB");
  }

  function render(el, data) {
    var field = function (name) {
      return el.querySelector('[data-field="' + name + '"]');
    };
    var status = field("status");
    status.textContent = STATUS[data.status] || data.status;
    status.className = "badge badge-" + data.status;
    field("stage").textContent = data.stage_display;
    var percent = data.percent === null ? 0 : data.percent;
    var bar = field("bar");
    bar.setAttribute("aria-valuenow", String(percent));
    bar.firstElementChild.style.width = percent + "%";
    var rows = data.rows_read ? number(data.rows_read) + " rows read" : "No rows read yet.";
    if (data.rows_read && data.rows_total && data.status === "running") {
      rows += " of about " + number(data.rows_total);
    }
    if (data.rows_per_second) {
      rows += ", " + number(data.rows_per_second) + " rows/s";
    }
    field("rows").textContent = rows;
    var errors = field("errors");
    if (data.errors && data.errors.length) {
      var list = errors.querySelector("ul");
      list.textContent = "";
      data.errors.forEach(function (message) {
        var li = document.createElement("li");
        li.textContent = message;
        list.appendChild(li);
      });
      errors.hidden = false;
    }
    var done = field("done");
    if (data.status === "succeeded") {
      if (data.periods && data.periods.length) {
        done.firstChild.textContent = "Evidence updated for " + data.periods.join(", ") + ". ";
      }
      done.hidden = false;
    }
  }

  function watch(el, url) {
    el.dataset.apiUrl = url;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(
          function (data) {
            render(el, data);
            if (data.status !== "succeeded" && data.status !== "failed") {
              setTimeout(poll, POLL_MS);
            } else {
              el.dataset.finished = "1";
            }
          },
          function () {
            setTimeout(poll, POLL_MS * 3);
          }
        );
    }
    poll();
  }

  window.EvidenceIngestion = { watch: watch };

  document.querySelectorAll("[data-ingestion-status][data-api-url]").forEach(function (el) {
    if (!el.dataset.finished) {
      watch(el, el.dataset.apiUrl);
    }
  });
})();

/* Follows a dry run's progress and reloads the page when it has finished. */
(function () {
  "use strict";
  var box = document.getElementById("dry-run-progress");
  if (!box) {
    return;
  }
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) {
        return response.json();
      })
      .then(function (status) {
        if (status.state === "done" || status.state === "failed") {
          window.location.reload();
          return;
        }
        box.querySelector("[data-done]").textContent = status.done;
        box.querySelector("[data-total]").textContent = status.total;
        var percent = status.total ? Math.floor((status.done * 100) / status.total) : 0;
        var bar = box.querySelector("[role=progressbar]");
        bar.setAttribute("aria-valuenow", percent);
        bar.firstElementChild.style.width = percent + "%";
        window.setTimeout(poll, 1500);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1500);
})();

/* Team report: the print button (no inline handlers under the CSP). */
(function () {
  "use strict";
  var button = document.getElementById("print-report");
  if (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  }
})();

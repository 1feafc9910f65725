// Cycle form: show only the capabilities of the chosen framework version.
(function () {
  "use strict";
  var select = document.getElementById("id_framework");
  if (!select) return;
  function sync() {
    var chosen = select.value;
    document.querySelectorAll(".cap-group[data-framework]").forEach(function (group) {
      var visible = !chosen || group.getAttribute("data-framework") === chosen;
      group.hidden = !visible;
      if (!visible) {
        group.querySelectorAll("input[type=checkbox]").forEach(function (box) {
          box.checked = false;
        });
      }
    });
  }
  select.addEventListener("change", sync);
  sync();
})();

/* Filter forms that apply as soon as a choice changes: <form data-autosubmit>.
 * Without scripts the form's own button submits it; with scripts that button is
 * hidden ([data-autosubmit-button]) since there is nothing left to click. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll("[data-autosubmit-button]").forEach(function (button) {
      button.hidden = true;
    });
    form.addEventListener("change", function (event) {
      if (event.target.matches("select, input[type=checkbox], input[type=radio]")) {
        if (typeof form.requestSubmit === "function") {
          form.requestSubmit();
        } else {
          form.submit();
        }
      }
    });
  });
})();

/* Measured suggestions on the questionnaire. "Use score N" picks the suggested
 * option and lets the questionnaire's autosave record it (the normal answer
 * path), then records the decision; "Answer otherwise" keeps the reason. Without
 * scripts, both buttons post the questionnaire's form to the decision URL. */
(function () {
  "use strict";

  var SAVE_WAIT_MS = 15000;

  function csrfToken(form) {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    var field = form ? form.querySelector("input[name=csrfmiddlewaretoken]") : null;
    return match ? decodeURIComponent(match[1]) : field ? field.value : "";
  }

  function post(box, form, payload) {
    return fetch(box.dataset.decideUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(form),
        "X-Requested-With": "XMLHttpRequest",
      },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { ok: response.ok, data: data };
        });
    });
  }

  function messages(data) {
    var out = [];
    Object.keys(data || {}).forEach(function (key) {
      [].concat(data[key]).forEach(function (m) {
        out.push(String(m));
      });
    });
    return out.join(" ");
  }

  function saved(fieldset) {
    var status = fieldset.querySelector("[data-status]");
    return status && status.classList.contains("is-saved");
  }

  function waitForSave(fieldset) {
    return new Promise(function (resolve, reject) {
      if (saved(fieldset)) {
        resolve();
        return;
      }
      var status = fieldset.querySelector("[data-status]");
      var timer = setTimeout(function () {
        observer.disconnect();
        reject(new Error("The answer is not saved yet; try again in a moment."));
      }, SAVE_WAIT_MS);
      var observer = new MutationObserver(function () {
        if (saved(fieldset)) {
          clearTimeout(timer);
          observer.disconnect();
          resolve();
        }
      });
      observer.observe(status, { attributes: true, childList: true, subtree: true });
    });
  }

  document.querySelectorAll("[data-suggestion]").forEach(function (box) {
    var fieldset = document.getElementById("question-" + box.dataset.questionId);
    var state = box.querySelector("[data-state]");
    var accept = box.querySelector("[data-accept]");
    var override = box.querySelector("[data-override]");
    var form = fieldset ? fieldset.form || fieldset.closest("form") : null;
    var details = box.querySelector(".suggestion-override");
    if (!fieldset || fieldset.disabled) {
      return;
    }
    var radio = fieldset.querySelector('input[type=radio][value="' + box.dataset.optionId + '"]');

    accept.addEventListener("click", function (event) {
      event.preventDefault();
      if (!radio) {
        return;
      }
      state.textContent = "Saving the suggested answer…";
      var pending = Promise.resolve();
      if (!radio.checked) {
        radio.checked = true;
        radio.dispatchEvent(new Event("change", { bubbles: true }));
        pending = new Promise(function (resolve) {
          setTimeout(resolve, 50);
        });
      }
      pending
        .then(function () {
          return waitForSave(fieldset);
        })
        .then(function () {
          return post(box, form, { decision: "accepted" });
        })
        .then(function (result) {
          if (!result.ok) {
            throw new Error(messages(result.data) || "The decision was not saved.");
          }
          details.open = false;
          state.textContent = "Accepted: the answer follows the data (score " + box.dataset.score + ").";
        })
        .catch(function (error) {
          state.textContent = error.message;
        });
    });

    override.addEventListener("click", function (event) {
      event.preventDefault();
      var reason = box.querySelector("[data-reason]").value.trim();
      post(box, form, { decision: "overridden", reason: reason }).then(function (result) {
        if (!result.ok) {
          state.textContent = messages(result.data) || "The reason was not saved.";
          return;
        }
        state.textContent = "Answered otherwise: “" + result.data.reason + "”";
      });
    });

    // Picking another option than the data suggests: ask why.
    fieldset.addEventListener("change", function (event) {
      if (event.target.type === "radio" && radio && event.target !== radio && event.isTrusted) {
        details.open = true;
      }
    });
  });
})();

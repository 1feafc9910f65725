/* Questionnaire autosave: every change is saved at once (radios) or after a short
 * pause (comment, evidence). A failed save keeps the typed value and is retried with
 * backoff; a conflict shows the other person's answer and lets the user choose. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 600;
  var RETRY_START_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var TEXT = {
    saving: "Saving…",
    saved: "Saved",
    retrying: "Not saved — retrying…",
    invalid: "Not saved — check the field below",
    conflict: "Conflict",
  };

  var form = document.getElementById("questionnaire-form");
  if (!form) {
    return;
  }
  var readOnly = form.hasAttribute("data-read-only");

  var nav = document.getElementById("capability-nav");
  if (nav && window.matchMedia("(max-width: 800px)").matches) {
    nav.open = false;
  }

  document.querySelectorAll("details.history").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open && !details.dataset.loaded) {
        loadHistory(details);
      }
    });
  });

  if (readOnly) {
    return;
  }

  // Opened by "Continue": bring the first question still to answer into view,
  // unless the address names a question already.
  var firstUnanswered = document.getElementById(form.dataset.firstUnanswered || "");
  if (firstUnanswered && !window.location.hash) {
    firstUnanswered.scrollIntoView({ block: "start" });
    var firstInput = firstUnanswered.querySelector("input[type=radio]");
    if (firstInput) {
      firstInput.focus({ preventScroll: true });
    }
  }

  var fallback = document.getElementById("fallback-save");
  if (fallback) {
    fallback.hidden = true;
  }
  var banner = document.getElementById("save-banner");
  var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  var states = [];

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : csrfInput ? csrfInput.value : "";
  }

  function collect(state) {
    var checked = state.el.querySelector("input[type=radio]:checked");
    var choice = checked ? checked.value : "";
    var values = {
      option: choice && choice !== "na" ? parseInt(choice, 10) : null,
      not_applicable: choice === "na",
      na_reason: choice === "na" && state.naReason ? state.naReason.value : "",
      comment: state.comment.value,
      evidence_url: state.evidence.value,
      expected_version: state.version,
    };
    if (state.note) {
      values.private_note = state.note.value;
    }
    return values;
  }

  function setStatus(state, kind) {
    state.status.textContent = TEXT[kind];
    state.status.className = "save-status is-" + kind;
  }

  function clearErrors(state) {
    state.el.querySelectorAll("[data-error-for]").forEach(function (p) {
      p.textContent = "";
      p.hidden = true;
    });
    state.el.querySelectorAll(".has-error").forEach(function (f) {
      f.classList.remove("has-error");
    });
  }

  function showErrors(state, errors) {
    clearErrors(state);
    Object.keys(errors).forEach(function (field) {
      var target =
        field === "evidence_url" ||
        field === "comment" ||
        field === "na_reason" ||
        field === "private_note"
          ? field
          : "option";
      var p = state.el.querySelector('[data-error-for="' + target + '"]');
      var messages = [].concat(errors[field]).join(" ");
      p.textContent = (p.textContent ? p.textContent + " " : "") + messages;
      p.hidden = false;
      if (p.parentElement.classList.contains("field")) {
        p.parentElement.classList.add("has-error");
      }
    });
  }

  function updateBanner() {
    var unsaved = states.some(function (s) {
      return s.dirty;
    });
    // The banner is for saves that could not reach the server; a value the server
    // refused (s.invalid) is explained next to its field only.
    var failing = states.some(function (s) {
      return s.failing;
    });
    if (banner) {
      banner.hidden = !failing;
    }
    document.body.classList.toggle("has-unsaved", unsaved);
  }

  function updateProgress(progress) {
    var bar = document.getElementById("overall-progress");
    var label = document.getElementById("overall-progress-label");
    if (bar) {
      bar.setAttribute("aria-valuenow", progress.percent);
      bar.firstElementChild.style.width = progress.percent + "%";
    }
    if (label) {
      label.textContent =
        progress.answered + " of " + progress.total + " questions answered (" + progress.percent + "%)";
    }
    progress.capabilities.forEach(function (cap) {
      var link = document.querySelector('.q-nav-link[data-capability-id="' + cap.capability_id + '"]');
      if (!link) {
        return;
      }
      link.querySelector("[data-count]").textContent = cap.answered + "/" + cap.total;
      link.classList.toggle("is-complete", cap.complete);
      link.querySelector("[data-complete-text]").textContent = cap.complete ? " complete" : "";
    });
  }

  function schedule(state, delay) {
    state.dirty = true;
    updateBanner();
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      state.timer = null;
      save(state);
    }, delay);
  }

  function retryLater(state) {
    state.failing = true;
    setStatus(state, "retrying");
    updateBanner();
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      state.timer = null;
      save(state);
    }, state.retryDelay);
    state.retryDelay = Math.min(state.retryDelay * 2, RETRY_MAX_MS);
  }

  function save(state) {
    if (state.inFlight) {
      state.again = true;
      return;
    }
    if (state.conflict) {
      return;
    }
    var payload = collect(state);
    state.inFlight = true;
    state.again = false;
    setStatus(state, "saving");
    fetch(state.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
        "X-Requested-With": "XMLHttpRequest",
      },
      body: JSON.stringify(payload),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { status: response.status, data: data };
          });
      })
      .then(
        function (result) {
          state.inFlight = false;
          handle(state, result.status, result.data);
        },
        function () {
          state.inFlight = false;
          retryLater(state);
        }
      );
  }

  function handle(state, status, data) {
    if (status === 200) {
      forgetConflict(state);
      setVersion(state, data.version);
      state.failing = false;
      state.invalid = false;
      state.retryDelay = RETRY_START_MS;
      clearErrors(state);
      updateProgress(data.progress);
      invalidateHistory(state);
      if (state.again || state.timer) {
        if (!state.timer) {
          save(state);
        }
        return;
      }
      state.dirty = false;
      setStatus(state, "saved");
      // A carried-forward answer is confirmed (or changed) once saved.
      state.el.querySelectorAll("[data-carried]").forEach(function (mark) {
        mark.remove();
      });
      updateBanner();
    } else if (status === 409 && data.current) {
      state.failing = false;
      showConflict(state, data);
      updateBanner();
    } else if (status === 400) {
      state.failing = false;
      state.invalid = true;
      state.dirty = true;
      showErrors(state, data);
      setStatus(state, "invalid");
      updateBanner();
    } else {
      // Network trouble, 5xx, an expired session: keep the value and try again.
      retryLater(state);
    }
  }

  function setVersion(state, version) {
    state.version = version;
    state.el.dataset.version = String(version);
    state.versionInput.value = String(version);
  }

  function describe(current) {
    if (current.not_applicable) {
      return "N/A";
    }
    if (current.option_label) {
      return current.option_label + " (" + current.option_score + ")";
    }
    return "no option chosen";
  }

  // Unresolved conflicts are kept for this tab (sessionStorage), so that the review
  // page can list them: the other person's answer is saved, this one is not.
  var CONFLICTS_KEY = "finops-conflicts:" + form.dataset.assessment;

  function storedConflicts() {
    try {
      return JSON.parse(window.sessionStorage.getItem(CONFLICTS_KEY) || "{}");
    } catch (error) {
      return {};
    }
  }

  function rememberConflict(state, text) {
    var conflicts = storedConflicts();
    var legend = state.el.querySelector("legend");
    conflicts[state.el.dataset.questionId] = {
      prompt: legend ? legend.textContent.trim() : "",
      href: window.location.pathname + "#" + state.el.id,
      text: text,
    };
    try {
      window.sessionStorage.setItem(CONFLICTS_KEY, JSON.stringify(conflicts));
    } catch (error) {
      // storage full or disabled: the conflict box on this page still shows it
    }
  }

  function forgetConflict(state) {
    var conflicts = storedConflicts();
    delete conflicts[state.el.dataset.questionId];
    try {
      window.sessionStorage.setItem(CONFLICTS_KEY, JSON.stringify(conflicts));
    } catch (error) {
      // nothing kept, nothing to forget
    }
  }

  function showConflict(state, data) {
    var current = data.current;
    state.conflict = current;
    setStatus(state, "conflict");
    var who = current.answered_by || "Someone";
    var when = "";
    if (current.updated_at) {
      var at = new Date(current.updated_at);
      if (!isNaN(at.getTime())) {
        when = " on " + at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      }
    }
    var text = who + " saved" + when + ": " + describe(current) + ".";
    if (current.comment) {
      text += " Comment: “" + current.comment + "”.";
    }
    state.conflictText.textContent = text;
    state.conflictBox.hidden = false;
    rememberConflict(state, text);
  }

  function useTheirs(state) {
    var current = state.conflict;
    state.conflict = null;
    forgetConflict(state);
    state.conflictBox.hidden = true;
    state.el.querySelectorAll("input[type=radio]").forEach(function (radio) {
      radio.checked = current.not_applicable
        ? radio.value === "na"
        : radio.value === String(current.option_id);
    });
    state.comment.value = current.comment || "";
    state.evidence.value = current.evidence_url || "";
    if (state.note) {
      state.note.value = current.private_note || "";
    }
    setVersion(state, current.version);
    state.dirty = false;
    state.invalid = false;
    clearErrors(state);
    setStatus(state, "saved");
    updateBanner();
  }

  function keepMine(state) {
    var current = state.conflict;
    state.conflict = null;
    forgetConflict(state);
    state.conflictBox.hidden = true;
    setVersion(state, current.version);
    save(state);
  }

  function invalidateHistory(state) {
    if (state.history) {
      delete state.history.dataset.loaded;
      if (state.history.open) {
        loadHistory(state.history);
      }
    }
  }

  function loadHistory(details) {
    var body = details.querySelector("[data-history-body]");
    details.dataset.loaded = "1";
    fetch(details.dataset.historyUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("history " + response.status);
        }
        return response.text();
      })
      .then(
        function (html) {
          // Server-rendered, escaped partial from the same origin.
          body.innerHTML = html;
        },
        function () {
          delete details.dataset.loaded;
        }
      );
  }

  form.querySelectorAll("fieldset[data-question-id]").forEach(function (el) {
    var state = {
      el: el,
      url: el.dataset.saveUrl,
      version: parseInt(el.dataset.version, 10) || 0,
      versionInput: el.querySelector('input[name$="-version"]'),
      comment: el.querySelector('textarea[name$="-comment"]'),
      evidence: el.querySelector('input[name$="-evidence"]'),
      note: el.querySelector('textarea[name$="-note"]'),
      naReason: el.querySelector('select[name$="-na-reason"]'),
      status: el.querySelector("[data-status]"),
      conflictBox: el.querySelector("[data-conflict]"),
      conflictText: el.querySelector("[data-conflict-text]"),
      history: el.querySelector("details.history"),
      timer: null,
      inFlight: false,
      again: false,
      dirty: false,
      failing: false,
      invalid: false,
      conflict: null,
      retryDelay: RETRY_START_MS,
    };
    states.push(state);
    el.addEventListener("change", function (event) {
      if (event.target.type === "radio" || event.target.tagName === "SELECT") {
        schedule(state, 0);
      }
    });
    [state.comment, state.evidence, state.note].filter(Boolean).forEach(function (input) {
      input.addEventListener("input", function () {
        schedule(state, DEBOUNCE_MS);
      });
      input.addEventListener("blur", function () {
        if (state.timer && !state.failing) {
          clearTimeout(state.timer);
          state.timer = null;
          save(state);
        }
      });
    });
    var confirmButton = el.querySelector("[data-confirm-carried]");
    if (confirmButton) {
      confirmButton.addEventListener("click", function () {
        schedule(state, 0);
      });
    }
    el.querySelector("[data-use-theirs]").addEventListener("click", function () {
      useTheirs(state);
    });
    el.querySelector("[data-keep-mine]").addEventListener("click", function () {
      keepMine(state);
    });
  });

  form.addEventListener("submit", function (event) {
    // With scripts on, answers are already saved one by one: flush what is pending.
    event.preventDefault();
    states.forEach(function (state) {
      if (state.timer) {
        clearTimeout(state.timer);
        state.timer = null;
        save(state);
      }
    });
  });

  window.addEventListener("beforeunload", function (event) {
    var pending = states.some(function (s) {
      return s.dirty || s.inFlight;
    });
    if (pending) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();

/* The review page lists the conflicts the questionnaire left unresolved in this tab
 * (see CONFLICTS_KEY in questionnaire.js): answers someone else saved meanwhile,
 * where this person's own choice is not saved yet. */
(function () {
  "use strict";

  var section = document.getElementById("unresolved-conflicts");
  if (!section) {
    return;
  }
  var conflicts = {};
  try {
    conflicts = JSON.parse(
      window.sessionStorage.getItem("finops-conflicts:" + section.dataset.assessment) || "{}"
    );
  } catch (error) {
    return;
  }
  var list = document.createElement("ul");
  section.querySelector("[data-conflict-list]").appendChild(list);
  Object.keys(conflicts).forEach(function (questionId) {
    var conflict = conflicts[questionId];
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = conflict.href;
    link.textContent = conflict.prompt || "Question " + questionId;
    item.appendChild(link);
    var text = document.createElement("span");
    text.className = "muted small";
    text.textContent = " " + conflict.text + " Open the question to choose which answer to keep.";
    item.appendChild(text);
    list.appendChild(item);
  });
  section.hidden = list.children.length === 0;
})();

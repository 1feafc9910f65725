"""The respondent's pages: my assessments, the questionnaire with autosave, review,
submit and summary. Leads of the organisation may open them too.

Every view authorises through ``access.get_assessment_for_user`` (404 otherwise).
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from finops_portal import cells

from . import consensus, selectors, services
from .access import access_for, get_assessment_for_user
from .answer_refs import OPTION_UNKNOWN_MSG, QuestionNotFound, resolve_answer
from .exceptions import AnswerConflict, ConsensusTeamAnswer, IncompleteAssessment
from .models import Assessment, counts_as_answered
from .slots import QUESTIONNAIRE_QUESTIONS

SAVED_MSG = "Your answers are saved."
SUBMITTED_MSG = "Assessment submitted. Thank you!"
REOPENED_MSG = "The assessment is open for changes again."
BAD_JSON_MSG = "Send a JSON object."
NOT_ANSWERED_YET_MSG = "Not answered yet."
READ_ONLY_SUBMITTED_MSG = "This assessment is submitted: answers are shown read-only."
READ_ONLY_CYCLE_MSG = "This cycle is not open: answers are shown read-only."
READ_ONLY_OWN_SUBMITTED_MSG = (
    "You submitted your answers: they are shown read-only, and you can now see the "
    "other members' answers."
)


@login_required
def home(request):
    """Send each user to the page of their role: leads to the lead home, members of
    a team to their assessments; others see a short explanation."""
    access = access_for(request.user)
    if access.is_lead:
        return redirect("assessment:lead_home")
    if access.team_ids or access.member_org_ids:
        return redirect("assessment:my_assessments")
    return render(request, "home.html")


@login_required
@require_GET
def my_assessments(request):
    """Open assessments of the user's teams, with progress; then past ones."""
    rows = selectors.assessments_for_user(user=request.user)
    return render(
        request,
        "assessment/my_assessments.html",
        {"open_rows": rows["open"], "past_rows": rows["past"]},
    )


def _read_only_reason(assessment, own_submitted: bool = False) -> str:
    if assessment.is_submitted:
        return READ_ONLY_SUBMITTED_MSG
    if not assessment.cycle.is_open:
        return READ_ONLY_CYCLE_MSG
    if own_submitted:
        return READ_ONLY_OWN_SUBMITTED_MSG
    return ""


def _own(request, assessment) -> bool:
    """Consensus mode and the user answers on their own (a member of the team)."""
    return assessment.is_consensus and consensus.is_member(
        assessment=assessment, user=request.user
    )


def _choice_value(answer) -> str:
    if answer is None:
        return ""
    if answer.not_applicable:
        return "na"
    return str(answer.option_id) if answer.option_id else ""


def _questionnaire_context(request, assessment, capability_key, errors=None):
    groups = selectors.assessment_questions(assessment=assessment)
    if not groups:
        return None
    keys = [g.capability.key for g in groups]
    answers = selectors.assessment_answers(assessment=assessment)
    first_unanswered = _first_unanswered(groups, answers)
    # "Continue" (no capability named) opens the first question still to answer
    key = (
        capability_key
        or request.GET.get("capability")
        or (first_unanswered[0].key if first_unanswered else keys[0])
    )
    if key not in keys:
        raise Http404("No such capability in this assessment.")
    index = keys.index(key)
    current = groups[index]
    own = _own(request, assessment)
    own_submitted = own and consensus.has_submitted(
        assessment=assessment, user=request.user
    )
    if own:
        answers = consensus.own_answers(assessment=assessment, user=request.user)
        progress = consensus.own_progress(assessment=assessment, user=request.user)
    else:
        answers = selectors.assessment_answers(assessment=assessment)
        progress = selectors.assessment_progress(assessment=assessment)
    errors = errors or {}
    posted = request.POST if errors else {}
    # Central questions this team does not answer: the central team's answers,
    # shown read-only (one query, only when the page has such questions).
    central = (
        selectors.central_answers(assessment=assessment)
        if any(not q.answered_here for q in current.questions)
        else {}
    )
    items = []
    for question in current.questions:
        answer = answers.get(question.pk)
        prefix = f"q-{question.pk}"
        items.append(
            {
                "question": question,
                "answer": answer,
                "central_only": not question.answered_here,
                "central_answer": central.get(question.pk),
                "na_reason": posted.get(
                    f"{prefix}-na-reason", answer.na_reason if answer else ""
                ),
                "carried_forward": bool(answer and answer.carried_forward),
                "version": answer.version if answer else 0,
                "choice": posted.get(f"{prefix}-choice", _choice_value(answer)),
                "comment": posted.get(
                    f"{prefix}-comment", answer.comment if answer else ""
                ),
                "evidence_url": posted.get(
                    f"{prefix}-evidence", answer.evidence_url if answer else ""
                ),
                "private_note": posted.get(
                    f"{prefix}-note", answer.private_note if own and answer else ""
                ),
                "errors": errors.get(question.pk, {}),
            }
        )
    below = _below_options(request, assessment, current.questions)
    for item in items:
        item["below_options"] = below.get(item["question"].pk, [])
    by_capability = {p["capability_id"]: p for p in progress["capabilities"]}
    nav = [
        {
            "group": g,
            # A capability asking only central questions has nothing for this team.
            "progress": by_capability.get(
                g.capability.pk,
                {"answered": 0, "total": 0, "percent": 0, "complete": True},
            ),
            "current": g is current,
        }
        for g in groups
    ]
    return {
        "assessment": assessment,
        "capability": current.capability,
        "items": items,
        "nav": nav,
        "progress": progress,
        "previous": groups[index - 1].capability if index > 0 else None,
        "next": groups[index + 1].capability if index + 1 < len(groups) else None,
        "read_only": _read_only_reason(assessment, own_submitted),
        "own": own,
        "own_submitted": own_submitted,
        "can_facilitate": own
        and consensus.may_facilitate(
            access=access_for(request.user), assessment=assessment, user=request.user
        ),
        # scrolled to on opening, unless the address names a question
        "first_unanswered": (
            first_unanswered[1]
            if first_unanswered and first_unanswered[0].key == key
            else None
        ),
        "reopen": selectors.assessment_reopen_latest(assessment=assessment),
        "comment_max": services.COMMENT_MAX_LENGTH,
        "evidence_max": services.EVIDENCE_URL_MAX_LENGTH,
    }


def _first_unanswered(groups, answers):
    """``(capability, question)`` of the first question, in questionnaire order, that
    does not count as answered; None when every one does."""
    for group in groups:
        for question in group.questions:
            answer = answers.get(question.pk)
            if answer is None or not counts_as_answered(
                has_option=answer.option_id is not None,
                not_applicable=answer.not_applicable,
                allow_na=question.allow_na,
            ):
                return group.capability, question
    return None


def _below_options(request, assessment, questions) -> dict[int, list[str]]:
    """What higher apps show under a question's options (``QUESTIONNAIRE_QUESTIONS``):
    question id -> their HTML, in the providers' order."""
    found: dict[int, list[str]] = {}
    for provided in QUESTIONNAIRE_QUESTIONS.collect(
        request, assessment=assessment, questions=questions
    ):
        for question_id, html in provided.items():
            found.setdefault(question_id, []).append(mark_safe(html))  # noqa: S308 - rendered templates
    return found


def _posted_items(post, questions, own: bool = False) -> list[dict]:
    """The fallback form's fields for one capability, as ``answers_bulk_record`` items."""
    options = {
        o.pk: o for q in questions for o in q.options.all()
    }  # prefetched already
    items = []
    for question in questions:
        prefix = f"q-{question.pk}"
        choice = post.get(f"{prefix}-choice", "")
        option = None
        if choice and choice != "na":
            option = options.get(int(choice)) if choice.isdigit() else None
        items.append(
            {
                "question": question,
                "option": option,
                "not_applicable": choice == "na",
                "na_reason": post.get(f"{prefix}-na-reason", "")
                if choice == "na"
                else "",
                "comment": post.get(f"{prefix}-comment", ""),
                "evidence_url": post.get(f"{prefix}-evidence", ""),
                "expected_version": _int_or_zero(post.get(f"{prefix}-version")),
            }
        )
        if own:
            items[-1]["private_note"] = post.get(f"{prefix}-note", "")
    return items


def _int_or_zero(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire(request, pk, capability_key=None):
    """One capability of the questionnaire; POST is the no-JS save of its answers."""
    assessment = get_assessment_for_user(request.user, pk)
    if assessment.is_consensus and not _own(request, assessment):
        # Not a respondent (a lead, or a member of a unit above the team): the
        # team's answers are settled on the board.
        if consensus.may_facilitate(
            access=access_for(request.user), assessment=assessment, user=request.user
        ):
            return redirect("assessment:team_answers", pk=assessment.pk)
        return redirect("assessment:summary", pk=assessment.pk)
    errors = None
    if request.method == "POST":
        context = _questionnaire_context(request, assessment, capability_key)
        if context is None:
            raise Http404("This assessment has no questions.")
        questions = [item["question"] for item in context["items"]]
        record = (
            consensus.own_answers_bulk_record
            if context["own"]
            else services.answers_bulk_record
        )
        try:
            record(
                assessment=assessment,
                user=request.user,
                items=_posted_items(request.POST, questions, own=context["own"]),
            )
        except AnswerConflict as conflict:
            messages.error(request, conflict.message)
            return redirect(_capability_url(assessment, context["capability"].key))
        except ValidationError as error:
            errors = _errors_by_question(error, questions)
            if None in errors:
                for message in errors.pop(None):
                    messages.error(request, message)
        else:
            messages.success(request, SAVED_MSG)
            return redirect(_capability_url(assessment, context["capability"].key))
    context = _questionnaire_context(request, assessment, capability_key, errors)
    if context is None:
        return render(
            request,
            "assessment/questionnaire_empty.html",
            {"assessment": assessment},
        )
    return render(
        request,
        "assessment/questionnaire.html",
        context,
        status=400 if errors else 200,
    )


def _errors_by_question(error: ValidationError, questions) -> dict:
    """``{"items[2].comment": [...]}`` -> ``{question_id: {"comment": [...]}}``;
    errors about the whole assessment under ``None``."""
    by_question: dict = {}
    for name, messages_ in error.message_dict.items():
        if name.startswith("items[") and "]." in name:
            index, field = name[6:].split("].", 1)
            question = questions[int(index)]
            by_question.setdefault(question.pk, {})[field] = messages_
        else:
            by_question.setdefault(None, []).extend(messages_)
    return by_question


def _capability_url(assessment, key) -> str:
    return reverse("assessment:questionnaire_capability", args=[assessment.pk, key])


def _answer_payload(answer) -> dict:
    if answer is None:
        return {
            "option_id": None,
            "option_score": None,
            "option_label": None,
            "not_applicable": False,
            "na_reason": "",
            "carried_forward": False,
            "comment": "",
            "evidence_url": "",
            "private_note": "",
            "answered_by": None,
            "updated_at": None,
            "version": 0,
        }
    user = answer.answered_by
    return {
        "option_id": answer.option_id,
        "option_score": answer.option.score if answer.option_id else None,
        "option_label": answer.option.label if answer.option_id else None,
        "not_applicable": answer.not_applicable,
        "na_reason": answer.na_reason,
        "carried_forward": answer.carried_forward,
        "comment": answer.comment,
        "evidence_url": answer.evidence_url,
        "private_note": getattr(answer, "private_note", ""),
        "answered_by": (user.get_full_name() or user.get_username()) if user else None,
        "updated_at": answer.updated_at.isoformat() if answer.updated_at else None,
        "version": answer.version,
    }


def _optional_str(data: dict, name: str):
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError({name: [OPTION_UNKNOWN_MSG]})
    return value


@login_required
@require_POST
def answer_save(request, pk, question_id):
    """Autosave of one answer (JSON): 200 ``{version, answered, progress}``,
    400 ``{field: [messages]}``, 409 ``{detail, current}``.

    The access check runs on the row ``answer_record`` reads and locks, so a save
    reads the assessment once.
    """
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # Nothing to save; still 404 for an assessment out of reach.
        get_assessment_for_user(request.user, pk)
        return JsonResponse({"detail": [BAD_JSON_MSG]}, status=400)
    wants_option = data.get("option") not in (None, "")
    try:
        question, option = resolve_answer(
            question=question_id,
            option_id=_int_or_zero(data["option"]) if wants_option else None,
            option_field="option",
        )
    except QuestionNotFound:
        raise Http404("No such question.") from None
    except ValidationError as error:
        get_assessment_for_user(request.user, pk)  # 404 comes first
        return JsonResponse(error.message_dict, status=400)
    try:
        comment = _optional_str(data, "comment")
        evidence_url = _optional_str(data, "evidence_url")
        private_note = _optional_str(data, consensus.PRIVATE_NOTE_FIELD)
        na_reason = _optional_str(data, "na_reason")
    except ValidationError as error:
        get_assessment_for_user(request.user, pk)  # 404 comes first
        return JsonResponse(error.message_dict, status=400)
    values = {
        "assessment": pk,
        # The access check runs in the query that locks the assessment.
        "answerable_by": request.user,
        "question": question,
        "user": request.user,
        "option": option,
        "not_applicable": data.get("not_applicable") is True,
        "comment": comment,
        "evidence_url": evidence_url,
        "expected_version": _int_or_zero(data.get("expected_version")),
    }
    own = False
    try:
        try:
            answer = services.answer_record(**values, na_reason=na_reason)
        except ConsensusTeamAnswer:
            # Consensus mode: the member's own answer (found only after the lock,
            # so a single-mode save reads the assessment once).
            answer = consensus.own_answer_record(**values, private_note=private_note)
            own = True
    except Assessment.DoesNotExist:
        raise Http404("No such assessment.") from None
    except AnswerConflict as conflict:
        return JsonResponse(
            {"detail": conflict.message, "current": _answer_payload(conflict.current)},
            status=409,
        )
    except ValidationError as error:
        return JsonResponse(error.message_dict, status=400)
    if own:
        progress = consensus.own_progress(
            assessment=answer.assessment, user=request.user
        )
    else:
        # Counted by the statement that updated the answer, when it did (PostgreSQL).
        progress = getattr(answer, "progress", None) or selectors.assessment_progress(
            assessment=answer.assessment
        )
    return JsonResponse(
        {
            "version": answer.version,
            "answered": answer.is_answered,
            "progress": progress,
        }
    )


@login_required
@require_GET
def answer_history(request, pk, question_id):
    """The changes to one answer, newest first (an HTML partial, or a page)."""
    assessment = get_assessment_for_user(request.user, pk)
    if _own(request, assessment):
        answer = consensus.own_answers(assessment=assessment, user=request.user).get(
            question_id
        )
        changes = consensus.own_history(answer=answer) if answer else []
    else:
        answer = (
            assessment.answers.select_related("question")
            .filter(question_id=question_id)
            .first()
        )
        changes = selectors.answer_history(answer=answer) if answer else []
    template = (
        "assessment/_answer_history.html"
        if request.GET.get("partial")
        else "assessment/answer_history.html"
    )
    return render(
        request,
        template,
        {
            "assessment": assessment,
            "answer": answer,
            "changes": changes,
            "empty_msg": NOT_ANSWERED_YET_MSG,
        },
    )


def _review_context(assessment, missing=None) -> dict:
    if missing is None:
        missing = services.assessment_missing(assessment=assessment)
    return {
        "assessment": assessment,
        "missing": missing,
        "missing_count": sum(len(g["questions"]) for g in missing),
        "progress": selectors.assessment_progress(assessment=assessment),
        "read_only": _read_only_reason(assessment),
        "carried": list(services.carried_unconfirmed(assessment=assessment)),
    }


def _own_review_context(assessment, user) -> dict:
    missing = consensus.own_missing(assessment=assessment, user=user)
    submitted = consensus.has_submitted(assessment=assessment, user=user)
    return {
        "assessment": assessment,
        "own": True,
        "missing": missing,
        "missing_count": sum(len(g["questions"]) for g in missing),
        "progress": consensus.own_progress(assessment=assessment, user=user),
        "read_only": _read_only_reason(assessment, submitted),
    }


@login_required
@require_GET
def review(request, pk):
    """What is still unanswered, with links to it, and the submit button (in
    consensus mode: of the member's own answers)."""
    assessment = get_assessment_for_user(request.user, pk)
    if assessment.is_consensus:
        if not _own(request, assessment):
            return redirect("assessment:questionnaire", pk=assessment.pk)
        return render(
            request,
            "assessment/review.html",
            _own_review_context(assessment, request.user),
        )
    return render(request, "assessment/review.html", _review_context(assessment))


@login_required
@require_POST
def submit(request, pk):
    """Submit the assessment; refused (with the list of what is missing) if incomplete.
    In consensus mode the team's assessment is submitted from the board."""
    assessment = get_assessment_for_user(request.user, pk)
    if assessment.is_consensus:
        return redirect("assessment:team_answers", pk=assessment.pk)
    try:
        services.assessment_submit(
            assessment=assessment,
            user=request.user,
            confirm_carried=request.POST.get("confirm_carried") == "on",
        )
    except IncompleteAssessment as incomplete:
        context = _review_context(assessment, incomplete.missing)
        context["error"] = incomplete.message
        return render(request, "assessment/review.html", context, status=400)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("assessment:review", pk=assessment.pk)
    messages.success(request, SUBMITTED_MSG)
    return redirect("assessment:summary", pk=assessment.pk)


@login_required
@require_GET
def summary(request, pk):
    """Read-only answers by capability, who submitted and when, link to the report."""
    assessment = get_assessment_for_user(request.user, pk)
    groups = selectors.assessment_questions(assessment=assessment)
    answers = selectors.assessment_answers(assessment=assessment)
    capabilities = [
        {
            "capability": group.capability,
            "rows": [
                {"question": q, "answer": answers.get(q.pk)} for q in group.questions
            ],
        }
        for group in groups
    ]
    return render(
        request,
        "assessment/summary.html",
        {
            "assessment": assessment,
            "capabilities": capabilities,
            "progress": selectors.assessment_progress(assessment=assessment),
            "reopens": selectors.assessment_reopens(assessment=assessment),
            "can_reopen": assessment.is_submitted
            and not assessment.cycle.is_closed
            and access_for(request.user).leads(assessment.cycle.organization_id),
            "reason_max": 1000,
        },
    )


@login_required
@require_POST
def reopen(request, pk):
    """A lead reopens a submitted assessment, giving a reason."""
    assessment = get_assessment_for_user(request.user, pk)
    if not access_for(request.user).leads(assessment.cycle.organization_id):
        raise Http404("No such assessment.")
    try:
        services.assessment_reopen(
            assessment=assessment,
            user=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("assessment:summary", pk=assessment.pk)
    messages.success(request, REOPENED_MSG)
    return redirect("assessment:questionnaire", pk=assessment.pk)


ANSWERS_EXPORT_FORMATS = {"csv", "xlsx"}


@login_required
@require_GET
def answers_export(request, pk, fmt):
    """The team's answers to one assessment as CSV or XLSX (question, lens, option,
    score, comment, evidence, who answered and when), safe to open in a spreadsheet."""
    if fmt not in ANSWERS_EXPORT_FORMATS:
        raise Http404("No such format.")
    assessment = get_assessment_for_user(request.user, pk)
    headers, rows = selectors.answers_export_table(assessment=assessment)
    name = slugify(f"{assessment.team.name} {assessment.cycle.name}") or "answers"
    if fmt == "csv":
        response = HttpResponse(
            cells.to_csv(headers, rows), content_type=cells.CSV_CONTENT_TYPE
        )
    else:
        response = HttpResponse(
            cells.to_xlsx(headers, rows, title="answers"),
            content_type=cells.XLSX_CONTENT_TYPE,
        )
    response["Content-Disposition"] = f'attachment; filename="answers-{name}.{fmt}"'
    return response

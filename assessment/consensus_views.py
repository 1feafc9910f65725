"""Pages of consensus mode: the team's answers side by side (the facilitator's
board, read-only for members who submitted their own), settling, the team's
submission, naming the facilitator and setting the answering mode.

Every view authorises through ``access`` (404 out of reach) and then
``consensus``'s rules (who may settle, who may see individual answers).
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from capabilities.models import AnswerOption

from . import consensus, services
from .access import access_for, get_assessment_for_user, get_cycle_for_lead
from .exceptions import IncompleteAssessment
from .models import AnsweringMode, Assessment
from .selectors import questions_in_scope

SETTLED_MSG = "The team's answer is settled."
DEFAULTS_SETTLED_MSG = "{count} question(s) settled with their default."
NO_DEFAULTS_MSG = "No question waiting to be settled has a default."
TEAM_SUBMITTED_MSG = "The team's assessment is submitted."
FACILITATOR_SET_MSG = "The facilitator is set."
MODE_SET_MSG = "The answering mode is set."
OWN_SUBMITTED_DONE_MSG = (
    "Your answers are submitted. You can now see the other members' answers."
)
WAIT_MSG = (
    "Submit your own answers first: the others' answers are shown once yours are "
    "in, so that no one is swayed by them."
)
CHOICE_UNKNOWN_MSG = "Choose one of the question's options, or N/A."


def _consensus_assessment(request, pk: int) -> Assessment:
    assessment = get_assessment_for_user(request.user, pk)
    if not assessment.is_consensus:
        raise Http404("No such assessment.")
    return assessment


def _facilitated(request, pk: int) -> Assessment:
    """The consensus assessment, if the user may facilitate it (404 otherwise)."""
    assessment = _consensus_assessment(request, pk)
    if not consensus.may_facilitate(
        access=access_for(request.user), assessment=assessment, user=request.user
    ):
        raise Http404("No such assessment.")
    return assessment


@login_required
@require_GET
def team_answers(request, pk: int):
    """Per question, every member's answer, the spread and the comments, widest
    disagreement first. The facilitator settles here; a member who submitted their
    own answers sees the same, read-only and without the facilitator's notes."""
    assessment = _consensus_assessment(request, pk)
    access = access_for(request.user)
    can_settle = consensus.may_facilitate(
        access=access, assessment=assessment, user=request.user
    )
    visible = can_settle or consensus.individuals_visible(
        access=access, assessment=assessment, user=request.user
    )
    context = {
        "assessment": assessment,
        "can_settle": can_settle,
        "visible": visible,
        "wait_msg": WAIT_MSG,
        "writable": assessment.cycle.is_open and not assessment.is_submitted,
        "note_max": services.COMMENT_MAX_LENGTH,
        "errors": {},
    }
    if visible:
        board, people = consensus.facilitation_board(
            assessment=assessment, with_private_notes=can_settle
        )
        context |= {
            "board": board,
            "people": people,
            "unsettled": consensus.unsettled_count(board),
            "submitted_people": sum(1 for p in people if p["submitted_at"]),
            "current_people": sum(1 for p in people if not p["removed"]),
        }
    if can_settle and access.leads(assessment.cycle.organization_id):
        context["members"] = [p for p in context.get("people", []) if not p["removed"]]
    return render(request, "assessment/team_answers.html", context)


def _choice(request, question):
    """(option, not_applicable) from the posted ``choice``; ValidationError if the
    value names no option of the question."""
    choice = request.POST.get("choice", "")
    if choice == "na":
        return None, True
    if not choice:
        return None, False
    option = (
        AnswerOption.objects.filter(pk=int(choice), question=question).first()
        if choice.isdigit()
        else None
    )
    if option is None:
        raise ValidationError({"option": [CHOICE_UNKNOWN_MSG]})
    return option, False


@login_required
@require_POST
def settle(request, pk: int, question_id: int):
    """Settle the team's answer to one question (facilitator)."""
    assessment = _facilitated(request, pk)
    question = questions_in_scope(cycle=assessment.cycle).filter(pk=question_id).first()
    if question is None:
        raise Http404("No such question.")
    try:
        option, not_applicable = _choice(request, question)
        consensus.answer_settle(
            assessment=assessment,
            question=question,
            user=request.user,
            option=option,
            not_applicable=not_applicable,
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        for name, texts in error.message_dict.items():
            for text in texts:
                label = "" if name == "assessment" else f"{question.prompt}: "
                messages.error(request, f"{label}{text}")
        return redirect(_anchor(assessment, question_id))
    messages.success(request, SETTLED_MSG)
    return redirect(_anchor(assessment, question_id))


def _anchor(assessment, question_id: int) -> str:
    url = reverse("assessment:team_answers", args=[assessment.pk])
    return f"{url}#settle-{question_id}"


@login_required
@require_POST
def settle_defaults(request, pk: int):
    """Confirm the default (the median) of every question that has one."""
    assessment = _facilitated(request, pk)
    try:
        count = consensus.settle_defaults(assessment=assessment, user=request.user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("assessment:team_answers", pk=assessment.pk)
    if count:
        messages.success(request, DEFAULTS_SETTLED_MSG.format(count=count))
    else:
        messages.info(request, NO_DEFAULTS_MSG)
    return redirect("assessment:team_answers", pk=assessment.pk)


@login_required
@require_POST
def team_submit(request, pk: int):
    """Submit the team's settled answers (facilitator): every question settled."""
    assessment = _facilitated(request, pk)
    try:
        services.assessment_submit(assessment=assessment, user=request.user)
    except IncompleteAssessment as incomplete:
        messages.error(
            request,
            f"{incomplete.count} question(s) are not settled yet. Settle them "
            "before submitting the team's assessment.",
        )
        return redirect("assessment:team_answers", pk=assessment.pk)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("assessment:team_answers", pk=assessment.pk)
    messages.success(request, TEAM_SUBMITTED_MSG)
    return redirect("assessment:summary", pk=assessment.pk)


@login_required
@require_POST
def facilitator_set(request, pk: int):
    """A lead names the member who facilitates the team (empty: the leads)."""
    assessment = _consensus_assessment(request, pk)
    if not access_for(request.user).leads(assessment.cycle.organization_id):
        raise Http404("No such assessment.")
    user_id = request.POST.get("facilitator", "")
    facilitator = None
    if user_id.isdigit():
        facilitator = get_user_model().objects.filter(pk=int(user_id)).first()
    try:
        consensus.facilitator_set(
            assessment=assessment, facilitator=facilitator, user=request.user
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, FACILITATOR_SET_MSG)
    return redirect("assessment:team_answers", pk=assessment.pk)


@login_required
@require_POST
def own_submit(request, pk: int):
    """A member submits their own answers (consensus mode)."""
    assessment = _consensus_assessment(request, pk)
    try:
        consensus.own_submit(assessment=assessment, user=request.user)
    except IncompleteAssessment as incomplete:
        messages.error(request, incomplete.message)
        return redirect("assessment:review", pk=assessment.pk)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("assessment:review", pk=assessment.pk)
    messages.success(request, OWN_SUBMITTED_DONE_MSG)
    return redirect("assessment:team_answers", pk=assessment.pk)


@login_required
@require_POST
def cycle_mode(request, cycle_id: int):
    """A lead sets the answering mode of the whole cycle, or of one of its teams
    (``assessment`` posted): refused with the reason once answers exist."""
    cycle = get_cycle_for_lead(request.user, cycle_id)
    mode = request.POST.get("mode", "")
    assessment_id = request.POST.get("assessment", "")
    try:
        if assessment_id:
            assessment = (
                Assessment.objects.filter(cycle=cycle, pk=assessment_id)
                .select_related("cycle")
                .first()
                if assessment_id.isdigit()
                else None
            )
            if assessment is None:
                raise Http404("No such assessment.")
            consensus.assessment_mode_set(
                assessment=assessment, mode=mode, user=request.user
            )
        else:
            consensus.cycle_mode_set(cycle=cycle, mode=mode, user=request.user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, MODE_SET_MSG)
    return redirect("assessment:cycle_detail", cycle.pk)


MODE_CHOICES = AnsweringMode.choices

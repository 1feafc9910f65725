"""Reads for the respondent's pages and the API: questions in scope, progress, lists.

Every selector issues a fixed number of queries, whatever the number of questions,
answers or assessments.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, FilteredRelation, OuterRef, Prefetch, Q

from capabilities.models import AnswerOption, Capability, Question

from .access import access_for
from .models import Answer, AnswerChange, Assessment, Cycle

# An answer counts as given when it has an option, or is N/A where N/A is allowed.
ANSWERED_Q = Q(option__isnull=False) | Q(not_applicable=True, question__allow_na=True)


@dataclass
class CapabilityQuestions:
    """One capability of the questionnaire and its questions, in order."""

    capability: Capability
    questions: list[Question] = field(default_factory=list)


def cycle_scope_capability_ids(*, cycle: Cycle) -> set[int] | None:
    """Ids of the cycle's capabilities in scope, or None when all are (empty M2M).

    Kept on the cycle instance, so one request asks once.
    """
    cached = getattr(cycle, "_scope_capability_ids", False)
    if cached is not False:
        return cached
    ids = set(
        Cycle.capabilities.through.objects.filter(cycle_id=cycle.pk).values_list(
            "capability_id", flat=True
        )
    )
    cycle._scope_capability_ids = ids or None
    return cycle._scope_capability_ids


def in_scope_q(*, cycle, capability) -> Q:
    """SQL condition: ``capability`` is in the scope of ``cycle`` (all capabilities
    are when the cycle names none). Either may be a value or an expression such as
    ``OuterRef("cycle_id")``, so a query checks the scope without a query of its own.
    """
    scope = Cycle.capabilities.through.objects.filter(cycle_id=cycle)
    return Q(Exists(scope.filter(capability_id=capability))) | ~Q(Exists(scope))


def questions_in_scope(*, cycle: Cycle, scope_ids: set[int] | None = None):
    """QuerySet of the cycle's questions in scope, in questionnaire order.

    The scope is read inside the same query unless it is known already (given, or
    kept on the cycle by ``cycle_scope_capability_ids``).
    """
    questions = Question.objects.filter(capability__framework_id=cycle.framework_id)
    if scope_ids is None:
        scope_ids = getattr(cycle, "_scope_capability_ids", False)
    if scope_ids is False:
        questions = questions.filter(
            in_scope_q(cycle=cycle.pk, capability=OuterRef("capability_id"))
        )
    elif scope_ids is not None:
        questions = questions.filter(capability_id__in=scope_ids)
    return questions.order_by("capability__order", "capability_id", "order", "id")


def assessment_questions(*, assessment: Assessment) -> list[CapabilityQuestions]:
    """The questions in scope grouped by capability, with lens and options loaded.

    Two queries: questions (with capability and lens, scope inside), options.
    """
    questions = (
        questions_in_scope(cycle=assessment.cycle)
        .select_related("capability", "lens")
        .prefetch_related(
            Prefetch("options", queryset=AnswerOption.objects.order_by("score"))
        )
    )
    groups: list[CapabilityQuestions] = []
    for question in questions:
        if not groups or groups[-1].capability.pk != question.capability_id:
            groups.append(CapabilityQuestions(capability=question.capability))
        groups[-1].questions.append(question)
    return groups


def assessment_answers(*, assessment: Assessment) -> dict[int, Answer]:
    """The assessment's answers keyed by question id (one query)."""
    answers = Answer.objects.filter(assessment=assessment).select_related(
        "option", "answered_by"
    )
    return {answer.question_id: answer for answer in answers}


def _progress_dict(rows: list[dict]) -> dict:
    answered = sum(row["answered"] for row in rows)
    total = sum(row["total"] for row in rows)
    return {
        "answered": answered,
        "total": total,
        "percent": _percent(answered, total),
        "complete": total > 0 and answered == total,
        "capabilities": rows,
    }


def _percent(answered: int, total: int) -> int:
    return int(answered * 100 // total) if total else 0


def assessment_progress(*, assessment: Assessment) -> dict:
    """Answered and total questions, overall and per capability (one query).

    ``{"answered", "total", "percent", "complete", "capabilities": [{"capability_id",
    "key", "name", "answered", "total", "percent", "complete"}]}``
    """
    rows = (
        questions_in_scope(cycle=assessment.cycle)
        # The join is restricted to this assessment's answers (ON ... AND), so the
        # cost does not grow with other teams' answers.
        .annotate(
            mine=FilteredRelation(
                "answers", condition=Q(answers__assessment_id=assessment.pk)
            )
        )
        .values("capability_id", "capability__key", "capability__name")
        .annotate(
            total=Count("id"),
            answered=Count(
                "mine",
                filter=Q(mine__option__isnull=False)
                | Q(mine__not_applicable=True, allow_na=True),
            ),
        )
        .order_by("capability__order", "capability_id")
    )
    return _progress_dict(
        [
            {
                "capability_id": row["capability_id"],
                "key": row["capability__key"],
                "name": row["capability__name"],
                "answered": row["answered"],
                "total": row["total"],
                "percent": _percent(row["answered"], row["total"]),
                "complete": row["answered"] == row["total"],
            }
            for row in rows
        ]
    )


@dataclass
class AssessmentRow:
    """One line of "My assessments"."""

    assessment: Assessment
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return _percent(self.answered, self.total)

    @property
    def started(self) -> bool:
        return self.assessment.status != Assessment.Status.NOT_STARTED


def assessments_for_user(*, user) -> dict[str, list[AssessmentRow]]:
    """The user's teams' assessments: ``open`` (cycle open, not submitted) and ``past``
    (submitted, or cycle closed), each with completion. Four queries in all."""
    team_ids = access_for(user).team_ids
    if not team_ids:
        return {"open": [], "past": []}
    assessments = list(
        Assessment.objects.filter(team_id__in=team_ids)
        .exclude(cycle__status=Cycle.Status.PLANNED)
        .select_related("cycle", "team", "submitted_by")
        .order_by("cycle__closes_on", "-cycle_id", "team__name")
    )
    if not assessments:
        return {"open": [], "past": []}
    cycle_ids = {a.cycle_id for a in assessments}
    framework_ids = {a.cycle.framework_id for a in assessments}
    scope: dict[int, set[int]] = defaultdict(set)
    for cycle_id, capability_id in Cycle.capabilities.through.objects.filter(
        cycle_id__in=cycle_ids
    ).values_list("cycle_id", "capability_id"):
        scope[cycle_id].add(capability_id)
    per_capability = defaultdict(dict)
    for row in (
        Question.objects.filter(capability__framework_id__in=framework_ids)
        .values("capability__framework_id", "capability_id")
        .annotate(n=Count("id"))
    ):
        per_capability[row["capability__framework_id"]][row["capability_id"]] = row["n"]
    answered: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        Answer.objects.filter(assessment__in=assessments)
        .filter(ANSWERED_Q)
        .values("assessment_id", "question__capability_id")
        .annotate(n=Count("id"))
    ):
        answered[row["assessment_id"]][row["question__capability_id"]] = row["n"]

    result: dict[str, list[AssessmentRow]] = {"open": [], "past": []}
    for assessment in assessments:
        counts = per_capability[assessment.cycle.framework_id]
        in_scope = scope.get(assessment.cycle_id) or set(counts)
        row = AssessmentRow(
            assessment=assessment,
            answered=sum(
                n for cap, n in answered[assessment.pk].items() if cap in in_scope
            ),
            total=sum(counts.get(cap, 0) for cap in in_scope),
        )
        is_open = assessment.cycle.is_open and not assessment.is_submitted
        result["open" if is_open else "past"].append(row)
    result["past"].sort(key=lambda r: r.assessment.cycle_id, reverse=True)
    return result


def answer_history(*, answer: Answer):
    """The answer's changes, newest first, with who made them (one query)."""
    return (
        AnswerChange.objects.filter(answer=answer)
        .select_related("changed_by")
        .order_by("-version")
    )

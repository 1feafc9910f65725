"""Reads of organisations, teams, cycles, assessments and answers, for the pages
and the API: questions in scope, progress, the team tree, the completion board.

Every selector issues a fixed number of queries, whatever the number of teams,
questions, answers or assessments.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from capabilities.models import AnswerOption, Capability, Question
from finops_portal.audit import AuditEvent
from finops_portal.cells import safe_cell

from .access import access_for
from .models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentReopen,
    Cycle,
    Membership,
    Organization,
    RespondentAnswer,
    RespondentSubmission,
    Team,
    answered_q,
)
from .tree import Tree

# An answer query's condition of the one rule (``models.counts_as_answered``).
ANSWERED_Q = answered_q()


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


def is_central_team_q(*, organization, team) -> Q:
    """SQL condition: ``team`` is the organisation's central FinOps team (either may
    be a value or an expression such as ``OuterRef("team_id")``)."""
    return Q(Exists(Organization.objects.filter(pk=organization, central_team_id=team)))


def audience_q(*, organization, team, question: str = "") -> Q:
    """SQL condition on a question (path ``question`` from the query's model): the
    team answers it. The audience rule: team questions are every team's; central
    ones are answered by the organisation's central team alone, and are left out
    of every other team's completion and scores (they see the central answer)."""
    return Q(**{f"{question}audience": "team"}) | is_central_team_q(
        organization=organization, team=team
    )


def questions_for_assessment(*, assessment: Assessment):
    """The questions in scope the assessment's team answers (the audience rule)."""
    return questions_in_scope(cycle=assessment.cycle).filter(
        audience_q(
            organization=assessment.cycle.organization_id, team=assessment.team_id
        )
    )


def central_answers(*, assessment: Assessment) -> dict[int, Answer]:
    """The central team's answers to the cycle's central questions, keyed by
    question id, for a team that sees them read-only (one query)."""
    answers = Answer.objects.filter(
        assessment__cycle_id=assessment.cycle_id,
        question__audience="central",
        assessment__team_id=Organization.objects.filter(
            pk=assessment.cycle.organization_id
        ).values("central_team_id")[:1],
    ).select_related("option")
    return {answer.question_id: answer for answer in answers}


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
    Each question's ``answered_here`` says whether this team answers it (false for
    a central question seen by a team other than the central one: read-only).

    Two queries: questions (with capability and lens, scope inside), options.
    """
    questions = (
        questions_in_scope(cycle=assessment.cycle)
        .annotate(
            answered_here=ExpressionWrapper(
                audience_q(
                    organization=assessment.cycle.organization_id,
                    team=assessment.team_id,
                ),
                output_field=BooleanField(),
            )
        )
        .select_related("capability__framework", "lens")
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


ANSWERED_SQL = "a.option_id IS NOT NULL OR (q.allow_na AND a.not_applicable)"


def progress_select_sql(answered: str = ANSWERED_SQL) -> str:
    """The counts of ``assessment_progress`` as one SELECT with named parameters
    (``assessment``, ``framework``, ``cycle``, ``organization``, ``team``): per
    capability its id, key, name, order, questions and answered ones, where
    ``answered`` tells whether the answer ``a`` of question ``q`` counts."""
    qn = connection.ops.quote_name
    question, capability = (
        qn(Question._meta.db_table),
        qn(Capability._meta.db_table),
    )
    answer, organization = qn(Answer._meta.db_table), qn(Organization._meta.db_table)
    scope = qn(Cycle.capabilities.through._meta.db_table)
    return (
        f"SELECT q.capability_id, c.{qn('key')} AS key, c.name,"
        f" c.{qn('order')} AS position, COUNT(q.id) AS total,"
        f" SUM(CASE WHEN {answered} THEN 1 ELSE 0 END) AS answered"
        f" FROM {question} q JOIN {capability} c ON c.id = q.capability_id"
        f" LEFT JOIN {answer} a ON a.question_id = q.id"
        f" AND a.assessment_id = %(assessment)s"
        f" WHERE c.framework_id = %(framework)s"
        f" AND (EXISTS (SELECT 1 FROM {scope} s WHERE s.cycle_id = %(cycle)s"
        f" AND s.capability_id = q.capability_id)"
        f" OR NOT EXISTS (SELECT 1 FROM {scope} s WHERE s.cycle_id = %(cycle)s))"
        f" AND (q.audience = 'team' OR EXISTS (SELECT 1 FROM {organization} o"
        f" WHERE o.id = %(organization)s AND o.central_team_id = %(team)s))"
        f" GROUP BY q.capability_id, c.{qn('key')}, c.name, c.{qn('order')}"
    )


def progress_params(assessment: Assessment) -> dict:
    """The parameters of ``progress_select_sql`` for ``assessment`` (its cycle
    loaded)."""
    cycle = assessment.cycle
    return {
        "assessment": assessment.pk,
        "framework": cycle.framework_id,
        "cycle": cycle.pk,
        "organization": cycle.organization_id,
        "team": assessment.team_id,
    }


def progress_from_rows(rows) -> dict:
    """``assessment_progress``'s dict from the rows of ``progress_select_sql``
    (capability id, key, name, order, total, answered), in any order."""
    rows = sorted(rows, key=lambda row: (row[3], row[0]))
    return _progress_dict(
        [
            {
                "capability_id": capability_id,
                "key": key,
                "name": name,
                "answered": int(answered or 0),
                "total": total,
                "percent": _percent(int(answered or 0), total),
                "complete": int(answered or 0) == total,
            }
            for capability_id, key, name, _order, total, answered in rows
        ]
    )


@cache
def _progress_sql(vendor: str) -> str:
    """The statement of ``assessment_progress``, built once (it depends only on
    the tables)."""
    return progress_select_sql() + " ORDER BY position, q.capability_id"


def assessment_progress(*, assessment: Assessment) -> dict:
    """Answered and total questions, overall and per capability (one query).

    ``{"answered", "total", "percent", "complete", "capabilities": [{"capability_id",
    "key", "name", "answered", "total", "percent", "complete"}]}``

    The query is ``questions_for_assessment`` (scope and audience) joined to this
    assessment's answers and counted with ``answered_q``, written once in SQL: the
    autosave returns it with every save, and composing it through the ORM cost
    several times more than running it. ``test_selectors`` holds the two to agree.
    """
    with connection.cursor() as cursor:
        cursor.execute(_progress_sql(connection.vendor), progress_params(assessment))
        rows = cursor.fetchall()
    return progress_from_rows(rows)


def assessment_progress_orm(*, assessment: Assessment) -> dict:
    """``assessment_progress`` through the ORM: the reference its SQL is tested
    against."""
    rows = (
        questions_for_assessment(assessment=assessment)
        .annotate(
            mine=FilteredRelation(
                "answers", condition=Q(answers__assessment_id=assessment.pk)
            )
        )
        .values("capability_id", "capability__key", "capability__name")
        .annotate(
            total=Count("id"),
            answered=Count("mine", filter=answered_q(answer="mine__", question="")),
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
    # the latest reopening, while the team has not submitted again
    reopen: AssessmentReopen | None = None

    @property
    def overdue(self) -> bool:
        return self.assessment.cycle.is_overdue and not self.assessment.is_submitted

    @property
    def percent(self) -> int:
        return _percent(self.answered, self.total)

    @property
    def started(self) -> bool:
        return self.assessment.status != Assessment.Status.NOT_STARTED


def assessments_progress(assessments: list[Assessment]) -> dict[int, dict]:
    """Answered of total questions in scope for each assessment (its cycle loaded):
    ``{assessment id: {"answered", "total", "percent"}}``, in three queries."""
    if not assessments:
        return {}
    scope: dict[int, set[int]] = defaultdict(set)
    for cycle_id, capability_id in Cycle.capabilities.through.objects.filter(
        cycle_id__in={a.cycle_id for a in assessments}
    ).values_list("cycle_id", "capability_id"):
        scope[cycle_id].add(capability_id)
    # Per framework and capability: every question, and the team-audience ones.
    per_capability: dict[int, dict[int, int]] = defaultdict(dict)
    per_capability_team: dict[int, dict[int, int]] = defaultdict(dict)
    for framework_id, capability_id, n, n_team in (
        Question.objects.filter(
            capability__framework_id__in={a.cycle.framework_id for a in assessments}
        )
        .values_list("capability__framework_id", "capability_id")
        .annotate(n=Count("id"), n_team=Count("id", filter=Q(audience="team")))
    ):
        per_capability[framework_id][capability_id] = n
        per_capability_team[framework_id][capability_id] = n_team
    answered: dict[int, dict[int, int]] = defaultdict(dict)
    for assessment_id, capability_id, n in (
        Answer.objects.filter(assessment__in=[a.pk for a in assessments])
        .filter(ANSWERED_Q)
        .filter(
            audience_q(
                organization=OuterRef("assessment__cycle__organization_id"),
                team=OuterRef("assessment__team_id"),
                question="question__",
            )
        )
        .values_list("assessment_id", "question__capability_id")
        .annotate(n=Count("id"))
    ):
        answered[assessment_id][capability_id] = n
    central_teams: set[int] = set()
    if any(per_capability[f] != per_capability_team[f] for f in list(per_capability)):
        # Only content with central questions pays this query.
        central_teams = set(
            Organization.objects.filter(
                pk__in={a.cycle.organization_id for a in assessments},
                central_team__isnull=False,
            ).values_list("central_team_id", flat=True)
        )
    progress = {}
    for a in assessments:
        counts = (
            per_capability[a.cycle.framework_id]
            if a.team_id in central_teams
            else per_capability_team[a.cycle.framework_id]
        )
        in_scope = scope.get(a.cycle_id) or set(counts)
        done = sum(n for cap, n in answered[a.pk].items() if cap in in_scope)
        total = sum(counts.get(cap, 0) for cap in in_scope)
        progress[a.pk] = {
            "answered": done,
            "total": total,
            "percent": _percent(done, total),
        }
    return progress


def assessments_for_user(*, user) -> dict[str, list[AssessmentRow]]:
    """The user's teams' assessments: ``open`` (cycle open, not submitted) and ``past``
    (submitted, or cycle closed), each with completion (in consensus mode: of the
    user's own answers) and, when open, the latest reopening. Five queries in all,
    six with a consensus-mode team."""
    team_ids = access_for(user).team_ids
    if not team_ids:
        return {"open": [], "past": []}
    assessments = list(
        Assessment.objects.filter(team_id__in=team_ids)
        .exclude(cycle__status=Cycle.Status.PLANNED)
        .select_related("cycle__organization", "team", "submitted_by")
        .order_by("cycle__closes_on", "-cycle_id", "team__name")
    )
    progress = assessments_progress(assessments)
    consensus_ids = [a.pk for a in assessments if a.is_consensus]
    if consensus_ids:
        # A member of a consensus-mode team sees the progress of their own answers.
        own = Counter(
            RespondentAnswer.objects.filter(
                assessment_id__in=consensus_ids, respondent=user
            )
            .filter(answered_q())
            .values_list("assessment_id", flat=True)
        )
        for pk in consensus_ids:
            progress[pk] = {**progress[pk], "answered": own.get(pk, 0)}
    result: dict[str, list[AssessmentRow]] = {"open": [], "past": []}
    for assessment in assessments:
        row = AssessmentRow(
            assessment=assessment,
            answered=progress[assessment.pk]["answered"],
            total=progress[assessment.pk]["total"],
        )
        is_open = assessment.cycle.is_open and not assessment.is_submitted
        result["open" if is_open else "past"].append(row)
    reopens: dict[int, AssessmentReopen] = {}
    for reopen in (
        AssessmentReopen.objects.filter(
            assessment__in=[row.assessment.pk for row in result["open"]]
        )
        .select_related("reopened_by")
        .order_by("-reopened_at", "-pk")
    ):
        reopens.setdefault(reopen.assessment_id, reopen)
    for row in result["open"]:
        row.reopen = reopens.get(row.assessment.pk)
    result["past"].sort(key=lambda r: r.assessment.cycle_id, reverse=True)
    return result


def assessment_reopen_latest(*, assessment: Assessment):
    """The latest reopening of a not-yet-resubmitted assessment (who, when, why), or
    None: once the team submits again, the reopening is history, not news."""
    if assessment.is_submitted:
        return None
    return (
        AssessmentReopen.objects.filter(assessment=assessment)
        .select_related("reopened_by")
        .order_by("-reopened_at", "-pk")
        .first()
    )


def assessment_reopens(*, assessment: Assessment) -> list:
    """Every reopening of the assessment, newest first, with who reopened it."""
    return list(
        AssessmentReopen.objects.filter(assessment=assessment)
        .select_related("reopened_by")
        .order_by("-reopened_at", "-pk")
    )


def answer_history(*, answer: Answer):
    """The answer's changes, newest first, with who made them (one query)."""
    return (
        AnswerChange.objects.filter(answer=answer)
        .select_related("changed_by")
        .order_by("-version")
    )


# --- organisations and teams ------------------------------------------------------


def organization_list_for_lead(*, user) -> QuerySet[Organization]:
    """Organisations the user leads (every organisation for staff), by name."""
    qs = Organization.objects.all()
    if not user.is_staff:
        qs = qs.filter(
            memberships__user=user, memberships__role=Membership.Role.LEAD
        ).distinct()
    return qs.order_by("name")


@dataclass
class TreeNode:
    """One node of an organisation's tree, in display order."""

    team: Team
    depth: int
    path: str  # names of the business units above it, "Retail / Online"
    children: int = 0
    teams_below: int = 0
    members: int = 0

    @property
    def is_business_unit(self) -> bool:
        return self.team.is_business_unit


def _count_subquery(model, fk: str) -> Coalesce:
    counts = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _count_subquery_on(model, fk: str, outer: str) -> Coalesce:
    """Rows of ``model`` whose ``fk`` equals the outer row's ``outer`` (0 if none)."""
    counts = (
        model.objects.filter(**{fk: OuterRef(outer)})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def team_tree(*, organization: Organization) -> list[TreeNode]:
    """The organisation's teams depth-first, siblings by name (units before teams),
    each with its depth, path and counts. One query."""
    teams = {
        t.id: t
        for t in Team.objects.filter(organization=organization).annotate(
            member_count=_count_subquery(Membership, "team")
        )
    }
    tree = Tree((t.id, t.parent_id) for t in teams.values())

    def order(pk: int):
        return (not teams[pk].is_business_unit, teams[pk].name.lower())

    nodes: dict[int, TreeNode] = {}
    for pk, depth in tree.walk(sort_key=order):
        team = teams[pk]
        nodes[pk] = TreeNode(
            team=team,
            depth=depth,
            path=" / ".join(teams[a].name for a in reversed(tree.ancestors(pk))),
            children=len(tree.children(pk)),
            members=team.member_count,
            teams_below=sum(
                not teams[d].is_business_unit for d in tree.descendants(pk)
            ),
        )
    return list(nodes.values())


def unit_paths(*, organization_id: int) -> dict[int, str]:
    """Team id -> the names of the units above it ("Retail / Online"). One query."""
    rows = Team.objects.filter(organization_id=organization_id).values_list(
        "id", "parent_id", "name"
    )
    names = {pk: name for pk, _parent, name in rows}
    tree = Tree((pk, parent) for pk, parent, _name in rows)
    return {
        pk: " / ".join(names[a] for a in reversed(tree.ancestors(pk))) for pk in names
    }


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    """The organisation's memberships with user and team, by username."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user", "team")
        .order_by("user__username", "team__name")
    )


# --- cycles and the completion board -----------------------------------------------


def cycle_list(*, organization: Organization) -> QuerySet[Cycle]:
    """The organisation's cycles, newest first, with team/assessment/submitted counts."""
    return (
        Cycle.objects.filter(organization=organization)
        .select_related("framework")
        .annotate(
            team_count=_count_subquery(Cycle.teams.through, "cycle"),
            assessment_count=Count("assessments", distinct=True),
            submitted_count=Count(
                "assessments",
                filter=Q(assessments__status=Assessment.Status.SUBMITTED),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-id")
    )


def cycle_capability_ids(*, cycle: Cycle) -> list[int]:
    """Capabilities in scope; an empty list means every capability of the framework."""
    return list(cycle.capabilities.values_list("id", flat=True))


def cycle_question_count(*, cycle: Cycle, capability_ids: list[int]) -> int:
    questions = Question.objects.filter(capability__framework_id=cycle.framework_id)
    if capability_ids:
        questions = questions.filter(capability_id__in=capability_ids)
    return questions.count()


def cycle_completion(*, cycle: Cycle) -> list[dict]:
    """Per team of the cycle: status, answered of total questions, percent, last
    activity and submission, ordered by business unit path then team name.
    Four queries, whatever the number of teams."""
    capability_ids = cycle_capability_ids(cycle=cycle)
    questions = Question.objects.filter(capability__framework_id=cycle.framework_id)
    if capability_ids:
        questions = questions.filter(capability_id__in=capability_ids)
    totals = questions.aggregate(
        every=Count("id"), team=Count("id", filter=Q(audience="team"))
    )
    answered = answered_q(answer="answers__", question="answers__question__")
    answered &= audience_q(
        organization=cycle.organization_id,
        team=OuterRef("team_id"),
        question="answers__question__",
    )
    if capability_ids:
        answered &= Q(answers__question__capability_id__in=capability_ids)
    assessments = (
        Assessment.objects.filter(cycle=cycle)
        .select_related("team", "submitted_by")
        .annotate(
            answered=Count("answers", filter=answered),
            latest_answer_at=Max("answers__updated_at"),
            # consensus mode: members of the team, and how many submitted their own
            member_count=_count_subquery_on(Membership, "team_id", "team_id"),
            respondents_submitted=_count_subquery_on(
                RespondentSubmission, "assessment_id", "pk"
            ),
            is_central=ExpressionWrapper(
                is_central_team_q(
                    organization=cycle.organization_id, team=OuterRef("team_id")
                ),
                output_field=BooleanField(),
            ),
        )
        .order_by()
    )
    paths = unit_paths(organization_id=cycle.organization_id)
    rows = []
    for a in assessments:
        # The audience rule: only the central team answers central questions.
        total = totals["every"] if a.is_central else totals["team"]
        done = min(a.answered, total)
        rows.append(
            {
                "assessment_id": a.id,
                "team": a.team,
                "team_id": a.team_id,
                "team_name": a.team.name,
                "unit_path": paths.get(a.team_id, ""),
                "status": a.status,
                "status_label": a.get_status_display(),
                "answered": done,
                "total": total,
                "percent": round(done * 100 / total) if total else 0,
                "last_activity_at": _latest(a.last_activity_at, a.latest_answer_at),
                "submitted_at": a.submitted_at,
                "submitted_by": a.submitted_by.get_username() if a.submitted_by else "",
                "consensus": a.is_consensus,
                "respondents": a.member_count,
                "respondents_submitted": a.respondents_submitted,
            }
        )
    rows.sort(key=lambda r: (r["unit_path"].lower(), r["team_name"].lower()))
    return rows


def _latest(*values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def completion_summary(rows: list[dict]) -> dict:
    """Counts for the line above the board: submitted n of N, and so on."""
    counts = {status: 0 for status in Assessment.Status.values}
    for row in rows:
        counts[row["status"]] += 1
    total = len(rows)
    submitted = counts[Assessment.Status.SUBMITTED]
    return {
        "total": total,
        "submitted": submitted,
        "in_progress": counts[Assessment.Status.IN_PROGRESS],
        "not_started": counts[Assessment.Status.NOT_STARTED],
        "percent": round(submitted * 100 / total) if total else 0,
    }


def open_cycle_summaries(*, organization: Organization) -> list[Cycle]:
    """Open cycles of the organisation with submitted/assessment counts and percent."""
    cycles = list(
        cycle_list(organization=organization).filter(status=Cycle.Status.OPEN)
    )
    for c in cycles:
        c.submitted_percent = (
            round(c.submitted_count * 100 / c.assessment_count)
            if c.assessment_count
            else 0
        )
    return cycles


COMPLETION_CSV_HEADER = [
    "business unit",
    "team",
    "status",
    "answered",
    "total",
    "percent",
    "last activity",
    "submitted at",
    "submitted by",
]


def completion_csv_rows(rows: list[dict]) -> list[list[str]]:
    """The completion board as CSV rows (header first), safe against formula injection."""

    def when(value) -> str:
        return value.isoformat(timespec="seconds") if value else ""

    out = [COMPLETION_CSV_HEADER]
    for r in rows:
        out.append(
            [
                safe_cell(v)
                for v in (
                    r["unit_path"],
                    r["team_name"],
                    r["status_label"],
                    r["answered"],
                    r["total"],
                    r["percent"],
                    when(r["last_activity_at"]),
                    when(r["submitted_at"]),
                    r["submitted_by"],
                )
            ]
        )
    return out


def cycle_reopen_list(*, cycle: Cycle) -> QuerySet[AssessmentReopen]:
    """Reopen reasons of the cycle's assessments, newest first."""
    return (
        AssessmentReopen.objects.filter(assessment__cycle=cycle)
        .select_related("assessment__team", "reopened_by")
        .order_by("-reopened_at", "-id")
    )


ANSWERS_EXPORT_HEADER = [
    "capability",
    "question key",
    "question",
    "lens",
    "option",
    "score",
    "not applicable",
    "comment",
    "evidence",
    "answered by",
    "answered at",
]


def answers_export_table(*, assessment: Assessment) -> tuple[list[str], list[list]]:
    """Every question in scope with the team's answer, in questionnaire order (three
    queries: questions, options, answers). Unanswered questions have empty cells."""
    answers = assessment_answers(assessment=assessment)
    rows = []
    for group in assessment_questions(assessment=assessment):
        for question in group.questions:
            answer = answers.get(question.pk)
            user = answer.answered_by if answer else None
            option = answer.option if answer else None
            rows.append(
                [
                    group.capability.name,
                    question.key,
                    question.prompt,
                    question.lens.name,
                    option.label if option else None,
                    option.score if option else None,
                    "yes" if answer and answer.not_applicable else None,
                    answer.comment if answer else None,
                    answer.evidence_url if answer else None,
                    (user.get_full_name() or user.get_username()) if user else None,
                    answer.updated_at.isoformat(timespec="seconds")
                    if answer and answer.updated_at
                    else None,
                ]
            )
    return ANSWERS_EXPORT_HEADER, rows


def audit_events_described(events: list[AuditEvent]) -> list[AuditEvent]:
    """``events`` each with ``description`` (the summary, capability keys replaced
    by the capabilities' names) and ``reason`` (a reopening's), one query for the
    names of the whole page."""
    keys = {
        e.detail.get("capability_key") for e in events if isinstance(e.detail, dict)
    }
    keys.discard(None)
    names = (
        dict(
            Capability.objects.filter(key__in=keys)
            .order_by("key", "-framework__version")
            .values_list("key", "name")
            .distinct()
        )
        if keys
        else {}
    )
    for event in events:
        detail = event.detail if isinstance(event.detail, dict) else {}
        key = detail.get("capability_key")
        event.description = (
            event.summary.replace(key, names[key], 1) if key in names else event.summary
        )
        event.reason = detail.get("reason") or ""
    return events


def audit_event_list(*, organization: Organization) -> QuerySet[AuditEvent]:
    """The organisation's audit trail, newest first."""
    return (
        AuditEvent.objects.filter(organization_id=organization.pk)
        .select_related("actor")
        .order_by("-at", "-id")
    )

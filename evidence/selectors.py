"""Reads: suggestions for a questionnaire, claimed vs measured, the overview.

Each selector issues a fixed number of queries, whatever the number of teams,
periods or questions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from assessment.models import Answer, Assessment, Cycle, Organization, Team
from capabilities.measures import MEASURE_KEYS, band_score
from capabilities.models import AnswerOption, Framework, Question

from .measures import MEASURES_BY_KEY, ORGANIZATION
from .models import (
    EvidencePeriod,
    EvidenceSettings,
    Ingestion,
    InvoiceSum,
    InvoiceTotal,
    MeasureValue,
    SuggestionDecision,
)
from .services import team_closure


@dataclass(frozen=True)
class Suggestion:
    """What a team's cost data suggests for one question."""

    question_id: int
    measure: str
    value: float
    score: int
    period_start: dt.date
    period_end: dt.date
    age_days: int
    scope: str  # "team" or "organisation"
    focus_version: str
    providers: tuple[str, ...]
    option_id: int | None = None

    @property
    def name(self) -> str:
        return MEASURE_KEYS[self.measure][0]

    @property
    def unit(self) -> str:
        return MEASURE_KEYS[self.measure][1]

    @property
    def formula(self) -> str:
        return MEASURES_BY_KEY[self.measure].formula

    @property
    def shown_value(self) -> str:
        return format_value(self.measure, self.value)

    @property
    def source(self) -> str:
        providers = ", ".join(self.providers) or "cost"
        return f"FOCUS {self.focus_version} export ({providers})"


def format_value(measure: str, value: float | None) -> str:
    if value is None:
        return "–"
    if MEASURE_KEYS[measure][1] == "count":
        return f"{value:.0f}"
    return f"{value:.1f} %"


def settings_for(organization_id: int) -> EvidenceSettings | None:
    return EvidenceSettings.objects.filter(organization_id=organization_id).first()


def freshness_cutoff(organization_id: int, today: dt.date | None = None) -> dt.date:
    """Periods that ended before this date are stale."""
    found = settings_for(organization_id)
    from django.conf import settings

    days = found.max_age_days if found else settings.EVIDENCE_MAX_AGE_DAYS
    return (today or timezone.now().date()) - dt.timedelta(days=days)


def _latest_values(*, organization_id: int, team_ids, measures, cutoff) -> dict:
    """{(team_id or None, measure): MeasureValue} from the newest fresh period in
    which the measure could be computed for that node (one query)."""
    rows = (
        MeasureValue.objects.filter(
            period__organization_id=organization_id,
            period__period_end__gte=cutoff,
            measure__in=list(measures),
            value__isnull=False,
        )
        .filter(Q(team__isnull=True) | Q(team_id__in=list(team_ids)))
        .select_related("period")
        .order_by("-period__period_start")
    )
    latest: dict = {}
    for value in rows:
        latest.setdefault((value.team_id, value.measure), value)
    return latest


def _suggestion(
    question, value: MeasureValue, scope: str, options: dict, today
) -> Suggestion | None:
    score = band_score(question.measure_bands, value.value)
    if score is None or value.value is None:
        return None
    period = value.period
    return Suggestion(
        question_id=question.pk,
        measure=question.measure_key,
        value=value.value,
        score=score,
        period_start=period.period_start,
        period_end=period.period_end,
        age_days=max(0, (today - period.period_end).days),
        scope=scope,
        focus_version=period.focus_version,
        providers=tuple(period.providers),
        option_id=options.get((question.pk, score)),
    )


def _pick(question, team_id, latest) -> tuple[MeasureValue | None, str]:
    measure = MEASURES_BY_KEY.get(question.measure_key)
    if measure is None:
        return None, ""
    if measure.scope == ORGANIZATION:
        return latest.get((None, question.measure_key)), "organisation"
    return latest.get((team_id, question.measure_key)), "team"


def _options_by_score(questions) -> dict[tuple[int, int], int]:
    """{(question id, score): option id}: from the questions' prefetched options,
    or else one query for all of them (not one per question)."""
    if all("options" in getattr(q, "_prefetched_objects_cache", {}) for q in questions):
        return {(q.pk, o.score): o.pk for q in questions for o in q.options.all()}
    return {
        (question_id, score): pk
        for question_id, score, pk in AnswerOption.objects.filter(
            question_id__in=[q.pk for q in questions]
        ).values_list("question_id", "score", "id")
    }


def suggestions_for(*, assessment: Assessment, questions) -> dict[int, Suggestion]:
    """question id -> the suggestion from the team's fresh evidence, for the
    questions that carry a measure (a few queries; none without such questions)."""
    measured = [q for q in questions if q.measure_key]
    if not measured:
        return {}
    organization_id = assessment.cycle.organization_id
    today = timezone.now().date()
    found_settings = settings_for(organization_id)
    if found_settings is None or found_settings.computed_at is None:
        # Measures are written only by a recompute, which stamps the settings it
        # creates: none computed yet, nothing to read (the team report asks on
        # every visit).
        return {}
    latest = _latest_values(
        organization_id=organization_id,
        team_ids=[assessment.team_id],
        measures={q.measure_key for q in measured},
        cutoff=today - dt.timedelta(days=found_settings.max_age_days),
    )
    if not latest:
        # No fresh evidence for this team: nothing to suggest, nothing more to read.
        return {}
    options = _options_by_score(measured)
    found = {}
    for question in measured:
        value, scope = _pick(question, assessment.team_id, latest)
        if value is not None and (
            s := _suggestion(question, value, scope, options, today)
        ):
            found[question.pk] = s
    return found


def decisions_for(
    *, assessment: Assessment, question_ids
) -> dict[int, SuggestionDecision]:
    return {
        d.question_id: d
        for d in SuggestionDecision.objects.filter(
            assessment=assessment, question_id__in=list(question_ids)
        )
    }


def question_suggestion(
    *, assessment: Assessment, question: Question
) -> Suggestion | None:
    return suggestions_for(assessment=assessment, questions=[question]).get(question.pk)


# --- claimed vs measured ---------------------------------------------------------------


# Published content never changes: its measured questions are kept per process,
# keyed by the framework and the moment it was published.
_measured: dict[tuple, list[Question]] = {}
MEASURED_KEPT = 16


def measured_questions(framework: Framework) -> list[Question]:
    """The framework's questions with a ``measure`` block, in questionnaire order
    (one query, then none once the framework is published: the team report asks
    on every visit)."""
    key = (framework.pk, framework.published_at)
    found = _measured.get(key) if framework.published_at else None
    if found is None:
        found = list(
            Question.objects.filter(capability__framework_id=framework.pk)
            .exclude(measure_key="")
            .select_related("capability", "lens")
            .order_by("capability__order", "order", "id")
        )
        if framework.status != Framework.Status.DRAFT and framework.published_at:
            if len(_measured) >= MEASURED_KEPT:
                _measured.clear()
            _measured[key] = found
    return list(found)


def claimed_vs_measured(*, assessment: Assessment) -> list[dict]:
    """Per question with a measure: the team's claimed score, the score its data
    suggests, the difference (positive: claimed above the data) and any reason."""
    questions = measured_questions(assessment.cycle.framework)
    if not questions:
        return []
    suggestions = suggestions_for(assessment=assessment, questions=questions)
    if not suggestions:
        return []
    answers = {
        a.question_id: a
        for a in Answer.objects.filter(
            assessment=assessment, question_id__in=[q.pk for q in questions]
        ).select_related("option")
    }
    decisions = decisions_for(
        assessment=assessment, question_ids=[q.pk for q in questions]
    )
    rows = []
    for question in questions:
        suggestion = suggestions.get(question.pk)
        if suggestion is None:
            continue
        answer = answers.get(question.pk)
        claimed = (
            answer.option.score
            if answer is not None and answer.option is not None
            else None
        )
        decision = decisions.get(question.pk)
        rows.append(
            {
                "question": question,
                "capability": question.capability,
                "suggestion": suggestion,
                "claimed": claimed,
                "measured": suggestion.score,
                "gap": None if claimed is None else claimed - suggestion.score,
                "reason": decision.reason if decision else "",
                "decision": decision,
            }
        )
    return rows


def capability_gaps(rows: list[dict]) -> list[dict]:
    """Rows grouped by capability: questions compared, claimed above the data,
    and the mean excess of those (points on 0-4)."""
    groups: dict[int, dict] = {}
    for row in rows:
        entry = groups.setdefault(
            row["capability"].pk,
            {"capability": row["capability"], "compared": 0, "above": 0, "excess": 0.0},
        )
        if row["gap"] is None:
            continue
        entry["compared"] += 1
        if row["gap"] > 0:
            entry["above"] += 1
            entry["excess"] += row["gap"]
    result = []
    for entry in groups.values():
        entry["mean_excess"] = (
            entry["excess"] / entry["above"] if entry["above"] else 0.0
        )
        result.append(entry)
    return result


DASHBOARD_SECTION_KEY = "evidence:dashboard-section:v1:{cycle}:{unit}:{state}"


def dashboard_section_key(
    *, organization: Organization, cycle_id: int, unit_id=None
) -> str | None:
    """The cache key of the dashboard's claimed vs measured for a cycle and unit,
    from what changes it (the cycle's submissions, the organisation's measures and
    evidence settings, the day that decides freshness); None when the cycle's
    framework has no measured question. One query."""
    settings = "organization__evidence_settings__"
    row = (
        Cycle.objects.filter(pk=cycle_id, organization=organization)
        .annotate(
            measured=Exists(
                Question.objects.filter(
                    capability__framework_id=OuterRef("framework_id")
                ).exclude(measure_key="")
            )
        )
        .values_list(
            "measured",
            "scores_generation",
            f"{settings}computed_generation",
            f"{settings}computed_at",
            f"{settings}updated_at",
        )
        .first()
    )
    if row is None or not row[0]:
        return None
    state = ":".join(str(part) for part in (*row[1:], timezone.now().date()))
    return DASHBOARD_SECTION_KEY.format(
        cycle=cycle_id, unit=unit_id or "all", state=state.replace(" ", "_")
    )


def org_claimed_vs_measured(
    *, organization: Organization, cycle_id: int, unit_id=None
) -> dict:
    """Across a cycle's teams: per capability, answers compared with the data,
    how many claim more than it suggests and by how much; and the largest gaps
    by team. One query without measures; five, whatever the number of teams."""
    questions = list(
        Question.objects.filter(
            capability__framework__cycles__id=cycle_id,
            capability__framework__cycles__organization=organization,
        )
        .exclude(measure_key="")
        .select_related("capability", "lens")
        .order_by("capability__order", "order", "id")
    )
    if not questions:
        return {"capabilities": [], "teams": [], "compared": 0, "no_measures": True}
    rows = Assessment.objects.filter(
        cycle_id=cycle_id, cycle__organization=organization
    ).select_related("team")
    if unit_id is not None:
        under = {
            n for n, a in team_closure(organization_id=organization.pk) if a == unit_id
        }
        rows = rows.filter(team_id__in=under)
    assessments = list(rows)
    today = timezone.now().date()
    latest = _latest_values(
        organization_id=organization.pk,
        team_ids=[a.team_id for a in assessments],
        measures={q.measure_key for q in questions},
        cutoff=freshness_cutoff(organization.pk, today),
    )
    claimed = {
        (a_id, q_id): score
        for a_id, q_id, score in Answer.objects.filter(
            assessment__in=[a.pk for a in assessments],
            question_id__in=[q.pk for q in questions],
            option__isnull=False,
        ).values_list("assessment_id", "question_id", "option__score")
    }
    per_capability: dict[int, dict] = {}
    per_team: dict[int, dict] = defaultdict(
        lambda: {"above": 0, "excess": 0, "compared": 0}
    )
    compared = 0
    for assessment in assessments:
        for question in questions:
            score = claimed.get((assessment.pk, question.pk))
            if score is None:
                continue
            value, _scope = _pick(question, assessment.team_id, latest)
            suggested = (
                band_score(question.measure_bands, value.value) if value else None
            )
            if suggested is None:
                continue
            compared += 1
            cap = per_capability.setdefault(
                question.capability_id,
                {
                    "capability": question.capability,
                    "compared": 0,
                    "above": 0,
                    "excess": 0,
                },
            )
            team = per_team[assessment.team_id]
            team["team"] = assessment.team
            team["assessment"] = assessment
            cap["compared"] += 1
            team["compared"] += 1
            if score > suggested:
                cap["above"] += 1
                cap["excess"] += score - suggested
                team["above"] += 1
                team["excess"] += score - suggested
    capabilities = []
    for cap in per_capability.values():
        cap["share_above"] = (
            cap["above"] * 100 / cap["compared"] if cap["compared"] else 0
        )
        cap["mean_excess"] = cap["excess"] / cap["above"] if cap["above"] else 0
        capabilities.append(cap)
    teams = sorted(
        (t for t in per_team.values() if t["above"]),
        key=lambda t: (-t["excess"], t["team"].name),
    )
    return {"capabilities": capabilities, "teams": teams, "compared": compared}


# --- the overview ------------------------------------------------------------------


def periods_list(*, organization: Organization) -> list[dict]:
    """Stored periods, newest first, with their age and whether they are stale."""
    today = timezone.now().date()
    cutoff = freshness_cutoff(organization.pk, today)
    return [
        {
            "period": period,
            "age_days": max(0, (today - period.period_end).days),
            "stale": period.period_end < cutoff,
        }
        for period in EvidencePeriod.objects.filter(organization=organization)
        .select_related("ingestion")
        .order_by("-period_start")
    ]


def measures_table(*, period: EvidencePeriod) -> dict:
    """One period's measures: the organisation's (with formulas) and a row per
    business unit or team with a value for each node-level measure."""
    values = list(MeasureValue.objects.filter(period=period).select_related("team"))
    org = {v.measure: v for v in values if v.team_id is None}
    nodes: dict[int, dict] = {}
    for v in values:
        if v.team_id is None:
            continue
        nodes.setdefault(v.team_id, {"team": v.team, "values": {}})["values"][
            v.measure
        ] = v
    node_measures = [m for m in MEASURES_BY_KEY.values() if m.scope != ORGANIZATION]
    rows = sorted(
        nodes.values(),
        key=lambda n: (n["team"].kind != Team.Kind.BUSINESS_UNIT, n["team"].name),
    )
    for row in rows:
        row["cells"] = [row["values"].get(m.key) for m in node_measures]
    return {
        "organization": [
            {"measure": m, "value": org.get(m.key)} for m in MEASURES_BY_KEY.values()
        ],
        "node_measures": node_measures,
        "rows": rows,
    }


def ingestions_recent(
    *, organization: Organization, limit: int = 10
) -> list[Ingestion]:
    return list(
        Ingestion.objects.filter(organization=organization).order_by("-created_at")[
            :limit
        ]
    )


def invoices_table(*, organization: Organization) -> list[dict]:
    """Invoices in the stored periods with the totals entered and the difference."""
    totals = {
        t.invoice_id: t for t in InvoiceTotal.objects.filter(organization=organization)
    }
    rows = []
    for invoice in (
        InvoiceSum.objects.filter(period__organization=organization)
        .select_related("period")
        .order_by("-period__period_start", "invoice_id")
    ):
        entered = totals.get(invoice.invoice_id)
        difference = None if entered is None else invoice.billed_cost - entered.total
        rows.append(
            {
                "invoice": invoice,
                "entered": entered,
                "difference": difference,
                "reconciled": difference is not None and abs(difference) < 0.005,
            }
        )
    return rows

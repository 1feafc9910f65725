"""Reads of stored scores and roll-up snapshots into DataFrames: one query each.

``cycle`` arguments take a ``Cycle`` or its id.

Each selector runs a single ``.values(...)`` query and renames the ORM paths to the
column names below, so an empty result still has the full schema.
"""

import pandas as pd
from django.db.models import Avg, Count, F, Max, OuterRef, Q, Subquery

from assessment.models import Assessment, CapabilityScore, Cycle, Team
from capabilities.models import Capability, Recommendation
from capabilities.selectors import (
    LENS_FIELDS,
    LEVEL_FIELDS,
    framework_lenses,
    framework_levels,
)

from .models import DisagreementStat, NodeStat, TeamRank

SCORE_FIELDS = {
    "assessment_id": "assessment_id",
    "assessment__team_id": "team_id",
    "assessment__team__name": "team",
    "assessment__team__parent_id": "parent_id",
    "capability_id": "capability_id",
    "capability__key": "capability_key",
    "capability__name": "capability",
    "capability__order": "capability_order",
    "percent": "percent",
    "level_key": "level_key",
    "lens_scores": "lens_scores",
}
HISTORY_FIELDS = {
    "assessment__cycle_id": "cycle_id",
    "assessment__cycle__name": "cycle",
    "assessment__cycle__framework_id": "framework_id",
    "capability__key": "capability_key",
    "capability__name": "capability",
    "capability__order": "capability_order",
    "percent": "percent",
}
STAT_FIELDS = {
    "node_id": "node_id",
    "node__name": "node",
    "capability_id": "capability_id",
    "capability__key": "capability_key",
    "capability__name": "capability",
    "capability__order": "capability_order",
    "n": "n",
    "mean": "mean",
    "median": "median",
    "p25": "p25",
    "p75": "p75",
    "min": "min",
    "max": "max",
    "level_counts": "level_counts",
    "lens_means": "lens_means",
}
STAT_HISTORY_FIELDS = {
    "cycle_id": "cycle_id",
    "cycle__name": "cycle",
    "cycle__framework_id": "framework_id",
    "capability__key": "capability_key",
    "capability__name": "capability",
    "capability__order": "capability_order",
    "n": "n",
    "median": "median",
}
RANK_FIELDS = {
    "capability__key": "capability_key",
    "capability__name": "capability",
    "capability__order": "capability_order",
    "percent": "percent",
    "percentile": "percentile",
}
TEAM_FIELDS = {"id": "id", "name": "name", "parent_id": "parent_id", "kind": "kind"}
CAPABILITY_FIELDS = {"id": "id", "key": "key", "name": "name", "order": "order"}
RECOMMENDATION_FIELDS = {
    "capability__key": "capability_key",
    "lens__key": "lens_key",
    "lens__name": "lens",
    "level__key": "level_key",
    "title": "title",
    "body": "body",
    "links": "links",
    "effort": "effort",
    "impact": "impact",
    "order": "order",
}
CYCLE_FIELDS = {
    "id": "id",
    "name": "name",
    "status": "status",
    "framework_id": "framework_id",
    "rollup__computed_at": "computed_at",
    "rollup__computed_generation": "computed_generation",
    "scores_generation": "generation",
}


def _frame(rows, fields: dict) -> pd.DataFrame:
    # columns= keeps the schema even when there are no rows
    return pd.DataFrame.from_records(list(rows), columns=list(fields)).rename(
        columns=fields
    )


def cycle_scores_frame(
    *, cycle: Cycle | int, team_ids=None, with_lenses: bool = True
) -> pd.DataFrame:
    """Stored capability scores of the cycle's submitted assessments; without the
    lens_scores column (the costliest to read) when ``with_lenses`` is False."""
    rows = CapabilityScore.objects.filter(
        assessment__cycle=cycle, assessment__status=Assessment.Status.SUBMITTED
    )
    if team_ids is not None:
        rows = rows.filter(assessment__team_id__in=list(team_ids))
    rows = rows.order_by("assessment__team__name", "capability__order")
    fields = (
        SCORE_FIELDS
        if with_lenses
        else {k: v for k, v in SCORE_FIELDS.items() if k != "lens_scores"}
    )
    return _frame(rows.values(*fields), fields)


def assessment_scores_frame(*, assessment: Assessment) -> pd.DataFrame:
    """Stored capability scores of one assessment, in capability order."""
    rows = CapabilityScore.objects.filter(assessment=assessment).order_by(
        "capability__order", "capability_id"
    )
    return _frame(rows.values(*SCORE_FIELDS), SCORE_FIELDS)


def assessment_scores_and_ranks_frames(
    *, assessment: Assessment
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``assessment_scores_frame`` and ``team_ranks_frame`` of one assessment in one
    query: each capability's rank is read with its score."""
    ranks = TeamRank.objects.filter(
        assessment_id=OuterRef("assessment_id"), capability_id=OuterRef("capability_id")
    ).order_by("id")
    rows = (
        CapabilityScore.objects.filter(assessment=assessment)
        .order_by("capability__order", "capability_id")
        .annotate(
            rank_percent=Subquery(ranks.values("percent")[:1]),
            rank_percentile=Subquery(ranks.values("percentile")[:1]),
        )
    )
    fields = SCORE_FIELDS | {
        "rank_percent": "rank_percent",
        "rank_percentile": "rank_percentile",
    }
    both = _frame(rows.values(*fields), fields)
    scores = both[list(SCORE_FIELDS.values())]
    ranked = both[both["rank_percentile"].notna()]
    ranks_frame = pd.DataFrame(
        {
            "capability_key": ranked["capability_key"],
            "capability": ranked["capability"],
            "capability_order": ranked["capability_order"],
            "percent": ranked["rank_percent"],
            "percentile": ranked["rank_percentile"],
        },
        columns=list(RANK_FIELDS.values()),
    ).reset_index(drop=True)
    return scores, ranks_frame


def team_history_frame(*, team: Team) -> pd.DataFrame:
    """The team's stored scores in every submitted assessment, oldest cycle first."""
    rows = CapabilityScore.objects.filter(
        assessment__team=team, assessment__status=Assessment.Status.SUBMITTED
    )
    rows = rows.order_by(
        F("assessment__cycle__opens_on").asc(nulls_first=True),
        "assessment__cycle_id",
        "capability__order",
    )
    return _frame(rows.values(*HISTORY_FIELDS), HISTORY_FIELDS)


def node_stats_frame(*, cycle: Cycle | int) -> pd.DataFrame:
    """Every per-capability statistic of the cycle's snapshot (node NaN = organisation)."""
    rows = NodeStat.objects.filter(cycle=cycle, capability__isnull=False).order_by(
        F("node_id").asc(nulls_first=True), "capability__order", "capability_id"
    )
    return _frame(rows.values(*STAT_FIELDS), STAT_FIELDS)


def node_stats_for_frame(*, cycle: Cycle | int, node_ids: list) -> pd.DataFrame:
    """Per-capability statistics of the given nodes (``None`` = organisation)."""
    wanted = Q(node_id__in=[n for n in node_ids if n is not None])
    if None in node_ids:
        wanted |= Q(node__isnull=True)
    rows = (
        NodeStat.objects.filter(cycle=cycle, capability__isnull=False)
        .filter(wanted)
        .order_by(
            F("node_id").asc(nulls_first=True), "capability__order", "capability_id"
        )
    )
    return _frame(rows.values(*STAT_FIELDS), STAT_FIELDS)


def node_history_frame(*, organization, node_id=None) -> pd.DataFrame:
    """A node's per-capability statistics in every cycle of the organisation."""
    rows = NodeStat.objects.filter(
        cycle__organization=organization, capability__isnull=False
    )
    rows = (
        rows.filter(node__isnull=True)
        if node_id is None
        else rows.filter(node_id=node_id)
    )
    rows = rows.order_by(
        F("cycle__opens_on").asc(nulls_first=True), "cycle_id", "capability__order"
    )
    return _frame(rows.values(*STAT_HISTORY_FIELDS), STAT_HISTORY_FIELDS)


def team_ranks_frame(*, assessment: Assessment) -> pd.DataFrame:
    """The assessment's percentile rank per capability (overall excluded)."""
    rows = TeamRank.objects.filter(
        assessment=assessment, capability__isnull=False
    ).order_by("capability__order", "capability_id")
    return _frame(rows.values(*RANK_FIELDS), RANK_FIELDS)


def teams_frame(*, organization) -> pd.DataFrame:
    """Every node of the organisation's tree (business units and teams)."""
    rows = Team.objects.filter(organization=organization).order_by("name")
    return _frame(rows.values(*TEAM_FIELDS), TEAM_FIELDS)


def levels_frame(*, framework_id: int) -> pd.DataFrame:
    """The framework's maturity levels, lowest first (``framework_levels``)."""
    rows = framework_levels(framework_id=framework_id)
    frame = pd.DataFrame.from_records(rows, columns=list(LEVEL_FIELDS))
    return frame.astype({"min_percent": float})


def lenses_frame(*, framework_id: int) -> pd.DataFrame:
    """The framework's lenses in order (``framework_lenses``)."""
    rows = framework_lenses(framework_id=framework_id)
    frame = pd.DataFrame.from_records(rows, columns=list(LENS_FIELDS))
    return frame.astype({"weight": float})


def capabilities_frame(*, framework_id: int) -> pd.DataFrame:
    """The framework's capabilities in order."""
    rows = Capability.objects.filter(framework_id=framework_id).order_by("order", "id")
    return _frame(rows.values(*CAPABILITY_FIELDS), CAPABILITY_FIELDS)


def recommendations_frame(*, framework_id: int) -> pd.DataFrame:
    """Every recommendation of the framework with its capability, lens and level keys."""
    rows = Recommendation.objects.filter(
        capability__framework_id=framework_id
    ).order_by("capability__order", "level__min_percent", "order", "id")
    return _frame(rows.values(*RECOMMENDATION_FIELDS), RECOMMENDATION_FIELDS)


def cycles_list(*, organization) -> list[dict]:
    """The organisation's cycles, newest first, with their roll-up state (a plain
    list: a page reads a handful of rows, where a frame would cost more than the
    query). A cycle never rolled up has None for computed_at and 0 generations."""
    rows = Cycle.objects.filter(organization=organization).order_by(
        F("opens_on").desc(nulls_last=True), "-id"
    )
    cycles = []
    for row in rows.values(*CYCLE_FIELDS):
        cycle = {name: row[field] for field, name in CYCLE_FIELDS.items()}
        cycle["generation"] = cycle["generation"] or 0
        cycle["computed_generation"] = cycle["computed_generation"] or 0
        cycles.append(cycle)
    return cycles


def cycle_completion_get(*, cycle: Cycle | int) -> dict:
    """How many of the cycle's assessments are submitted, of how many."""
    return Assessment.objects.filter(cycle=cycle).aggregate(
        total=Count("id"),
        submitted=Count("id", filter=Q(status=Assessment.Status.SUBMITTED)),
    )


def cycle_disagreement(*, cycle_id: int, unit_id, in_scope, top: int = 5) -> dict:
    """The members' disagreement in the cycle's consensus-mode teams (from the
    snapshot and the stored team scores), for the dashboard: per capability the
    mean and widest team figure under the node, and the ``top`` teams of widest
    mean disagreement. Two queries (one without any); empty lists when no team ran in consensus."""
    stats = (
        DisagreementStat.objects.filter(cycle_id=cycle_id, node_id=unit_id)
        .select_related("capability")
        .order_by("-mean", "capability__order")
    )
    capabilities = [
        {
            "capability": s.capability.name if s.capability_id else "Overall",
            "teams": s.teams,
            "mean": s.mean,
            "max": s.max,
        }
        for s in stats
        if s.capability_id is not None
    ]
    if not capabilities:
        # No consensus team submitted under the node: nothing to rank.
        return {"capabilities": [], "teams": []}
    teams = (
        CapabilityScore.objects.filter(
            assessment__cycle_id=cycle_id,
            assessment__status=Assessment.Status.SUBMITTED,
            disagreement__isnull=False,
        )
        .values("assessment_id", "assessment__team_id", "assessment__team__name")
        .annotate(mean=Avg("disagreement"), widest=Max("disagreement"))
        .order_by("-mean", "assessment__team__name")
    )
    scope = set(in_scope) if in_scope is not None else None
    rows = [
        {
            "assessment_id": t["assessment_id"],
            "team": t["assessment__team__name"],
            "mean": t["mean"],
            "widest": t["widest"],
        }
        for t in teams
        if scope is None or t["assessment__team_id"] in scope
    ]
    return {"capabilities": capabilities, "teams": rows[:top]}

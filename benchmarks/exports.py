"""The tables of a cycle's exports: team scores and the roll-up snapshot.

One query for the rows of each sheet (plus the framework's lens and level names);
``finops_portal.cells`` writes them as CSV or XLSX, safe against formulas.
"""

import math

import pandas as pd
from django.db.models import F

from assessment import scoring
from assessment.models import Assessment, CapabilityScore, Cycle
from assessment.targets import target_percent_sql
from capabilities.selectors import framework_lenses, framework_levels, lens_weights
from finops_portal import formats

from .models import NodeStat

ROLLUP_HEADERS = [
    "node",
    "capability",
    "n",
    "mean",
    "median",
    "p25",
    "p75",
    "min",
    "max",
    "mean total (of 20)",
]


def export_filename(*, cycle: Cycle, kind: str, fmt: str) -> str:
    """``<org-slug>_<cycle-name>_<kind>.<fmt>`` with only safe characters."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in cycle.name)
    return f"{cycle.organization.slug}_{name.strip('-')}_{kind}.{fmt}"


def _round(value, digits: int = formats.PERCENT_DIGITS):
    """The page's rounding (``finops_portal.formats``), as a number for the cell."""
    return formats.rounded(value, digits)


def _lens_weights(cycle: Cycle) -> dict[str, float]:
    """Lens key -> the weight the cycle's scores were computed with, in order."""
    lenses = framework_lenses(framework_id=cycle.framework_id)
    return scoring.lens_weights_for(cycle.lens_weights, lens_weights(lenses))


def _level_pairs(cycle: Cycle) -> list[tuple[str, str]]:
    levels = framework_levels(framework_id=cycle.framework_id)
    return [(level["key"], level["name"]) for level in levels]


def _team_overalls(rows: list[tuple], levels: list[dict]) -> dict[int, tuple]:
    """Assessment id -> (overall percent, level key): the mean of the team's
    capability percents, banded by percent, as the roll-up does (``rows`` carry the
    assessment id first and the percent sixth)."""
    if not rows:
        return {}
    bands = [(level["key"], level["min_percent"]) for level in levels]
    frame = pd.DataFrame(
        {
            scoring.ASSESSMENT: [row[0] for row in rows],
            scoring.CAPABILITY: [row[3] for row in rows],
            scoring.PERCENT: [math.nan if row[6] is None else row[6] for row in rows],
            scoring.ANSWERED: 0,
            scoring.TOTAL: 0,
        }
    )
    overall = scoring.overall_scores(frame, levels=bands)
    return {
        int(aid): (percent, level)
        for aid, percent, level in zip(
            overall[scoring.ASSESSMENT],
            overall[scoring.PERCENT],
            overall[scoring.LEVEL],
            strict=True,
        )
    }


def team_scores_table(*, cycle: Cycle) -> tuple[list[str], list[list]]:
    """Headers and rows: cycle, team, business unit, the team's overall score and
    level, capability, lens scores, the Foundation's total of 20, target of 20 and
    relative to target, the weighted percent, level, target percent, gap and
    progress (one row per submitted team and capability; the figures from
    ``scoring.foundation_scores``, as on the team report)."""
    weights = _lens_weights(cycle)
    lens_keys = list(weights)
    levels = framework_levels(framework_id=cycle.framework_id)
    level_names = {level["key"]: level["name"] for level in levels}
    rows = list(
        CapabilityScore.objects.filter(
            assessment__cycle=cycle, assessment__status=Assessment.Status.SUBMITTED
        )
        .annotate(target=target_percent_sql(organization_id=cycle.organization_id))
        .order_by("assessment__team__name", "capability__order")
        .values_list(
            "assessment_id",
            "assessment__team__name",
            "assessment__team__parent__name",
            "capability__key",
            "capability__name",
            "lens_scores",
            "percent",
            "level_key",
            "target",
        )
    )
    overalls = _team_overalls(rows, levels)
    headers = [
        "cycle",
        "team",
        "business unit",
        "team overall",
        "team level",
        "capability",
        *lens_keys,
        "total (of 20)",
        "lenses scored",
        "target (of 20)",
        "relative to target",
        "percent",
        "level",
        "target",
        "gap",
        "progress to target",
    ]
    lens_values = [[(row[5] or {}).get(k, math.nan) for k in lens_keys] for row in rows]
    targets = [math.nan if row[8] is None else float(row[8]) for row in rows]
    figures = scoring.foundation_scores(
        lens_values, [weights[k] for k in lens_keys], targets
    )
    lens_digits = formats.LENS_DIGITS
    table = []
    for (aid, team, unit, _key, capability, lens, _pc, level, _target), fig in zip(
        rows, figures.itertuples(index=False), strict=True
    ):
        overall, overall_level = overalls.get(aid, (math.nan, None))
        table.append(
            [
                cycle.name,
                team,
                unit or "",
                _round(overall),
                level_names.get(overall_level, overall_level or ""),
                capability,
                *[_round((lens or {}).get(k), lens_digits) for k in lens_keys],
                _round(fig.foundation_20, lens_digits),
                int(fig.lenses_scored),
                _round(fig.target_20, lens_digits),
                _round(fig.relative_20, lens_digits),
                _round(fig.percent),
                level_names.get(level, level),
                _round(fig.target),
                _round(fig.gap),
                _round(fig.progress),
            ]
        )
    return headers, table


def rollup_table(*, cycle: Cycle) -> tuple[list[str], list[list]]:
    """Headers and rows of the roll-up snapshot: node, capability, n, mean, median,
    p25, p75, min, max, the Foundation's total of 20 of the group's lens means
    (``scoring.total_20``, as for one team) and one count column per maturity
    level."""
    levels = _level_pairs(cycle)
    lens_keys = list(_lens_weights(cycle))
    rows = (
        NodeStat.objects.filter(cycle=cycle)
        .order_by(
            F("node__name").asc(nulls_first=True),
            F("capability__order").asc(nulls_first=True),
        )
        .values_list(
            "node__name",
            "capability__name",
            "n",
            "mean",
            "median",
            "p25",
            "p75",
            "min",
            "max",
            "level_counts",
            "lens_means",
        )
    )
    headers = [*ROLLUP_HEADERS, *[f"level {name}" for _key, name in levels]]
    rows = list(rows)
    totals = scoring.total_20(
        [[(row[-1] or {}).get(k, math.nan) for k in lens_keys] for row in rows]
    )
    table = []
    for (node, capability, n, *numbers, counts, _means), total in zip(
        rows, totals, strict=True
    ):
        table.append(
            [
                node or f"{cycle.organization.name} (organisation)",
                capability or "Overall",
                n,
                *[_round(v) for v in numbers],
                _round(total, formats.LENS_DIGITS),
                *[int((counts or {}).get(key, 0)) for key, _name in levels],
            ]
        )
    return headers, table

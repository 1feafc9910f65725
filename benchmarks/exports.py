"""The tables of a cycle's exports: team scores and the roll-up snapshot.

One query for the rows of each sheet (plus the framework's lens and level names);
``finops_portal.cells`` writes them as CSV or XLSX, safe against formulas.
"""

import math

from django.db.models import F

from assessment.models import Assessment, CapabilityScore, Cycle
from assessment.targets import target_percent_sql
from capabilities.selectors import framework_lenses, framework_levels

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
]


def export_filename(*, cycle: Cycle, kind: str, fmt: str) -> str:
    """``<org-slug>_<cycle-name>_<kind>.<fmt>`` with only safe characters."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in cycle.name)
    return f"{cycle.organization.slug}_{name.strip('-')}_{kind}.{fmt}"


def _round(value, digits: int = 2):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def _lens_keys(cycle: Cycle) -> list[str]:
    return [lens["key"] for lens in framework_lenses(framework_id=cycle.framework_id)]


def _level_pairs(cycle: Cycle) -> list[tuple[str, str]]:
    levels = framework_levels(framework_id=cycle.framework_id)
    return [(level["key"], level["name"]) for level in levels]


def team_scores_table(*, cycle: Cycle) -> tuple[list[str], list[list]]:
    """Headers and rows: team, business unit, capability, lens scores, percent, level,
    target, gap (one row per submitted team and capability)."""
    lens_keys = _lens_keys(cycle)
    level_names = dict(_level_pairs(cycle))
    rows = (
        CapabilityScore.objects.filter(
            assessment__cycle=cycle, assessment__status=Assessment.Status.SUBMITTED
        )
        .annotate(target=target_percent_sql(organization_id=cycle.organization_id))
        .order_by("assessment__team__name", "capability__order")
        .values_list(
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
    headers = [
        "team",
        "business unit",
        "capability",
        *lens_keys,
        "percent",
        "level",
        "target",
        "gap",
    ]
    table = []
    for team, unit, _key, capability, lens, percent, level, target in rows:
        target = None if target is None else float(target)
        gap = None if target is None or percent is None else target - percent
        table.append(
            [
                team,
                unit or "",
                capability,
                *[_round((lens or {}).get(k)) for k in lens_keys],
                _round(percent),
                level_names.get(level, level),
                _round(target),
                _round(gap),
            ]
        )
    return headers, table


def rollup_table(*, cycle: Cycle) -> tuple[list[str], list[list]]:
    """Headers and rows of the roll-up snapshot: node, capability, n, mean, median,
    p25, p75, min, max and one count column per maturity level."""
    levels = _level_pairs(cycle)
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
        )
    )
    headers = [*ROLLUP_HEADERS, *[f"level {name}" for _key, name in levels]]
    table = []
    for node, capability, n, *numbers, counts in rows:
        table.append(
            [
                node or f"{cycle.organization.name} (organisation)",
                capability or "Overall",
                n,
                *[_round(v) for v in numbers],
                *[int((counts or {}).get(key, 0)) for key, _name in levels],
            ]
        )
    return headers, table

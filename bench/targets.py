"""The speed targets of the design ("Scale and speed we hold ourselves to"), checked
against the rows of one ``run_all`` run.

Each target names the row it reads, whether it reads the row's value or its ratio
to the baseline measured in the same run, and the limit. A target whose row the run
did not produce (a benchmark left out with ``--only``) reads "not run".
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from bench.common import format_table

AT_MOST, AT_LEAST = "<=", ">="
OPERATORS = {AT_MOST: operator.le, AT_LEAST: operator.ge}


@dataclass(frozen=True)
class Target:
    text: str
    row: str
    field: str  # "value" or "ratio"
    op: str
    limit: float


TARGETS = [
    Target(
        "full roll-up of 10,000 teams within 1.3x of the SQL floor",
        "rollup 10000 teams: full recompute (scores + roll-up)",
        "ratio",
        AT_MOST,
        1.3,
    ),
    Target(
        "full roll-up of 10,000 teams under 500 MB (peak above the start)",
        "rollup 10000 teams: peak memory of the full recompute",
        "value",
        AT_MOST,
        500,
    ),
    Target(
        "full roll-up at least 20x faster than team by team",
        "rollup 10000 teams: naive, team by team through the ORM",
        "ratio",
        AT_LEAST,
        20,
    ),
    Target(
        "one submission on the dashboards within 2 s at 10,000 teams (p95, ms)",
        "10000 teams: submit -> dashboard p95",
        "value",
        AT_MOST,
        2000,
    ),
    Target(
        "lead dashboard at 1,000 teams: p95 within 2x /healthz",
        "1000 teams: lead dashboard p95",
        "ratio",
        AT_MOST,
        2,
    ),
    Target(
        "lead dashboard at 10,000 teams: p95 within 3x /healthz",
        "10000 teams: lead dashboard p95",
        "ratio",
        AT_MOST,
        3,
    ),
    Target(
        "lead dashboard at 10,000 teams: page under 500 KB",
        "10000 teams: lead dashboard page size",
        "value",
        AT_MOST,
        500,
    ),
    Target(
        "lead dashboard at 10,000 teams, one unit: p95 within 3x /healthz",
        "10000 teams: lead dashboard, one unit p95",
        "ratio",
        AT_MOST,
        3,
    ),
    Target(
        "team report prebuilt: p95 within 1.5x /healthz",
        "1000 teams: team report, prebuilt p95",
        "ratio",
        AT_MOST,
        1.5,
    ),
    Target(
        "team report built on request: p95 within 2x /healthz",
        "1000 teams: team report, built on request p95",
        "ratio",
        AT_MOST,
        2,
    ),
    Target(
        "autosave: at least 0.7x /healthz's throughput",
        "1000 teams: autosave throughput",
        "ratio",
        AT_LEAST,
        0.7,
    ),
    Target(
        "autosave: p95 within 1.5x /healthz",
        "1000 teams: autosave p95",
        "ratio",
        AT_MOST,
        1.5,
    ),
    Target(
        "FOCUS evidence (CSV): within 1.5x of the same aggregates in DuckDB",
        "evidence 10,000,000 rows (csv): ingestion + every measure",
        "ratio",
        AT_MOST,
        1.5,
    ),
    Target(
        "FOCUS evidence (CSV): under 2 GB (peak memory of the process, MB)",
        "evidence 10,000,000 rows (csv): peak memory",
        "value",
        AT_MOST,
        2048,
    ),
    Target(
        "FOCUS evidence (Parquet): within 1.5x of the same aggregates in DuckDB",
        "evidence 10,000,000 rows (parquet): ingestion + every measure",
        "ratio",
        AT_MOST,
        1.5,
    ),
]


def check(rows: list[dict], targets: list[Target] = TARGETS) -> list[dict]:
    """One line per target: the figure read, the limit and whether it was met."""
    by_name = {r["name"]: r for r in rows}
    lines = []
    for target in targets:
        found = by_name.get(target.row)
        figure = None if found is None else found.get(target.field)
        if figure is None:
            verdict = "not run"
        else:
            verdict = "yes" if OPERATORS[target.op](figure, target.limit) else "NO"
        lines.append(
            {
                "target": target.text,
                "measured": figure,
                "limit": f"{target.op} {target.limit:g}",
                "met": verdict,
            }
        )
    return lines


def format_targets(lines: list[dict]) -> str:
    """The checked targets as an aligned table."""
    return format_table(lines, columns=["target", "measured", "limit", "met"])

"""The roll-up of a cycle's team scores, as pure pandas. No Django imports.

Input: one row per (submitted assessment, capability) with the team, the percent,
the level and one ``lens_<key>`` column per lens (see ``assessment.scoring``), plus
the organisation's team tree as (id, parent_id) rows.

Output: statistics per (node, capability) and each team's percentile rank.

- A node is the organisation (ORG) or any team with teams below it (a business unit,
  at any depth); its statistics cover every assessed team below it.
- The capability OVERALL stands for each team's overall score: the mean of its
  capability percents that exist (``scoring.overall_scores``).
- Quartiles use linear interpolation between order statistics (pandas' and numpy's
  default; ``statistics.quantiles(method="inclusive")``).
- Percentile rank of a team among the n teams of its organisation with a score:
  100 * (lower + ties / 2) / n, where ``lower`` counts teams with a strictly lower
  score and ``ties`` the teams with the same score, itself included. A lone team is
  at 50; the lowest of many distinct scores at 50 / n. Scores are compared at
  ``scoring.PERCENT_DECIMALS`` decimals, so two equal scores that float arithmetic
  left a last digit apart (a mean summed in another order) rank equal; the stored
  percent keeps its full precision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from assessment import scoring
from assessment.tree import Tree

ASSESSMENT = scoring.ASSESSMENT
CAPABILITY = scoring.CAPABILITY
PERCENT = scoring.PERCENT
LEVEL = scoring.LEVEL
TEAM = "team_id"
NODE = "node_id"
PERCENTILE = "percentile"
DISAGREEMENT = "disagreement"

# Sentinels inside the computation (database ids are positive); None on output.
ORG = 0
OVERALL = 0

STAT_COLUMNS = ["n", "mean", "median", "p25", "p75", "min", "max"]
NODE_STAT_COLUMNS = [NODE, CAPABILITY, *STAT_COLUMNS, "level_counts", "lens_means"]
TEAM_RANK_COLUMNS = [ASSESSMENT, CAPABILITY, PERCENT, PERCENTILE]
DISAGREEMENT_STAT_COLUMNS = [NODE, CAPABILITY, "teams", "mean", "max"]


@dataclass(frozen=True)
class Rollup:
    """A computed snapshot: ``node_stats`` (NODE_STAT_COLUMNS, node/capability None
    for the organisation/overall) and ``team_ranks`` (TEAM_RANK_COLUMNS)."""

    node_stats: pd.DataFrame
    team_ranks: pd.DataFrame
    teams: int
    # DISAGREEMENT_STAT_COLUMNS; empty when no team answered in consensus mode.
    disagreement_stats: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DISAGREEMENT_STAT_COLUMNS)
    )
    # The nodes (ORG and team ids) a partial snapshot's statistics cover; None for
    # the whole snapshot.
    nodes: frozenset[int] | None = None


def ancestors(tree: Iterable[tuple[int, int | None]]) -> dict[int, list[int]]:
    """Every node's proper ancestors (nearest first), from (id, parent_id) rows.

    One snapshot asks several times for the same tree: the last few trees' answers
    are kept (callers only read them)."""
    return _ancestors(tuple(tree))


@lru_cache(maxsize=4)
def _ancestors(tree: tuple[tuple[int, int | None], ...]) -> dict[int, list[int]]:
    walker = Tree(tree)
    return {node: walker.ancestors(node) for node in walker.parent}


def node_membership(
    team_ids: Iterable[int],
    tree: Iterable[tuple[int, int | None]],
    only: frozenset[int] | None = None,
) -> pd.DataFrame:
    """(TEAM, NODE) pairs: each team belongs to ORG and to every ancestor (with
    ``only``, to those of them in ``only``)."""
    up = ancestors(tree)
    teams, nodes = [], []
    for team in team_ids:
        for node in [ORG, *up.get(team, [])]:
            if only is None or node in only:
                teams.append(team)
                nodes.append(node)
    return pd.DataFrame(
        {TEAM: np.array(teams, dtype="int64"), NODE: np.array(nodes, dtype="int64")}
    )


def with_overall(scores: pd.DataFrame, levels: Sequence[scoring.Level]) -> pd.DataFrame:
    """``scores`` plus one OVERALL row per assessment: the mean of its capability
    percents that exist, its level, and the mean of each lens over capabilities."""
    lens_cols = scoring.lens_columns(scores)
    if scores.empty:
        return scores
    overall = scoring.overall_scores(
        scores.assign(**{scoring.ANSWERED: 0, scoring.TOTAL: 0}), levels=levels
    )[[ASSESSMENT, PERCENT, LEVEL]]
    per_team = scores.groupby(ASSESSMENT, sort=True).agg(
        **{TEAM: (TEAM, "first")}, **{c: (c, "mean") for c in lens_cols}
    )
    overall = overall.merge(per_team.reset_index(), on=ASSESSMENT, how="left")
    overall[CAPABILITY] = OVERALL
    return pd.concat([scores, overall[scores.columns]], ignore_index=True)


def _dicts(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """One {column: value} dict per row, dropping NaN values."""
    values = frame.to_numpy(dtype="float64", na_value=np.nan)
    out = [
        {k: float(v) for k, v in zip(keys, row, strict=True) if v == v}
        for row in values.tolist()
    ]
    return pd.Series(out, index=frame.index, dtype="object")


def node_stats(expanded: pd.DataFrame, lens_keys: Sequence[str]) -> pd.DataFrame:
    """Statistics per (NODE, CAPABILITY) of an expanded score frame."""
    keys = [NODE, CAPABILITY]
    grouped = expanded.groupby(keys, sort=True)
    percent = grouped[PERCENT]
    stats = pd.DataFrame(
        {
            "n": percent.count(),
            "mean": percent.mean(),
            "median": percent.median(),
            "min": percent.min(),
            "max": percent.max(),
        }
    )
    stats["p25"] = percent.quantile(0.25)
    stats["p75"] = percent.quantile(0.75)

    levels = expanded.loc[expanded[LEVEL].notna() & (expanded[LEVEL] != "")]
    counts = (
        levels.groupby([*keys, LEVEL], sort=True)
        .size()
        .rename("count")
        .reset_index()
        .pivot_table(index=keys, columns=LEVEL, values="count", fill_value=0)
    )
    level_keys = list(counts.columns)
    counts = counts.reindex(stats.index).astype("float64").replace(0.0, np.nan)
    stats["level_counts"] = [
        {k: int(v) for k, v in zip(level_keys, row, strict=True) if v == v}
        for row in counts.to_numpy(dtype="float64", na_value=np.nan).tolist()
    ]

    lens_cols = [scoring.lens_column(k) for k in lens_keys]
    means = grouped[lens_cols].mean() if lens_cols else stats[[]]
    stats["lens_means"] = _dicts(means.reindex(stats.index), list(lens_keys))
    stats["n"] = stats["n"].astype("int64")
    return stats.reset_index()[NODE_STAT_COLUMNS]


def team_ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """Percentile rank of each scored assessment per CAPABILITY (OVERALL included)."""
    scored = scores.loc[scores[PERCENT].notna(), [ASSESSMENT, CAPABILITY, PERCENT]]
    key = scored[PERCENT].round(scoring.PERCENT_DECIMALS)
    by_capability = key.groupby(scored[CAPABILITY], sort=False)
    rank = by_capability.rank(method="average")
    n = by_capability.transform("count")
    return scored.assign(**{PERCENTILE: (rank - 0.5) / n * 100.0})[TEAM_RANK_COLUMNS]


def disagreement_stats(
    scores: pd.DataFrame,
    tree: Sequence[tuple[int, int | None]],
    only: frozenset[int] | None = None,
) -> pd.DataFrame:
    """Per (NODE, CAPABILITY) the number of teams with a DISAGREEMENT figure, their
    mean and maximum; OVERALL per team is the mean of its capability figures.
    Rows without a figure (single-mode teams) are left out."""
    if DISAGREEMENT not in scores.columns:
        return pd.DataFrame(columns=DISAGREEMENT_STAT_COLUMNS)
    rows = scores.loc[
        scores[DISAGREEMENT].notna(), [ASSESSMENT, TEAM, CAPABILITY, DISAGREEMENT]
    ]
    if rows.empty:
        return pd.DataFrame(columns=DISAGREEMENT_STAT_COLUMNS)
    rows = rows.astype({DISAGREEMENT: "float64"})
    overall = rows.groupby([ASSESSMENT, TEAM], sort=True)[DISAGREEMENT].mean()
    overall = overall.reset_index().assign(**{CAPABILITY: OVERALL})
    full = pd.concat([rows, overall[rows.columns]], ignore_index=True)
    membership = node_membership(full[TEAM].unique().tolist(), tree, only)
    expanded = full.merge(membership, on=TEAM, how="inner")
    if expanded.empty:
        return pd.DataFrame(columns=DISAGREEMENT_STAT_COLUMNS)
    grouped = expanded.groupby([NODE, CAPABILITY], sort=True)[DISAGREEMENT]
    stats = pd.DataFrame(
        {"teams": grouped.count(), "mean": grouped.mean(), "max": grouped.max()}
    ).reset_index()
    stats["teams"] = stats["teams"].astype("int64")
    return _with_nulls(stats[DISAGREEMENT_STAT_COLUMNS], [NODE, CAPABILITY])


def affected_nodes(
    team_ids: Iterable[int], tree: Iterable[tuple[int, int | None]]
) -> frozenset[int]:
    """The nodes whose statistics a change of these teams' scores can move: the
    organisation (ORG) and every ancestor of each team."""
    up = ancestors(tree)
    return frozenset([ORG, *(node for team in team_ids for node in up.get(team, []))])


def rollup(
    scores: pd.DataFrame,
    tree: Sequence[tuple[int, int | None]],
    levels: Sequence[scoring.Level],
    lens_keys: Sequence[str],
    nodes: frozenset[int] | None = None,
) -> Rollup:
    """The whole snapshot of a cycle, or with ``nodes`` its part for those nodes.

    ``scores``: ASSESSMENT, TEAM, CAPABILITY, PERCENT (NaN allowed), LEVEL and
    ``lens_<key>`` columns for ``lens_keys``; ``tree``: (id, parent_id) of every
    team of the organisation. No scores gives empty frames.

    With ``nodes`` (ORG and ids of teams, see ``affected_nodes``) the node and
    disagreement statistics cover only those nodes, each computed from every team
    below it exactly as the whole snapshot computes it; team ranks always cover
    every team (one team more or less moves every other team's rank).
    """
    lens_cols = [scoring.lens_column(k) for k in lens_keys]
    columns = [ASSESSMENT, TEAM, CAPABILITY, PERCENT, LEVEL, *lens_cols]
    spread = disagreement_stats(scores, tree, nodes)
    scores = scores.reindex(columns=columns)
    if scores.empty:
        return Rollup(
            node_stats=pd.DataFrame(columns=NODE_STAT_COLUMNS),
            team_ranks=pd.DataFrame(columns=TEAM_RANK_COLUMNS),
            teams=0,
            nodes=nodes,
        )
    scores = scores.astype({PERCENT: "float64", **dict.fromkeys(lens_cols, "float64")})
    full = with_overall(scores, levels)
    membership = node_membership(full[TEAM].unique().tolist(), tree, nodes)
    expanded = full.merge(membership, on=TEAM, how="inner")
    stats = node_stats(expanded, lens_keys)
    ranks = team_ranks(full)
    return Rollup(
        node_stats=_with_nulls(stats, [NODE, CAPABILITY]),
        team_ranks=_with_nulls(ranks, [CAPABILITY]),
        teams=int(full[ASSESSMENT].nunique()),
        disagreement_stats=spread,
        nodes=nodes,
    )


def _with_nulls(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Replace the ORG/OVERALL sentinels by None (object columns)."""
    out = frame.reset_index(drop=True)
    for column in columns:
        values = out[column].to_numpy()
        out[column] = pd.Series(
            [None if v == 0 else int(v) for v in values.tolist()], dtype="object"
        )
    return out

"""The pure roll-up: checked against a plain-Python computation on random data."""

import math
import random
import statistics
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from assessment import scoring
from benchmarks import rollups

LENSES = ["knowledge", "process", "metrics", "adoption", "automation"]
LEVELS = [("not_started", 0.0), ("crawl", 25.0), ("walk", 50.0), ("run", 75.0)]
CAPABILITIES = [101, 102, 103]


def flat_tree(rng, teams):
    return [(1000 + i, None) for i in range(teams)]


def two_level_tree(rng, teams):
    units = [(1, None), (2, None), (3, None)]
    return units + [(1000 + i, rng.choice([1, 2, 3])) for i in range(teams)]


def deep_tree(rng, teams):
    # 1 > 2 > 3 > 4 (a chain of business units), teams hang at any depth.
    units = [(1, None), (2, 1), (3, 2), (4, 3), (5, None)]
    return units + [(1000 + i, rng.choice([1, 2, 3, 4, 5, None])) for i in range(teams)]


def random_scores(rng, tree):
    """Team scores for the team nodes of ``tree`` (ids >= 1000); some missing."""
    rows = []
    assessment = 1
    for team, _parent in tree:
        if team < 1000 or rng.random() < 0.1:
            continue  # a business unit, or a team that has not submitted
        for capability in CAPABILITIES:
            lens = {
                lens: (
                    np.nan if rng.random() < 0.2 else rng.choice([0, 1, 2, 2.5, 3, 4])
                )
                for lens in LENSES
            }
            present = [v for v in lens.values() if not math.isnan(v)]
            percent = sum(present) / len(present) * 25 if present else np.nan
            if rng.random() < 0.1:
                percent = rng.choice([25.0, 50.0, 75.0])  # ties on the boundaries
            rows.append(
                {
                    rollups.ASSESSMENT: assessment,
                    rollups.TEAM: team,
                    rollups.CAPABILITY: capability,
                    rollups.PERCENT: percent,
                    rollups.LEVEL: scoring.level_for(percent, LEVELS),
                    **{scoring.lens_column(k): v for k, v in lens.items()},
                }
            )
        assessment += 1
    return pd.DataFrame.from_records(rows)


# --- the plain-Python reference ------------------------------------------------------


def quartiles(values):
    if len(values) == 1:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def reference(scores, tree):
    parent = dict(tree)
    records = scores.to_dict("records")
    # Each team's overall row: mean of capability percents and of each lens.
    by_assessment = {}
    for r in records:
        by_assessment.setdefault(r[rollups.ASSESSMENT], []).append(r)
    for assessment, rows in by_assessment.items():
        percents = [r["percent"] for r in rows if not math.isnan(r["percent"])]
        percent = statistics.fmean(percents) if percents else math.nan
        overall = {
            rollups.ASSESSMENT: assessment,
            rollups.TEAM: rows[0][rollups.TEAM],
            rollups.CAPABILITY: None,
            rollups.PERCENT: percent,
            rollups.LEVEL: scoring.level_for(percent, LEVELS),
        }
        for lens in LENSES:
            values = [
                r["lens_" + lens] for r in rows if not math.isnan(r["lens_" + lens])
            ]
            overall["lens_" + lens] = statistics.fmean(values) if values else math.nan
        records.append(overall)

    def nodes_of(team):
        nodes, up = [None], parent.get(team)
        while up is not None:
            nodes.append(up)
            up = parent.get(up)
        return nodes

    groups = {}
    for r in records:
        for node in nodes_of(r[rollups.TEAM]):
            groups.setdefault((node, r[rollups.CAPABILITY]), []).append(r)
    stats = {}
    for key, rows in groups.items():
        values = [r["percent"] for r in rows if not math.isnan(r["percent"])]
        p25, p75 = quartiles(values) if values else (None, None)
        lens_means = {}
        for lens in LENSES:
            present = [
                r["lens_" + lens] for r in rows if not math.isnan(r["lens_" + lens])
            ]
            if present:
                lens_means[lens] = statistics.fmean(present)
        stats[key] = {
            "n": len(values),
            "mean": statistics.fmean(values) if values else None,
            "median": statistics.median(values) if values else None,
            "p25": p25,
            "p75": p75,
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "level_counts": dict(
                Counter(r["level_key"] for r in rows if r["level_key"])
            ),
            "lens_means": lens_means,
        }
    ranks = {}
    by_capability = {}
    for r in records:
        if not math.isnan(r["percent"]):
            by_capability.setdefault(r[rollups.CAPABILITY], []).append(r)
    for capability, rows in by_capability.items():
        for r in rows:
            lower = sum(o["percent"] < r["percent"] for o in rows)
            ties = sum(o["percent"] == r["percent"] for o in rows)
            ranks[(r[rollups.ASSESSMENT], capability)] = (
                100 * (lower + ties / 2) / len(rows)
            )
    return stats, ranks


def assert_close(actual, expected, where):
    if expected is None:
        assert actual is None or math.isnan(actual), where
    else:
        assert actual == pytest.approx(expected, abs=1e-9), where


@pytest.mark.parametrize("shape", [flat_tree, two_level_tree, deep_tree])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_rollup_equals_a_plain_python_computation(shape, seed):
    rng = random.Random(seed)
    tree = shape(rng, rng.randint(1, 40))
    scores = random_scores(rng, tree)
    expected_stats, expected_ranks = reference(scores, tree)

    result = rollups.rollup(scores, tree, LEVELS, LENSES)

    actual = {
        (row[rollups.NODE], row[rollups.CAPABILITY]): row
        for row in result.node_stats.to_dict("records")
    }
    assert set(actual) == set(expected_stats)
    for key, expected in expected_stats.items():
        row = actual[key]
        assert row["n"] == expected["n"], key
        for column in ["mean", "median", "p25", "p75", "min", "max"]:
            assert_close(row[column], expected[column], (key, column))
        assert row["level_counts"] == expected["level_counts"], key
        assert row["lens_means"] == pytest.approx(expected["lens_means"]), key
    ranks = {
        (row[rollups.ASSESSMENT], row[rollups.CAPABILITY]): row[rollups.PERCENTILE]
        for row in result.team_ranks.to_dict("records")
    }
    assert ranks == pytest.approx(expected_ranks)
    assert result.teams == scores[rollups.ASSESSMENT].nunique()


def test_percentile_rank_counts_lower_teams_and_half_the_ties():
    scores = pd.DataFrame(
        {
            rollups.ASSESSMENT: [1, 2, 3, 4],
            rollups.TEAM: [11, 12, 13, 14],
            rollups.CAPABILITY: [7, 7, 7, 7],
            rollups.PERCENT: [10.0, 50.0, 50.0, 90.0],
            rollups.LEVEL: ["not_started", "walk", "walk", "run"],
        }
    )

    ranks = rollups.team_ranks(scores)

    assert ranks[rollups.PERCENTILE].tolist() == [12.5, 50.0, 50.0, 87.5]


def test_a_lone_team_is_at_the_50th_percentile():
    scores = pd.DataFrame(
        {
            rollups.ASSESSMENT: [1],
            rollups.TEAM: [11],
            rollups.CAPABILITY: [7],
            rollups.PERCENT: [33.0],
            rollups.LEVEL: ["crawl"],
        }
    )

    assert rollups.team_ranks(scores)[rollups.PERCENTILE].tolist() == [50.0]


def test_rollup_of_no_scores_is_empty():
    empty = pd.DataFrame(columns=[rollups.ASSESSMENT, rollups.TEAM])

    result = rollups.rollup(empty, [(1, None)], LEVELS, LENSES)

    assert result.node_stats.empty
    assert result.team_ranks.empty
    assert result.teams == 0


def test_business_units_cover_every_team_below_them():
    tree = [(1, None), (2, 1), (1001, 2), (1002, 1), (1003, None)]
    scores = pd.DataFrame(
        {
            rollups.ASSESSMENT: [1, 2, 3],
            rollups.TEAM: [1001, 1002, 1003],
            rollups.CAPABILITY: [7, 7, 7],
            rollups.PERCENT: [20.0, 40.0, 90.0],
            rollups.LEVEL: ["not_started", "crawl", "run"],
        }
    )

    stats = rollups.rollup(scores, tree, LEVELS, LENSES).node_stats
    per_node = {
        (r[rollups.NODE], r[rollups.CAPABILITY]): (r["n"], r["mean"])
        for r in stats.to_dict("records")
    }

    assert per_node == {
        (None, 7): (3, 50.0),
        (None, None): (3, 50.0),
        (1, 7): (2, 30.0),
        (1, None): (2, 30.0),
        (2, 7): (1, 20.0),
        (2, None): (1, 20.0),
    }


def test_ancestors_survive_a_loop_in_the_tree():
    assert rollups.ancestors([(1, 2), (2, 1), (3, 1)]) == {1: [2], 2: [1], 3: [1, 2]}


# Three capability percents whose mean depends on the order they are summed in:
# (A + B + C) / 3 and (B + C + A) / 3 differ in their last digit.
NOISY = [64.16666666666667, 46.66666666666666, 29.583333333333336]


def test_equal_scores_a_float_digit_apart_rank_equal():
    first = sum(NOISY) / 3
    second = (NOISY[1] + NOISY[2] + NOISY[0]) / 3
    assert first != second  # the premise: float noise
    scores = pd.DataFrame(
        {
            rollups.ASSESSMENT: [1, 2, 3],
            rollups.TEAM: [11, 12, 13],
            rollups.CAPABILITY: [7, 7, 7],
            rollups.PERCENT: [first, second, 10.0],
            rollups.LEVEL: ["walk", "walk", "not_started"],
        }
    )

    ranks = rollups.team_ranks(scores)

    # (rank - 0.5) / n: both at rank 2.5 of 3
    assert ranks[rollups.PERCENTILE].tolist() == [2 / 3 * 100] * 2 + [0.5 / 3 * 100]
    assert ranks[rollups.PERCENT].tolist()[:2] == [first, second]  # kept as computed


def test_overall_scores_tied_in_truth_get_equal_percentiles():
    rows = []
    for assessment, order in [(1, [0, 1, 2]), (2, [1, 2, 0])]:
        for capability, i in zip([7, 8, 9], order, strict=True):
            rows.append((assessment, 10 + assessment, capability, NOISY[i]))
    scores = pd.DataFrame(
        rows,
        columns=[rollups.ASSESSMENT, rollups.TEAM, rollups.CAPABILITY, rollups.PERCENT],
    ).assign(**{rollups.LEVEL: "walk"})

    result = rollups.rollup(scores, [(11, None), (12, None)], [("walk", 0.0)], [])

    overall = result.team_ranks[result.team_ranks[rollups.CAPABILITY].isna()]
    assert overall[rollups.PERCENTILE].tolist() == [50.0, 50.0]

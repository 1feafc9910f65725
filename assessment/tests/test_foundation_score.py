"""The FinOps Foundation's total score and its distance to target (pure)."""

import math

import numpy as np
import pytest

from assessment import scoring
from assessment.scoring import capability_scores, foundation_score, foundation_scores

from .test_scoring import FOUNDATION, LENSES, LEVELS, answers, one

# The Foundation's example row: "Managing shared cost" 2/1/0/1/0 against 12 of 20.
EXAMPLE = dict(zip(LENSES, [2, 1, 0, 1, 0], strict=True))
TARGET_12_OF_20 = 60.0  # percent


def test_the_foundations_example_row():
    row = foundation_score(EXAMPLE, FOUNDATION, TARGET_12_OF_20)

    assert row.total == 4.0
    assert row.lenses_scored == 5
    assert row.target_20 == 12.0
    assert row.relative == -8.0
    assert row.percent == 26.25
    assert row.progress == 43.75
    assert row.gap == 33.75


def test_the_foundations_row_above_target_is_capped_at_100():
    row = foundation_score(
        dict(zip(LENSES, [4, 4, 4, 4, 3], strict=True)), FOUNDATION, 75.0
    )

    assert row.total == 19.0
    assert row.relative == 4.0
    assert row.progress == 100.0
    assert row.gap < 0


def test_the_total_is_the_plain_sum_not_the_percent_over_five():
    row = foundation_score(EXAMPLE, FOUNDATION)

    assert row.total == 4.0
    assert row.percent / 5 == 5.25  # what the "of 20" column used to show
    assert row.target_20 is None
    assert row.relative is None
    assert row.progress is None


def test_a_lens_without_score_is_counted_not_scaled():
    row = foundation_score({"knowledge": 2, "process": 1}, FOUNDATION, 60.0)

    assert row.total == 3.0
    assert row.lenses_scored == 2
    assert row.relative == -9.0


def test_no_lens_scored_has_no_total():
    row = foundation_score({}, FOUNDATION, 60.0)

    assert row.total is None
    assert row.percent is None
    assert row.progress is None
    assert row.lenses_scored == 0
    assert row.target == 60.0


def test_the_frame_function_gives_the_same_rows_as_the_scalar_one():
    rows = [[2, 1, 0, 1, 0], [4, 4, 4, 4, 3], [np.nan, 2, np.nan, 1, 0]]
    targets = [60.0, np.nan, 55.0]
    frame = foundation_scores(rows, list(FOUNDATION.values()), targets)

    for i, (lens_row, target) in enumerate(zip(rows, targets, strict=True)):
        scalar = foundation_score(
            {k: v for k, v in zip(LENSES, lens_row, strict=True) if v == v},
            FOUNDATION,
            None if math.isnan(target) else target,
        )
        assert frame.loc[i, scoring.FOUNDATION_20] == scalar.total
        assert frame.loc[i, scoring.PERCENT] == scalar.percent
        got = frame.loc[i, scoring.PROGRESS]
        assert (math.isnan(got) and scalar.progress is None) or got == scalar.progress


def test_capability_scores_carry_the_same_total_and_percent():
    rows = [(1, 10, lens, s) for lens, s in EXAMPLE.items()]
    row = one(capability_scores(answers(rows), FOUNDATION, LEVELS), assessment_id=1)
    expected = foundation_score(EXAMPLE, FOUNDATION, TARGET_12_OF_20)

    assert row[scoring.FOUNDATION_20] == expected.total
    assert row[scoring.PERCENT] == expected.percent
    assert row[scoring.LENSES_SCORED] == 5
    gap, progress = scoring.target_progress(row[scoring.PERCENT], TARGET_12_OF_20)
    assert (gap, progress) == (expected.gap, expected.progress)


@pytest.mark.parametrize("target", [0, -5, None, float("nan")])
def test_no_positive_target_means_no_relative_figure(target):
    row = foundation_score(EXAMPLE, FOUNDATION, target)

    assert row.relative is None
    assert row.progress is None


def test_no_rows_give_an_empty_frame():
    frame = foundation_scores([], list(FOUNDATION.values()), [])

    assert frame.empty
    assert list(frame.columns) == scoring.FOUNDATION_COLUMNS

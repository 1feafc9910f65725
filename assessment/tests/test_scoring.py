"""The scoring rules (pure pandas, no database)."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment import scoring
from assessment.scoring import (
    capability_scores,
    lens_scores,
    level_for,
    overall_scores,
    target_progress,
)

LENSES = ["knowledge", "process", "metrics", "adoption", "automation"]
EQUAL = dict.fromkeys(LENSES, 20.0)
FOUNDATION = {
    "knowledge": 30.0,
    "process": 25.0,
    "metrics": 20.0,
    "adoption": 20.0,
    "automation": 5.0,
}
LEVELS = [("not_started", 0.0), ("crawl", 25.0), ("walk", 50.0), ("run", 75.0)]


def answers(rows):
    """Rows of (assessment, capability, lens, score or None, weight=1, na=False)."""
    records = []
    for i, row in enumerate(rows):
        assessment, capability, lens, score, *rest = row
        weight = rest[0] if rest else 1.0
        na = rest[1] if len(rest) > 1 else False
        records.append(
            {
                scoring.ASSESSMENT: assessment,
                scoring.CAPABILITY: capability,
                scoring.LENS: lens,
                scoring.QUESTION: i + 1,
                scoring.WEIGHT: float(weight),
                scoring.SCORE: np.nan if score is None else float(score),
                scoring.NA: na,
            }
        )
    if not records:
        return scoring.empty_answers()
    return pd.DataFrame.from_records(records)


def one(frame, **where):
    """The single row of ``frame`` matching ``where``, as a dict."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    rows = frame.loc[mask].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def all_lenses(score, assessment=1, capability=10):
    return [(assessment, capability, lens, score) for lens in LENSES]


def test_lens_scores_weight_questions_by_their_weight():
    frame = lens_scores(
        answers([(1, 10, "knowledge", 4, 3.0), (1, 10, "knowledge", 0, 1.0)])
    )

    expected = pd.DataFrame(
        {
            scoring.ASSESSMENT: [1],
            scoring.CAPABILITY: [10],
            scoring.LENS: ["knowledge"],
            scoring.LENS_SCORE: [3.0],
        }
    )
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)


def test_lens_scores_leave_out_na_and_unanswered():
    frame = lens_scores(
        answers(
            [
                (1, 10, "knowledge", 2),
                (1, 10, "knowledge", None, 1.0, True),
                (1, 10, "knowledge", None),
                (1, 10, "process", None, 1.0, True),
            ]
        )
    )

    assert frame[scoring.LENS].tolist() == ["knowledge"]
    assert frame[scoring.LENS_SCORE].tolist() == [2.0]


def test_capability_percent_is_the_lens_weighted_mean_over_four():
    rows = [(1, 10, lens, s) for lens, s in zip(LENSES, [4, 3, 2, 1, 0], strict=True)]

    row = one(capability_scores(answers(rows), EQUAL, LEVELS), assessment_id=1)

    assert row[scoring.PERCENT] == 50.0
    assert row[scoring.FOUNDATION_20] == 10.0
    assert row[scoring.LEVEL] == "walk"
    assert row["lens_knowledge"] == 4.0
    assert row["lens_automation"] == 0.0


def test_capability_percent_uses_custom_lens_weights():
    rows = [(1, 10, lens, s) for lens, s in zip(LENSES, [4, 2, 2, 0, 4], strict=True)]

    row = one(capability_scores(answers(rows), FOUNDATION, LEVELS), assessment_id=1)

    # (30*4 + 25*2 + 20*2 + 20*0 + 5*4) / 100 / 4 * 100 = 57.5
    assert row[scoring.PERCENT] == 57.5
    # the Foundation's total is the plain sum 4 + 2 + 2 + 0 + 4, not percent / 5
    assert row[scoring.FOUNDATION_20] == 12.0
    assert row[scoring.LEVEL] == "walk"


def test_a_lens_with_nothing_answered_is_left_out_of_the_percent():
    rows = [
        (1, 10, "knowledge", 4),
        (1, 10, "process", 2),
        (1, 10, "metrics", None, 1.0, True),
        (1, 10, "adoption", None),
    ]

    row = one(capability_scores(answers(rows), FOUNDATION, LEVELS), assessment_id=1)

    # (30*4 + 25*2) / (30 + 25) / 4 * 100
    assert row[scoring.PERCENT] == pytest.approx(170 / 55 / 4 * 100)
    assert math.isnan(row["lens_metrics"])
    assert math.isnan(row["lens_automation"])
    assert row[scoring.ANSWERED] == 3
    assert row[scoring.TOTAL] == 4
    assert row[scoring.COMPLETION] == 0.75


def test_a_capability_with_nothing_answered_has_no_score():
    rows = [(1, 10, "knowledge", None, 1.0, True), (1, 10, "process", None)]

    row = one(capability_scores(answers(rows), EQUAL, LEVELS), assessment_id=1)

    assert math.isnan(row[scoring.PERCENT])
    assert math.isnan(row[scoring.FOUNDATION_20])
    assert row[scoring.LEVEL] is None
    assert row[scoring.ANSWERED] == 1


def test_capability_scores_with_totals_list_every_capability_in_scope():
    frame = capability_scores(
        answers(all_lenses(4)), EQUAL, LEVELS, totals={10: 5, 11: 5}, assessments=[1]
    )

    assert frame[scoring.CAPABILITY].tolist() == [10, 11]
    assert frame[scoring.PERCENT].tolist()[0] == 100.0
    assert math.isnan(frame[scoring.PERCENT].tolist()[1])
    assert frame[scoring.ANSWERED].tolist() == [5, 0]
    assert frame[scoring.TOTAL].tolist() == [5, 5]
    assert frame[scoring.COMPLETION].tolist() == [1.0, 0.0]


def test_capability_scores_of_no_answers_are_empty():
    frame = capability_scores(scoring.empty_answers(), EQUAL, LEVELS)

    assert frame.empty
    assert scoring.PERCENT in frame.columns


@pytest.mark.parametrize(
    ("score", "level"),
    [(1, "crawl"), (2, "walk"), (3, "run"), (0, "not_started"), (4, "run")],
)
def test_uniform_lens_scores_land_exactly_on_level_boundaries(score, level):
    row = one(capability_scores(answers(all_lenses(score)), FOUNDATION, LEVELS))

    assert row[scoring.PERCENT] == score * 25.0
    assert row[scoring.LEVEL] == level


@pytest.mark.parametrize(
    ("percent", "level"),
    [
        (0, "not_started"),
        (24.999, "not_started"),
        (25, "crawl"),
        (49.99, "crawl"),
        (50, "walk"),
        (74.9, "walk"),
        (75, "run"),
        (100, "run"),
        (None, None),
        (float("nan"), None),
    ],
)
def test_level_for_picks_the_highest_level_reached(percent, level):
    assert level_for(percent, LEVELS) == level


def test_level_for_ignores_the_order_levels_come_in():
    assert level_for(60, list(reversed(LEVELS))) == "walk"


def test_level_for_below_every_level_is_none():
    assert level_for(10, [("crawl", 25.0)]) is None


def test_overall_is_the_mean_of_capability_percents_that_exist():
    rows = all_lenses(4, capability=10) + all_lenses(2, capability=11)
    rows += [(1, 12, "knowledge", None, 1.0, True)]
    caps = capability_scores(answers(rows), EQUAL, LEVELS)

    row = one(overall_scores(caps, levels=LEVELS), assessment_id=1)

    assert row[scoring.PERCENT] == 75.0
    assert row[scoring.FOUNDATION_20] == 15.0
    assert row[scoring.LEVEL] == "run"
    assert row[scoring.ANSWERED] == 11
    assert row[scoring.TOTAL] == 11


def test_overall_may_weight_capabilities():
    rows = all_lenses(4, capability=10) + all_lenses(0, capability=11)
    caps = capability_scores(answers(rows), EQUAL, LEVELS)

    row = one(overall_scores(caps, capability_weights={10: 3, 11: 1}))

    assert row[scoring.PERCENT] == 75.0


def test_overall_without_any_capability_score_is_nan():
    caps = capability_scores(answers([(1, 10, "process", None)]), EQUAL, LEVELS)

    row = one(overall_scores(caps))

    assert math.isnan(row[scoring.PERCENT])


def test_target_progress_gives_gap_and_progress():
    assert target_progress(45.0, 60.0) == (15.0, 75.0)


def test_target_progress_is_capped_at_100():
    result = target_progress(90.0, 60.0)

    assert result.gap == -30.0
    assert result.progress == 100.0


def test_target_progress_without_a_score_is_none():
    assert target_progress(None, 60.0) == (None, None)
    assert target_progress(float("nan"), 60.0) == (None, None)


def test_target_progress_works_on_series():
    result = target_progress(pd.Series([30.0, 80.0, np.nan]), pd.Series([60.0] * 3))

    assert result.gap.tolist()[:2] == [30.0, -20.0]
    assert result.progress.tolist()[:2] == [50.0, 100.0]
    assert math.isnan(result.progress.tolist()[2])


def test_lens_weights_for_prefers_the_cycles_weights():
    defaults = dict.fromkeys(LENSES, 20)

    assert scoring.lens_weights_for({}, defaults) == EQUAL
    assert scoring.lens_weights_for(FOUNDATION, defaults) == FOUNDATION
    assert scoring.lens_weights_for({"knowledge": 1}, defaults)["process"] == 0.0


# --- properties ------------------------------------------------------------------

answer_rows = st.lists(
    st.tuples(
        st.integers(1, 3),  # assessment
        st.integers(10, 12),  # capability
        st.sampled_from(LENSES),
        st.one_of(st.none(), st.integers(0, 4)),
        st.sampled_from([0.5, 1.0, 2.0, 3.0]),
        st.booleans(),
    ).map(lambda r: (*r[:3], r[3], r[4], r[3] is None and r[5])),
    min_size=1,
    max_size=40,
)
lens_weight_maps = st.fixed_dictionaries(
    {lens: st.sampled_from([0.0, 5.0, 20.0, 30.0]) for lens in LENSES}
)


@settings(max_examples=150, deadline=None)
@given(rows=answer_rows, weights=lens_weight_maps)
def test_percent_is_always_within_0_and_100(rows, weights):
    percent = capability_scores(answers(rows), weights, LEVELS)[scoring.PERCENT]

    assert ((percent >= 0) & (percent <= 100) | percent.isna()).all()


@settings(max_examples=150, deadline=None)
@given(rows=answer_rows, weights=lens_weight_maps)
def test_level_is_consistent_with_percent(rows, weights):
    frame = capability_scores(answers(rows), weights, LEVELS)

    for percent, level in zip(
        frame[scoring.PERCENT], frame[scoring.LEVEL], strict=True
    ):
        assert level == level_for(percent, LEVELS)
        if not math.isnan(percent):
            assert (percent >= 75) == (level == "run")
            assert (percent < 25) == (level == "not_started")


@settings(max_examples=100, deadline=None)
@given(rows=answer_rows, weights=lens_weight_maps, seed=st.integers(0, 2**32 - 1))
def test_scores_do_not_depend_on_row_order(rows, weights, seed):
    frame = answers(rows)
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)

    pd.testing.assert_frame_equal(
        capability_scores(frame, weights, LEVELS),
        capability_scores(shuffled, weights, LEVELS),
        check_exact=False,
        rtol=1e-12,
    )

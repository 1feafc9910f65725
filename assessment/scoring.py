"""The scoring rules, as pure pandas: answers in, scores out. No Django imports.

One code path for every reader (pages, API, roll-up). The rules follow the FinOps
Foundation's method:

- question score = the chosen option's score (0-4); N/A and unanswered are left out;
- lens score = question-weighted mean of the lens's question scores (0-4);
- capability percent = sum(w_lens * lens_score / 4) / sum(w_lens) * 100, over the
  lenses that have a score; NaN when nothing is scored (not 0);
- level = the highest maturity level reached: a level is reached when percent >=
  its minimum percent and, when the level sets a minimum lens score, every lens
  score of the capability (the lenses that have one) is at least that minimum
  (e.g. a lens at 0 keeps a capability below a level asking 1). Levels are given as
  (key, min_percent) or (key, min_percent, min_lens_score or None);
- the Foundation's total score = the plain sum of the lens scores (0-20), and
  "relative to target" = total - target on that scale (``foundation_scores``).

Values are kept at full precision; only banding and ranking compare them at
``PERCENT_DECIMALS`` (so float noise never splits equal scores), and only the
display rounds (``finops_portal.formats``).

Input frame (``answers``): one row per answer, with the columns ASSESSMENT,
CAPABILITY, LENS, QUESTION, WEIGHT, SCORE (NaN for N/A or unanswered) and NA.
Rows for unanswered questions may be present (SCORE NaN, NA False); they count in
the total but not as answered.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

# --- input columns ------------------------------------------------------------------
ASSESSMENT = "assessment_id"
CAPABILITY = "capability_id"
LENS = "lens_key"
QUESTION = "question_id"
WEIGHT = "weight"
SCORE = "score"
NA = "not_applicable"

# --- output columns -----------------------------------------------------------------
LENS_SCORE = "lens_score"
PERCENT = "percent"
FOUNDATION_20 = "foundation_20"  # the Foundation's total score: sum of lens scores
LENSES_SCORED = "lenses_scored"
LEVEL = "level_key"
ANSWERED = "answered"
TOTAL = "total"
COMPLETION = "completion"
LENS_PREFIX = "lens_"

ANSWER_COLUMNS = [ASSESSMENT, CAPABILITY, LENS, QUESTION, WEIGHT, SCORE, NA]

# Percents are rounded before banding and ranking (never before storing) so that
# float noise (24.999999...) never drops a score exactly on a boundary into the
# level below, nor ranks two equal scores apart.
PERCENT_DECIMALS = 9
LENS_MAX = 4.0


def lens_column(lens_key: str) -> str:
    """The capability-score column holding one lens's score."""
    return LENS_PREFIX + lens_key


def lens_columns(frame: pd.DataFrame) -> list[str]:
    """The lens score columns of a capability-score frame, in frame order."""
    return [c for c in frame.columns if c.startswith(LENS_PREFIX)]


def empty_answers() -> pd.DataFrame:
    """An answers frame with no rows and the expected columns."""
    return pd.DataFrame(
        {
            ASSESSMENT: pd.Series(dtype="int64"),
            CAPABILITY: pd.Series(dtype="int64"),
            LENS: pd.Series(dtype="object"),
            QUESTION: pd.Series(dtype="int64"),
            WEIGHT: pd.Series(dtype="float64"),
            SCORE: pd.Series(dtype="float64"),
            NA: pd.Series(dtype="bool"),
        }
    )


def lens_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """Weighted mean score (0-4) per (assessment, capability, lens).

    Only lenses with at least one scored question appear.
    Columns: ASSESSMENT, CAPABILITY, LENS, LENS_SCORE.
    """
    scored = answers.loc[answers[SCORE].notna(), [ASSESSMENT, CAPABILITY, LENS]]
    weight = answers.loc[scored.index, WEIGHT].astype("float64")
    scored = scored.assign(
        _ws=weight * answers.loc[scored.index, SCORE].astype("float64"), _w=weight
    )
    sums = scored.groupby([ASSESSMENT, CAPABILITY, LENS], sort=True, observed=True)[
        ["_ws", "_w"]
    ].sum()
    out = (sums["_ws"] / sums["_w"]).rename(LENS_SCORE).reset_index()
    out[LENS] = out[LENS].astype("object")
    return out


Level = tuple  # (key, min_percent) or (key, min_percent, min_lens_score | None)


def _band(level: Level) -> tuple[str, float, float | None]:
    key, minimum = level[0], float(level[1])
    lens_minimum = level[2] if len(level) > 2 else None
    if lens_minimum is None or _missing(float(lens_minimum)):
        return key, minimum, None
    return key, minimum, float(lens_minimum)


def level_for(
    percent: float | None,
    levels: Sequence[Level],
    min_lens_score: float | None = None,
) -> str | None:
    """The key of the highest level reached by ``percent`` (and, for levels with a
    minimum lens score, by ``min_lens_score``, the lowest lens score).

    None when there is no percent or it is below every level.
    """
    if percent is None or (isinstance(percent, float) and math.isnan(percent)):
        return None
    percent = round(float(percent), PERCENT_DECIMALS)
    lowest = (
        None
        if min_lens_score is None or math.isnan(float(min_lens_score))
        else float(min_lens_score)
    )
    best = None
    for key, minimum, lens_minimum in sorted(map(_band, levels), key=lambda b: b[1]):
        if minimum > percent:
            continue
        if lens_minimum is not None and lowest is not None and lowest < lens_minimum:
            continue
        best = key
    return best


def levels_of(
    percents: pd.Series,
    levels: Sequence[Level],
    min_lens_scores: pd.Series | None = None,
) -> pd.Series:
    """Vectorised ``level_for``: one level key (or None) per percent."""
    ordered = sorted(map(_band, levels), key=lambda band: band[1])
    if not ordered:
        return pd.Series([None] * len(percents), index=percents.index, dtype="object")
    values = np.round(
        percents.to_numpy(dtype="float64", na_value=np.nan), PERCENT_DECIMALS
    )
    lowest = (
        np.full(len(values), np.nan)
        if min_lens_scores is None
        else min_lens_scores.to_numpy(dtype="float64", na_value=np.nan)
    )
    # Index of the highest level reached; len(ordered) means none.
    position = np.full(len(values), len(ordered))
    with np.errstate(invalid="ignore"):
        for i, (_key, minimum, lens_minimum) in enumerate(ordered):
            reached = values >= minimum
            if lens_minimum is not None:
                reached &= np.isnan(lowest) | (lowest >= lens_minimum)
            position = np.where(reached, i, position)
    keys = np.array([key for key, _m, _l in ordered] + [None], dtype=object)
    return pd.Series(keys[position], index=percents.index, dtype="object")


def _lens_matrix(lens_values, columns: int = 0) -> np.ndarray:
    """Rows x lenses as a float array; no rows at all gives (0, columns)."""
    values = np.asarray(lens_values, dtype="float64")
    if values.size == 0 and values.ndim < 2:
        return values.reshape(0, columns)
    return np.atleast_2d(values)


def weighted_percent(lens_values, weights) -> np.ndarray:
    """The lens-weighted score as a percent, per row of ``lens_values`` (rows x
    lenses, NaN where a lens has no score): sum(w x score) x 25 / sum(w) over the
    scored lenses; NaN when no scored lens weighs anything.

    Multiplied before dividing, so that exact inputs give exact outputs (weights
    30/25/20/20/5 and scores 2/1/0/1/0 give 26.25, not 26.250000000000004)."""
    weights = np.asarray(weights, dtype="float64")
    values = _lens_matrix(lens_values, len(weights))
    has = ~np.isnan(values)
    # Summed lens by lens, left to right: a matrix product may sum in another
    # order depending on the number of rows, and one score must not depend on
    # how many others are computed with it.
    weight_sum = np.zeros(values.shape[0])
    weighted = np.zeros(values.shape[0])
    for j, weight in enumerate(weights.tolist()):
        weight_sum = weight_sum + np.where(has[:, j], weight, 0.0)
        weighted = weighted + np.where(has[:, j], values[:, j] * weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            weight_sum > 0, weighted * (100.0 / LENS_MAX) / weight_sum, np.nan
        )


def total_20(lens_values) -> np.ndarray:
    """The FinOps Foundation's total score per row: the plain, unweighted sum of the
    lens scores that exist (0-20 with five lenses); NaN when no lens is scored.
    Never derived from the percent (they agree only with equal weights)."""
    values = _lens_matrix(lens_values)
    has = ~np.isnan(values)
    total = np.zeros(values.shape[0])
    for j in range(values.shape[1]):  # left to right, see weighted_percent
        total = total + np.where(has[:, j], values[:, j], 0.0)
    return np.where(has.any(axis=1), total, np.nan)


# Columns of ``foundation_scores``.
TARGET = "target"
TARGET_20 = "target_20"
RELATIVE_20 = "relative_20"
GAP = "gap"
PROGRESS = "progress"
FOUNDATION_COLUMNS = [
    FOUNDATION_20,
    LENSES_SCORED,
    TARGET_20,
    RELATIVE_20,
    PERCENT,
    TARGET,
    GAP,
    PROGRESS,
]


def foundation_scores(
    lens_values, weights, targets=None, *, lenses: int | None = None
) -> pd.DataFrame:
    """The Foundation's scoring-table figures, one row per row of ``lens_values``
    (rows x lenses, lens scores 0-4, NaN where a lens has no score); ``weights``
    one per lens column; ``targets`` target percents (0-100, NaN for none), one
    per row or a scalar.

    Columns (FOUNDATION_COLUMNS): FOUNDATION_20 (sum of the lens scores),
    LENSES_SCORED (out of ``lenses``, default the number of columns: fewer means
    the total is not out of the full scale), TARGET_20 (target percent on the
    total's scale: target / 100 x 4 x lenses), RELATIVE_20 (total - TARGET_20),
    PERCENT (weighted score), TARGET, GAP (target - percent, points) and PROGRESS
    (min(100, percent / target x 100)).

    This is the one function the grid, the API, the exports and the roll-up read
    these figures from. The Foundation's example: weights 30/25/20/20/5, scores
    2/1/0/1/0, target 60 % (12 of 20) give total 4, relative -8, weighted 26.25 %
    and progress 43.75 %."""
    values = _lens_matrix(lens_values, len(weights))
    rows, columns = values.shape
    lenses = columns if lenses is None else lenses
    if targets is None:
        target = np.full(rows, np.nan)
    else:
        target = np.broadcast_to(np.asarray(targets, dtype="float64"), (rows,))
    target = np.where(target > 0, target, np.nan)
    percent = weighted_percent(values, weights)
    total = total_20(values)
    target_20 = target * (LENS_MAX * lenses) / 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        progress = np.minimum(100.0, percent * 100.0 / target)
    return pd.DataFrame(
        {
            FOUNDATION_20: total,
            LENSES_SCORED: (~np.isnan(values)).sum(axis=1).astype("int64"),
            TARGET_20: target_20,
            RELATIVE_20: total - target_20,
            PERCENT: percent,
            TARGET: target,
            GAP: target - percent,
            PROGRESS: progress,
        },
        columns=FOUNDATION_COLUMNS,
    )


class FoundationScore(NamedTuple):
    """One row of ``foundation_scores`` (None for a missing figure)."""

    total: float | None
    lenses_scored: int
    target_20: float | None
    relative: float | None
    percent: float | None
    target: float | None
    gap: float | None
    progress: float | None


def foundation_score(
    lens_scores: Mapping[str, float | None],
    lens_weights: Mapping[str, float],
    target: float | None = None,
) -> FoundationScore:
    """``foundation_scores`` of one capability: ``lens_scores`` maps lens key ->
    score (missing or None: no score), ``lens_weights`` lens key -> weight (its keys
    are the lenses), ``target`` a percent or None."""
    keys = list(lens_weights)
    row = [_float(lens_scores.get(k)) for k in keys]
    frame = foundation_scores(
        [row], [float(lens_weights[k]) for k in keys], _float(target)
    )
    values = frame.iloc[0]
    figures = [None if _missing(float(v)) else float(v) for v in values]
    return FoundationScore(
        total=figures[0],
        lenses_scored=int(values[LENSES_SCORED]),
        target_20=figures[2],
        relative=figures[3],
        percent=figures[4],
        target=figures[5],
        gap=figures[6],
        progress=figures[7],
    )


def capability_scores(
    answers: pd.DataFrame,
    lens_weights: Mapping[str, float],
    levels: Sequence[Level],
    *,
    totals: Mapping[int, int] | pd.Series | None = None,
    assessments: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Score per (assessment, capability).

    ``lens_weights`` maps lens key -> weight; a lens missing from it weighs 0.
    ``totals`` maps capability -> number of questions (default: rows in ``answers``
    per capability and assessment). When both ``totals`` and ``assessments`` are
    given, every assessment x capability appears, even with nothing answered.

    Columns: ASSESSMENT, CAPABILITY, one ``lens_<key>`` column per lens of
    ``lens_weights`` (NaN when the lens has no score), PERCENT (NaN when nothing is
    scored), FOUNDATION_20 (sum of the lens scores, NaN when none), LENSES_SCORED,
    LEVEL (None without a percent), ANSWERED, TOTAL, COMPLETION (0-1).
    """
    keys = [ASSESSMENT, CAPABILITY]
    lens_keys = list(lens_weights)
    per_lens = lens_scores(answers)
    wide = per_lens.pivot_table(
        index=keys, columns=LENS, values=LENS_SCORE, aggfunc="first"
    )
    wide = wide.reindex(columns=lens_keys)
    wide.columns = [lens_column(k) for k in lens_keys]

    answered_mask = answers[SCORE].notna() | answers[NA].astype(bool)
    counts = (
        answers.assign(_answered=answered_mask.astype("int64"), _rows=1)
        .groupby(keys, sort=True)[["_answered", "_rows"]]
        .sum()
    )
    if totals is not None and assessments is not None:
        totals_series = pd.Series(totals, dtype="int64")
        index = pd.MultiIndex.from_product(
            [sorted(set(assessments)), sorted(totals_series.index)], names=keys
        )
    else:
        index = counts.index.union(wide.index)
    frame = wide.reindex(index)
    counts = counts.reindex(index, fill_value=0)

    weights = np.array([float(lens_weights[k]) for k in lens_keys], dtype="float64")
    values = frame.to_numpy(dtype="float64", na_value=np.nan)
    frame[PERCENT] = weighted_percent(values, weights)
    frame[FOUNDATION_20] = total_20(values)
    frame[LENSES_SCORED] = (~np.isnan(values)).sum(axis=1).astype("int64")
    # The lowest score among the scored lenses (those that weigh), for level rules.
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        weighed = values[:, weights > 0] if len(weights) else values
        lowest = (
            np.nanmin(weighed, axis=1)
            if weighed.shape[1]
            else np.full(len(frame), np.nan)
        )
    frame[LEVEL] = levels_of(
        frame[PERCENT], levels, pd.Series(lowest, index=frame.index)
    )
    frame[ANSWERED] = counts["_answered"].to_numpy()
    if totals is not None:
        cap = frame.index.get_level_values(CAPABILITY)
        total = pd.Series(totals, dtype="int64").reindex(cap).fillna(0)
        frame[TOTAL] = total.to_numpy(dtype="int64")
    else:
        frame[TOTAL] = counts["_rows"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        frame[COMPLETION] = np.where(
            frame[TOTAL] > 0, frame[ANSWERED] / frame[TOTAL].replace(0, 1), 0.0
        )
    return frame.reset_index()


def overall_scores(
    capability_scores: pd.DataFrame,
    capability_weights: Mapping[int, float] | None = None,
    levels: Sequence[Level] | None = None,
) -> pd.DataFrame:
    """Per assessment: the (optionally weighted) mean of the capability percents that
    exist, NaN when none does. Columns: ASSESSMENT, PERCENT, LEVEL, ANSWERED,
    TOTAL, COMPLETION, and FOUNDATION_20 when the frame has lens columns: the
    0-20 total of each lens's mean over the capabilities."""
    frame = capability_scores[[ASSESSMENT, CAPABILITY, PERCENT, ANSWERED, TOTAL]]
    if capability_weights is None:
        weight = pd.Series(1.0, index=frame.index)
    else:
        weight = frame[CAPABILITY].map(capability_weights).fillna(0.0).astype(float)
    has = frame[PERCENT].notna()
    work = pd.DataFrame(
        {
            ASSESSMENT: frame[ASSESSMENT],
            "_wp": np.where(has, frame[PERCENT].fillna(0.0) * weight, 0.0),
            "_w": np.where(has, weight, 0.0),
            ANSWERED: frame[ANSWERED],
            TOTAL: frame[TOTAL],
        }
    )
    sums = work.groupby(ASSESSMENT, sort=True).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = np.where(sums["_w"] > 0, sums["_wp"] / sums["_w"], np.nan)
    out = pd.DataFrame(index=sums.index)
    out[PERCENT] = percent
    lens_cols = lens_columns(capability_scores)
    if lens_cols:
        means = capability_scores.groupby(ASSESSMENT, sort=True)[lens_cols].mean()
        out[FOUNDATION_20] = total_20(means.reindex(out.index).to_numpy())
    out[LEVEL] = levels_of(out[PERCENT], levels or [])
    out[ANSWERED] = sums[ANSWERED].astype("int64")
    out[TOTAL] = sums[TOTAL].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out[COMPLETION] = np.where(
            out[TOTAL] > 0, out[ANSWERED] / out[TOTAL].replace(0, 1), 0.0
        )
    return out.reset_index()


class TargetProgress(NamedTuple):
    """Distance to a target: ``gap`` = target - percent (percent points),
    ``progress`` = min(100, percent / target * 100)."""

    gap: float | None
    progress: float | None


def target_progress(percent, target) -> TargetProgress:
    """Gap and progress to ``target``; works on scalars and on pandas Series.

    For scalars, a missing percent or target gives None for both.
    """
    if isinstance(percent, pd.Series) or isinstance(target, pd.Series):
        p = (
            pd.Series(percent, dtype="float64")
            if not isinstance(percent, pd.Series)
            else percent.astype("float64")
        )
        t = target.astype("float64") if isinstance(target, pd.Series) else target
        gap = t - p
        with np.errstate(invalid="ignore", divide="ignore"):
            progress = (p * 100.0 / t).clip(upper=100.0)
        return TargetProgress(gap, progress)
    if _missing(percent) or _missing(target) or float(target) <= 0:
        return TargetProgress(None, None)
    percent, target = float(percent), float(target)
    return TargetProgress(target - percent, min(100.0, percent * 100.0 / target))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _float(value) -> float:
    """``value`` as a float, NaN for None."""
    return math.nan if value is None else float(value)


def lens_weights_for(
    cycle_weights: Mapping[str, float] | None, default_weights: Mapping[str, float]
) -> dict[str, float]:
    """The cycle's lens weights when it sets any, else each lens's default weight.

    Lenses the cycle's weights leave out weigh 0 (they are not scored).
    """
    if cycle_weights:
        return {key: float(cycle_weights.get(key, 0.0)) for key in default_weights}
    return {key: float(weight) for key, weight in default_weights.items()}

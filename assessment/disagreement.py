"""How far a team's members disagree, and what the facilitator is offered to
confirm. Pure Python and pandas; no Django.

- Question disagreement = the **range** of the members' individual scores: max - min
  on the 0-4 option scale. N/A and unanswered are left out; with fewer than two
  scored answers there is no figure (None). Range, not standard deviation: "one
  says 3, another 1" reads directly as a spread of 2 levels, whatever the number of
  respondents.
- Capability disagreement = the mean of its questions' ranges, over the questions
  that have one (None when none has).
- Default of a question (what the facilitator is offered to confirm): when every
  answer is scored and the range is at most one level, the median; with an even
  count between two levels, the lower one (``statistics.median_low``: a team that
  half-claims a level does not get it). When every answer is N/A, N/A. Otherwise
  (a wider spread, a mix of N/A and scores, or no answer) there is no default.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

ASSESSMENT = "assessment_id"
QUESTION = "question_id"
CAPABILITY = "capability_id"
SCORE = "score"  # the individual's option score, NaN for N/A
DISAGREEMENT = "disagreement"

NA = "na"

# Within this many levels the median is offered as the default.
DEFAULT_MAX_RANGE = 1


def question_range(scores: Iterable[float | None]) -> float | None:
    """max - min of the scored answers (None and NaN left out); None below two."""
    values = [float(s) for s in scores if s is not None and s == s]
    if len(values) < 2:
        return None
    return max(values) - min(values)


def capability_disagreement(ranges: Iterable[float | None]) -> float | None:
    """The mean of the question ranges that exist; None when none does."""
    values = [r for r in ranges if r is not None and r == r]
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class Default:
    """The settled answer proposed to the facilitator: a score, or N/A."""

    score: int | None = None
    not_applicable: bool = False


def settle_default(answers: Sequence[int | str]) -> Default | None:
    """The default for one question's individual answers (scores 0-4, or ``NA``)."""
    if not answers:
        return None
    if all(a == NA for a in answers):
        return Default(not_applicable=True)
    if any(a == NA for a in answers):
        return None
    scores = [int(a) for a in answers]
    if max(scores) - min(scores) > DEFAULT_MAX_RANGE:
        return None
    return Default(score=int(statistics.median_low(scores)))


def question_disagreement_frame(answers: pd.DataFrame) -> pd.DataFrame:
    """Per (ASSESSMENT, QUESTION, CAPABILITY) the range of SCORE, NaN below two
    scored answers. ``answers`` has one row per individual answer."""
    columns = [ASSESSMENT, QUESTION, CAPABILITY]
    if answers.empty:
        return pd.DataFrame(columns=[*columns, DISAGREEMENT])
    scored = answers.dropna(subset=[SCORE])
    grouped = scored.groupby(columns)[SCORE].agg(["min", "max", "count"])
    grouped[DISAGREEMENT] = (grouped["max"] - grouped["min"]).where(
        grouped["count"] >= 2
    )
    return grouped[[DISAGREEMENT]].reset_index()


def capability_disagreement_frame(answers: pd.DataFrame) -> pd.DataFrame:
    """Per (ASSESSMENT, CAPABILITY) the mean of the question ranges that exist;
    pairs without any are left out."""
    per_question = question_disagreement_frame(answers).dropna(subset=[DISAGREEMENT])
    if per_question.empty:
        return pd.DataFrame(columns=[ASSESSMENT, CAPABILITY, DISAGREEMENT])
    return (
        per_question.groupby([ASSESSMENT, CAPABILITY])[DISAGREEMENT]
        .mean()
        .reset_index()
    )

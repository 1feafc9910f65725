"""The anonymity rule: a respondent never sees a figure computed from fewer than k
teams (k is the organisation's anonymity threshold); leads see every figure.

One rule, ``is_visible``, decides each statistics row (a group's figures for one
capability, or overall): shown only when it counts at least k teams. The team
report, the benchmark page and the API all go through ``anonymity_split`` (frames)
or ``anonymity_split_rows`` (plain rows), so a group whose largest row meets k but
another row does not still hides that other row. No Django here.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

HIDDEN_GROUP_MSG = (
    "Fewer than {k} teams have submitted in {group}, so its figures are hidden "
    "to keep answers anonymous."
)
PARTLY_HIDDEN_GROUP_MSG = (
    "Fewer than {k} teams have a score in {group} for some capabilities, so those "
    "figures are hidden to keep answers anonymous."
)


def is_visible(n, k: int) -> bool:
    """Whether a figure of ``n`` teams may be shown to a respondent."""
    return n is not None and n == n and int(n) >= k


def anonymity_split(
    stats: pd.DataFrame, *, k: int, group: str = "group"
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of ``stats`` (columns ``group`` and ``n``) a respondent may see,
    and the groups with at least one row hidden, in their order of appearance."""
    shown = stats["n"].fillna(0).astype("int64") >= k
    hidden = list(dict.fromkeys(stats.loc[~shown, group].tolist()))
    return stats[shown], hidden


def anonymity_split_rows(rows: Iterable[dict], *, k: int) -> tuple[list, list]:
    """``rows`` (dicts with an ``n``) split into those a respondent may see and
    those hidden from them, each in order."""
    visible: list[dict] = []
    hidden: list[dict] = []
    for row in rows:
        (visible if is_visible(row["n"], k) else hidden).append(row)
    return visible, hidden


def hidden_message(*, group: str, k: int, fully: bool) -> str:
    """What the page says about a group of which some (or all) figures are hidden."""
    template = HIDDEN_GROUP_MSG if fully else PARTLY_HIDDEN_GROUP_MSG
    return template.format(k=k, group=group)

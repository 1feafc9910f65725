"""The team report's and the dashboard's tables, as pure pandas: scores, targets and
content in, rows out. No Django and no queries: ``reports`` reads the frames
through ``selectors`` and ``report_cache``, and renders what these return.
"""

import math

import pandas as pd

from assessment import scoring
from assessment.tree import Tree

NO_BUSINESS_UNIT = "No business unit"


IMPACT_RANK = {"high": 0, "medium": 1, "low": 2}


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def rounded(value, digits: int = 0):
    """A float rounded for display, or None."""
    return None if missing(value) else round(float(value), digits)


def records(frame: pd.DataFrame) -> list[dict]:
    """``frame.to_dict("records")`` (native values) through column lists, which
    costs a fraction of it on small frames."""
    columns = list(frame.columns)
    return [
        dict(zip(columns, row, strict=True))
        for row in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def report_grid(
    scores: pd.DataFrame, lenses: pd.DataFrame, levels: pd.DataFrame, targets
) -> pd.DataFrame:
    """One row per capability: lens scores (0-4), percent, 0-20 figure, level, target,
    gap and progress. ``targets`` is a Series aligned with ``scores`` or a list in
    its row order."""
    grid = scores[["capability_key", "capability", "percent"]].copy()
    grid["percent"] = grid["percent"].astype(float)
    for key in lenses["key"]:
        grid[f"lens_{key}"] = [
            (lens or {}).get(key, math.nan) for lens in scores["lens_scores"]
        ]
    grid["foundation_20"] = grid["percent"] / 5
    lens_minimums = (
        levels["min_lens_score"]
        if "min_lens_score" in levels
        else pd.Series([None] * len(levels))
    )
    level_bands = list(
        zip(levels["key"], levels["min_percent"], lens_minimums, strict=True)
    )
    names = dict(zip(levels["key"], levels["name"], strict=True))
    lowest = [
        min((v for v in (lens or {}).values() if v is not None), default=None)
        for lens in scores["lens_scores"]
    ]
    grid["level_key"] = [
        scoring.level_for(p, level_bands, low) if missing(k) or not k else k
        for p, k, low in zip(grid["percent"], scores["level_key"], lowest, strict=True)
    ]
    grid["level"] = grid["level_key"].map(names)
    grid["target"] = pd.Series(targets, index=grid.index, dtype=float)
    gap, progress = scoring.target_progress(grid["percent"], grid["target"])
    grid["gap"] = gap
    grid["progress"] = progress
    return grid


def weakest_lens(row: dict, lens_keys: list[str]):
    """The key of the lowest-scoring lens of a grid row (first on ties), or None."""
    scored = [
        (row[f"lens_{k}"], i, k)
        for i, k in enumerate(lens_keys)
        if not missing(row.get(f"lens_{k}"))
    ]
    return min(scored)[2] if scored else None


def recommendations_by_level(recommendations: pd.DataFrame) -> dict:
    """Recommendation records per (capability key, level key)."""
    by_level: dict = {}
    for rec in recommendations.to_dict("records"):
        by_level.setdefault((rec["capability_key"], rec["level_key"]), []).append(rec)
    return by_level


def pick_recommendations(
    grid: pd.DataFrame,
    recommendations: pd.DataFrame,
    lens_keys: list[str],
    *,
    by_level: dict | None = None,
) -> list[dict]:
    """Recommendations for each capability's level (general ones, plus those for its
    weakest lens), largest gap first, then highest impact. ``by_level`` is
    ``recommendations_by_level(recommendations)`` when the caller keeps it."""
    if by_level is None:
        by_level = recommendations_by_level(recommendations)
    picked = []
    for row in records(grid):
        weakest = weakest_lens(row, lens_keys)
        for rec in by_level.get((row["capability_key"], row["level_key"]), []):
            lens_key = rec["lens_key"]
            if not missing(lens_key) and lens_key and lens_key != weakest:
                continue
            gap = row["gap"]
            picked.append(
                {
                    **rec,
                    "lens": None if missing(rec["lens"]) else rec["lens"],
                    "capability": row["capability"],
                    "level": row["level"],
                    "gap": rounded(gap),
                    "_sort": (
                        -gap if not missing(gap) else math.inf,
                        row["percent"] if not missing(row["percent"]) else 0,
                        IMPACT_RANK.get(rec["impact"], 3),
                        rec["order"],
                    ),
                }
            )
    picked.sort(key=lambda rec: rec["_sort"])
    for rec in picked:
        del rec["_sort"]
    return picked


def subtree_ids(teams: pd.DataFrame, root_id) -> set:
    """Ids of ``root_id`` and every node under it (all nodes when root_id is None)."""
    links = (
        (int(node_id), None if missing(parent_id) else int(parent_id))
        for node_id, parent_id in zip(teams["id"], teams["parent_id"], strict=True)
    )
    return Tree(links).subtree(None if root_id is None else int(root_id))


def heatmap_rows(
    scores: pd.DataFrame,
    teams: pd.DataFrame,
    capability_names: list[str],
    *,
    sort: str,
    sort_names: dict,
    url_template: str,
) -> pd.DataFrame:
    """One row per team: label, group (business unit), url, overall and a column per
    capability (percent) and ``<name> target``; grouped by business unit, then
    sorted by name, overall or one capability (best first)."""
    if scores.empty:
        return pd.DataFrame(
            columns=["label", "team", "group", "url", "overall", *capability_names]
        )
    names = dict(zip(teams["id"], teams["name"], strict=True))
    percents = scores.pivot_table(
        index="assessment_id",
        columns="capability",
        values="percent",
        aggfunc="first",
        dropna=False,
    ).reindex(columns=capability_names)
    goals = scores.pivot_table(
        index="assessment_id",
        columns="capability",
        values="target",
        aggfunc="first",
        dropna=False,
    ).reindex(columns=capability_names)
    wide = (
        scores[["assessment_id", "team_id", "team", "parent_id"]]
        .drop_duplicates("assessment_id")
        .join(percents, on="assessment_id")
        .reset_index(drop=True)
    )
    wide["overall"] = wide[capability_names].mean(axis=1, skipna=True)
    for name in capability_names:
        wide[f"{name} target"] = wide["assessment_id"].map(goals[name])
    wide["group"] = [
        names.get(int(p), NO_BUSINESS_UNIT) if not missing(p) else NO_BUSINESS_UNIT
        for p in wide["parent_id"]
    ]
    wide["label"] = wide["group"] + " · " + wide["team"]
    wide["url"] = [url_template.format(pk) for pk in wide["assessment_id"]]
    if sort in sort_names:
        by, ascending = sort_names[sort], False
    else:
        by, ascending = "team", True
    wide = wide.sort_values(
        ["group", by, "team"],
        ascending=[True, ascending, True],
        na_position="last",
        kind="stable",
    )
    return wide.reset_index(drop=True)


def alt_rows(frame: pd.DataFrame, columns: list[str]) -> list[list]:
    """Rows for a chart's table alternative, numbers rounded."""
    # column lists rather than to_dict("records"): same native values, less work
    return [
        [rounded(v) if isinstance(v, float) else v for v in row]
        for row in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def edition_trend(
    history: pd.DataFrame,
    *,
    current_framework_id: int,
    lineage: dict,
    names: dict,
    editions: dict,
) -> tuple[pd.DataFrame, list[str], list[dict]]:
    """Trend lines that compare like with like across framework editions.

    ``history``: cycle, framework_id, capability_key, capability, value (oldest
    cycle first). ``lineage``: framework id -> {old key: [current keys]} for the
    versions that are not the current one (``capability_key_lineage``); ``names``:
    current key -> name; ``editions``: framework id -> label ("v1, Microsoft Learn
    2024 seed").

    An old capability continues the line of each current capability mapped from it
    (renamed or split); several old ones merged into one give the mean; a retired
    one keeps its own line, which ends, and a new one starts its line. Returns
    (frame: cycle, capability, value), the notes to show with the chart and the
    crossings ({"before", "after", "label"}: where lines cross editions).
    """
    rows: list[tuple] = []
    retired: dict[str, str] = {}
    for cycle, framework_id, key, name, value in zip(
        history["cycle"],
        history["framework_id"],
        history["capability_key"],
        history["capability"],
        history["value"],
        strict=True,
    ):
        if framework_id == current_framework_id:
            rows.append((cycle, names.get(key, name), value))
            continue
        successors = lineage.get(framework_id, {}).get(key)
        if successors is None:
            successors = [key] if key in names else []
        if not successors:
            retired[name] = cycle
            rows.append((cycle, name, value))
            continue
        for successor in successors:
            rows.append((cycle, names.get(successor, successor), value))
    frame = pd.DataFrame(rows, columns=["cycle", "capability", "value"])
    if not frame.empty:
        cycles_order = list(dict.fromkeys(frame["cycle"]))
        frame = (
            frame.groupby(["cycle", "capability"], sort=False)["value"]
            .mean()
            .reset_index()
        )
        frame["_order"] = frame["cycle"].map(cycles_order.index)
        frame = frame.sort_values("_order", kind="stable").drop(columns="_order")
        frame = frame.reset_index(drop=True)

    notes: list[str] = []
    crossings: list[dict] = []
    per_cycle = list(
        dict.fromkeys(zip(history["cycle"], history["framework_id"], strict=True))
    )
    for (before, fw_before), (after, fw_after) in zip(
        per_cycle, per_cycle[1:], strict=False
    ):
        if fw_before != fw_after:
            label = (
                f"{editions.get(fw_before, fw_before)} to "
                f"{editions.get(fw_after, fw_after)}"
            )
            crossings.append({"before": before, "after": after, "label": label})
            notes.append(
                f"Between {before} and {after} the lines cross from {label}: "
                "capabilities are matched through the new version's mapping."
            )
    for name, cycle in retired.items():
        notes.append(
            f"{name} was retired by a later edition: its line ends at {cycle}."
        )
    current_cycles = [c for c, f in per_cycle if f == current_framework_id]
    if current_cycles and crossings:
        continued = {
            new_key
            for mapping in lineage.values()
            for successors in mapping.values()
            for new_key in successors
        }
        first = current_cycles[0]
        present = set(
            history.loc[
                history["framework_id"] == current_framework_id, "capability_key"
            ]
        )
        for key in names:
            if key in present and key not in continued:
                notes.append(
                    f"{names[key]} is new in this edition: its line starts at {first}."
                )
    return frame, notes, crossings

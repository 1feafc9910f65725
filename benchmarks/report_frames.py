"""The team report's and the dashboard's tables, as pure pandas: scores, targets and
content in, rows out. No Django and no queries: ``reports`` reads the frames
through ``selectors`` and ``report_cache``, and renders what these return.
"""

import math

import pandas as pd

from assessment import scoring
from assessment.tree import Tree
from finops_portal import formats

NO_BUSINESS_UNIT = "No business unit"


IMPACT_RANK = {"high": 0, "medium": 1, "low": 2}


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def rounded(value, digits: int = formats.PERCENT_DIGITS):
    """A float rounded for display (half away from zero), or None."""
    return formats.rounded(value, digits)


def records(frame: pd.DataFrame) -> list[dict]:
    """``frame.to_dict("records")`` (native values) through column lists, which
    costs a fraction of it on small frames."""
    columns = list(frame.columns)
    return [
        dict(zip(columns, row, strict=True))
        for row in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def report_grid(
    scores: pd.DataFrame,
    lenses: pd.DataFrame,
    levels: pd.DataFrame,
    targets,
    lens_weights: dict | None = None,
) -> pd.DataFrame:
    """One row per capability: lens scores (0-4), the Foundation's figures
    (``scoring.foundation_scores``: total of 20, lenses scored, target of 20,
    relative to target, weighted percent, gap, progress), level and target.
    ``targets`` is a Series aligned with ``scores`` or a list in its row order;
    ``lens_weights`` the cycle's (default: each lens's weight)."""
    grid = scores[["capability_key", "capability"]].copy()
    lens_keys = list(lenses["key"])
    for key in lens_keys:
        grid[f"lens_{key}"] = [
            (lens or {}).get(key, math.nan) for lens in scores["lens_scores"]
        ]
    if lens_weights is None:
        lens_weights = dict(zip(lens_keys, lenses["weight"], strict=True))
    figures = scoring.foundation_scores(
        grid[[f"lens_{key}" for key in lens_keys]].to_numpy(dtype="float64"),
        [float(lens_weights.get(key, 0.0)) for key in lens_keys],
        pd.Series(targets, dtype="float64").to_numpy(),
    )
    figures.index = grid.index
    for column in scoring.FOUNDATION_COLUMNS:
        grid[column] = figures[column]
    grid["lenses"] = len(lens_keys)
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


def below_target(row: dict) -> bool:
    """Whether a grid row still has a way to go: below its target, or without a
    target or a score (nothing says it is there yet)."""
    gap = formats.rounded(row.get("gap"))
    return gap is None or gap > 0


def _steps_for(row: dict, by_level: dict, lens_keys: list[str], level_order):
    """The recommendations of one capability, from the first of these that has
    any: for its level, the general ones and those for its weakest lens; for its
    level, those for its lowest-scoring lens that has some; the same two for the
    next band up. Returns (records, whether they are the next band's)."""
    key, level = row["capability_key"], row["level_key"]
    if missing(level) or not level:
        level = level_order[0] if level_order else level
    bands = [level]
    if level in level_order and level_order.index(level) + 1 < len(level_order):
        bands.append(level_order[level_order.index(level) + 1])
    weakest = weakest_lens(row, lens_keys)
    by_score = sorted(
        (
            (row[f"lens_{k}"] if not missing(row.get(f"lens_{k}")) else math.inf, i, k)
            for i, k in enumerate(lens_keys)
        )
    )
    for position, band in enumerate(bands):
        recs = by_level.get((key, band), [])
        if not recs:
            continue
        general = [r for r in recs if missing(r["lens_key"]) or not r["lens_key"]]
        first = general + [r for r in recs if r["lens_key"] == weakest]
        if first:
            return first, position > 0
        for _score, _i, lens_key in by_score:
            for_lens = [r for r in recs if r["lens_key"] == lens_key]
            if for_lens:
                return for_lens, position > 0
        return recs, position > 0
    return [], False


def pick_recommendations(
    grid: pd.DataFrame,
    recommendations: pd.DataFrame,
    lens_keys: list[str],
    *,
    by_level: dict | None = None,
    level_order: list | None = None,
) -> list[dict]:
    """Next steps for every capability below its target (or without one), largest
    gap first, then lowest score, then highest impact: each capability's general
    recommendations for its level plus those for its weakest lens, falling back
    (``_steps_for``) to another lens's, then to the next band's, so that none is
    left without a step while the framework has any for it. Capabilities at or
    above target get none (see ``at_target``). ``level_order``: level keys, lowest
    band first; ``by_level`` is ``recommendations_by_level(recommendations)`` when
    the caller keeps it."""
    if by_level is None:
        by_level = recommendations_by_level(recommendations)
    level_order = list(level_order or [])
    picked = []
    for row in records(grid):
        if not below_target(row):
            continue
        recs, next_band = _steps_for(row, by_level, lens_keys, level_order)
        gap = row["gap"]
        for rec in recs:
            picked.append(
                {
                    **rec,
                    "lens": None if missing(rec["lens"]) else rec["lens"],
                    "capability": row["capability"],
                    "capability_key": row["capability_key"],
                    "level": row["level"],
                    "next_band": next_band,
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


def at_target(grid: pd.DataFrame) -> list[dict]:
    """The capabilities at or above their target, best margin first: capability,
    percent, target and how far above (points, rounded)."""
    rows = [row for row in records(grid) if not below_target(row)]
    rows.sort(key=lambda row: (row["gap"], row["capability"]))
    return [
        {
            "capability": row["capability"],
            "capability_key": row["capability_key"],
            "percent": rounded(row["percent"]),
            "target": rounded(row["target"]),
            "above": rounded(-row["gap"]),
        }
        for row in rows
    ]


def subtree_ids(teams: pd.DataFrame, root_id) -> set:
    """Ids of ``root_id`` and every node under it (all nodes when root_id is None)."""
    links = (
        (int(node_id), None if missing(parent_id) else int(parent_id))
        for node_id, parent_id in zip(teams["id"], teams["parent_id"], strict=True)
    )
    return Tree(links).subtree(None if root_id is None else int(root_id))


def dashboard_scope(teams: pd.DataFrame, unit_id) -> dict:
    """Where the dashboard stands in the tree (``teams``: id, name, parent_id, kind;
    ``unit_id`` None for the whole organisation): ``ids``, the scope's node and
    every node under it; ``path``, the (id, name) of the business units from the
    top down to the scope (empty for the organisation); ``units`` and ``teams``,
    the (id, name) of the business units and of the teams directly below it, by
    name; ``team_count``, the teams under it at any depth."""
    tree = Tree(
        (int(node_id), None if missing(parent_id) else int(parent_id))
        for node_id, parent_id in zip(teams["id"], teams["parent_id"], strict=True)
    )
    names = dict(zip(teams["id"].astype(int), teams["name"], strict=True))
    kinds = dict(zip(teams["id"].astype(int), teams["kind"], strict=True))
    root = None if unit_id is None else int(unit_id)
    ids = tree.subtree(root)
    below = sorted(tree.children(root), key=lambda n: (names[n], n))
    path = [] if root is None else [*reversed(tree.ancestors(root)), root]
    return {
        "ids": ids,
        "path": [(n, names[n]) for n in path],
        "units": [(n, names[n]) for n in below if kinds[n] == "business_unit"],
        "teams": [(n, names[n]) for n in below if kinds[n] != "business_unit"],
        "team_count": sum(1 for n in ids if kinds[n] != "business_unit"),
    }


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


def unit_heatmap_rows(
    stats: pd.DataFrame,
    units: list[tuple[int, str]],
    capability_names: list[str],
    *,
    sort: str,
    sort_names: dict,
    url_template: str,
) -> pd.DataFrame:
    """One row per business unit of ``units`` ((id, name), in name order), in the
    shape of ``heatmap_rows``: a capability's cell is the mean team score under the
    unit (``stats``: the snapshot's node_id, capability, n, mean), overall the mean
    of those; ``teams`` is how many teams the means are of; no targets. Sorted by
    name, overall or one capability (best first); ``url_template`` takes the id."""
    columns = ["label", "team", "group", "url", "unit_id", "teams", "overall"]
    if not units:
        return pd.DataFrame(columns=[*columns, *capability_names])
    ids = [unit_id for unit_id, _name in units]
    mine = stats[stats["node_id"].isin(ids)]
    means = (
        mine.pivot_table(
            index="node_id",
            columns="capability",
            values="mean",
            aggfunc="first",
            dropna=False,
        )
        .reindex(index=ids, columns=capability_names)
        .astype(float)
    )
    counts = mine.groupby("node_id")["n"].max().reindex(ids).fillna(0).astype(int)
    wide = pd.DataFrame(
        {
            "team": [name for _id, name in units],
            "group": "",
            "url": [url_template.format(unit_id) for unit_id in ids],
            "unit_id": ids,
            "teams": counts.tolist(),
        }
    )
    for name in capability_names:
        wide[name] = means[name].tolist()
        wide[f"{name} target"] = math.nan
    wide["overall"] = wide[capability_names].mean(axis=1, skipna=True)
    wide["label"] = [
        f"{name} ({count:,} team{'' if count == 1 else 's'})"
        for name, count in zip(wide["team"], wide["teams"], strict=True)
    ]
    if sort in sort_names:
        wide = wide.sort_values(
            [sort_names[sort], "team"],
            ascending=[False, True],
            na_position="last",
            kind="stable",
        )
    return wide.reset_index(drop=True)


def page_bounds(total: int, page: int, per_page: int) -> dict:
    """Which rows of ``total`` one page shows: the page (clamped to 1..pages), the
    number of pages (at least 1), and the first and last row, 1-based (0 and 0
    when there is none)."""
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    first = (page - 1) * per_page + 1 if total else 0
    return {
        "page": page,
        "pages": pages,
        "first": first,
        "last": min(total, page * per_page),
        "total": total,
    }


def alt_rows(frame: pd.DataFrame, columns: list[str]) -> list[list]:
    """Rows for a chart's table alternative, numbers rounded."""
    # column lists rather than to_dict("records"): same native values, less work
    return [
        [rounded(v) if isinstance(v, float) else v for v in row]
        for row in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def capability_headlines(
    *,
    node_stats: pd.DataFrame,
    scores: pd.DataFrame,
    history: pd.DataFrame,
    levels: pd.DataFrame,
    cycle_id: int,
) -> list[dict]:
    """What a lead asks first, per capability in ``node_stats`` order: the median
    score and the level it reaches, how many teams with a target meet it, and how
    the median moved since the previous cycle that has one.

    ``node_stats``: capability_key, capability, median; ``scores``: capability_key,
    percent, target (NaN = no target); ``history``: cycle_id, capability_key,
    median in cycle order; ``levels``: name, min_percent, lowest first."""
    earlier = history[history["cycle_id"] != cycle_id]
    if not history.empty and cycle_id in set(history["cycle_id"]):
        position = list(history["cycle_id"]).index(cycle_id)
        earlier = history.iloc[:position]
    previous = {
        key: float(rows["median"].iloc[-1])
        for key, rows in earlier.groupby("capability_key", sort=False)
        if not rows.empty and not missing(rows["median"].iloc[-1])
    }
    headlines = []
    for row in node_stats.to_dict("records"):
        key = row["capability_key"]
        median = None if missing(row["median"]) else float(row["median"])
        level = None
        if median is not None:
            reached = levels[levels["min_percent"] <= median]
            level = reached["name"].iloc[-1] if not reached.empty else None
        mine = scores[(scores["capability_key"] == key) & scores["target"].notna()]
        at_target = int((mine["percent"] >= mine["target"]).sum())
        before = previous.get(key)
        headlines.append(
            {
                "capability": row["capability"],
                "median": median,
                "level": level,
                "with_target": len(mine),
                "at_target": at_target,
                "share_at_target": (at_target * 100 / len(mine) if len(mine) else None),
                "movement": (
                    median - before
                    if median is not None and before is not None
                    else None
                ),
            }
        )
    return headlines


def _mean(values: list) -> float:
    """The mean of the scores present (NaN when none is), summed as pandas'
    grouped ``mean`` does (compensated), so to the same last digit."""
    total, compensation, count = 0.0, 0.0, 0
    for value in values:
        if missing(value):
            continue
        y = float(value) - compensation
        t = total + y
        compensation = t - total - y
        if compensation != compensation:
            compensation = 0.0
        total = t
        count += 1
    return total / count if count else math.nan


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
    # one row per cycle and line (the mean of the old capabilities merged into
    # it, missing scores left out), cycles in history order: in plain Python, a
    # fraction of what a groupby costs on these few rows
    lines: dict[tuple, list] = {}
    for cycle, line, value in rows:
        lines.setdefault((cycle, line), []).append(value)
    cycles_order = {
        cycle: i for i, cycle in enumerate(dict.fromkeys(c for c, _line in lines))
    }
    frame = pd.DataFrame(
        [
            (cycle, line, _mean(values))
            for (cycle, line), values in sorted(
                lines.items(), key=lambda item: cycles_order[item[0][0]]
            )
        ],
        columns=["cycle", "capability", "value"],
    )

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

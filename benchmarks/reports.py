"""What the team report and the organisation dashboard show, assembled from snapshots.

``team_report_data`` and ``org_dashboard_data`` read through ``selectors`` (a fixed
number of queries, whatever the number of teams) and hand frames to the pure
helpers below and to ``charts``. Nothing here computes a roll-up: statistics come
from the stored ``NodeStat``/``TeamRank`` snapshot.
"""

import hashlib
import json
import math
import pickle
import zlib

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from assessment import scoring
from assessment.models import Assessment
from capabilities.models import Framework

from . import charts, selectors
from .targets import resolve_targets, targets_frame, targets_version, team_targets

# What ``json_script`` escapes in the JSON it writes into a page.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
HIDDEN_GROUP_MSG = (
    "Fewer than {k} teams have submitted in {group}, so its figures are hidden "
    "to keep answers anonymous."
)
NO_BUSINESS_UNIT = "No business unit"
IMPACT_RANK = {"high": 0, "medium": 1, "low": 2}
# Bump the version when the charts' code changes, so cached figures are rebuilt.
DASHBOARD_CACHE_KEY = (
    "benchmarks:dashboard:v5:{cycle}:{unit}:{sort}:{generation}:{computed}:{targets}"
)
DASHBOARD_CACHE_SECONDS = 24 * 3600
# One team report, per viewer kind (leads see groups below the anonymity threshold);
# ``state`` digests everything else it depends on (see ``team_report_key``).
REPORT_CACHE_KEY = "benchmarks:report:v3:{assessment}:{viewer}:{state}"
REPORT_CACHE_SECONDS = 24 * 3600
# Per assessment: the keys of its reports for the latest state stored.
REPORT_CURRENT_KEY = "benchmarks:report-current:v1:{assessment}"
# Published framework content never changes: its frames are kept per process.
FRAMEWORK_FRAMES_KEPT = 16
_framework_frames: dict = {}
_by_level: dict = {}
# Statistics of the organisation and of each business unit, per snapshot.
NODE_STATS_CACHE_KEY = "benchmarks:nodestats:v1:{cycle}:{node}:{generation}:{computed}"
NODE_STATS_KEPT = 256
_node_stats: dict = {}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value, digits: int = 0):
    """A float rounded for display, or None."""
    return None if _missing(value) else round(float(value), digits)


def _records(frame: pd.DataFrame) -> list[dict]:
    """``frame.to_dict("records")`` (native values) through column lists, which
    costs a fraction of it on small frames."""
    columns = list(frame.columns)
    return [
        dict(zip(columns, row, strict=True))
        for row in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


# --- pure helpers --------------------------------------------------------------------


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
    level_pairs = list(zip(levels["key"], levels["min_percent"], strict=True))
    names = dict(zip(levels["key"], levels["name"], strict=True))
    grid["level_key"] = [
        scoring.level_for(p, level_pairs) if _missing(k) or not k else k
        for p, k in zip(grid["percent"], scores["level_key"], strict=True)
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
        if not _missing(row.get(f"lens_{k}"))
    ]
    return min(scored)[2] if scored else None


def _recommendations_by_level(recommendations: pd.DataFrame) -> dict:
    """Recommendation records per (capability key, level key); kept for the
    framework frames, which live as long as the process (see framework_frames)."""
    kept = _by_level.get(id(recommendations))
    if kept is not None and kept[0] is recommendations:
        return kept[1]
    by_level: dict = {}
    for rec in recommendations.to_dict("records"):
        by_level.setdefault((rec["capability_key"], rec["level_key"]), []).append(rec)
    if any(frames[2] is recommendations for frames in _framework_frames.values()):
        if len(_by_level) >= FRAMEWORK_FRAMES_KEPT:
            _by_level.clear()
        # the frame is kept with its records, so its id is not reused meanwhile
        _by_level[id(recommendations)] = (recommendations, by_level)
    return by_level


def pick_recommendations(
    grid: pd.DataFrame, recommendations: pd.DataFrame, lens_keys: list[str]
) -> list[dict]:
    """Recommendations for each capability's level (general ones, plus those for its
    weakest lens), largest gap first, then highest impact."""
    by_level = _recommendations_by_level(recommendations)
    picked = []
    for row in _records(grid):
        weakest = weakest_lens(row, lens_keys)
        for rec in by_level.get((row["capability_key"], row["level_key"]), []):
            lens_key = rec["lens_key"]
            if not _missing(lens_key) and lens_key and lens_key != weakest:
                continue
            gap = row["gap"]
            picked.append(
                {
                    **rec,
                    "lens": None if _missing(rec["lens"]) else rec["lens"],
                    "capability": row["capability"],
                    "level": row["level"],
                    "gap": _number(gap),
                    "_sort": (
                        -gap if not _missing(gap) else math.inf,
                        row["percent"] if not _missing(row["percent"]) else 0,
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
    if root_id is None:
        return set(teams["id"])
    children: dict = {}
    for node_id, parent_id in zip(teams["id"], teams["parent_id"], strict=True):
        if not _missing(parent_id):
            children.setdefault(int(parent_id), []).append(int(node_id))
    found, frontier = {int(root_id)}, [int(root_id)]
    while frontier:
        frontier = [c for n in frontier for c in children.get(n, []) if c not in found]
        found.update(frontier)
    return found


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
        names.get(int(p), NO_BUSINESS_UNIT) if not _missing(p) else NO_BUSINESS_UNIT
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


# --- page data -----------------------------------------------------------------------


DISTRIBUTION_HEADINGS = ["Capability", "Teams", "Min", "P25", "Median", "P75", "Max"]
HEADINGS = {
    "progress": ["Capability", "Score %", "Target %", "Gap", "Progress to target %"],
    "radar": ["Capability", "Your team %", "Organisation median %", "Target %"],
    "percentile": ["Capability", "Percentile"],
    "trend": ["Cycle", "Capability", "Score %"],
    "boxes": DISTRIBUTION_HEADINGS,
    "units": ["Business unit", "Capability", "Teams", "Mean %"],
}


def _payloads(
    figures: dict, alts: dict, headings: dict | None = None, *, rows_html=False
) -> dict:
    """Per chart name: its plotly JSON, and the headings and rows of its table
    alternative (and, with ``rows_html``, the rows as table HTML for _alt_table)."""
    headings = {**HEADINGS, **(headings or {})}
    payloads = {
        name: {
            "payload": charts.figure_payload(fig),
            "rows": alts.get(name, []),
            "headings": headings.get(name, DISTRIBUTION_HEADINGS),
        }
        for name, fig in figures.items()
    }
    if rows_html:
        sep = _decimal_separator()
        for payload in payloads.values():
            payload["rows_html"] = _rows_html(payload["rows"], sep)
            payload["payload_json"] = _payload_json(payload["payload"])
    return payloads


def _payload_json(payload: dict) -> str:
    """The figure's JSON as ``json_script`` writes it."""
    return mark_safe(
        json.dumps(payload, cls=DjangoJSONEncoder).translate(JSON_SCRIPT_ESCAPES)
    )


def _decimal_separator():
    """The separator ``localize`` puts in a float, or None when it also groups
    thousands (then ``_cell`` asks ``localize``)."""
    if settings.USE_THOUSAND_SEPARATOR:
        return None
    return get_format("DECIMAL_SEPARATOR")


def _cell(value, sep=None) -> str:
    """A value as the template shows it (localized, escaped; a dash for None)."""
    if value is None:
        return "–"
    kind = type(value)
    if kind is str:
        return conditional_escape(value)
    if sep is not None:
        if kind is int:
            return str(value)
        if kind is float:
            text = repr(value)
            if "e" not in text and "n" not in text:  # not 1e+16, inf or nan
                return text.replace(".", sep)
    return conditional_escape(str(localize(value)))


def _rows_html(rows: list[list], sep=None) -> str:
    """Table rows as _alt_table.html renders them, built without the template
    engine (a figure's table can hold hundreds of cells)."""
    return mark_safe(
        "".join(
            "<tr>" + "".join(f"<td>{_cell(v, sep)}</td>" for v in row) + "</tr>"
            for row in rows
        )
    )


def _alt_rows(frame: pd.DataFrame, columns: list[str]) -> list[list]:
    """Rows for a chart's table alternative, numbers rounded."""
    # column lists rather than to_dict("records"): same native values, less work
    return [
        [_number(v) if isinstance(v, float) else v for v in row]
        for row in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def _grid_cells(grid: pd.DataFrame, lenses: pd.DataFrame) -> list[dict]:
    sep = _decimal_separator()
    rows = []
    for row in _records(grid):
        cells = []
        for key in lenses["key"]:
            value = row[f"lens_{key}"]
            # lens score 0-4 coloured on the same scale as percents
            bg, fg = charts.score_colour(None if _missing(value) else value * 25)
            cells.append({"value": _number(value, 1), "bg": bg, "fg": fg})
        bg, fg = charts.score_colour(row["percent"])
        rows.append(
            {
                "capability": row["capability"],
                "capability_key": row["capability_key"],
                "cells": cells,
                "percent": _number(row["percent"]),
                "percent_bg": bg,
                "percent_fg": fg,
                "foundation_20": _number(row["foundation_20"], 1),
                "level": row["level"] if not _missing(row["level"]) else None,
                "level_key": row["level_key"],
                "target": _number(row["target"]),
                "gap": _number(row["gap"]),
                "progress": _number(row["progress"]),
            }
        )
        rows[-1]["html"] = _grid_row_html(rows[-1], sep)
    return rows


def _grid_row_html(row: dict, sep=None) -> str:
    """One row of the score grid, as _team_report_body.html used to render it."""
    esc = conditional_escape
    cells = "".join(
        f'<td class="num score-cell" style="background:{esc(c["bg"])};'
        f'color:{esc(c["fg"])}">{_cell(c["value"], sep)}</td>'
        for c in row["cells"]
    )
    level = (
        f'<span class="badge badge-{esc(str(row["level_key"]))}">'
        f"{esc(row['level'])}</span>"
        if row["level"]
        else "–"
    )
    target = (
        '<span class="muted">none</span>'
        if row["target"] is None
        else _cell(row["target"], sep)
    )
    if row["progress"] is None:
        progress = '<span class="muted">no target</span>'
    else:
        value = _cell(row["progress"], sep)
        progress = (
            '<div class="progress" role="progressbar" aria-valuemin="0" '
            f'aria-valuemax="100" aria-valuenow="{value}" aria-label="Progress to '
            f'target for {esc(row["capability"])}"><span style="width:{value}%">'
            f'</span></div><span class="progress-label">{value}%</span>'
        )
    return mark_safe(
        "<tr>\n"
        f'          <th scope="row">{esc(row["capability"])}</th>\n'
        f"          {cells}\n"
        '          <td class="num score-cell" style="background:'
        f'{esc(row["percent_bg"])};color:{esc(row["percent_fg"])}">'
        f"{_cell(row['percent'], sep)}</td>\n"
        f'          <td class="num">{_cell(row["foundation_20"], sep)}</td>\n'
        f"          <td>{level}</td>\n"
        f'          <td class="num">{target}</td>\n'
        f'          <td class="num">{_cell(row["gap"], sep)}</td>\n'
        f"          <td>{progress}</td>\n"
        "        </tr>"
    )


def team_report_key(*, assessment, enforce_anonymity: bool) -> str | None:
    """The cache key of an assessment's report as one kind of viewer sees it (one
    query), or None when it must not be cached (a draft framework can change).

    The report changes with the cycle's snapshot (computed generation and time), the
    organisation's targets, the assessment's submission (reopen and submit), the
    team's submissions in other cycles (its trend: ``Team.history_version``), the
    framework version, and the names and threshold shown on the page."""
    keys, _state = _report_keys_and_state(assessment=assessment)
    return keys[_viewer(enforce_anonymity)] if keys else None


def _viewer(enforce_anonymity: bool) -> str:
    return "member" if enforce_anonymity else "lead"


# What a report's cache key reads of the cycle's snapshot, as annotations.
REPORT_STATE = {"generation": "report_generation", "computed": "report_computed"}


def report_assessments():
    """Assessments annotated with their cycle's snapshot state, which their report's
    cache key reads: handed to ``get_assessment_for_user``, the access check and
    the key cost one query instead of two."""
    return Assessment.objects.annotate(
        report_generation=F("cycle__rollup__computed_generation"),
        report_computed=F("cycle__rollup__computed_at"),
    )


def _report_state(assessment) -> dict:
    """The cycle's snapshot state: from the annotations of ``report_assessments``
    when present, else one query."""
    if hasattr(assessment, REPORT_STATE["computed"]):
        return {name: getattr(assessment, attr) for name, attr in REPORT_STATE.items()}
    rows = report_assessments().filter(pk=assessment.pk).order_by()
    fields = {name: F(attr) for name, attr in REPORT_STATE.items()}
    return rows.values(**fields).first() or {}


def _report_keys_and_state(*, assessment):
    """The report's cache key per kind of viewer ({"member": ..., "lead": ...}) and
    the cycle's snapshot state it read; (None, None) for a draft framework."""
    cycle, team = assessment.cycle, assessment.team
    framework, organization = cycle.framework, cycle.organization
    if framework.status == Framework.Status.DRAFT:
        return None, None
    state = _report_state(assessment)
    parts = [
        assessment.status,
        _stamp(assessment.submitted_at),
        state.get("generation"),
        _stamp(state.get("computed")),
        # the team's submissions in every cycle (its trend)
        team.history_version,
        targets_version(organization_id=organization.id),
        framework.id,
        _stamp(framework.created_at),
        organization.anonymity_threshold,
        organization.name,
        organization.slug,
        team.id,
        team.name,
        team.parent_id,
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    keys = {
        viewer: REPORT_CACHE_KEY.format(
            assessment=assessment.pk, viewer=viewer, state=digest
        )
        for viewer in ("member", "lead")
    }
    return keys, state


def _stamp(moment):
    return None if moment is None else moment.timestamp()


def team_report_data(*, assessment, enforce_anonymity: bool) -> dict:
    """Everything the team report shows for a submitted assessment, built once per
    state (see ``team_report_key``) and cached with its rendered figures and tables
    (``report_html`` for the report, ``benchmarks_html`` for the benchmark page).
    Workers build the reports ahead of the first visit (``team_report_prebuild``)."""
    keys, state = _report_keys_and_state(assessment=assessment)
    key = keys[_viewer(enforce_anonymity)] if keys else None
    packed = cache.get(key) if key is not None else None
    if packed is not None:
        data = _unpack(packed)
    else:
        data = _rendered_team_report(
            assessment=assessment, enforce_anonymity=enforce_anonymity, state=state
        )
        if key is not None:
            _store_reports(assessment.pk, keys, {key: _pack(data)})
    return data | {
        "report_html": mark_safe(data["report_html"]),
        "benchmarks_html": mark_safe(data["benchmarks_html"]),
    }


def team_report_prebuild(*, assessment) -> int:
    """Build and cache the assessment's report for both kinds of viewer, unless
    already cached; returns how many reports were built (0, 1 or 2).

    A lead's report differs from a member's only when a group is hidden from the
    member (fewer teams than the anonymity threshold) or when no target is set
    (the lead gets a link to set them); otherwise the member's is stored for both."""
    keys, state = _report_keys_and_state(assessment=assessment)
    if keys is None or not assessment.is_submitted:
        return 0
    present = {key for key in keys.values() if cache.has_key(key)}
    built, member, packed = 0, None, {}
    if keys["member"] not in present:
        member = _rendered_team_report(
            assessment=assessment, enforce_anonymity=True, state=state
        )
        packed[keys["member"]] = _pack(member)
        built += 1
    if keys["lead"] not in present:
        if member is None:  # cached by a member's visit
            cached = cache.get(keys["member"])
            if cached is not None:
                member, packed[keys["member"]] = _unpack(cached), cached
        if member is not None and report_same_for_leads(member):
            packed[keys["lead"]] = packed[keys["member"]]
        else:
            lead = _rendered_team_report(
                assessment=assessment, enforce_anonymity=False, state=state
            )
            packed[keys["lead"]] = _pack(lead)
            built += 1
    if packed:
        _store_reports(assessment.pk, keys, packed)
    return built


def _store_reports(assessment_id: int, keys: dict, packed: dict) -> None:
    """Cache packed reports ({key: bytes}) of one assessment, and drop its reports
    of an older state: no request asks for those keys again (the state only moves
    forward), and each roll-up would otherwise leave a full set of reports behind
    until they expire. ``keys`` are the assessment's keys for the current state."""
    pointer = REPORT_CURRENT_KEY.format(assessment=assessment_id)
    previous = cache.get(pointer) or {}
    cache.set_many(packed, REPORT_CACHE_SECONDS)
    stale = [key for key in previous.values() if key not in keys.values()]
    if stale:
        cache.delete_many(stale)
    if previous != keys:
        cache.set(pointer, keys, REPORT_CACHE_SECONDS)


def report_same_for_leads(member_data: dict) -> bool:
    """Whether a member's report reads the same for a lead (see
    ``team_report_prebuild``)."""
    return not member_data["hidden_messages"] and "progress" in member_data["charts"]


def _pack(data: dict) -> bytes:
    # compressed: the page's figures and tables shrink about 7 times
    return zlib.compress(pickle.dumps(data, pickle.HIGHEST_PROTOCOL), 1)


def _unpack(packed: bytes) -> dict:
    return pickle.loads(zlib.decompress(packed))


def _rendered_team_report(*, assessment, enforce_anonymity: bool, state) -> dict:
    """``_build_team_report`` with the report body and benchmarks rendered to HTML
    (the figures' JSON and the tables are most of the page)."""
    data = _build_team_report(
        assessment=assessment, enforce_anonymity=enforce_anonymity, state=state
    )
    data["benchmarks_html"] = str(render_to_string("benchmarks/_benchmarks.html", data))
    data["report_html"] = str(
        render_to_string(
            "benchmarks/_team_report_body.html",
            {
                **data,
                "assessment": assessment,
                "is_lead": not enforce_anonymity,
                "benchmarks_html": mark_safe(data["benchmarks_html"]),
            },
        )
    )
    # The figures are in the HTML; the context keeps their tables only.
    data["charts"] = {
        name: _without_payload(chart) for name, chart in data["charts"].items()
    }
    data["benchmarks"] = [_without_payload(b) for b in data["benchmarks"]]
    return data


def _without_payload(chart: dict) -> dict:
    return {
        k: v
        for k, v in chart.items()
        if k not in {"payload", "payload_json", "rows_html"}
    }


def framework_frames(*, framework) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The framework's lenses, levels and recommendations (3 queries), kept per
    process once it is published (its content can no longer change). Callers must
    not modify the frames."""
    key = (framework.id, _stamp(framework.created_at))
    frames = _framework_frames.get(key)
    if frames is None:
        frames = (
            selectors.lenses_frame(framework_id=framework.id),
            selectors.levels_frame(framework_id=framework.id),
            selectors.recommendations_frame(framework_id=framework.id),
        )
        if framework.status != Framework.Status.DRAFT:
            if len(_framework_frames) >= FRAMEWORK_FRAMES_KEPT:
                _framework_frames.clear()
            _framework_frames[key] = frames
    return frames


def node_stats_cached(*, cycle, node_ids: list, state) -> pd.DataFrame:
    """Statistics of the given nodes (None = organisation) in the cycle's snapshot,
    in ``node_ids`` order. A node's statistics are the same for every team under it,
    so each is read once per snapshot (``state`` from ``_report_keys_and_state``) and
    cached; the nodes not cached yet are read in one query. Callers must not modify
    the frame."""
    computed = (state or {}).get("computed")
    if computed is None:
        return selectors.node_stats_for_frame(cycle=cycle, node_ids=node_ids)
    keys = {
        node_id: NODE_STATS_CACHE_KEY.format(
            cycle=cycle.id,
            node=node_id if node_id is not None else "org",
            generation=state.get("generation"),
            computed=computed.timestamp(),
        )
        for node_id in node_ids
    }
    found = {n: _node_stats[k] for n, k in keys.items() if k in _node_stats}
    missing = [n for n in node_ids if n not in found]
    if missing:
        packed = cache.get_many([keys[n] for n in missing])
        for node_id in missing:
            if keys[node_id] in packed:
                found[node_id] = pickle.loads(packed[keys[node_id]])
        missing = [n for n in node_ids if n not in found]
    if missing:
        read = selectors.node_stats_for_frame(cycle=cycle, node_ids=missing)
        fresh = {}
        for node_id in missing:
            rows = (
                read["node_id"].isna()
                if node_id is None
                else read["node_id"] == node_id
            )
            found[node_id] = read[rows].reset_index(drop=True)
            fresh[keys[node_id]] = pickle.dumps(found[node_id], pickle.HIGHEST_PROTOCOL)
        cache.set_many(fresh, REPORT_CACHE_SECONDS)
    if len(_node_stats) + len(keys) > NODE_STATS_KEPT:
        _node_stats.clear()
    _node_stats.update({keys[n]: found[n] for n in node_ids})
    parts = [found[n] for n in node_ids]
    return pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)


def _build_team_report(*, assessment, enforce_anonymity: bool, state=None) -> dict:
    cycle, team = assessment.cycle, assessment.team
    organization = cycle.organization
    k = organization.anonymity_threshold
    scores, ranks = selectors.assessment_scores_and_ranks_frames(assessment=assessment)
    lenses, levels, recommendations = framework_frames(framework=cycle.framework)
    targets = team_targets(organization_id=organization.id, team_id=team.id)
    grid = report_grid(
        scores,
        lenses,
        levels,
        [targets.get(key, math.nan) for key in scores["capability_key"]],
    )
    lens_keys = list(lenses["key"])

    unit_id = team.parent_id
    stats = node_stats_cached(
        cycle=cycle,
        node_ids=[None] if unit_id is None else [None, unit_id],
        state=state,
    )
    stats["group"] = stats["node"].where(stats["node_id"].notna(), organization.name)
    groups_total = stats["group"].nunique()
    if enforce_anonymity:
        visible, hidden = charts.split_by_anonymity(stats, k=k)
    else:
        visible, hidden = stats, []
    org_stats = visible[visible["node_id"].isna()]
    median = grid["capability_key"].map(
        dict(zip(org_stats["capability_key"], org_stats["median"], strict=True))
    )

    figures, alts = {}, {}
    if grid["target"].notna().any():
        figures["progress"] = charts.progress_to_target_spec(grid)
        alts["progress"] = _alt_rows(
            grid, ["capability", "percent", "target", "gap", "progress"]
        )
    if not grid.empty:
        lens_pairs = list(zip(lenses["key"], lenses["name"], strict=True))
        lens_long = pd.DataFrame(
            {
                "capability": [c for c in grid["capability"] for _ in lens_pairs],
                "lens": [name for _ in range(len(grid)) for _key, name in lens_pairs],
                "score": [
                    value
                    for values in zip(
                        *(grid[f"lens_{key}"] for key, _name in lens_pairs),
                        strict=True,
                    )
                    for value in values
                ],
            },
            columns=["capability", "lens", "score"],
        )
        figures["lenses"] = charts.lens_stacked_bars_spec(lens_long)
        radar = pd.DataFrame(
            {
                "capability": grid["capability"],
                "team": grid["percent"],
                "org_median": median.astype(float),
                "target": grid["target"],
            }
        )
        figures["radar"] = charts.capability_radar_spec(radar)
        alts["radar"] = _alt_rows(radar, ["capability", "team", "org_median", "target"])

    org_hidden = enforce_anonymity and organization.name in hidden
    if not ranks.empty and not org_hidden:
        figures["percentile"] = charts.percentile_bars_spec(ranks)
        alts["percentile"] = _alt_rows(ranks, ["capability", "percentile"])

    benchmarks = []
    marker = grid[["capability", "percent"]].dropna()
    for group, rows in visible.groupby("group", sort=False):
        chart_id = f"benchmark-{len(benchmarks)}"
        figures[chart_id] = charts.capability_boxes_spec(
            rows, marker=marker, title=f"Distribution in {group} (your team marked)"
        )
        alts[chart_id] = _alt_rows(
            rows, ["capability", "n", "min", "p25", "median", "p75", "max"]
        )
        benchmarks.append({"id": chart_id, "group": group})

    history = selectors.team_history_frame(team=team)
    current_names = dict(zip(grid["capability_key"], grid["capability"], strict=True))
    trend = pd.DataFrame(
        {
            "cycle": history["cycle"],
            "capability": [
                current_names.get(key, name)
                for key, name in zip(
                    history["capability_key"], history["capability"], strict=True
                )
            ],
            "value": history["percent"].astype(float),
        }
    )
    if not trend.empty:
        figures["trend"] = charts.trend_lines_spec(
            trend, title="Your team's scores across cycles"
        )
        alts["trend"] = _alt_rows(trend, ["cycle", "capability", "value"])

    payloads = _payloads(figures, alts, rows_html=True)
    return {
        "lenses": _records(lenses),
        "grid": _grid_cells(grid, lenses),
        "charts": payloads,
        "benchmarks": [{**b, **payloads[b["id"]]} for b in benchmarks],
        "hidden_messages": [HIDDEN_GROUP_MSG.format(k=k, group=g) for g in hidden],
        "has_benchmarks": groups_total > 0,
        "recommendations": pick_recommendations(grid, recommendations, lens_keys),
        "trend_cycles": trend["cycle"].nunique(),
        "levels": _records(levels),
    }


def pick_cycle(cycles: list[dict], cycle_id):
    """The requested cycle (from ``selectors.cycles_list``), else the newest with a
    computed roll-up, else the newest; None when the organisation has no cycle."""
    if not cycles:
        return None
    for cycle in cycles:
        if cycle_id is not None and cycle["id"] == cycle_id:
            return cycle
    computed = [cycle for cycle in cycles if cycle["computed_at"] is not None]
    return (computed or cycles)[0]


def org_dashboard_data(*, organization, cycle: dict, unit_id, sort: str) -> dict:
    """Figures and tables of the dashboard for one cycle and business unit, built once
    per snapshot (and per targets change) and cached."""
    computed = cycle["computed_at"]
    key = DASHBOARD_CACHE_KEY.format(
        cycle=cycle["id"],
        unit=unit_id or "all",
        sort=sort,
        generation=cycle["computed_generation"],
        computed=computed.timestamp() if computed is not None else 0,
        targets=targets_version(organization_id=organization.id),
    )
    data = cache.get(key)
    if data is None:
        data = _build_dashboard(
            organization=organization, cycle=cycle, unit_id=unit_id, sort=sort
        )
        # The figures and their tables are rendered once here: at a thousand teams
        # rendering them per request would cost more than everything else.
        charts_html = render_to_string(
            "benchmarks/_dashboard_charts.html",
            {"charts": data.pop("charts"), "unit_id": unit_id},
        )
        data |= {"charts_html": str(charts_html)}
        cache.set(key, data, DASHBOARD_CACHE_SECONDS)
    return data | {"charts_html": mark_safe(data["charts_html"])}


def _build_dashboard(*, organization, cycle: dict, unit_id, sort: str) -> dict:
    cycle_obj = cycle["id"]
    teams = selectors.teams_frame(organization=organization)
    in_scope = subtree_ids(teams, unit_id)
    capabilities = selectors.capabilities_frame(framework_id=cycle["framework_id"])
    levels = selectors.levels_frame(framework_id=cycle["framework_id"])
    names = list(capabilities["name"])
    sort_names = {"overall": "overall"} | dict(
        zip(capabilities["key"], capabilities["name"], strict=True)
    )

    scores = selectors.cycle_scores_frame(cycle=cycle_obj, with_lenses=False)
    scores = scores[scores["team_id"].isin(in_scope)].reset_index(drop=True)
    scores["percent"] = scores["percent"].astype(float)
    scores["target"] = resolve_targets(scores, targets_frame(organization=organization))
    url_template = reverse("benchmarks:team_report", args=[0]).replace("/0/", "/{}/")
    rows = heatmap_rows(
        scores,
        teams,
        names,
        sort=sort,
        sort_names=sort_names,
        url_template=url_template,
    )

    stats = selectors.node_stats_frame(cycle=cycle_obj)
    node_stats = (
        stats[stats["node_id"].isna()]
        if unit_id is None
        else stats[stats["node_id"] == unit_id]
    )
    unit_kinds = dict(zip(teams["id"], teams["kind"], strict=True))
    units = stats[
        stats["node_id"].notna()
        & stats["node_id"].isin(in_scope)
        & (stats["node_id"].map(lambda n: unit_kinds.get(n)) == "business_unit")
    ].rename(columns={"node": "business_unit"})

    history = selectors.node_history_frame(organization=organization, node_id=unit_id)
    # matched by key: earlier cycles may use another framework version
    current_names = dict(zip(capabilities["key"], capabilities["name"], strict=True))
    trend = pd.DataFrame(
        {
            "cycle": history["cycle"],
            "capability": [
                current_names.get(key, name)
                for key, name in zip(
                    history["capability_key"], history["capability"], strict=True
                )
            ],
            "value": history["median"].astype(float),
        }
    )

    figures, alts = {}, {}
    if not rows.empty:
        figures["heatmap"] = charts.team_heatmap(rows, capabilities=names)
        alts["heatmap"] = {
            "columns": ["Business unit", "Team", *names, "Overall"],
            "rows": [
                {
                    "url": row["url"],
                    "cells": [
                        row["group"],
                        row["team"],
                        *[_number(row[n]) for n in names],
                        _number(row["overall"]),
                    ],
                }
                for row in rows.to_dict("records")
            ],
        }
    if not node_stats.empty:
        figures["boxes"] = charts.capability_boxes(
            node_stats, title="Distribution of team scores per capability"
        )
        alts["boxes"] = _alt_rows(
            node_stats, ["capability", "n", "min", "p25", "median", "p75", "max"]
        )
        figures["levels"] = charts.level_distribution(node_stats, levels=levels)
        alts["levels"] = [
            [row["capability"]]
            + [int((row["level_counts"] or {}).get(k, 0)) for k in levels["key"]]
            for row in node_stats.to_dict("records")
        ]
    if not units.empty:
        figures["units"] = charts.business_unit_comparison(units)
        alts["units"] = _alt_rows(units, ["business_unit", "capability", "n", "mean"])
    if not trend.empty:
        figures["trend"] = charts.trend_lines(
            trend, title="Median score per capability across cycles"
        )
        alts["trend"] = _alt_rows(trend, ["cycle", "capability", "value"])

    headings = {
        "trend": ["Cycle", "Capability", "Median %"],
        "levels": ["Capability", *levels["name"]],
    }
    return {
        "charts": _payloads(figures, alts, headings),
        "has_charts": bool(figures),
        "level_names": list(levels["name"]),
        "units": [
            {"id": int(i), "name": n}
            for i, n, kind in zip(
                teams["id"], teams["name"], teams["kind"], strict=True
            )
            if kind == "business_unit"
        ],
        "sort_options": [("name", "Team name"), ("overall", "Overall score")]
        + list(zip(capabilities["key"], capabilities["name"], strict=True)),
        "teams_shown": len(rows),
    }

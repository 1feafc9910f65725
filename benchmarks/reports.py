"""What the team report and the organisation dashboard show, assembled from snapshots.

``team_report_data`` and ``org_dashboard_data`` read through ``selectors`` (a fixed
number of queries, whatever the number of teams), hand the frames to the pure
``report_frames`` and to ``charts``, keep what they build in ``report_cache`` and
render tables through ``report_html``. Nothing here computes a roll-up: statistics
come from the stored ``NodeStat``/``TeamRank`` snapshot, and the anonymity rule is
``anonymity``'s.
"""

import math
from urllib.parse import urlencode

import pandas as pd
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from assessment import scoring
from assessment.consensus import disagreement_summary
from assessment.targets import resolve_targets, targets_frame, team_targets
from capabilities.editions import capability_key_lineage
from capabilities.models import Framework

from . import charts, report_cache, selectors
from . import report_frames as frames
from . import report_html as html
from .anonymity import anonymity_split, hidden_message

DISTRIBUTION_HEADINGS = ["Capability", "Teams", "Min", "P25", "Median", "P75", "Max"]

# A scope (the organisation or the business unit chosen) of more teams than this
# shows one heatmap row per business unit directly below it, each opening that
# unit's dashboard; its own teams are listed TEAMS_PER_PAGE at a time.
HEATMAP_TEAM_LIMIT = 50
TEAMS_PER_PAGE = 50
# The business units of an aggregated heatmap come as many at a time (?units_page=N).
UNITS_PER_PAGE = 50
# The business units chart compares at most this many units (those directly below
# the scope when its whole subtree holds more); beyond, the heatmap compares them.
UNIT_CHART_LIMIT = 12
# The unit filter lists every business unit up to this many; beyond, the units on
# the way to the scope and, as long as they are no more than that, those directly
# below it (the heatmap links every one, the breadcrumb goes back up).
UNIT_SELECT_LIMIT = 100


HEADINGS = {
    "progress": ["Capability", "Score %", "Target %", "Gap", "Progress to target %"],
    "radar": ["Capability", "This team %", "Organisation median %", "Target %"],
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
        sep = html.decimal_separator()
        for payload in payloads.values():
            payload["rows_html"] = html.rows_html(payload["rows"], sep)
            payload["payload_json"] = html.payload_json(payload["payload"])
    return payloads


def team_report_data(*, assessment, enforce_anonymity: bool) -> dict:
    """Everything the team report shows for a submitted assessment, built once per
    state (see ``team_report_key``) and cached with its rendered figures and tables
    (``report_html`` for the report, ``benchmarks_html`` for the benchmark page).
    Workers build the reports ahead of the first visit (``team_report_prebuild``)."""
    keys, state = report_cache.report_keys_and_state(assessment=assessment)
    key = keys[report_cache.viewer(enforce_anonymity)] if keys else None
    packed = cache.get(key) if key is not None else None
    if packed is not None:
        data = report_cache.unpack(packed)
    else:
        data = _rendered_team_report(
            assessment=assessment, enforce_anonymity=enforce_anonymity, state=state
        )
        if key is not None:
            report_cache.store_reports(
                assessment.pk, keys, {key: report_cache.pack(data)}
            )
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
    keys, state = report_cache.report_keys_and_state(assessment=assessment)
    if keys is None or not assessment.is_submitted:
        return 0
    present = {key for key in keys.values() if cache.has_key(key)}
    built, member, packed = 0, None, {}
    if keys["member"] not in present:
        member = _rendered_team_report(
            assessment=assessment, enforce_anonymity=True, state=state
        )
        packed[keys["member"]] = report_cache.pack(member)
        built += 1
    if keys["lead"] not in present:
        if member is None:  # cached by a member's visit
            cached = cache.get(keys["member"])
            if cached is not None:
                member, packed[keys["member"]] = report_cache.unpack(cached), cached
        if member is not None and report_same_for_leads(member):
            packed[keys["lead"]] = packed[keys["member"]]
        else:
            lead = _rendered_team_report(
                assessment=assessment, enforce_anonymity=False, state=state
            )
            packed[keys["lead"]] = report_cache.pack(lead)
            built += 1
    if packed:
        report_cache.store_reports(assessment.pk, keys, packed)
    return built


def report_same_for_leads(member_data: dict) -> bool:
    """Whether a member's report reads the same for a lead (see
    ``team_report_prebuild``)."""
    return not member_data["hidden_messages"] and "progress" in member_data["charts"]


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


def _edition_trend(
    history: pd.DataFrame,
    value_column: str,
    *,
    framework,
    names: dict,
    framework_id: int | None = None,
):
    """The trend frame, notes and edition crossings of a history (see
    ``report_frames.edition_trend``); reads the mappings only when the history
    spans several framework versions."""
    current_id = framework.pk if framework is not None else framework_id
    frame = pd.DataFrame(
        {
            "cycle": history["cycle"],
            "framework_id": history["framework_id"],
            "capability_key": history["capability_key"],
            "capability": history["capability"],
            "value": history[value_column].astype(float),
        }
    )
    others = [int(f) for f in dict.fromkeys(frame["framework_id"]) if f != current_id]
    lineage, editions = {}, {}
    if others and framework is not None:
        olds = {f.pk: f for f in Framework.objects.filter(pk__in=others)}
        for pk, old in olds.items():
            lineage[pk] = capability_key_lineage(new=framework, old=old)
        for fw in [*olds.values(), framework]:
            editions[fw.pk] = f"v{fw.version} ({fw.edition['name']})"
    return frames.edition_trend(
        frame,
        current_framework_id=current_id,
        lineage=lineage,
        names=names,
        editions=editions,
    )


def _build_team_report(*, assessment, enforce_anonymity: bool, state=None) -> dict:
    cycle, team = assessment.cycle, assessment.team
    organization = cycle.organization
    k = organization.anonymity_threshold
    scores, ranks = selectors.assessment_scores_and_ranks_frames(assessment=assessment)
    lenses, levels, recommendations = report_cache.framework_frames(
        framework=cycle.framework
    )
    targets = team_targets(organization_id=organization.id, team_id=team.id)
    grid = frames.report_grid(
        scores,
        lenses,
        levels,
        [targets.get(key, math.nan) for key in scores["capability_key"]],
        scoring.lens_weights_for(
            cycle.lens_weights, dict(zip(lenses["key"], lenses["weight"], strict=True))
        ),
    )
    lens_keys = list(lenses["key"])

    unit_id = team.parent_id
    stats = report_cache.node_stats_cached(
        cycle=cycle,
        node_ids=[None] if unit_id is None else [None, unit_id],
        state=state,
    )
    stats["group"] = stats["node"].where(stats["node_id"].notna(), organization.name)
    groups_total = stats["group"].nunique()
    if enforce_anonymity:
        visible, hidden = anonymity_split(stats, k=k)
    else:
        visible, hidden = stats, []
    org_stats = visible[visible["node_id"].isna()]
    median = grid["capability_key"].map(
        dict(zip(org_stats["capability_key"], org_stats["median"], strict=True))
    )

    figures, alts = {}, {}
    if grid["target"].notna().any():
        figures["progress"] = charts.progress_to_target_spec(grid)
        alts["progress"] = frames.alt_rows(
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
        alts["radar"] = frames.alt_rows(
            radar, ["capability", "team", "org_median", "target"]
        )

    if enforce_anonymity:
        # a percentile ranks the team among the organisation's teams: only where
        # the organisation's figure itself may be shown
        ranks = ranks[ranks["capability"].isin(org_stats["capability"])]
    if not ranks.empty:
        figures["percentile"] = charts.percentile_bars_spec(ranks)
        alts["percentile"] = frames.alt_rows(ranks, ["capability", "percentile"])

    benchmarks = []
    marker = grid[["capability", "percent"]].dropna()
    for group, rows in visible.groupby("group", sort=False):
        chart_id = f"benchmark-{len(benchmarks)}"
        figures[chart_id] = charts.capability_boxes_spec(
            rows, marker=marker, title=f"Distribution in {group} (this team marked)"
        )
        alts[chart_id] = frames.alt_rows(
            rows, ["capability", "n", "min", "p25", "median", "p75", "max"]
        )
        benchmarks.append({"id": chart_id, "group": group})

    history = selectors.team_history_frame(team=team)
    current_names = dict(zip(grid["capability_key"], grid["capability"], strict=True))
    trend, trend_notes, crossings = _edition_trend(
        history, "percent", framework=cycle.framework, names=current_names
    )
    if not trend.empty:
        figures["trend"] = charts.trend_lines_spec(
            trend, title="This team's scores across cycles", crossings=crossings
        )
        alts["trend"] = frames.alt_rows(trend, ["cycle", "capability", "value"])

    payloads = _payloads(figures, alts, rows_html=True)
    return {
        "lenses": frames.records(lenses),
        "grid": html.grid_cells(grid, lenses),
        "charts": payloads,
        "benchmarks": [{**b, **payloads[b["id"]]} for b in benchmarks],
        "hidden_messages": [
            hidden_message(group=g, k=k, fully=g not in set(visible["group"]))
            for g in hidden
        ],
        "has_benchmarks": groups_total > 0,
        "recommendations": frames.pick_recommendations(
            grid,
            recommendations,
            lens_keys,
            by_level=report_cache.recommendations_by_level_cached(recommendations),
            level_order=list(levels["key"]),
        ),
        "at_target": frames.at_target(grid),
        "trend_cycles": trend["cycle"].nunique() if not trend.empty else 0,
        "trend_notes": trend_notes,
        "levels": frames.records(levels),
        "disagreement": disagreement_summary(assessment=assessment)
        if assessment.is_consensus
        else None,
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


def org_dashboard_data(
    *,
    organization,
    cycle: dict,
    unit_id,
    sort: str,
    page: int = 1,
    units_page: int = 1,
) -> dict:
    """Figures and tables of the dashboard for one cycle, business unit and page of
    teams (and of business units), built once per snapshot (and per targets
    change) and cached. A page past the last shows the last (and is cached as
    that one)."""
    computed = cycle["computed_at"]

    def key_for(page_number: int, units_page_number: int) -> str:
        return report_cache.DASHBOARD_CACHE_KEY.format(
            cycle=cycle["id"],
            unit=unit_id or "all",
            sort=sort,
            page=f"{page_number}.{units_page_number}",
            generation=cycle["computed_generation"],
            computed=computed.timestamp() if computed is not None else 0,
            targets=organization.targets_version,
        )

    page, units_page = max(1, page), max(1, units_page)
    data = cache.get(key_for(page, units_page))
    if data is None:
        data = _build_dashboard(
            organization=organization,
            cycle=cycle,
            unit_id=unit_id,
            sort=sort,
            page=page,
            units_page=units_page,
        )
        # The figures and their tables are rendered once here: at a thousand teams
        # rendering them per request would cost more than everything else.
        charts_html = render_to_string(
            "benchmarks/_dashboard_charts.html",
            {
                "charts": data.pop("charts"),
                "unit_id": unit_id,
                "trend_notes": data.get("trend_notes", []),
                "pager": data["pager"],
                "units_pager": data["units_pager"],
                "scope_name": data["scope_name"],
                "aggregated": data["aggregated"],
            },
        )
        data |= {"charts_html": str(charts_html)}
        shown = key_for(
            data["pager"]["page"],
            data["units_pager"]["page"] if data["units_pager"] else 1,
        )
        cache.set(shown, data, report_cache.DASHBOARD_CACHE_SECONDS)
    return data | {"charts_html": mark_safe(data["charts_html"])}


def _dashboard_url(
    organization, *, cycle_id, unit_id, sort, page=None, units_page=None
) -> str:
    query = {"cycle": cycle_id}
    if unit_id is not None:
        query["unit"] = unit_id
    query["sort"] = sort
    if units_page is not None and units_page > 1:
        query["units_page"] = units_page
    if page is not None and page > 1:
        query["page"] = page
    return (
        reverse("benchmarks:org_dashboard", args=[organization.slug])
        + "?"
        + urlencode(query)
    )


def _pager(
    organization, bounds: dict, *, param: str, noun: str, pages: dict, **where
) -> dict:
    """The bounds of the page shown of a list (``param`` its page's parameter,
    ``noun`` what it lists), with the links to its neighbours; ``pages`` the
    pages of every list, kept in the links."""
    page = bounds["page"]

    def url(number: int) -> str:
        return _dashboard_url(organization, **where, **(pages | {param: number}))

    return bounds | {
        "noun": noun,
        "range_text": f"{noun.capitalize()} {bounds['first']:,}–{bounds['last']:,} "
        f"of {bounds['total']:,}",
        "page_text": f"{page:,} of {bounds['pages']:,}",
        "previous_url": url(page - 1) if page > 1 else None,
        "next_url": url(page + 1) if page < bounds["pages"] else None,
    }


def _heatmap_table(rows: pd.DataFrame, names: list[str], *, units: bool) -> dict:
    """The heatmap's table alternative: per row its cells and the link of the
    column that names the row (the unit, or the team)."""
    if units:
        columns = ["Business unit", "Teams", *names, "Overall"]
        first = ["team", "teams"]
    else:
        columns = ["Business unit", "Team", *names, "Overall"]
        first = ["group", "team"]
    return {
        "columns": columns,
        "link_column": 1 if units else 2,
        "rows": [
            {
                "url": row["url"],
                "cells": [
                    *(row[c] for c in first),
                    *[frames.rounded(row[n]) for n in names],
                    frames.rounded(row["overall"]),
                ],
            }
            for row in rows.to_dict("records")
        ],
    }


def _build_dashboard(
    *,
    organization,
    cycle: dict,
    unit_id,
    sort: str,
    page: int = 1,
    units_page: int = 1,
) -> dict:
    cycle_obj = cycle["id"]
    teams = selectors.teams_frame(organization=organization)
    scope = frames.dashboard_scope(teams, unit_id)
    in_scope = scope["ids"]
    # Above the limit, the business units directly below stand for their teams;
    # only the teams directly in the scope are listed.
    aggregated = scope["team_count"] > HEATMAP_TEAM_LIMIT and bool(scope["units"])
    capabilities = selectors.capabilities_frame(framework_id=cycle["framework_id"])
    levels = selectors.levels_frame(framework_id=cycle["framework_id"])
    names = list(capabilities["name"])
    sort_names = {"overall": "overall"} | dict(
        zip(capabilities["key"], capabilities["name"], strict=True)
    )

    # a unit's dashboard reads its own teams' scores only
    scores = selectors.cycle_scores_frame(
        cycle=cycle_obj,
        with_lenses=False,
        team_ids=None if unit_id is None else sorted(in_scope),
    )
    scores = scores[scores["team_id"].isin(in_scope)].reset_index(drop=True)
    scores["percent"] = scores["percent"].astype(float)
    scores["target"] = resolve_targets(scores, targets_frame(organization=organization))
    url_template = reverse("benchmarks:team_report", args=[0]).replace("/0/", "/{}/")
    listed = scores
    if aggregated:
        direct = {team_id for team_id, _name in scope["teams"]}
        listed = scores[scores["team_id"].isin(direct)]
    rows = frames.heatmap_rows(
        listed,
        teams,
        names,
        sort=sort,
        sort_names=sort_names,
        url_template=url_template,
    )
    bounds = frames.page_bounds(len(rows), page, TEAMS_PER_PAGE)
    rows = rows.iloc[bounds["first"] - 1 : bounds["last"]].reset_index(drop=True)
    where = {"cycle_id": cycle_obj, "unit_id": unit_id, "sort": sort}
    scope_name = scope["path"][-1][1] if scope["path"] else organization.name

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
    if units["node_id"].nunique() > UNIT_CHART_LIMIT:
        below = [unit for unit, _name in scope["units"]]
        units = units[
            units["node_id"].isin(below if len(below) <= UNIT_CHART_LIMIT else [])
        ]
    unit_rows = (
        frames.unit_heatmap_rows(
            stats,
            scope["units"],
            names,
            sort=sort,
            sort_names=sort_names,
            url_template=_dashboard_url(
                organization, cycle_id=cycle_obj, unit_id=0, sort=sort
            ).replace("unit=0", "unit={}"),
        )
        if aggregated and not scores.empty
        else None
    )
    units_pager = None
    if unit_rows is not None:
        unit_bounds = frames.page_bounds(len(unit_rows), units_page, UNITS_PER_PAGE)
        unit_rows = unit_rows.iloc[
            unit_bounds["first"] - 1 : unit_bounds["last"]
        ].reset_index(drop=True)
        units_page = unit_bounds["page"]
    pages = {"page": bounds["page"], "units_page": units_page}
    if unit_rows is not None:
        units_pager = _pager(
            organization,
            unit_bounds,
            param="units_page",
            noun="business units",
            pages=pages,
            **where,
        )

    history = selectors.node_history_frame(organization=organization, node_id=unit_id)
    # earlier cycles may use another framework version: matched through its mapping
    current_names = dict(zip(capabilities["key"], capabilities["name"], strict=True))
    trend, trend_notes, crossings = _edition_trend(
        history,
        "median",
        framework=Framework.objects.get(pk=cycle["framework_id"])
        if len(set(history["framework_id"])) > 1
        else None,
        names=current_names,
        framework_id=cycle["framework_id"],
    )

    figures, alts = {}, {}
    teams_chart = "heatmap"
    if unit_rows is not None:
        figures["heatmap"] = charts.team_heatmap(
            unit_rows,
            capabilities=names,
            title="Business units by capability: mean team score (click a row "
            "to open the unit)",
            rows_title="Business unit",
        )
        alts["heatmap"] = _heatmap_table(unit_rows, names, units=True)
        teams_chart = "teams"
    if not rows.empty:
        figures[teams_chart] = charts.team_heatmap(
            rows,
            capabilities=names,
            title=f"Teams directly in {scope_name} by capability (click a cell to "
            "open the team's report)"
            if aggregated
            else charts.HEATMAP_TITLE,
        )
        alts[teams_chart] = _heatmap_table(rows, names, units=False)
    if not node_stats.empty:
        figures["boxes"] = charts.capability_boxes(
            node_stats, title="Distribution of team scores per capability"
        )
        alts["boxes"] = frames.alt_rows(
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
        alts["units"] = frames.alt_rows(
            units, ["business_unit", "capability", "n", "mean"]
        )
    if not trend.empty:
        figures["trend"] = charts.trend_lines(
            trend,
            title="Median score per capability across cycles",
            crossings=crossings,
        )
        alts["trend"] = frames.alt_rows(trend, ["cycle", "capability", "value"])

    headlines = (
        frames.capability_headlines(
            node_stats=node_stats,
            scores=scores,
            history=history,
            levels=levels,
            cycle_id=cycle_obj,
        )
        if not node_stats.empty
        else []
    )

    headings = {
        "trend": ["Cycle", "Capability", "Median %"],
        "levels": ["Capability", *levels["name"]],
    }
    return {
        "charts": _payloads(figures, alts, headings),
        "has_charts": bool(figures),
        "headlines": headlines,
        "level_names": list(levels["name"]),
        "units": _unit_choices(teams, scope),
        "breadcrumb": [
            {
                "name": organization.name,
                "url": _dashboard_url(organization, **(where | {"unit_id": None})),
            },
            *(
                {
                    "name": name,
                    "url": _dashboard_url(organization, **(where | {"unit_id": node})),
                }
                for node, name in scope["path"]
            ),
        ],
        "scope_name": scope_name,
        "aggregated": aggregated,
        "pager": _pager(
            organization, bounds, param="page", noun="teams", pages=pages, **where
        ),
        "units_pager": units_pager,
        "disagreement": selectors.cycle_disagreement(
            cycle_id=cycle_obj, unit_id=unit_id, in_scope=in_scope
        ),
        "trend_notes": trend_notes,
        "sort_options": [("name", "Team name"), ("overall", "Overall score")]
        + list(zip(capabilities["key"], capabilities["name"], strict=True)),
        "teams_shown": len(rows),
    }


def _unit_choices(teams: pd.DataFrame, scope: dict) -> list[dict]:
    """The business units of the unit filter (see ``UNIT_SELECT_LIMIT``)."""
    every = [
        {"id": int(i), "name": n}
        for i, n, kind in zip(teams["id"], teams["name"], teams["kind"], strict=True)
        if kind == "business_unit"
    ]
    if len(every) <= UNIT_SELECT_LIMIT:
        return every
    below = scope["units"] if len(scope["units"]) <= UNIT_SELECT_LIMIT else []
    return [{"id": node, "name": name} for node, name in scope["path"] + below]

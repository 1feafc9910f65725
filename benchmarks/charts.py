"""Plotly figures of the benchmark pages: DataFrame in, ``go.Figure`` out.

Pure: no Django imports. Every figure has a title, axis titles, a legend where it has
more than one series, and colour-blind-safe colours (Okabe-Ito for categories,
Viridis for scores, whose hue keeps changing through the middle of the range where
Cividis turns grey). Views turn figures into JSON with ``figure_payload``.

The team report's figures are also available as plain figure dicts (the ``*_spec``
functions): building a ``go.Figure`` validates every property, which costs more
than everything else the report does, so the report builds the dicts and the
``go.Figure`` functions wrap them.
"""

import functools
import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import get_colorscale, sample_colorscale

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
]
SEQUENTIAL = "Viridis"
TEAM_COLOUR = OKABE_ITO[0]
MEDIAN_COLOUR = OKABE_ITO[1]
TARGET_COLOUR = OKABE_ITO[5]
# r: room for the last tick label ("100") at the right end of an axis
CHART_MARGIN = {"l": 10, "r": 20, "t": 60, "b": 90}
# Below the plot, at the bottom of the figure, clear of the x-axis title.
LEGEND = {"orientation": "h", "x": 0, "yref": "container", "y": 0, "yanchor": "bottom"}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"}
# Capability names are wrapped to lines of about this many characters on the axes.
LABEL_WIDTH = 16
NARROW_LABEL_WIDTH = 10
NARROW_TEAM_LABEL_WIDTH = 20
PERCENT_TICKS = [0, 25, 50, 75, 100]


def figure_payload(fig: go.Figure | dict) -> dict:
    """Plain-JSON dict for ``json_script``; plotly's encoder handles numpy values.

    Without plotly's default template: a page holds it once (the
    ``plotly_template`` tag) and ``charts.js`` applies it to every figure, where
    each figure would otherwise repeat its 7 KB."""
    if isinstance(fig, dict):
        return {"data": fig.get("data", []), "layout": dict(fig.get("layout", {}))}
    payload = json.loads(fig.to_json())
    layout = payload.setdefault("layout", {})
    if layout.get("template") == default_template():
        del layout["template"]
    return payload


@functools.cache
def default_template() -> dict:
    """The default plotly template as plain JSON (what ``to_json`` writes)."""
    return json.loads(go.Figure().to_json())["layout"]["template"]


def plain(values) -> list:
    """A column or sequence as a JSON-ready list: Python numbers, None for missing."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    out = []
    for value in items:
        if isinstance(value, np.generic):
            value = value.item()
        if (
            value is None
            or value is pd.NA
            or (isinstance(value, float) and math.isnan(value))
        ):
            value = None
        out.append(value)
    return out


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def wrap_label(text, width: int = LABEL_WIDTH) -> str:
    """``text`` with ``<br>`` between words so that no line is much over ``width``."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _category_ticks(names) -> dict:
    """Axis settings that keep the full names as categories (hover, clicks) but
    label them with wrapped text."""
    names = list(names)
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": names,
        "tickmode": "array",
        "tickvals": names,
        "ticktext": [wrap_label(name) for name in names],
    }


def _capability_axis(names, **extra) -> dict:
    """The capability axis of a horizontal chart: first capability at the top."""
    return {
        "title": {"text": "Capability"},
        **_category_ticks(names),
        "automargin": True,
        "autorange": "reversed",
        **extra,
    }


def _row_height(names, per_row: int = 40, *, minimum: int = 300, extra: int = 150):
    return max(minimum, extra + per_row * len(list(names)))


def _layout_spec(title: str, *, narrow: dict | None = None, **extra) -> dict:
    """Title, font, margins and legend shared by every chart, as a layout dict.

    ``narrow``: ``{"layout": {...}, "data": [{...}, ...]}``, changes charts.js merges
    into the figure when the chart is drawn narrower than a phone's width
    (``layout.meta.narrow``).
    """
    if narrow:
        extra["meta"] = {"narrow": narrow}
    return {
        "title": {
            "text": title,
            "x": 0,
            "xanchor": "left",
            # a fixed distance from the top, however tall the figure
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 8},
        },
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        **({"margin": CHART_MARGIN, "legend": LEGEND} | extra),
    }


def _layout(
    fig: go.Figure, title: str, *, narrow: dict | None = None, **extra
) -> go.Figure:
    """``fig`` with the shared layout of ``_layout_spec``."""
    fig.update_layout(**_layout_spec(title, narrow=narrow, **extra))
    return fig


def _figure(spec: dict) -> go.Figure:
    return go.Figure(spec)


def score_colour(percent) -> tuple[str, str]:
    """Background and text colour of a score cell (0-100) on the sequential scale;
    the text is black or white, whichever contrasts more (at least 4.58:1, WCAG AA)."""
    if _is_missing(percent):
        return "#ffffff", "#5f6b73"
    return _score_colour(min(max(float(percent), 0.0), 100.0))


def _relative_luminance(red: int, green: int, blue: int) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast_ratio(luminance_a: float, luminance_b: float) -> float:
    lighter, darker = max(luminance_a, luminance_b), min(luminance_a, luminance_b)
    return (lighter + 0.05) / (darker + 0.05)


@functools.lru_cache(maxsize=1)
def _sequential_scale() -> list:
    """The sequential scale's colours, looked up by name once: naming the scale
    on every sample validated the name each time (most of a sample's cost)."""
    return get_colorscale(SEQUENTIAL)


@functools.lru_cache(maxsize=4096)
def _score_colour(percent: float) -> tuple[str, str]:
    # sampling the scale looks the named scale up each time: the same few scores
    # recur on every page, so each is worked out once
    fraction = percent / 100
    background = sample_colorscale(_sequential_scale(), [fraction])[0]
    red, green, blue = (
        int(part) for part in background[4:-1].replace(" ", "").split(",")
    )
    luminance = _relative_luminance(red, green, blue)
    on_black = contrast_ratio(luminance, 0.0)
    on_white = contrast_ratio(luminance, 1.0)
    return background, "#000000" if on_black >= on_white else "#ffffff"


def progress_to_target_spec(frame: pd.DataFrame) -> dict:
    """Horizontal bars of progress to target (0-100 %) per capability.

    ``frame``: capability, percent, target, progress (NaN target = no target set).
    """
    text = [
        f"{p:.0f}% of target {t:.0f}%" if not _is_missing(t) else "no target"
        for p, t in zip(frame["percent"].fillna(0), frame["target"], strict=True)
    ]
    bar = {
        "type": "bar",
        "x": plain(frame["progress"].fillna(0)),
        "y": plain(frame["capability"]),
        "orientation": "h",
        "name": "Progress to target",
        "marker": {"color": TEAM_COLOUR},
        "text": text,
        "textposition": "auto",
        "hovertemplate": "%{y}: %{x:.0f}% of the way to target<extra></extra>",
    }
    layout = _layout_spec(
        "Progress to target",
        xaxis={
            "title": {"text": "Progress to target (%)"},
            "range": [0, 100],
            "tickvals": PERCENT_TICKS,
        },
        yaxis=_capability_axis(plain(frame["capability"])),
        height=_row_height(frame["capability"], minimum=260, extra=110),
        margin={**CHART_MARGIN, "b": 60},
        showlegend=False,
    )
    return {"data": [bar], "layout": layout}


def lens_stacked_bars_spec(frame: pd.DataFrame) -> dict:
    """One bar per capability, stacked by lens score (0-4 each, 0-20 in all).

    ``frame``: capability, lens, score; lens order is the order of first appearance.
    """
    by_lens: dict = {}
    for capability, lens, score in zip(
        plain(frame["capability"]),
        plain(frame["lens"]),
        plain(frame["score"]),
        strict=True,
    ):
        xs, ys = by_lens.setdefault(lens, ([], []))
        xs.append(score)
        ys.append(capability)
    data = [
        {
            "type": "bar",
            "x": xs,
            "y": ys,
            "orientation": "h",
            "name": lens,
            "marker": {"color": OKABE_ITO[i % len(OKABE_ITO)]},
            "hovertemplate": f"{lens}: " + "%{x:.1f} of 4<extra>%{y}</extra>",
        }
        for i, (lens, (xs, ys)) in enumerate(by_lens.items())
    ]
    capabilities = list(dict.fromkeys(plain(frame["capability"])))
    layout = _layout_spec(
        "Score by lens",
        barmode="stack",
        # lenses listed in the order they stack, left to right
        legend={**LEGEND, "traceorder": "normal"},
        xaxis={
            "title": {"text": "Lens scores (0-4 each, 0-20 in all)"},
            "range": [0, 20],
        },
        yaxis=_capability_axis(capabilities),
        narrow={
            "layout": {
                "xaxis": {"title": {"text": "Lens scores<br>(0-4 each, 0-20 in all)"}}
            }
        },
        height=_row_height(capabilities, extra=160),
    )
    return {"data": data, "layout": layout}


def capability_radar_spec(frame: pd.DataFrame) -> dict:
    """Team vs organisation median vs target per capability (percent).

    ``frame``: capability, team, org_median, target. A series with no values is left out.
    """
    theta = plain(frame["capability"])
    closed = [*theta, theta[0]] if theta else theta
    data = []
    series = [
        ("team", "This team", TEAM_COLOUR, "solid", "toself"),
        ("org_median", "Organisation median", MEDIAN_COLOUR, "dash", "none"),
        ("target", "Target", TARGET_COLOUR, "dot", "none"),
    ]
    for column, name, colour, dash, fill in series:
        values = frame[column] if column in frame else pd.Series(dtype=float)
        if values.isna().all():
            continue
        r = plain(values.fillna(0))
        data.append(
            {
                "type": "scatterpolar",
                "r": [*r, r[0]],
                "theta": closed,
                "name": name,
                "fill": fill,
                "line": {"color": colour, "dash": dash},
                "hovertemplate": "%{theta}: %{r:.0f}%<extra>" + name + "</extra>",
            }
        )
    spokes = max(1, len(theta))
    layout = _layout_spec(
        "Capabilities: team, organisation median and target",
        polar={
            # first capability at the top, the others clockwise; the wrapped labels
            # need room on the left and right (see the margin)
            "angularaxis": {
                **_category_ticks(theta),
                "rotation": 90,
                "direction": "clockwise",
                "tickfont": {"size": 11},
            },
            # the percent scale between the first two spokes, clear of the labels
            "radialaxis": {
                "range": [0, 100],
                "ticksuffix": "%",
                "showticksuffix": "all",
                "dtick": 20,
                "angle": 90 - 180 / spokes,
                "tickangle": 90 - 180 / spokes,
                "tickfont": {"size": 10},
            },
        },
        margin={"l": 80, "r": 80, "t": 90, "b": 90},
        height=500,
        # on a phone: shorter lines of smaller text, so the circle keeps some size
        narrow={
            "layout": {
                "margin": {"l": 66, "r": 66, "t": 100, "b": 100},
                "height": 460,
                "polar": {
                    "angularaxis": {
                        "ticktext": [
                            wrap_label(name, NARROW_LABEL_WIDTH) for name in theta
                        ],
                        "tickfont": {"size": 10},
                    }
                },
            }
        },
    )
    return {"data": data, "layout": layout}


def percentile_bars_spec(frame: pd.DataFrame) -> dict:
    """The team's percentile rank within the organisation per capability.

    ``frame``: capability, percentile (0-100).
    """
    percentiles = plain(frame["percentile"])
    bar = {
        "type": "bar",
        "x": percentiles,
        "y": plain(frame["capability"]),
        "orientation": "h",
        "marker": {"color": OKABE_ITO[2]},
        "text": [f"p{p:.0f}" for p in percentiles],
        # beside the bar, in the right margin for the longest bars
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: percentile %{x:.0f}<extra></extra>",
    }
    layout = _layout_spec(
        "Percentile within the organisation",
        xaxis={
            "title": {"text": "Percentile rank"},
            "range": [0, 100],
            "tickvals": PERCENT_TICKS,
        },
        yaxis=_capability_axis(plain(frame["capability"])),
        height=_row_height(frame["capability"], minimum=260, extra=110),
        # room on the right for "p100" beside a full bar
        margin={**CHART_MARGIN, "r": 48, "b": 60},
        showlegend=False,
    )
    return {"data": [bar], "layout": layout}


def trend_lines_spec(
    frame: pd.DataFrame,
    *,
    title: str,
    value_label: str = "Score (%)",
    crossings: list[dict] | None = None,
) -> dict:
    """One line per capability across cycles (in frame order).

    ``frame``: cycle, capability, value. ``crossings``: where the lines cross
    framework editions ({"before", "after", "label"}), drawn as a dotted rule
    between the two cycles with a label saying so.
    """
    cycles = list(dict.fromkeys(plain(frame["cycle"])))
    by_capability: dict = {}
    for cycle, capability, value in zip(
        plain(frame["cycle"]),
        plain(frame["capability"]),
        plain(frame["value"]),
        strict=True,
    ):
        xs, ys = by_capability.setdefault(capability, ([], []))
        xs.append(cycle)
        ys.append(value)
    data = [
        {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "mode": "lines+markers",
            "name": capability,
            "line": {"color": OKABE_ITO[i % len(OKABE_ITO)]},
            "marker": {"symbol": i % 20},
            "hovertemplate": "%{x}: %{y:.0f}%<extra>" + str(capability) + "</extra>",
        }
        for i, (capability, (xs, ys)) in enumerate(by_capability.items())
    ]
    layout = _layout_spec(
        title,
        xaxis={
            "title": {"text": "Cycle"},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": cycles,
            # a little room before the first cycle, clear of the score axis labels
            "range": [-0.25, len(cycles) - 0.75],
        },
        yaxis={"title": {"text": value_label}, "range": [0, 100]},
        # the legend below takes a row per one to four capabilities
        height=460,
    )
    marks = [c for c in crossings or [] if c["after"] in cycles]
    if marks:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": cycles.index(c["after"]) - 0.5,
                "x1": cycles.index(c["after"]) - 0.5,
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dot", "width": 1, "color": "#555555"},
            }
            for c in marks
        ]
        layout["annotations"] = [
            {
                "xref": "x",
                "yref": "paper",
                "x": cycles.index(c["after"]) - 0.5,
                "y": 1.02,
                "text": "New edition: " + c["label"],
                "showarrow": False,
                "font": {"size": 11},
            }
            for c in marks
        ]
    return {"data": data, "layout": layout}


def trend_lines(
    frame: pd.DataFrame,
    *,
    title: str,
    value_label: str = "Score (%)",
    crossings: list[dict] | None = None,
) -> go.Figure:
    """``trend_lines_spec`` as a ``go.Figure``."""
    return _figure(
        trend_lines_spec(
            frame, title=title, value_label=value_label, crossings=crossings
        )
    )


HEATMAP_TITLE = "Teams by capability (click a cell to open the team's report)"


def team_heatmap(
    frame: pd.DataFrame,
    *,
    capabilities: list[str],
    title: str = HEATMAP_TITLE,
    rows_title: str = "Team",
) -> go.Figure:
    """Teams (rows, in frame order) x capabilities, coloured by score; business
    units (mean scores) the same way, with their ``title`` and ``rows_title``.

    ``frame``: one row per team with columns label, url and, per capability name,
    ``<name>`` (percent) and ``<name> target`` (percent or NaN). Each cell's
    customdata is its target; ``charts.js`` writes the hover text ("40% · target
    60% · gap +20") from it and the score, and opens the row's report
    (``meta.row_urls``) on a click. At a thousand teams that is less than half the
    JSON of sending a URL and a text per cell.
    """
    # numpy object arrays: plotly validates them at once rather than cell by cell,
    # and writes them as plain JSON lists (None for a missing score or target)
    z = np.full((len(frame), len(capabilities)), None, dtype=object)
    targets = np.full((len(frame), len(capabilities)), None, dtype=object)
    for i, row in enumerate(frame.to_dict("records")):
        for j, capability in enumerate(capabilities):
            percent = row.get(capability)
            target = row.get(f"{capability} target")
            if not _is_missing(percent):
                z[i, j] = round(float(percent), 1)
            if not _is_missing(target):
                targets[i, j] = round(float(target), 1)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=capabilities,
            y=list(frame["label"]),
            # none without a target at all (business units): charts.js shows scores
            customdata=targets if any(t is not None for t in targets.flat) else None,
            meta={"hover": "score-target", "row_urls": list(frame["url"])},
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=100,
            xgap=1,
            ygap=1,
            # each cell shows its score; plotly picks black or white text per cell
            texttemplate="%{z:.0f}",
            textfont={"size": 11},
            # beside the first rows: a tall heatmap scrolls, so a colour scale as
            # long as the figure would be mostly out of view
            colorbar={"title": {"text": "Score %"}}
            | (
                {"lenmode": "pixels", "len": 300, "y": 1, "yanchor": "top"}
                if len(frame) > 12
                else {}
            ),
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
        )
    )
    # Capability labels, wrapped: below the cells of a short heatmap; above those of
    # a tall one (it grows by one row per team and scrolls inside the page, see
    # _dashboard_charts.html), under the title, so they are read before the rows.
    # The top margin holds the title and up to three lines of labels.
    tall = len(frame) > 12
    return _layout(
        fig,
        title,
        margin={**CHART_MARGIN, "t": 100 if tall else 50, "b": 40},
        xaxis={
            "title": {"text": "" if tall else "Capability"},
            "side": "top" if tall else "bottom",
            **_category_ticks(capabilities),
            "automargin": True,
        },
        yaxis={
            "title": {"text": rows_title},
            "autorange": "reversed",
            "automargin": True,
        },
        height=max(320, 190 + 24 * len(frame)),
        # on a phone: one-line names upright under the narrow columns, team names on
        # two lines, the colour scale below the chart
        narrow={
            "layout": {
                "margin": {"t": 50, "b": 30},
                # room for team names on two lines
                "height": max(320, 260 + 30 * len(frame)),
                "xaxis": {
                    # upright names need the room below the cells
                    "side": "bottom",
                    "ticktext": list(capabilities),
                    "tickangle": -90,
                    "tickfont": {"size": 10},
                },
                "yaxis": {"tickfont": {"size": 10}},
            },
            # charts.js wraps the team names (as wrap_label does) rather than the
            # figure carrying every name twice more
            "wrap_y": NARROW_TEAM_LABEL_WIDTH,
            "data": [
                {
                    "colorbar": {
                        "orientation": "h",
                        "lenmode": "fraction",
                        "len": 1,
                        "x": 0,
                        "xanchor": "left",
                        "yref": "container",
                        "y": 0,
                        "yanchor": "bottom",
                        "thickness": 12,
                        "title": {"text": "Score %", "side": "right"},
                    }
                }
            ],
        },
    )


def capability_boxes_spec(
    stats: pd.DataFrame, *, marker: pd.DataFrame | None = None, title: str
) -> dict:
    """A box per capability from precomputed quartiles (no raw scores needed).

    ``stats``: capability, n, median, p25, p75, min, max. ``marker``: capability,
    percent, drawn as "This team" points.
    """
    capabilities = plain(stats["capability"])
    data = [
        {
            "type": "box",
            "y": capabilities,
            "orientation": "h",
            "q1": plain(stats["p25"]),
            "median": plain(stats["median"]),
            "q3": plain(stats["p75"]),
            "lowerfence": plain(stats["min"]),
            "upperfence": plain(stats["max"]),
            "name": "Teams",
            "marker": {"color": OKABE_ITO[4]},
            "line": {"color": TEAM_COLOUR},
            "hoverinfo": "x+y",
        }
    ]
    if marker is not None and not marker.empty:
        data.append(
            {
                "type": "scatter",
                "x": plain(marker["percent"]),
                "y": plain(marker["capability"]),
                "mode": "markers",
                "name": "This team",
                "marker": {
                    "color": TARGET_COLOUR,
                    "symbol": "diamond",
                    "size": 12,
                    "line": {"width": 1, "color": "#000000"},
                },
                "hovertemplate": "%{y}: this team %{x:.0f}%<extra></extra>",
            }
        )
    # horizontal: the capability names read level on the left, the legend sits
    # below the score axis title
    layout = _layout_spec(
        title,
        xaxis={
            "title": {"text": "Score (%)"},
            "range": [0, 100],
            "tickvals": PERCENT_TICKS,
        },
        yaxis=_capability_axis(capabilities),
        height=_row_height(capabilities, per_row=44, extra=170),
    )
    return {"data": data, "layout": layout}


def capability_boxes(
    stats: pd.DataFrame, *, marker: pd.DataFrame | None = None, title: str
) -> go.Figure:
    """``capability_boxes_spec`` as a ``go.Figure``."""
    return _figure(capability_boxes_spec(stats, marker=marker, title=title))


def level_distribution(stats: pd.DataFrame, *, levels: pd.DataFrame) -> go.Figure:
    """Stacked bars: how many teams are at each maturity level, per capability.

    ``stats``: capability, level_counts (dict level key -> count). ``levels``: key,
    name, colour, in ascending order.
    """
    fig = go.Figure()
    capabilities = list(stats["capability"])
    colours = list(levels["colour"])
    if len(set(colours)) < len(colours):
        # levels left at one default colour: an ordered, colour-blind-safe ramp
        steps = [i / max(1, len(colours) - 1) for i in range(len(colours))]
        colours = sample_colorscale(SEQUENTIAL, steps)
    for level, colour in zip(levels.to_dict("records"), colours, strict=True):
        counts = [
            int((counts or {}).get(level["key"], 0)) for counts in stats["level_counts"]
        ]
        fig.add_trace(
            go.Bar(
                x=counts,
                y=capabilities,
                orientation="h",
                name=level["name"],
                marker_color=colour,
                marker_line={"color": "#1d2327", "width": 0.5},
                hovertemplate=f"{level['name']}: " + "%{x} teams<extra>%{y}</extra>",
            )
        )
    return _layout(
        fig,
        "Teams per maturity level",
        barmode="stack",
        # legend in level order (lowest first), as the bars stack left to right
        legend={**LEGEND, "traceorder": "normal"},
        xaxis={"title": {"text": "Teams"}},
        yaxis=_capability_axis(capabilities),
        height=_row_height(capabilities, per_row=44, extra=170),
    )


def business_unit_comparison(stats: pd.DataFrame) -> go.Figure:
    """Grouped bars: each business unit's mean score per capability.

    ``stats``: business_unit, capability, mean.
    """
    fig = go.Figure()
    units = list(stats["business_unit"].drop_duplicates())
    capabilities = list(stats["capability"].drop_duplicates())
    for i, unit in enumerate(units):
        rows = stats[stats["business_unit"] == unit]
        fig.add_trace(
            go.Bar(
                x=rows["mean"],
                y=rows["capability"],
                orientation="h",
                name=unit,
                marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                hovertemplate=f"{unit}: " + "%{x:.0f}%<extra>%{y}</extra>",
            )
        )
    return _layout(
        fig,
        "Business units compared (mean score)",
        barmode="group",
        # with the capability axis reversed, "normal" lists the units top to bottom
        # in the order their bars appear within each group
        legend={**LEGEND, "traceorder": "normal"},
        xaxis={
            "title": {"text": "Mean score (%)"},
            "range": [0, 100],
            "tickvals": PERCENT_TICKS,
        },
        yaxis=_capability_axis(capabilities),
        height=_row_height(
            capabilities, per_row=max(44, 12 * len(units) + 12), extra=170
        ),
    )

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from benchmarks import charts


def figure(spec_builder, frame) -> go.Figure:
    """A chart spec as plotly validates it (a bad spec raises here)."""
    return go.Figure(spec_builder(frame))


def test_figure_payload_is_plain_json():
    frame = pd.DataFrame({"capability": ["A"], "percentile": [50.0]})
    fig = figure(charts.percentile_bars_spec, frame.astype({"percentile": "float32"}))
    payload = charts.figure_payload(fig)
    assert payload["data"][0]["type"] == "bar"
    assert payload["layout"]["title"]["text"] == "Percentile within the organisation"


def test_figure_payloads_leave_the_default_template_to_the_page():
    frame = pd.DataFrame({"capability": ["A"], "percentile": [50.0]})
    for fig in (
        figure(charts.percentile_bars_spec, frame),
        charts.percentile_bars_spec(frame),
    ):
        assert "template" not in charts.figure_payload(fig)["layout"]
    custom = figure(charts.percentile_bars_spec, frame)
    custom.update_layout(template="plotly_white")
    assert "template" in charts.figure_payload(custom)["layout"]


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (0, ("rgb(68, 1, 84)", "#ffffff")),
        (100, ("rgb(253, 231, 37)", "#000000")),
        (None, ("#ffffff", "#5f6b73")),
        (math.nan, ("#ffffff", "#5f6b73")),
    ],
)
def test_score_colour_follows_viridis_with_readable_text(percent, expected):
    assert charts.score_colour(percent) == expected


def _channels(colour: str) -> tuple[int, ...]:
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(part) for part in colour[4:-1].replace(" ", "").split(","))


@pytest.mark.parametrize("percent", [p / 2 for p in range(201)])
def test_every_score_cell_meets_the_aa_contrast_ratio(percent):
    """Text on every score colour reads at 4.5:1 or better (WCAG AA), also in the
    middle of the scale where white on grey used to fall to 4.18:1."""
    background, text = charts.score_colour(percent)
    ratio = charts.contrast_ratio(
        charts._relative_luminance(*_channels(background)),
        charts._relative_luminance(*_channels(text)),
    )
    assert ratio >= 4.5


def test_the_scale_separates_mid_range_scores():
    """Scores from 40 % to 70 % are coloured, not grey (Cividis made them all
    grey-olive, saturation under 0.4): each keeps a clear hue."""
    for percent in range(40, 71, 5):
        channels = _channels(charts.score_colour(percent)[0])
        saturation = (max(channels) - min(channels)) / max(channels)
        assert saturation > 0.5, (percent, channels)


def test_progress_to_target_draws_one_bar_per_capability_in_order():
    frame = pd.DataFrame(
        {
            "capability": ["Education", "Operations"],
            "percent": [30.0, 80.0],
            "target": [60.0, math.nan],
            "progress": [50.0, math.nan],
        }
    )
    fig = figure(charts.progress_to_target_spec, frame)
    bar = fig.data[0]
    assert bar.type == "bar"
    assert bar.orientation == "h"
    assert list(bar.y) == ["Education", "Operations"]
    assert list(bar.x) == [50.0, 0.0]
    assert list(bar.text) == ["30% of target 60%", "no target"]
    assert fig.layout.xaxis.title.text == "Progress to target (%)"


def test_lens_stacked_bars_stack_one_trace_per_lens_in_okabe_ito_colours():
    frame = pd.DataFrame(
        {
            "capability": ["A", "A", "B", "B"],
            "lens": ["Knowledge", "Process", "Knowledge", "Process"],
            "score": [1.0, 2.0, 3.0, 4.0],
        }
    )
    fig = figure(charts.lens_stacked_bars_spec, frame)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Knowledge", "Process"]
    assert list(fig.data[1].x) == [2.0, 4.0]
    assert [t.marker.color for t in fig.data] == charts.OKABE_ITO[:2]
    assert list(fig.layout.xaxis.range) == [0, 20]


def test_radar_closes_each_series_and_leaves_out_empty_ones():
    frame = pd.DataFrame(
        {
            "capability": ["A", "B", "C"],
            "team": [10.0, 20.0, 30.0],
            "org_median": [math.nan] * 3,
            "target": [50.0, 50.0, 60.0],
        }
    )
    fig = figure(charts.capability_radar_spec, frame)
    assert [t.name for t in fig.data] == ["This team", "Target"]
    assert list(fig.data[0].r) == [10.0, 20.0, 30.0, 10.0]
    assert list(fig.data[0].theta) == ["A", "B", "C", "A"]
    assert fig.data[1].line.color == charts.TARGET_COLOUR
    angular = fig.layout.polar.angularaxis
    assert (angular.rotation, angular.direction) == (90, "clockwise")


def test_wrap_label_breaks_long_names_at_word_boundaries():
    assert charts.wrap_label("FinOps education and enablement") == (
        "FinOps education<br>and enablement"
    )
    assert charts.wrap_label("Cloud policy and governance") == (
        "Cloud policy and<br>governance"
    )
    assert charts.wrap_label("Short") == "Short"
    assert charts.wrap_label("Supercalifragilisticexpialidocious word") == (
        "Supercalifragilisticexpialidocious<br>word"
    )


def test_radar_labels_wrap_but_keep_full_names_as_categories():
    names = ["FinOps education and enablement", "Invoicing and chargeback", "Other"]
    frame = pd.DataFrame(
        {"capability": names, "team": [10.0, 20.0, 30.0], "target": [50.0] * 3}
    )
    angular = figure(charts.capability_radar_spec, frame).layout.polar.angularaxis
    assert list(angular.tickvals) == names
    assert list(angular.ticktext) == [
        "FinOps education<br>and enablement",
        "Invoicing and<br>chargeback",
        "Other",
    ]


def test_trend_lines_draw_one_line_per_capability_over_ordered_cycles():
    frame = pd.DataFrame(
        {
            "cycle": ["2025", "2025", "2026", "2026"],
            "capability": ["A", "B", "A", "B"],
            "value": [10.0, 20.0, 30.0, 40.0],
        }
    )
    fig = charts.trend_lines(frame, title="Trend")
    assert [t.name for t in fig.data] == ["A", "B"]
    assert list(fig.data[0].y) == [10.0, 30.0]
    assert list(fig.layout.xaxis.categoryarray) == ["2025", "2026"]
    assert fig.data[0].mode == "lines+markers"


def test_a_tall_heatmap_labels_its_capabilities_above_the_rows():
    teams = 30
    frame = pd.DataFrame(
        {
            "label": [f"Team {i}" for i in range(teams)],
            "url": [f"/assessments/{i}/report/" for i in range(teams)],
            "A": [50.0] * teams,
            "A target": [math.nan] * teams,
        }
    )
    fig = charts.team_heatmap(frame, capabilities=["A"])
    # read before the first row, under the title, which keeps its own room
    assert fig.layout.xaxis.side == "top"
    assert fig.layout.margin.t >= 100
    assert fig.layout.title.yref == "container"
    # on a phone the upright names go below the narrow columns
    narrow = fig.layout.meta["narrow"]["layout"]
    assert narrow["xaxis"]["side"] == "bottom"
    assert narrow["margin"]["t"] == 50
    # a short one keeps them below its few rows
    short = charts.team_heatmap(frame.head(3), capabilities=["A"])
    assert short.layout.xaxis.side == "bottom"


def test_heatmap_rows_keep_frame_order_and_carry_report_urls_and_gaps():
    frame = pd.DataFrame(
        {
            "label": ["Retail · Team A", "Retail · Team B"],
            "url": ["/assessments/1/report/", "/assessments/2/report/"],
            "A": [40.0, math.nan],
            "A target": [60.0, 60.0],
            "B": [70.0, 80.0],
            "B target": [math.nan, math.nan],
        }
    )
    fig = charts.team_heatmap(frame, capabilities=["A", "B"])
    heat = fig.data[0]
    assert heat.type == "heatmap"
    assert list(heat.y) == ["Retail · Team A", "Retail · Team B"]
    payload = charts.figure_payload(fig)["data"][0]
    assert payload["z"] == [[40.0, 70.0], [None, 80.0]]
    # targets per cell; charts.js writes the hover text and opens the row's URL
    assert payload["customdata"] == [[60.0, None], [60.0, None]]
    assert payload["meta"] == {
        "hover": "score-target",
        "row_urls": ["/assessments/1/report/", "/assessments/2/report/"],
    }
    assert payload["hovertemplate"] == "%{y}<br>%{x}: %{text}<extra></extra>"
    assert (heat.zmin, heat.zmax) == (0, 100)
    assert fig.layout.yaxis.autorange == "reversed"
    # capability labels below the cells, clear of the title at the top
    assert fig.layout.xaxis.side == "bottom"
    assert list(fig.layout.xaxis.tickvals) == ["A", "B"]
    # on a phone, charts.js wraps the team names: not sent twice more
    narrow = fig.layout.meta["narrow"]
    assert narrow["wrap_y"] == 20
    assert "tickvals" not in narrow["layout"]["yaxis"]


def test_capability_boxes_use_precomputed_quartiles_and_mark_the_team():
    stats = pd.DataFrame(
        {
            "capability": ["A", "B"],
            "n": [5, 5],
            "median": [50.0, 60.0],
            "p25": [40.0, 45.0],
            "p75": [70.0, 75.0],
            "min": [10.0, 20.0],
            "max": [90.0, 95.0],
        }
    )
    marker = pd.DataFrame({"capability": ["A", "B"], "percent": [55.0, 35.0]})
    fig = charts.capability_boxes(stats, marker=marker, title="Spread")
    box, team = fig.data
    assert box.type == "box"
    assert list(box.q1) == [40.0, 45.0]
    assert list(box.median) == [50.0, 60.0]
    assert list(box.q3) == [70.0, 75.0]
    assert list(box.lowerfence) == [10.0, 20.0]
    assert list(box.upperfence) == [90.0, 95.0]
    assert box.orientation == "h"
    assert list(box.y) == ["A", "B"]
    assert team.name == "This team"
    assert list(team.y) == ["A", "B"]
    assert list(team.x) == [55.0, 35.0]
    # capabilities read down the y axis in frame order, scores along x
    assert list(fig.layout.yaxis.categoryarray) == ["A", "B"]
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.title.text == "Score (%)"
    assert list(fig.layout.xaxis.range) == [0, 100]


def test_level_distribution_stacks_levels_in_their_colours():
    stats = pd.DataFrame(
        {
            "capability": ["A", "B"],
            "level_counts": [{"crawl": 2, "walk": 1}, {"walk": 3}],
        }
    )
    levels = pd.DataFrame(
        {
            "key": ["crawl", "walk"],
            "name": ["Crawl", "Walk"],
            "colour": ["#E69F00", "#009E73"],
        }
    )
    fig = charts.level_distribution(stats, levels=levels)
    assert fig.layout.barmode == "stack"
    assert [(t.name, t.orientation, list(t.x)) for t in fig.data] == [
        ("Crawl", "h", [2, 0]),
        ("Walk", "h", [1, 3]),
    ]
    assert [list(t.y) for t in fig.data] == [["A", "B"], ["A", "B"]]
    assert list(fig.layout.yaxis.categoryarray) == ["A", "B"]
    assert [t.marker.color for t in fig.data] == ["#E69F00", "#009E73"]


def test_business_unit_comparison_groups_one_trace_per_unit():
    stats = pd.DataFrame(
        {
            "business_unit": ["Retail", "Retail", "Wholesale", "Wholesale"],
            "capability": ["A", "B", "A", "B"],
            "mean": [40.0, 50.0, 60.0, 70.0],
        }
    )
    fig = charts.business_unit_comparison(stats)
    assert fig.layout.barmode == "group"
    assert [t.name for t in fig.data] == ["Retail", "Wholesale"]
    assert [t.orientation for t in fig.data] == ["h", "h"]
    assert list(fig.data[1].x) == [60.0, 70.0]
    assert list(fig.data[1].y) == ["A", "B"]
    assert fig.layout.xaxis.title.text == "Mean score (%)"
    assert list(fig.layout.yaxis.categoryarray) == ["A", "B"]


def test_every_chart_has_a_title_and_axis_titles():
    frame = pd.DataFrame({"capability": ["A"], "percentile": [50.0]})
    fig = figure(charts.percentile_bars_spec, frame)
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text == "Percentile rank"
    assert fig.layout.yaxis.title.text == "Capability"


def test_percentile_labels_have_room_beside_a_full_bar():
    frame = pd.DataFrame({"capability": ["A"], "percentile": [100.0]})
    fig = figure(charts.percentile_bars_spec, frame)
    assert list(fig.data[0].text) == ["p100"]
    assert fig.data[0].textposition == "outside"
    assert list(fig.layout.xaxis.range) == [0, 100]
    assert fig.layout.margin.r >= 40


def test_score_colours_sample_the_named_sequential_scale():
    """The scale looked up once samples as the named scale does."""
    from plotly.colors import sample_colorscale

    from benchmarks import charts as chart_module

    for percent in (0.0, 12.5, 33.3, 50.0, 87.5, 100.0):
        expected = sample_colorscale(chart_module.SEQUENTIAL, [percent / 100])[0]
        assert chart_module._score_colour(percent)[0] == expected

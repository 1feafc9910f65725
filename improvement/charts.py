"""Plotly figures of the improvement pages: plain data in, ``go.Figure`` out.

Pure: no Django imports. Colours follow ``benchmarks.charts`` (Okabe-Ito).
"""

from __future__ import annotations

import plotly.graph_objects as go

from benchmarks.charts import CHART_MARGIN, FONT, LEGEND, OKABE_ITO


def initiative_burndown(progress: list[dict], *, title: str) -> go.Figure:
    """Teams still short of the target per cycle (bars) and teams at target (line),
    from ``selectors.initiative_progress`` rows, oldest cycle first."""
    cycles = [row["cycle"] for row in progress]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=cycles,
            y=[row["short"] for row in progress],
            name="Teams short of target",
            marker_color=OKABE_ITO[5],
        )
    )
    fig.add_trace(
        go.Scatter(
            x=cycles,
            y=[row["at_target"] for row in progress],
            name="Teams at target",
            mode="lines+markers",
            line={"color": OKABE_ITO[2], "width": 3},
        )
    )
    top = max([row["teams"] for row in progress] + [1])
    fig.update_layout(
        title={"text": title},
        xaxis={"title": {"text": "Cycle"}, "type": "category"},
        yaxis={
            "title": {"text": "Teams"},
            "range": [0, top + 0.5],
            "dtick": 1 if top <= 10 else None,
        },
        legend=LEGEND,
        margin=CHART_MARGIN,
        font=FONT,
        barmode="overlay",
    )
    return fig

"""HTML built in Python for the report pages, isolated here on purpose: a figure's
table alternative can hold hundreds of cells, and rendering them through the
template engine cost more than everything else on the 1,000-team dashboard
(measured in ``bench/dashboard.py``). Every value is escaped and localized as the
templates would.
"""

import json

import pandas as pd
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from . import charts
from .report_frames import missing, records, rounded

# What ``json_script`` escapes in the JSON it writes into a page.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def payload_json(payload: dict) -> str:
    """The figure's JSON as ``json_script`` writes it."""
    return mark_safe(
        json.dumps(payload, cls=DjangoJSONEncoder).translate(JSON_SCRIPT_ESCAPES)
    )


def decimal_separator():
    """The separator ``localize`` puts in a float, or None when it also groups
    thousands (then ``cell_html`` asks ``localize``)."""
    if settings.USE_THOUSAND_SEPARATOR:
        return None
    return get_format("DECIMAL_SEPARATOR")


def cell_html(value, sep=None) -> str:
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


def rows_html(rows: list[list], sep=None) -> str:
    """Table rows as _alt_table.html renders them, built without the template
    engine (a figure's table can hold hundreds of cells)."""
    return mark_safe(
        "".join(
            "<tr>" + "".join(f"<td>{cell_html(v, sep)}</td>" for v in row) + "</tr>"
            for row in rows
        )
    )


def grid_cells(grid: pd.DataFrame, lenses: pd.DataFrame) -> list[dict]:
    sep = decimal_separator()
    rows = []
    for row in records(grid):
        cells = []
        for key in lenses["key"]:
            value = row[f"lens_{key}"]
            # lens score 0-4 coloured on the same scale as percents
            bg, fg = charts.score_colour(None if missing(value) else value * 25)
            cells.append({"value": rounded(value, 1), "bg": bg, "fg": fg})
        bg, fg = charts.score_colour(row["percent"])
        rows.append(
            {
                "capability": row["capability"],
                "capability_key": row["capability_key"],
                "cells": cells,
                "percent": rounded(row["percent"]),
                "percent_bg": bg,
                "percent_fg": fg,
                "foundation_20": rounded(row["foundation_20"], 1),
                "level": row["level"] if not missing(row["level"]) else None,
                "level_key": row["level_key"],
                "target": rounded(row["target"]),
                "gap": rounded(row["gap"]),
                "progress": rounded(row["progress"]),
            }
        )
        rows[-1]["html"] = grid_row_html(rows[-1], sep)
    return rows


def grid_row_html(row: dict, sep=None) -> str:
    """One row of the score grid, as _team_report_body.html used to render it."""
    esc = conditional_escape
    cells = "".join(
        f'<td class="num score-cell" style="background:{esc(c["bg"])};'
        f'color:{esc(c["fg"])}">{cell_html(c["value"], sep)}</td>'
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
        else cell_html(row["target"], sep)
    )
    if row["progress"] is None:
        progress = '<span class="muted">no target</span>'
    else:
        value = cell_html(row["progress"], sep)
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
        f"{cell_html(row['percent'], sep)}</td>\n"
        f'          <td class="num">{cell_html(row["foundation_20"], sep)}</td>\n'
        f"          <td>{level}</td>\n"
        f'          <td class="num">{target}</td>\n'
        f'          <td class="num">{cell_html(row["gap"], sep)}</td>\n'
        f"          <td>{progress}</td>\n"
        "        </tr>"
    )

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

from finops_portal import formats

from . import charts
from .report_frames import missing, records

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
    if kind is float:  # the one rounding of every page (finops_portal.formats)
        return formats.number(value)
    if sep is not None and kind is int:
        return str(value)
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
    """The score grid's rows (``report_frames.report_grid``) as display text, every
    number through ``finops_portal.formats`` (the exports' and the API's rounding)."""
    rows = []
    pct, lens_digits = formats.PERCENT_DIGITS, formats.LENS_DIGITS
    for row in records(grid):
        cells = []
        for key in lenses["key"]:
            value = row[f"lens_{key}"]
            # lens score 0-4 coloured on the same scale as percents
            bg, fg = charts.score_colour(None if missing(value) else value * 25)
            cells.append(
                {"value": formats.number(value, lens_digits), "bg": bg, "fg": fg}
            )
        bg, fg = charts.score_colour(
            None if missing(row["percent"]) else row["percent"]
        )
        partial = (
            not missing(row["foundation_20"]) and row["lenses_scored"] < row["lenses"]
        )
        rows.append(
            {
                "capability": row["capability"],
                "capability_key": row["capability_key"],
                "cells": cells,
                "total": formats.number(row["foundation_20"], lens_digits),
                "lenses_note": (
                    f"{row['lenses_scored']} of {row['lenses']} lenses scored"
                    if partial
                    else ""
                ),
                "target_20": formats.number(row["target_20"], lens_digits),
                "relative": formats.signed(row["relative_20"], lens_digits),
                "percent": formats.number(row["percent"], pct),
                "percent_bg": bg,
                "percent_fg": fg,
                "level": row["level"] if not missing(row["level"]) else None,
                "level_key": row["level_key"],
                "target": None
                if missing(row["target"])
                else formats.number(row["target"], pct),
                "gap": formats.gap_text(row["gap"], pct),
                "progress": None
                if missing(row["progress"])
                else formats.number(row["progress"], pct),
                "progress_value": formats.rounded(row["progress"], pct),
            }
        )
        rows[-1]["html"] = grid_row_html(rows[-1])
    return rows


def grid_row_html(row: dict) -> str:
    """One row of the score grid (_team_report_body.html's table)."""
    esc = conditional_escape
    cells = "".join(
        f'<td class="num score-cell" style="background:{esc(c["bg"])};'
        f'color:{esc(c["fg"])}">{esc(c["value"])}</td>'
        for c in row["cells"]
    )
    level = (
        f'<span class="badge badge-{esc(str(row["level_key"]))}">'
        f"{esc(row['level'])}</span>"
        if row["level"]
        else "–"
    )
    total = esc(row["total"])
    if row["lenses_note"]:
        total += f' <span class="muted small">({esc(row["lenses_note"])})</span>'
    target = (
        '<span class="muted">none</span>'
        if row["target"] is None
        else esc(row["target"])
    )
    if row["progress"] is None:
        progress = '<span class="muted">no target</span>'
    else:
        value = esc(row["progress"])
        progress = (
            '<div class="progress" role="progressbar" aria-valuemin="0" '
            f'aria-valuemax="100" aria-valuenow="{esc(row["progress_value"])}" '
            f'aria-label="Progress to target for {esc(row["capability"])}">'
            f'<span style="width:{esc(row["progress_value"])}%"></span></div>'
            f'<span class="progress-label">{value}%</span>'
        )
    return mark_safe(
        "<tr>\n"
        f'          <th scope="row">{esc(row["capability"])}</th>\n'
        f"          {cells}\n"
        f'          <td class="num" data-col="total">{total}</td>\n'
        f'          <td class="num" data-col="target-20">{esc(row["target_20"])}</td>\n'
        f'          <td class="num" data-col="relative">{esc(row["relative"])}</td>\n'
        '          <td class="num score-cell" data-col="percent" style="background:'
        f'{esc(row["percent_bg"])};color:{esc(row["percent_fg"])}">'
        f"{esc(row['percent'])}</td>\n"
        f"          <td>{level}</td>\n"
        f'          <td class="num" data-col="target">{target}</td>\n'
        f'          <td class="num" data-col="gap">{esc(row["gap"])}</td>\n'
        f'          <td data-col="progress">{progress}</td>\n'
        "        </tr>"
    )

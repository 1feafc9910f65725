"""Spreadsheet cells: every CSV and XLSX the portal writes goes through here.

Text that a spreadsheet would read as a formula (starting with = + - @, a tab or
a carriage return) gets a leading single quote, in both formats; numbers pass
through; a missing value (None or NaN) becomes an empty cell.
"""

import csv
import io
import math

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """``value`` made safe for a spreadsheet: text that starts like a formula gets a
    leading single quote; numbers pass through; None and NaN become empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_rows(headers: list, rows) -> list[list]:
    """The header and rows with every cell made safe."""
    return [[safe_cell(h) for h in headers], *([safe_cell(v) for v in r] for r in rows)]


def to_csv(headers: list, rows, *, bom: bool = True) -> bytes:
    """UTF-8 CSV; with ``bom`` (the default) spreadsheet programs read accents right."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(safe_rows(headers, rows))
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: list, rows, *, title: str) -> bytes:
    """One-sheet workbook; text cells written as plain strings, never formulas."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in safe_rows(headers, rows):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

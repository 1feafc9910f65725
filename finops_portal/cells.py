"""Spreadsheet cells: every CSV and XLSX the portal writes goes through here.

Text that a spreadsheet would read as a formula (starting with = + - @, a tab or
a carriage return) gets a leading single quote, in both formats; numbers pass
through; a missing value (None or NaN) becomes an empty cell.
"""

import csv
import io
import itertools
import math

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

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


# Column widths are measured on the header and the first rows (a big export is
# written as it streams), between these bounds, in characters.
XLSX_WIDTH_SAMPLE = 200
XLSX_MIN_WIDTH = 8
XLSX_MAX_WIDTH = 60


def _width(value) -> int:
    text = value if isinstance(value, str) else f"{value}"
    return max((len(line) for line in text.splitlines()), default=0)


def to_xlsx(headers: list, rows, *, title: str) -> bytes:
    """One-sheet workbook ready to send on: columns as wide as their contents, the
    header row frozen and filterable; text cells written as plain strings, never
    formulas."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    header, *_rest = safe_rows(headers, [])
    body = (tuple(safe_cell(v) for v in row) for row in rows)
    sample = list(itertools.islice(body, XLSX_WIDTH_SAMPLE))
    for index, _name in enumerate(header, start=1):
        longest = max(
            (_width(row[index - 1]) for row in [header, *sample] if len(row) >= index),
            default=0,
        )
        width = min(max(longest + 2, XLSX_MIN_WIDTH), XLSX_MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(header)
    count = 0
    for row in itertools.chain(sample, body):
        sheet.append(row)
        count += 1
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

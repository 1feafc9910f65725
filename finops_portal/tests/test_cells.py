"""Spreadsheet cells: the one formula-injection guard of every export."""

import pytest

from finops_portal import cells


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=cmd", "'=cmd"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Team A", "Team A"),
        (-1, -1),
        (None, ""),
        (float("nan"), ""),
    ],
)
def test_safe_cell_quotes_formula_like_text_only(value, expected):
    assert cells.safe_cell(value) == expected


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-2", "'-2"),
        ("@a", "'@a"),
        ("ok", "ok"),
        (None, ""),
    ],
)
def test_safe_cell_prefixes_formula_starts(value, safe):
    assert cells.safe_cell(value) == safe


def test_to_csv_writes_a_bom_and_safe_cells():
    data = cells.to_csv(["name", "n"], [["=cmd", 3]])

    assert data == "\ufeffname,n\r\n'=cmd,3\r\n".encode()


def test_to_csv_without_bom():
    assert cells.to_csv(["a"], [[None]], bom=False) == b'a\r\n""\r\n'


def test_an_xlsx_export_is_ready_to_send_on():
    """Columns as wide as their contents, the header frozen, filters on the header."""
    import io

    import openpyxl

    from finops_portal import cells as spreadsheet

    data = spreadsheet.to_xlsx(
        ["team", "overall score %", "level"],
        [["Payments API platform team", 52.5, "Walk"], ["B", 7, "=HYPERLINK()"]],
        title="team-scores",
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C3"
    widths = {col: sheet.column_dimensions[col].width for col in "ABC"}
    assert widths["A"] == len("Payments API platform team") + 2
    assert widths["B"] == len("overall score %") + 2
    assert widths["C"] == len("'=HYPERLINK()") + 2
    assert sheet["C3"].value == "'=HYPERLINK()"

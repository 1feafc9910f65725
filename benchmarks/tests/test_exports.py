import csv
import io

import pytest
from openpyxl import load_workbook

from assessment.models import Team
from assessment.targets import target_set
from benchmarks import exports
from benchmarks.models import NodeStat
from benchmarks.tests.snapshots import build_snapshot
from finops_portal import cells

pytestmark = pytest.mark.django_db

DANGEROUS = ["=cmd", "+1", "-1", "@x", "\tTab", "\rReturn"]


@pytest.fixture
def cycle(org, framework, business_unit):
    teams = [
        Team.objects.create(organization=org, parent=business_unit, name=name)
        for name in ["Plain", *DANGEROUS]
    ]
    return build_snapshot(organization=org, framework=framework, teams=teams)


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_team_scores_hold_one_row_per_team_and_capability(cycle, org):
    target_set(organization=org, capability_key="cap-0", percent=60)
    plain_team = Team.objects.get(organization=org, name="Plain")
    target_set(organization=org, capability_key="cap-1", percent=30, team=plain_team)
    headers, rows = exports.team_scores_table(cycle=cycle)
    assert headers == [
        "cycle",
        "team",
        "business unit",
        "team overall",
        "team level",
        "capability",
        "knowledge",
        "process",
        "metrics",
        "adoption",
        "automation",
        "total (of 20)",
        "lenses scored",
        "target (of 20)",
        "relative to target",
        "percent",
        "level",
        "target",
        "gap",
        "progress to target",
    ]
    assert len(rows) == 7 * 2
    plain = [row for row in rows if row[1] == "Plain"]
    # the team's overall: the mean of its capability percents, on every row
    overall = sum(row[headers.index("percent")] for row in plain) / len(plain)
    assert {row[3] for row in plain} == {round(overall, 2)}
    assert {row[4] for row in plain} == {"Not started" if overall < 25 else "Crawl"}
    assert plain[0][:5] == [
        cycle.name,
        "Plain",
        "Retail",
        round(overall, 2),
        plain[0][4],
    ]
    assert plain[0][5:] == [
        "Capability 0",
        0.8,
        0.8,
        0.8,
        0.8,
        0.8,
        4.0,  # the plain sum of the lens scores
        5,
        12.0,  # 60 % of 20
        -8.0,
        20.0,
        "Not started",
        60.0,
        40.0,
        33.33,  # 20 / 60, rounded half away from zero
    ]
    assert plain[1][-3:] == [30.0, 10.0, 66.67]
    others = [row for row in rows if row[1] != "Plain" and row[5] == "Capability 1"]
    assert {tuple(row[-3:]) for row in others} == {(None, None, None)}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_team_scores_guard_against_formula_injection(cycle, fmt):
    headers, rows = exports.team_scores_table(cycle=cycle)
    if fmt == "csv":
        read = read_csv(cells.to_csv(headers, rows))
    else:
        read = read_xlsx(cells.to_xlsx(headers, rows, title="team-scores"))
    # XML stores a carriage return as a line feed
    names = {row[1].replace("\n", "\r") for row in read[1:]}
    assert names == {"Plain", *("'" + name for name in DANGEROUS)}


def test_xlsx_keeps_numbers_as_numbers(cycle):
    headers, rows = exports.team_scores_table(cycle=cycle)
    read = read_xlsx(cells.to_xlsx(headers, rows, title="team-scores"))
    assert read[0] == headers
    assert isinstance(read[1][headers.index("percent")], int | float)


def test_rollup_lists_every_node_with_statistics_and_level_counts(cycle, org):
    headers, rows = exports.rollup_table(cycle=cycle)
    assert headers == [
        "node",
        "capability",
        "n",
        "mean",
        "median",
        "p25",
        "p75",
        "min",
        "max",
        "mean total (of 20)",
        "level Not started",
        "level Crawl",
        "level Walk",
        "level Run",
    ]
    organisation = [row for row in rows if row[0] == "Org One (organisation)"]
    assert [row[1] for row in organisation] == [
        "Overall",
        "Capability 0",
        "Capability 1",
    ]
    assert organisation[1][2:5] == [7, 50.0, 50.0]
    # the plain sum of the group's lens means, as the Foundation totals one team
    stat = NodeStat.objects.get(cycle=cycle, node=None, capability__name="Capability 0")
    assert stat.lens_means
    assert organisation[1][9] == round(sum(stat.lens_means.values()), 2)
    assert organisation[1][10:] == [1, 2, 3, 1]
    assert {row[0] for row in rows} == {"Org One (organisation)", "Retail"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rollup_guards_against_formula_injection(org, framework, fmt):
    unit = Team.objects.create(
        organization=org, name="=HYPERLINK(1)", kind=Team.Kind.BUSINESS_UNIT
    )
    team = Team.objects.create(organization=org, parent=unit, name="Solo")
    cycle = build_snapshot(organization=org, framework=framework, teams=[team])
    headers, rows = exports.rollup_table(cycle=cycle)
    if fmt == "csv":
        read = read_csv(cells.to_csv(headers, rows))
    else:
        read = read_xlsx(cells.to_xlsx(headers, rows, title="rollup"))
    assert "'=HYPERLINK(1)" in {row[0] for row in read[1:]}


def test_export_filename_has_org_slug_and_cycle_name(cycle):
    assert (
        exports.export_filename(cycle=cycle, kind="rollup", fmt="xlsx")
        == "org-one_2026-H1_rollup.xlsx"
    )


def test_exports_issue_a_fixed_number_of_queries(cycle, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        exports.team_scores_table(cycle=cycle)
    # levels, lenses (for the total of 20) and the statistics
    with django_assert_max_num_queries(3):
        exports.rollup_table(cycle=cycle)

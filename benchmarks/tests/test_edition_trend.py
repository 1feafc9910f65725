"""Trends across framework editions: the pure frame, the chart's crossing mark, and
the team report and dashboard of an organisation with two v1 cycles and one on a
mapped v2."""

import json

import pandas as pd
import pytest

from benchmarks import charts
from benchmarks.report_frames import edition_trend

V1, V2 = 1, 2
NAMES = {
    "education-enablement": "Education (2026)",
    "operations": "Operations",
    "ai-cost": "AI cost",
}
LINEAGE = {
    V1: {
        "education": ["education-enablement"],
        "intersecting": [],
        "operations": ["operations"],
        "ops-extra": ["operations"],  # merged into operations
    }
}
EDITIONS = {V1: "v1 (Learn)", V2: "v2 (Foundation)"}


def _history():
    rows = []
    for cycle, fw, values in [
        (
            "Q1",
            V1,
            {"education": 40, "intersecting": 30, "operations": 50, "ops-extra": 70},
        ),
        (
            "Q2",
            V1,
            {"education": 45, "intersecting": 35, "operations": 55, "ops-extra": 75},
        ),
        ("Q3", V2, {"education-enablement": 50, "operations": 70, "ai-cost": 20}),
    ]:
        for key, value in values.items():
            rows.append((cycle, fw, key, key.title(), float(value)))
    return pd.DataFrame(
        rows, columns=["cycle", "framework_id", "capability_key", "capability", "value"]
    )


def _lines(frame):
    return {
        name: list(zip(group["cycle"], group["value"], strict=True))
        for name, group in frame.groupby("capability", sort=False)
    }


def test_mapped_capabilities_continue_and_retired_and_new_ones_are_noted():
    frame, notes, crossings = edition_trend(
        _history(),
        current_framework_id=V2,
        lineage=LINEAGE,
        names=NAMES,
        editions=EDITIONS,
    )
    lines = _lines(frame)
    # The renamed capability is one line across both editions.
    assert lines["Education (2026)"] == [("Q1", 40.0), ("Q2", 45.0), ("Q3", 50.0)]
    # Two old capabilities merged into one: their mean, then the new score.
    assert lines["Operations"] == [("Q1", 60.0), ("Q2", 65.0), ("Q3", 70.0)]
    # The retired one ends; the new one starts.
    assert lines["Intersecting"] == [("Q1", 30.0), ("Q2", 35.0)]
    assert lines["AI cost"] == [("Q3", 20.0)]
    assert list(dict.fromkeys(frame["cycle"])) == ["Q1", "Q2", "Q3"]
    assert crossings == [
        {"before": "Q2", "after": "Q3", "label": "v1 (Learn) to v2 (Foundation)"}
    ]
    assert notes == [
        "Between Q2 and Q3 the lines cross from v1 (Learn) to v2 (Foundation): "
        "capabilities are matched through the new version's mapping.",
        "Intersecting was retired by a later edition: its line ends at Q2.",
        "AI cost is new in this edition: its line starts at Q3.",
    ]


def test_one_edition_has_no_crossing_and_no_notes():
    history = _history()
    history = history[history["framework_id"] == V2]
    frame, notes, crossings = edition_trend(
        history, current_framework_id=V2, lineage={}, names=NAMES, editions={}
    )
    assert (notes, crossings) == ([], [])
    assert len(frame) == 3


def test_merged_lines_average_to_the_last_digit_of_pandas_and_skip_missing():
    values = [0.1, 0.2, 0.7, float("nan"), 33.3]
    rows = [("Q1", V1, f"old-{i}", f"Old {i}", v) for i, v in enumerate(values)]
    rows += [("Q1", V1, "gone", "Gone", float("nan")), ("Q2", V2, "ai-cost", "x", 5.0)]
    history = pd.DataFrame(
        rows, columns=["cycle", "framework_id", "capability_key", "capability", "value"]
    )
    lineage = {V1: {f"old-{i}": ["operations"] for i in range(len(values))}}
    frame, _notes, _crossings = edition_trend(
        history, current_framework_id=V2, lineage=lineage, names=NAMES, editions={}
    )
    expected = pd.Series(values).mean()  # compensated, NaN left out
    assert list(frame["cycle"]) == ["Q1", "Q1", "Q2"]
    assert frame["value"].iloc[0] == expected  # exactly
    assert list(frame["capability"]) == ["Operations", "Gone", "AI cost"]
    assert pd.isna(frame["value"].iloc[1])
    assert frame["value"].iloc[2] == 5.0


def test_the_chart_marks_where_lines_cross_editions():
    frame, _notes, crossings = edition_trend(
        _history(),
        current_framework_id=V2,
        lineage=LINEAGE,
        names=NAMES,
        editions=EDITIONS,
    )
    spec = charts.trend_lines_spec(frame, title="Trend", crossings=crossings)
    assert [s["x0"] for s in spec["layout"]["shapes"]] == [1.5]
    assert spec["layout"]["annotations"][0]["text"] == (
        "New edition: v1 (Learn) to v2 (Foundation)"
    )
    assert "shapes" not in charts.trend_lines_spec(frame, title="Trend")["layout"]


# --- the pages -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_team_report_and_dashboard_trend_run_across_editions(
    client, org, team_a, team_b, lead, respondent_a, shipped_framework
):
    from assessment import cycles, services
    from assessment.models import Assessment
    from assessment.tests.factories import make_cycle
    from assessment.tests.test_editions_flow import TEAM_SCORES, _answer_v1
    from benchmarks.services import rollup_recompute
    from capabilities.models import Question
    from capabilities.services import framework_import, framework_publish
    from capabilities.tests.editions import make_v2_document

    for name in ("Q1", "Q2"):
        cycle = make_cycle(
            organization=org,
            framework=shipped_framework,
            teams=[team_a, team_b],
            name=name,
        )
        for assessment in Assessment.objects.filter(cycle=cycle).select_related(
            "team", "cycle"
        ):
            default, overrides = TEAM_SCORES[assessment.team.name]
            _answer_v1(assessment, default, overrides)
            services.assessment_submit(assessment=assessment, user=None)
        cycles.cycle_close(cycle=cycle)
        rollup_recompute(cycle_id=cycle.pk, force=True)
    v2 = framework_publish(framework=framework_import(data=make_v2_document()))
    q3 = cycles.cycle_create(organization=org, framework=v2, name="Q3")
    cycles.cycle_open(cycle=q3, carry_forward=True)
    for assessment in Assessment.objects.filter(cycle=q3).select_related("cycle"):
        for question in Question.objects.filter(capability__key="ai-cost"):
            services.answer_record(
                assessment=assessment,
                question=question,
                user=None,
                option=question.options.get(score=1),
                expected_version=0,
            )
        services.assessment_submit(
            assessment=assessment, user=None, confirm_carried=True
        )
    rollup_recompute(cycle_id=q3.pk, force=True)

    mine = Assessment.objects.get(cycle=q3, team=team_a)
    client.force_login(respondent_a)
    page = client.get(f"/assessments/{mine.pk}/report/")
    assert page.status_code == 200
    html = page.content.decode().replace("&#x27;", "'")
    crossing = (
        "Between Q2 and Q3 the lines cross from v1 (Microsoft Learn 2024 seed) to v2 "
        "(FinOps Foundation 2026)"
    )
    assert crossing in html
    assert "Intersecting frameworks" in html
    assert "its line ends at Q2" in html
    assert "AI cost management is new in this edition: its line starts at Q3." in html
    assert "New edition: v1 (Microsoft Learn 2024 seed) to v2" in html
    # The renamed capability's line has all three cycles, under its new name.
    payload = next(
        json.loads(chunk.split(">", 1)[1].split("</script>", 1)[0])
        for chunk in html.split("<script")
        if 'id="chart-trend"' in chunk.split(">", 1)[0]
    )
    line = next(
        t
        for t in payload["data"]
        if t["name"] == "FinOps education and enablement (2026)"
    )
    assert line["x"] == ["Q1", "Q2", "Q3"]

    client.force_login(lead)
    page = client.get(f"/org/{org.slug}/dashboard/?cycle={q3.pk}")
    assert page.status_code == 200
    html = page.content.decode().replace("&#x27;", "'")
    assert crossing in html
    assert "AI cost management is new in this edition" in html

import json
import re

import pytest
from django.urls import reverse

from assessment.models import Assessment, Cycle, Target
from assessment.targets import TARGET_RANGE_MSG
from benchmarks.anonymity import HIDDEN_GROUP_MSG
from benchmarks.tests.snapshots import build_snapshot, make_teams
from benchmarks.views import TARGETS_SAVED_MSG
from finops_portal.audit import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]


def chart_payload(response, chart_id: str) -> dict:
    """The figure a page hands to charts.js in its json_script element."""
    match = re.search(
        rf'<script id="{chart_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no {chart_id} on the page"
    return json.loads(match.group(1))


def report_url(assessment):
    return reverse("benchmarks:team_report", args=[assessment.pk])


def dashboard_url(org):
    return reverse("benchmarks:org_dashboard", args=[org.slug])


# --- team report ---------------------------------------------------------------------


def test_it_shows_the_team_report_to_a_respondent_of_the_team(
    client, respondent_a, report_a
):
    client.force_login(respondent_a)
    response = client.get(report_url(report_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Team A: results" in html
    assert 'data-chart-source="chart-radar"' in html
    assert "Improve cap-0 from not_started" in html
    assert 'id="print-report"' in html


def test_it_hides_team_a_report_from_team_b(client, respondent_b, report_a):
    client.force_login(respondent_b)
    assert client.get(report_url(report_a)).status_code == 404


def test_it_hides_the_team_report_from_other_organisations(
    client, outsider_lead, report_a
):
    client.force_login(outsider_lead)
    assert client.get(report_url(report_a)).status_code == 404


def test_it_shows_any_team_report_to_the_lead(client, lead, report_a):
    client.force_login(lead)
    assert client.get(report_url(report_a)).status_code == 200


def test_it_asks_to_continue_answering_before_submit(
    client, respondent_a, org, framework, team_a
):
    from assessment.tests.factories import make_assessment

    assessment = make_assessment(team=team_a, framework=framework, name="Draft")
    client.force_login(respondent_a)
    html = client.get(report_url(assessment)).content.decode()
    assert "No results yet" in html
    assert "data-chart-source" not in html


def test_the_report_shows_targets_and_gaps(client, respondent_a, report_a, org):
    Target.objects.create(organization=org, capability_key="cap-0", percent=60)
    client.force_login(respondent_a)
    response = client.get(report_url(report_a))
    grid = response.context["grid"]
    assert grid[0]["percent"] == "20"
    assert grid[0]["target"] == "60"
    assert grid[0]["gap"] == "40"
    assert grid[0]["progress"] == "33.33"
    assert grid[1]["target"] is None


def test_chart_pages_hold_the_plotly_template_once(client, lead, report_a, org):
    client.force_login(lead)
    for url in (
        report_url(report_a),
        reverse("benchmarks:team_benchmark", args=[report_a.pk]),
        dashboard_url(org),
    ):
        html = client.get(url).content.decode()
        assert html.count('<script id="plotly-template"') == 1
        assert html.count('"template"') == 0, url


def test_the_report_says_when_its_comparisons_were_computed(
    client, respondent_a, report_a
):
    client.force_login(respondent_a)
    for name in ("benchmarks:team_report", "benchmarks:team_benchmark"):
        html = client.get(reverse(name, args=[report_a.pk])).content.decode()
        assert re.search(
            r"Comparisons with other teams computed <time data-ago datetime=\"[^\"]+\">"
            r"\d+ s</time> ago",
            html,
        ), name
        assert "js/ago.js" in html


def test_the_benchmark_names_no_other_team(client, respondent_a, report_a):
    client.force_login(respondent_a)
    for name in ("benchmarks:team_benchmark", "benchmarks:team_report"):
        html = client.get(reverse(name, args=[report_a.pk])).content.decode()
        assert "Team B" not in html
        assert "Team A" in html


def test_the_benchmark_hides_groups_below_the_anonymity_threshold(
    client, respondent_a, report_a, org
):
    org.anonymity_threshold = 5
    org.save()
    client.force_login(respondent_a)
    response = client.get(reverse("benchmarks:team_benchmark", args=[report_a.pk]))
    html = response.content.decode()
    for group in ("Org One", "Retail"):
        assert HIDDEN_GROUP_MSG.format(k=5, group=group) in html
    assert response.context["benchmarks"] == []
    assert "percentile" not in response.context["charts"]
    assert "radar" in response.context["charts"]


def test_the_benchmark_shows_groups_at_the_threshold(client, respondent_a, report_a):
    client.force_login(respondent_a)
    response = client.get(reverse("benchmarks:team_benchmark", args=[report_a.pk]))
    assert [b["group"] for b in response.context["benchmarks"]] == [
        "Org One",
        "Retail",
    ]
    assert response.context["hidden_messages"] == []


def test_the_report_shows_the_trend_across_cycles_by_capability_key(
    client, respondent_a, org, framework, team_a, team_b
):
    build_snapshot(
        organization=org, framework=framework, teams=[team_a, team_b], name="2025"
    )
    later = build_snapshot(
        organization=org,
        framework=framework,
        teams=[team_a, team_b],
        name="2026",
        base=50,
    )
    client.force_login(respondent_a)
    response = client.get(report_url(Assessment.objects.get(cycle=later, team=team_a)))
    assert response.context["trend_cycles"] == 2
    rows = response.context["charts"]["trend"]["rows"]
    assert ["2025", "Capability 0", 20] in rows
    assert ["2026", "Capability 0", 50] in rows


@pytest.mark.parametrize("count", [10, 200])
def test_the_team_report_query_count_does_not_grow_with_teams(
    client, respondent_a, org, framework, team_a, count, django_assert_max_num_queries
):
    cycle = build_snapshot(
        organization=org, framework=framework, teams=[team_a, *make_teams(org, count)]
    )
    report = Assessment.objects.get(cycle=cycle, team=team_a)
    client.force_login(respondent_a)
    # 11, and 5 for the sections higher apps add (evidence: its measured questions;
    # improvement: the scores and targets beside the plan, its items, and whether
    # the team has an earlier cycle, whose movements are then cached)
    with django_assert_max_num_queries(17):  # the next steps: once per process
        assert client.get(report_url(report)).status_code == 200


def test_the_second_request_for_a_report_reads_it_from_the_cache(
    client, respondent_a, report_a, django_assert_num_queries
):
    client.force_login(respondent_a)
    first = client.get(report_url(report_a)).content.decode()
    # session, user, the assessment with its report state, memberships; and the
    # items of improvement's plan (outside the report cache: its gaps, movements
    # and next steps are cached by the submission and targets they read;
    # evidence's section read its published framework's measured questions once)
    with django_assert_num_queries(5):
        second = client.get(report_url(report_a)).content.decode()
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", second) == token.sub("", first)
    assert 'data-chart-source="chart-radar"' in second
    with django_assert_num_queries(4):
        html = client.get(
            reverse("benchmarks:team_benchmark", args=[report_a.pk])
        ).content.decode()
    assert 'data-chart-source="benchmark-0"' in html


def test_a_new_snapshot_rebuilds_the_cached_report(client, respondent_a, report_a):
    client.force_login(respondent_a)
    before = client.get(report_url(report_a)).context
    assert before["charts"]["radar"]["rows"][0] == ["Capability 0", 20, 25, None]
    cycle = report_a.cycle
    cycle.node_stats.filter(node__isnull=True).update(median=99)
    cycle.rollup.computed_generation = 2
    cycle.rollup.save()
    Cycle.objects.filter(pk=cycle.pk).update(scores_generation=2)
    response = client.get(report_url(report_a))
    assert response.context["charts"]["radar"]["rows"][0] == [
        "Capability 0",
        20,
        99,
        None,
    ]
    assert chart_payload(response, "benchmark-0")["data"][0]["median"] == [99, 99]


def test_a_target_change_rebuilds_the_cached_report(
    client, respondent_a, report_a, org, django_capture_on_commit_callbacks
):
    from assessment.targets import target_set

    client.force_login(respondent_a)
    assert client.get(report_url(report_a)).context["grid"][0]["target"] is None
    with django_capture_on_commit_callbacks(execute=True):
        target_set(organization=org, capability_key="cap-0", percent=60)
    response = client.get(report_url(report_a))
    assert response.context["grid"][0]["target"] == "60"
    assert 'data-chart-source="chart-progress"' in response.content.decode()


def test_reopening_and_submitting_again_rebuilds_the_cached_report(
    client, lead, respondent_a, org, framework, team_a, team_b
):
    from assessment.models import Answer
    from assessment.services import assessment_reopen, assessment_submit
    from assessment.tests.factories import answer_all, make_cycle
    from benchmarks.services import rollup_recompute

    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    report = Assessment.objects.get(cycle=cycle, team=team_a)
    answer_all(report, score=1)
    assessment_submit(assessment=report, user=respondent_a)
    rollup_recompute(cycle_id=cycle.id, force=True)
    client.force_login(respondent_a)
    grid = client.get(report_url(report)).context["grid"]
    assert [row["percent"] for row in grid] == ["25", "25"]

    assessment_reopen(assessment=report, user=lead, reason="Wrong answers")
    assert "No results yet" in client.get(report_url(report)).content.decode()

    Answer.objects.filter(assessment=report).delete()
    answer_all(report, score=3)
    assessment_submit(assessment=report, user=respondent_a)
    grid = client.get(report_url(report)).context["grid"]
    assert [row["percent"] for row in grid] == ["75", "75"]


def test_a_change_in_another_cycle_rebuilds_the_cached_trend(
    client, lead, respondent_a, org, framework, team_a, team_b
):
    from assessment.models import Answer
    from assessment.services import assessment_reopen, assessment_submit
    from assessment.tests.factories import answer_all, make_cycle
    from benchmarks.services import rollup_recompute

    cycles = [
        make_cycle(
            organization=org, framework=framework, teams=[team_a, team_b], name=name
        )
        for name in ("2025", "2026")
    ]
    earlier, later = (Assessment.objects.get(cycle=c, team=team_a) for c in cycles)
    for assessment in (earlier, later):
        answer_all(assessment, score=1)
        assessment_submit(assessment=assessment, user=respondent_a)
    for cycle in cycles:
        rollup_recompute(cycle_id=cycle.id, force=True)
    client.force_login(respondent_a)
    trend = client.get(report_url(later)).context["charts"]["trend"]["rows"]
    assert ["2025", "Capability 0", 25] in trend

    # the earlier cycle's answers change; the later cycle's snapshot does not
    assessment_reopen(assessment=earlier, user=lead, reason="Wrong answers")
    Answer.objects.filter(assessment=earlier).delete()
    answer_all(earlier, score=3)
    assessment_submit(assessment=earlier, user=respondent_a)
    trend = client.get(report_url(later)).context["charts"]["trend"]["rows"]
    assert ["2025", "Capability 0", 75] in trend


def test_the_cached_report_keeps_hidden_groups_from_respondents(
    client, lead, respondent_a, report_a, org
):
    org.anonymity_threshold = 5
    org.save()
    url = reverse("benchmarks:team_benchmark", args=[report_a.pk])
    client.force_login(lead)
    # the lead's report, cached first, shows every group
    assert [b["group"] for b in client.get(url).context["benchmarks"]] == [
        "Org One",
        "Retail",
    ]
    client.force_login(respondent_a)
    for _ in range(2):
        response = client.get(url)
        assert response.context["benchmarks"] == []
        assert HIDDEN_GROUP_MSG.format(k=5, group="Retail") in (
            response.content.decode()
        )
    client.force_login(lead)
    assert len(client.get(url).context["benchmarks"]) == 2


# --- dashboard -----------------------------------------------------------------------


def test_it_shows_the_dashboard_to_the_lead(client, lead, org, cycle):
    client.force_login(lead)
    response = client.get(dashboard_url(org))
    assert response.status_code == 200
    html = response.content.decode()
    for chart in ("heatmap", "boxes", "levels", "units", "trend"):
        assert f'data-chart-source="chart-{chart}"' in html
    assert "2 of 2" in html
    assert "Data computed" in html


@pytest.mark.parametrize("persona", ["respondent_a", "outsider_lead"])
def test_it_hides_the_dashboard_from_non_leads(client, request, persona, org, cycle):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(dashboard_url(org)).status_code == 404


def test_staff_see_the_dashboard(client, staff, org, cycle):
    client.force_login(staff)
    assert client.get(dashboard_url(org)).status_code == 200


def test_the_dashboard_says_what_to_do_without_submissions(
    client, lead, org, framework, team_a
):
    build_snapshot(organization=org, framework=framework, teams=[team_a], submitted=[])
    client.force_login(lead)
    html = client.get(dashboard_url(org)).content.decode()
    assert (
        "No submitted assessments in this cycle yet — the dashboard fills in as "
        "teams submit." in html
    )


def test_the_dashboard_filters_by_business_unit(client, lead, org, framework):
    teams = make_teams(org, 4)
    build_snapshot(organization=org, framework=framework, teams=teams)
    client.force_login(lead)
    retail = teams[0].parent
    response = client.get(dashboard_url(org), {"unit": retail.id})
    labels = chart_payload(response, "chart-heatmap")["data"][0]["y"]
    assert labels == ["Retail · Squad 0000", "Retail · Squad 0002"]


def test_the_dashboard_sorts_teams_by_a_capability(client, lead, org, framework):
    teams = make_teams(org, 3, unit_names=("Retail",))
    build_snapshot(organization=org, framework=framework, teams=teams)
    client.force_login(lead)
    response = client.get(dashboard_url(org), {"sort": "cap-1"})
    labels = chart_payload(response, "chart-heatmap")["data"][0]["y"]
    assert labels == [
        "Retail · Squad 0002",
        "Retail · Squad 0001",
        "Retail · Squad 0000",
    ]


def test_the_dashboard_says_updating_while_the_snapshot_is_stale(
    client, lead, org, cycle
):
    cycle.rollup.save()
    Cycle.objects.filter(pk=cycle.pk).update(scores_generation=2)
    client.force_login(lead)
    assert "Updating…" in client.get(dashboard_url(org)).content.decode()


@pytest.mark.parametrize("count", [10, 200])
def test_the_dashboard_query_count_does_not_grow_with_teams(
    client, lead, org, framework, count, django_assert_num_queries
):
    teams = make_teams(org, count)
    build_snapshot(organization=org, framework=framework, teams=teams)
    client.force_login(lead)
    # 13, 1 for the sections higher apps add (evidence: the measured questions)
    # and 1 for the disagreement of consensus teams (none here)
    with django_assert_num_queries(15):
        response = client.get(dashboard_url(org))
    data = response.context["data"]
    # above the limit the two business units stand for their teams
    assert data["teams_shown"] == (0 if data["aggregated"] else count)
    assert data["aggregated"] == (count > 50)


def test_the_cached_dashboard_reads_no_snapshot_rows(
    client, lead, org, cycle, django_assert_num_queries
):
    client.force_login(lead)
    client.get(dashboard_url(org))
    with django_assert_num_queries(7):  # 6, and evidence's measured questions
        client.get(dashboard_url(org))


def test_a_new_snapshot_rebuilds_the_cached_dashboard(client, lead, org, cycle):
    client.force_login(lead)
    client.get(dashboard_url(org))
    cycle.node_stats.filter(node__isnull=True).update(median=99)
    cycle.rollup.computed_generation = 2
    cycle.rollup.save()
    Cycle.objects.filter(pk=cycle.pk).update(scores_generation=2)
    response = client.get(dashboard_url(org))
    assert chart_payload(response, "chart-boxes")["data"][0]["median"] == [
        99,
        99,
    ]


# --- targets -------------------------------------------------------------------------


def targets_url(org):
    return reverse("benchmarks:targets", args=[org.slug])


def test_the_lead_sets_a_default_target(client, lead, org, cycle):
    client.force_login(lead)
    response = client.post(
        targets_url(org), {"percent-cap-0": "70", "level-cap-1": "walk"}, follow=True
    )
    assert TARGETS_SAVED_MSG in response.content.decode()
    targets = dict(
        Target.objects.filter(organization=org, team=None).values_list(
            "capability_key", "percent"
        )
    )
    assert targets == {"cap-0": 70, "cap-1": 50}
    assert AuditEvent.objects.filter(action="target.set").count() == 2


def test_the_lead_sets_a_team_override(client, lead, org, team_a, cycle):
    client.force_login(lead)
    client.post(targets_url(org), {"team": team_a.id, "percent-cap-0": "90"})
    target = Target.objects.get(organization=org, team=team_a)
    assert (target.capability_key, target.percent) == ("cap-0", 90)


def test_targets_out_of_range_show_the_error_next_to_the_field(
    client, lead, org, cycle
):
    client.force_login(lead)
    response = client.post(targets_url(org), {"percent-cap-0": "101"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="field-error" id="error-cap-0">{TARGET_RANGE_MSG}</p>' in html
    assert not Target.objects.exists()


@pytest.mark.parametrize("persona", ["respondent_a", "outsider_lead"])
def test_it_hides_targets_from_non_leads(client, request, persona, org, cycle):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(targets_url(org)).status_code == 404
    assert client.post(targets_url(org), {"percent-cap-0": "50"}).status_code == 404


# --- exports -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["export_team_scores", "export_rollup"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_lead_downloads_exports(client, lead, org, cycle, kind, fmt):
    client.force_login(lead)
    response = client.get(reverse(f"benchmarks:{kind}", args=[cycle.pk, fmt]))
    assert response.status_code == 200
    assert 'filename="org-one_2026-H1_' in response["Content-Disposition"]


@pytest.mark.parametrize("persona", ["respondent_a", "outsider_lead"])
@pytest.mark.parametrize("kind", ["export_team_scores", "export_rollup"])
def test_it_hides_exports_from_non_leads(client, request, persona, cycle, kind):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse(f"benchmarks:{kind}", args=[cycle.pk, "csv"]))
    assert response.status_code == 404


def test_it_refuses_unknown_export_formats(client, lead, cycle):
    client.force_login(lead)
    url = reverse("benchmarks:export_rollup", args=[cycle.pk, "pdf"])
    assert client.get(url).status_code == 404


def test_the_dashboard_home_opens_the_leads_organisation(client, lead, org):
    client.force_login(lead)
    response = client.get(reverse("benchmarks:dashboard_home"))
    assert response.status_code == 302
    assert response["Location"] == dashboard_url(org)


# --- with the real submit and roll-up ------------------------------------------------


def test_the_pages_read_what_the_rollup_writes(
    client, lead, respondent_a, org, framework, team_a, team_b
):
    from assessment.services import assessment_submit
    from assessment.tests.factories import answer_all, make_cycle
    from benchmarks.services import rollup_recompute

    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    for team, score, user in ((team_a, 1, respondent_a), (team_b, 3, lead)):
        assessment = Assessment.objects.get(cycle=cycle, team=team)
        answer_all(assessment, score=score)
        assessment_submit(assessment=assessment, user=user)
    rollup_recompute(cycle_id=cycle.id, force=True)

    client.force_login(lead)
    response = client.get(dashboard_url(org))
    heatmap = chart_payload(response, "chart-heatmap")["data"][0]
    assert heatmap["y"] == ["Retail · Team A", "Retail · Team B"]
    assert heatmap["z"] == [[25.0, 25.0], [75.0, 75.0]]
    boxes = chart_payload(response, "chart-boxes")["data"][0]
    assert (boxes["q1"], boxes["median"], boxes["q3"]) == (
        [37.5] * 2,
        [50] * 2,
        [62.5] * 2,
    )

    client.force_login(respondent_a)
    report = Assessment.objects.get(cycle=cycle, team=team_a)
    context = client.get(report_url(report)).context
    assert [row["level"] for row in context["grid"]] == ["Crawl", "Crawl"]
    assert context["charts"]["radar"]["rows"][0] == ["Capability 0", 25, 50, None]
    assert context["charts"]["percentile"]["rows"][0] == ["Capability 0", 25]


def test_the_dashboard_opens_the_newest_cycle_with_data(
    client, lead, org, framework, team_a, cycle
):
    from assessment.tests.factories import make_cycle

    newest = make_cycle(
        organization=org, framework=framework, teams=[team_a], name="2026 H2"
    )
    newest.opens_on = "2026-07-01"
    newest.save()
    client.force_login(lead)
    assert client.get(dashboard_url(org)).context["cycle"]["id"] == cycle.id
    html = client.get(dashboard_url(org), {"cycle": newest.id}).content.decode()
    assert "Not computed yet." in html
    assert "No submitted assessments in this cycle yet" in html


def _wait_until_fresh(cycle, timeout: float = 30) -> None:
    import time

    from benchmarks.models import RollupState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = RollupState.objects.filter(cycle=cycle).first()
        if state and state.computed_at and not state.is_stale:
            return
        time.sleep(0.1)
    pytest.fail(f"the roll-up did not catch up within {timeout} s")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_follows_submissions_rolled_up_by_a_worker(
    start_worker, client, lead, respondent_a, respondent_b, org, framework
):
    from assessment.models import Team
    from assessment.services import assessment_submit
    from assessment.tests.factories import answer_all, make_cycle

    teams = Team.objects.filter(name__in=["Team A", "Team B"]).order_by("name")
    cycle = make_cycle(organization=org, framework=framework, teams=list(teams))
    start_worker("dashboards")
    client.force_login(lead)
    for team, user, expected in (
        (teams[0], respondent_a, ["Retail · Team A"]),
        (teams[1], respondent_b, ["Retail · Team A", "Retail · Team B"]),
    ):
        assessment = Assessment.objects.get(cycle=cycle, team=team)
        answer_all(assessment, score=2)
        assessment_submit(assessment=assessment, user=user)
        _wait_until_fresh(cycle)
        response = client.get(dashboard_url(org))
        assert chart_payload(response, "chart-heatmap")["data"][0]["y"] == expected
        assert "Data computed" in response.content.decode()

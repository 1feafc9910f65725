"""Scores, benchmarks and targets over the API: anonymity for respondents, named
team scores for leads only, targets set and cleared by leads."""

import pytest

from assessment.models import Assessment, Target, Team
from assessment.services import assessment_submit
from assessment.targets import TARGET_RANGE_MSG
from assessment.tests.factories import answer_all, make_cycle
from benchmarks.anonymity import HIDDEN_GROUP_MSG
from benchmarks.services import rollup_recompute
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for

pytestmark = pytest.mark.django_db


def _submit(assessment, user, score):
    answer_all(assessment, score=score)
    assessment_submit(assessment=assessment, user=user)


@pytest.fixture
def rolled_up(api_cycle, assessment_a, assessment_b, respondent_a, respondent_b):
    """Teams A (score 2) and B (score 4) submitted; the roll-up computed."""
    _submit(assessment_a, respondent_a, 2)
    _submit(assessment_b, respondent_b, 4)
    rollup_recompute(cycle_id=api_cycle.pk, force=True)
    return api_cycle


def test_scores_show_percent_level_target_and_gap(
    respondent_a, org, rolled_up, assessment_a
):
    Target.objects.create(organization=org, capability_key="cap-0", percent=80)
    Target.objects.create(
        organization=org, team=assessment_a.team, capability_key="cap-0", percent=60
    )
    body = (
        client_for(respondent_a)
        .get(f"/api/v1/assessments/{assessment_a.pk}/scores/")
        .json()
    )
    assert body["count"] == 2
    first = body["results"][0]
    assert first["capability"] == "cap-0"
    assert first["percent"] == pytest.approx(50.0)
    assert first["score_20"] == pytest.approx(10.0)
    assert first["level"] == "walk"
    assert first["lens_scores"] == {
        "knowledge": 2.0,
        "process": 2.0,
        "metrics": 2.0,
        "adoption": 2.0,
        "automation": 2.0,
    }
    assert first["target"] == 60.0
    assert first["gap"] == pytest.approx(10.0)
    assert first["progress_to_target"] == pytest.approx(50 / 60 * 100)
    assert body["results"][1]["target"] is None


def test_another_teams_scores_answer_404_for_a_respondent(
    respondent_b, rolled_up, assessment_a
):
    response = client_for(respondent_b).get(
        f"/api/v1/assessments/{assessment_a.pk}/scores/"
    )
    assert response.status_code == 404


def test_a_lead_sees_the_organisations_benchmark(lead, rolled_up):
    body = client_for(lead).get(f"/api/v1/cycles/{rolled_up.pk}/benchmarks/").json()
    assert body["node"] is None
    assert body["hidden"] == []
    overall = [row for row in body["results"] if row["capability"] is None]
    assert overall[0]["n"] == 2
    assert overall[0]["median"] == pytest.approx(75.0)


def test_respondents_do_not_see_groups_below_the_anonymity_threshold(
    respondent_a, org, rolled_up
):
    org.anonymity_threshold = 3
    org.save()
    body = (
        client_for(respondent_a)
        .get(f"/api/v1/cycles/{rolled_up.pk}/benchmarks/")
        .json()
    )
    assert body["results"] == []
    assert body["count"] == 0
    reason = HIDDEN_GROUP_MSG.format(k=3, group="the organisation")
    assert body["hidden"] == [
        {"capability": None, "reason": reason},
        {"capability": "cap-0", "reason": reason},
        {"capability": "cap-1", "reason": reason},
    ] or sorted(body["hidden"], key=lambda h: h["capability"] or "") == [
        {"capability": None, "reason": reason},
        {"capability": "cap-0", "reason": reason},
        {"capability": "cap-1", "reason": reason},
    ]


def test_respondents_see_groups_at_the_threshold_without_team_names(
    respondent_a, rolled_up
):
    response = client_for(respondent_a).get(
        f"/api/v1/cycles/{rolled_up.pk}/benchmarks/"
    )
    body = response.json()
    assert body["hidden"] == []
    assert len(body["results"]) == 3
    assert "Team A" not in response.content.decode()
    assert "Team B" not in response.content.decode()


def test_a_respondent_cannot_ask_for_a_teams_node(respondent_a, rolled_up, team_b):
    response = client_for(respondent_a).get(
        f"/api/v1/cycles/{rolled_up.pk}/benchmarks/", {"node": team_b.pk}
    )
    assert response.status_code == 404


def test_a_respondent_may_ask_for_a_business_unit(
    respondent_a, rolled_up, business_unit
):
    body = (
        client_for(respondent_a)
        .get(f"/api/v1/cycles/{rolled_up.pk}/benchmarks/", {"node": business_unit.pk})
        .json()
    )
    assert body["node"] == business_unit.pk
    assert body["node_name"] == "Retail"


def test_a_node_that_is_not_a_number_answers_400(lead, rolled_up):
    response = client_for(lead).get(
        f"/api/v1/cycles/{rolled_up.pk}/benchmarks/", {"node": "retail"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "node": ["Give a business unit id, or leave node empty."]
    }


def test_another_organisations_benchmarks_answer_404(outsider_lead, rolled_up):
    response = client_for(outsider_lead).get(
        f"/api/v1/cycles/{rolled_up.pk}/benchmarks/"
    )
    assert response.status_code == 404


def test_leads_read_named_team_scores_filtered_by_business_unit(
    lead, org, rolled_up, business_unit
):
    client = client_for(lead)
    body = client.get(f"/api/v1/cycles/{rolled_up.pk}/team-scores/").json()
    assert body["count"] == 4
    assert {row["team_name"] for row in body["results"]} == {"Team A", "Team B"}
    other_unit = Team.objects.create(
        organization=org, name="Wholesale", kind=Team.Kind.BUSINESS_UNIT
    )
    empty = client.get(
        f"/api/v1/cycles/{rolled_up.pk}/team-scores/", {"business_unit": other_unit.pk}
    ).json()
    assert empty["count"] == 0
    retail = client.get(
        f"/api/v1/cycles/{rolled_up.pk}/team-scores/",
        {"business_unit": business_unit.pk, "capability": "cap-1"},
    ).json()
    assert retail["count"] == 2


def test_team_scores_issue_the_same_queries_for_10_or_50_teams(
    lead, org, framework, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(lead)
    client.get("/api/v1/assessments/")

    def submitted_cycle(n, name):
        teams = Team.objects.bulk_create(
            Team(organization=org, name=f"{name} {i}") for i in range(n)
        )
        cycle = make_cycle(
            organization=org, framework=framework, teams=teams, name=name
        )
        for assessment in Assessment.objects.filter(cycle=cycle):
            _submit(assessment, lead, 3)
        return cycle

    small = submitted_cycle(5, "Five")
    with CaptureQueriesContext(connection) as ten:
        body = client.get(f"/api/v1/cycles/{small.pk}/team-scores/").json()
    assert body["count"] == 10
    large = submitted_cycle(25, "Twenty-five")
    with django_assert_num_queries(len(ten)):
        body = client.get(f"/api/v1/cycles/{large.pk}/team-scores/").json()
    assert body["count"] == 50


def test_a_lead_sets_and_clears_a_target(lead, org, team_a, framework):
    client = client_for(lead)
    response = client.post(
        "/api/v1/targets/",
        {
            "organization": org.slug,
            "capability_key": "cap-0",
            "percent": 75,
            "team": team_a.pk,
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["percent"] == 75.0
    assert response.json()["team"] == team_a.pk
    target = Target.objects.get()
    assert client.delete(f"/api/v1/targets/{target.pk}/").status_code == 204
    assert not Target.objects.exists()


def test_a_target_out_of_range_is_refused(lead, org, framework):
    response = client_for(lead).post(
        "/api/v1/targets/",
        {"organization": org.slug, "capability_key": "cap-0", "percent": 250},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"percent": [TARGET_RANGE_MSG]}
    assert not Target.objects.exists()


def test_respondents_see_defaults_and_their_teams_targets_only(
    respondent_a, org, team_a, team_b
):
    Target.objects.create(organization=org, capability_key="cap-0", percent=70)
    mine = Target.objects.create(
        organization=org, team=team_a, capability_key="cap-0", percent=80
    )
    Target.objects.create(
        organization=org, team=team_b, capability_key="cap-0", percent=90
    )
    body = client_for(respondent_a).get("/api/v1/targets/").json()
    assert {(row["team"], row["percent"]) for row in body["results"]} == {
        (None, 70.0),
        (mine.team_id, 80.0),
    }

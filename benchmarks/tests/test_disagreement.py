"""Disagreement of consensus-mode teams in the roll-up snapshot, on the team
report and on the lead dashboard."""

import pandas as pd
import pytest
from django.urls import reverse

from assessment import consensus, services
from assessment.models import AnsweringMode
from assessment.tests.factories import make_assessment
from benchmarks import rollups
from benchmarks.models import DisagreementStat
from benchmarks.services import rollup_recompute
from capabilities.models import Question
from conftest import _member


def test_disagreement_stats_average_the_consensus_teams_per_node():
    scores = pd.DataFrame(
        {
            rollups.ASSESSMENT: [1, 1, 2, 2, 3, 3],
            rollups.TEAM: [10, 10, 11, 11, 12, 12],
            rollups.CAPABILITY: [5, 6, 5, 6, 5, 6],
            rollups.DISAGREEMENT: [2.0, 1.0, 0.0, None, None, None],
        }
    )
    tree = [(100, None), (10, 100), (11, 100), (12, None)]
    stats = rollups.disagreement_stats(scores, tree)
    org = stats[stats[rollups.NODE].isna()].set_index(rollups.CAPABILITY)
    assert org.loc[5, "teams"] == 2
    assert org.loc[5, "mean"] == pytest.approx(1.0)
    assert org.loc[5, "max"] == pytest.approx(2.0)
    assert org.loc[6, "teams"] == 1
    # overall per team: team 10 (2 + 1) / 2 = 1.5, team 11: 0.0
    overall = stats[stats[rollups.NODE].isna() & stats[rollups.CAPABILITY].isna()]
    assert overall["mean"].tolist() == [pytest.approx(0.75)]
    unit = stats[stats[rollups.NODE] == 100]
    assert set(unit["teams"]) == {1, 2}
    # team 12 (single mode, no figure) is nowhere
    assert rollups.disagreement_stats(scores.iloc[4:], tree).empty


@pytest.fixture
def submitted_consensus(db, org, team_a, framework, lead, respondent_a):
    """Team A's consensus assessment: three members, question 0 wide apart (0, 2,
    4), the rest one level apart at most; settled with the defaults (question 0 at
    2) and submitted."""
    carl = _member("carl", org, "respondent", team_a)
    dora = _member("dora", org, "respondent", team_a)
    assessment = make_assessment(team=team_a, framework=framework)
    consensus.cycle_mode_set(cycle=assessment.cycle, mode=AnsweringMode.CONSENSUS)
    assessment.refresh_from_db()
    questions = list(
        Question.objects.filter(capability__framework=framework)
        .order_by("capability__order", "order", "id")
        .prefetch_related("options")
    )
    for index, question in enumerate(questions):
        for who, user in enumerate((respondent_a, carl, dora)):
            score = (0, 2, 4)[who] if index == 0 else (2, 2, 3)[who]
            consensus.own_answer_record(
                assessment=assessment,
                question=question,
                user=user,
                option=next(o for o in question.options.all() if o.score == score),
                expected_version=0,
            )
    consensus.settle_defaults(assessment=assessment, user=lead)
    consensus.answer_settle(
        assessment=assessment,
        question=questions[0],
        user=lead,
        option=next(o for o in questions[0].options.all() if o.score == 2),
        note="talked it through",
    )
    services.assessment_submit(assessment=assessment, user=lead)
    rollup_recompute(cycle_id=assessment.cycle_id, force=True)
    return {"assessment": assessment, "questions": questions}


@pytest.mark.django_db
def test_the_snapshot_holds_the_disagreement(submitted_consensus, framework):
    assessment = submitted_consensus["assessment"]
    first = submitted_consensus["questions"][0]
    rows = {
        s.capability_id: s
        for s in DisagreementStat.objects.filter(
            cycle=assessment.cycle, node__isnull=True
        )
    }
    # capability of question 0: ranges (4, 1, 1, 1, 1) -> 1.6; the other: 1.0
    assert rows[first.capability_id].mean == pytest.approx(1.6)
    other = next(c for c in rows if c not in (None, first.capability_id))
    assert rows[other].mean == pytest.approx(1.0)
    assert rows[None].mean == pytest.approx(1.3)
    assert {r.teams for r in rows.values()} == {1}


@pytest.mark.django_db
def test_the_team_report_names_the_question_of_widest_disagreement(
    client, submitted_consensus, respondent_a
):
    client.force_login(respondent_a)
    assessment = submitted_consensus["assessment"]
    response = client.get(reverse("benchmarks:team_report", args=[assessment.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "The team disagreed most on:" in body
    section = body.split('data-testid="team-disagreement"')[1].split("</section>")[0]
    first = submitted_consensus["questions"][0].prompt
    assert section.index(first) < section.index("range 1")
    assert "scores 0, 2, 4; range 4" in section


@pytest.mark.django_db
def test_the_dashboard_lists_the_teams_and_capabilities_of_widest_spread(
    client, submitted_consensus, lead, org
):
    client.force_login(lead)
    response = client.get(
        reverse("benchmarks:org_dashboard", args=[org.slug]),
        {"cycle": submitted_consensus["assessment"].cycle_id},
    )
    data = response.context["data"]["disagreement"]
    assert [t["team"] for t in data["teams"]] == ["Team A"]
    assert data["teams"][0]["mean"] == pytest.approx(1.3)
    assert data["capabilities"][0]["mean"] == pytest.approx(1.6)
    assert 'data-testid="dashboard-disagreement"' in response.content.decode()


@pytest.mark.django_db
def test_the_benchmarks_api_gives_leads_the_disagreement(
    submitted_consensus, lead, respondent_a
):
    from tests.api_support import client_for

    url = f"/api/v1/cycles/{submitted_consensus['assessment'].cycle_id}/benchmarks/"
    lead_rows = client_for(lead).get(url).json()["disagreement"]
    assert {r["capability"] for r in lead_rows} >= {None}
    assert client_for(respondent_a).get(url).json()["disagreement"] == []
    scores = client_for(respondent_a).get(
        f"/api/v1/assessments/{submitted_consensus['assessment'].pk}/scores/"
    )
    assert sorted(r["disagreement"] for r in scores.json()["results"]) == [
        pytest.approx(1.0),
        pytest.approx(1.6),
    ]

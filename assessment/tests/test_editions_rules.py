"""The per-question and per-level rules of v2 content on every path: the level rule
(minimum lens scores) in the one scoring path, N/A with a required reason, and the
audience rule (central questions answered by the central team only)."""

import pandas as pd
import pytest

from assessment import scoring, services
from assessment.exceptions import IncompleteAssessment
from assessment.models import Answer, Assessment, CapabilityScore, Team
from assessment.selectors import assessment_progress, cycle_completion
from assessment.tests.factories import make_cycle
from benchmarks.services import rollup_compute
from capabilities.models import Framework, MaturityLevel, Question
from capabilities.tests.factories import make_framework
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for

pytestmark = pytest.mark.django_db

LEVELS = [
    ("not_started", 0, None),
    ("crawl", 25, None),
    ("walk", 50, 1),
    ("run", 75, 3),
]


# --- the level rule, pure ------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "lowest", "level"),
    [
        (80, 4, "run"),
        (80, 3, "run"),
        (80, 2.5, "walk"),  # run asks every lens >= 3
        (80, 0, "crawl"),  # a lens at 0 caps at crawl (walk asks >= 1)
        (60, 1, "walk"),
        (60, 0.5, "crawl"),
        (10, 0, "not_started"),
        (80, None, "run"),  # nothing to check the rule against
    ],
)
def test_level_for_applies_the_minimum_lens_score(percent, lowest, level):
    assert scoring.level_for(percent, LEVELS, lowest) == level
    assert scoring.levels_of(
        pd.Series([float(percent)]),
        LEVELS,
        pd.Series([float("nan") if lowest is None else float(lowest)]),
    ).tolist() == [level]


def test_capability_scores_apply_the_level_rule_over_the_lenses_that_weigh():
    rows = [
        # assessment 1: four lenses at 4, automation at 0 -> 80 % but crawl
        *[(1, 10, lens, 100 + i, 1.0, 4.0, False) for i, lens in enumerate("abcd")],
        (1, 10, "e", 105, 1.0, 0.0, False),
        # assessment 2: every lens at 3.2 on average -> 80 % and run
        *[(2, 10, lens, 200 + i, 1.0, 3.0, False) for i, lens in enumerate("abcd")],
        (2, 10, "e", 205, 1.0, 4.0, False),
    ]
    answers = pd.DataFrame(rows, columns=scoring.ANSWER_COLUMNS)
    weights = dict.fromkeys("abcde", 20.0)
    frame = scoring.capability_scores(answers, weights, LEVELS)
    assert frame[scoring.PERCENT].tolist() == [80.0, 80.0]
    assert frame[scoring.LEVEL].tolist() == ["crawl", "run"]
    # A lens that weighs nothing in the cycle does not cap the level.
    frame = scoring.capability_scores(answers, {**weights, "e": 0.0}, LEVELS)
    assert frame[scoring.LEVEL].tolist() == ["run", "run"]


# --- content for the service, page and API tests -----------------------------------


def _v2_framework():
    """A published framework with a level rule, an N/A reason catalogue and one
    central question (cap-0's process question)."""
    framework = make_framework(slug="rules", capabilities=2)
    MaturityLevel.objects.filter(framework=framework, key="walk").update(
        min_lens_score=1
    )
    MaturityLevel.objects.filter(framework=framework, key="run").update(
        min_lens_score=3
    )
    Framework.objects.filter(pk=framework.pk).update(
        na_reasons=[
            {"key": "not_in_scope", "label": "Not in this team's scope"},
            {"key": "no_such_spend", "label": "No spend of this kind"},
        ]
    )
    Question.objects.filter(
        capability__framework=framework, key="cap-0-process-0"
    ).update(audience="central")
    Question.objects.filter(
        capability__framework=framework, key="cap-1-metrics-0"
    ).update(allow_na=True, na_reasons=["no_such_spend"])
    Framework.objects.filter(pk=framework.pk).update(status="published")
    framework.refresh_from_db()
    return framework


@pytest.fixture
def v2(db):
    return _v2_framework()


@pytest.fixture
def central_team(org):
    team = Team.objects.create(organization=org, name="Central FinOps")
    org.central_team = team
    org.save(update_fields=["central_team"])
    return team


@pytest.fixture
def cycle(org, v2, team_a, team_b, central_team):
    return make_cycle(
        organization=org, framework=v2, teams=[team_a, team_b, central_team]
    )


def _answer(assessment, key, score=None, user=None, **kwargs):
    question = Question.objects.get(
        capability__framework=assessment.cycle.framework, key=key
    )
    option = question.options.get(score=score) if score is not None else None
    current = Answer.objects.filter(assessment=assessment, question=question).first()
    return services.answer_record(
        assessment=assessment,
        question=question,
        user=user,
        option=option,
        expected_version=current.version if current else 0,
        **kwargs,
    )


def _answer_all(assessment, score=2, overrides=None, skip=(), central=False):
    questions = Question.objects.filter(
        capability__framework=assessment.cycle.framework
    ).order_by("capability__order", "order")
    for question in questions:
        if question.key in skip or (question.audience == "central" and not central):
            continue
        _answer(assessment, question.key, (overrides or {}).get(question.key, score))


def _assessment(cycle, team):
    return Assessment.objects.select_related("cycle", "team").get(
        cycle=cycle, team=team
    )


# --- the level rule through the stored scores (page, API and roll-up read them) ----


def test_submit_stores_levels_capped_by_a_low_lens(
    cycle, team_a, business_unit, respondent_a
):
    assessment = _assessment(cycle, team_a)
    # cap-1: four lenses at 4, automation at 0 = 80 %, capped at crawl by walk's rule
    _answer_all(
        assessment,
        score=4,
        overrides={"cap-1-automation-0": 0},
    )
    services.assessment_submit(assessment=assessment, user=respondent_a)
    scores = {
        s.capability.key: s
        for s in CapabilityScore.objects.filter(assessment=assessment).select_related(
            "capability"
        )
    }
    assert scores["cap-1"].percent == pytest.approx(80.0)
    assert scores["cap-1"].level_key == "crawl"
    assert scores["cap-0"].level_key == "run"

    # The API gives the stored level.
    response = client_for(respondent_a).get(
        f"/api/v1/assessments/{assessment.pk}/scores/"
    )
    assert response.status_code == 200
    body = response.json()
    by_key = {row["capability"]: row for row in body["results"]}
    assert by_key["cap-1"]["level"] == "crawl"
    assert by_key["cap-0"]["level"] == "run"

    # The roll-up counts the team at crawl for cap-1 in its business unit.
    snapshot = rollup_compute(cycle=cycle)
    stats = snapshot.node_stats
    cap1 = scores["cap-1"].capability_id
    row = stats[
        (stats["node_id"] == business_unit.pk) & (stats["capability_id"] == cap1)
    ]
    assert row["level_counts"].iloc[0] == {"crawl": 1}


# --- N/A with a required reason -------------------------------------------------------


def test_na_needs_a_reason_of_the_question(cycle, team_a, respondent_a):
    assessment = _assessment(cycle, team_a)
    with pytest.raises(services.ValidationError) as caught:
        _answer(assessment, "cap-1-metrics-0", not_applicable=True)
    assert caught.value.message_dict == {"na_reason": [services.NA_REASON_REQUIRED_MSG]}
    with pytest.raises(services.ValidationError) as caught:
        _answer(
            assessment, "cap-1-metrics-0", not_applicable=True, na_reason="not_in_scope"
        )
    assert caught.value.message_dict == {"na_reason": [services.NA_REASON_UNKNOWN_MSG]}
    assert not Answer.objects.filter(assessment=assessment).exists()
    answer = _answer(
        assessment, "cap-1-metrics-0", not_applicable=True, na_reason="no_such_spend"
    )
    assert (answer.not_applicable, answer.na_reason) == (True, "no_such_spend")
    # An option clears the reason.
    answer = _answer(assessment, "cap-1-metrics-0", score=2)
    assert answer.na_reason == ""


def test_na_reason_through_the_api(cycle, team_a, respondent_a):
    assessment = _assessment(cycle, team_a)
    url = f"/api/v1/assessments/{assessment.pk}/answers/cap-1-metrics-0/"
    client = client_for(respondent_a)
    response = client.put(url, {"not_applicable": True, "version": 0}, format="json")
    assert response.status_code == 400
    assert response.json() == {"na_reason": [services.NA_REASON_REQUIRED_MSG]}
    assert not Answer.objects.filter(assessment=assessment).exists()
    response = client.put(
        url,
        {"not_applicable": True, "na_reason": "no_such_spend", "version": 0},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["na_reason"] == "no_such_spend"


def test_na_reason_through_the_page_autosave(client, cycle, team_a, respondent_a):
    assessment = _assessment(cycle, team_a)
    question = Question.objects.get(
        capability__framework=cycle.framework, key="cap-1-metrics-0"
    )
    client.force_login(respondent_a)
    url = f"/assessments/{assessment.pk}/answers/{question.pk}/"
    response = client.post(
        url,
        {"not_applicable": True, "expected_version": 0},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"na_reason": [services.NA_REASON_REQUIRED_MSG]}
    response = client.post(
        url,
        {"not_applicable": True, "na_reason": "no_such_spend", "expected_version": 0},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Answer.objects.get(assessment=assessment).na_reason == "no_such_spend"
    page = client.get(f"/assessments/{assessment.pk}/c/cap-1/")
    html = page.content.decode()
    assert f'name="q-{question.pk}-na-reason"' in html
    assert "No spend of this kind" in html
    assert "Not in this team" not in html  # not a reason this question offers


def test_v1_content_keeps_na_without_a_reason(org, framework, team_a):
    Framework.objects.filter(pk=framework.pk).update(status="draft")
    Question.objects.filter(
        capability__framework=framework, key="cap-0-metrics-0"
    ).update(allow_na=True)
    Framework.objects.filter(pk=framework.pk).update(status="published")
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a])
    answer = _answer(_assessment(cycle, team_a), "cap-0-metrics-0", not_applicable=True)
    assert (answer.not_applicable, answer.na_reason) == (True, "")


# --- the audience rule ---------------------------------------------------------------


def test_a_team_never_answers_a_central_question(cycle, team_a, respondent_a):
    assessment = _assessment(cycle, team_a)
    with pytest.raises(services.ValidationError) as caught:
        _answer(assessment, "cap-0-process-0", score=3)
    assert caught.value.message_dict == {"question": [services.CENTRAL_QUESTION_MSG]}
    response = client_for(respondent_a).put(
        f"/api/v1/assessments/{assessment.pk}/answers/cap-0-process-0/",
        {"option_score": 3, "version": 0},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"question": [services.CENTRAL_QUESTION_MSG]}
    assert not Answer.objects.filter(assessment=assessment).exists()


def test_central_questions_are_left_out_of_team_completion_and_scores(
    cycle, team_a, central_team, respondent_a
):
    assessment = _assessment(cycle, team_a)
    central = _assessment(cycle, central_team)
    progress = assessment_progress(assessment=assessment)
    assert progress["total"] == 9
    assert assessment_progress(assessment=central)["total"] == 10
    board = {row["team_name"]: row for row in cycle_completion(cycle=cycle)}
    assert board["Team A"]["total"] == 9
    assert board["Central FinOps"]["total"] == 10

    # The central team answers its question at 0: teams' scores do not move.
    _answer(central, "cap-0-process-0", score=0)
    _answer_all(assessment, score=4)
    assert assessment_progress(assessment=assessment)["complete"] is True
    services.assessment_submit(assessment=assessment, user=respondent_a)
    team_scores = {
        s.capability.key: s
        for s in CapabilityScore.objects.filter(assessment=assessment).select_related(
            "capability"
        )
    }
    assert (team_scores["cap-0"].percent, team_scores["cap-0"].total) == (100.0, 4)
    assert team_scores["cap-0"].level_key == "run"

    # The central team must answer everything, its central question included.
    _answer_all(central, score=4, central=False)
    Answer.objects.filter(assessment=central, question__key="cap-0-process-0").delete()
    with pytest.raises(IncompleteAssessment):
        services.assessment_submit(assessment=central, user=None)
    _answer(central, "cap-0-process-0", score=0)
    services.assessment_submit(assessment=central, user=None)
    central_scores = {
        s.capability.key: s
        for s in CapabilityScore.objects.filter(assessment=central).select_related(
            "capability"
        )
    }
    assert central_scores["cap-0"].total == 5
    assert central_scores["cap-0"].percent == pytest.approx(80.0)
    # process at 0 caps the central function's cap-0 at crawl (walk needs >= 1)
    assert central_scores["cap-0"].level_key == "crawl"


def test_the_team_questionnaire_shows_the_central_answer_read_only(
    client, cycle, team_a, central_team, respondent_a
):
    central = _assessment(cycle, central_team)
    _answer(central, "cap-0-process-0", score=3)
    assessment = _assessment(cycle, team_a)
    client.force_login(respondent_a)
    page = client.get(f"/assessments/{assessment.pk}/c/cap-0/")
    html = page.content.decode()
    question = Question.objects.get(
        capability__framework=cycle.framework, key="cap-0-process-0"
    )
    assert page.status_code == 200
    assert f'id="question-{question.pk}"' in html
    assert f'name="q-{question.pk}-choice"' not in html  # nothing to answer
    assert "Central answer:</strong> 3" in html
    assert "4 of 9" in html or "of 9 questions" in html


def test_the_api_progress_leaves_central_questions_out(cycle, team_a, respondent_a):
    assessment = _assessment(cycle, team_a)
    response = client_for(respondent_a).get(f"/api/v1/assessments/{assessment.pk}/")
    assert response.json()["progress"]["total"] == 9
    listing = client_for(respondent_a).get("/api/v1/assessments/")
    rows = {row["id"]: row for row in listing.json()["results"]}
    assert rows[assessment.pk]["progress"]["total"] == 9

"""The assessment API: answers, submit/reopen, cycles, teams, memberships; bad input
answers 4xx with a clear body and changes nothing."""

import pytest
from django.contrib.auth import get_user_model

from assessment import answer_refs, services
from assessment.answer_refs import AMBIGUOUS_QUESTION_MSG, NO_OPTION_WITH_SCORE_MSG
from assessment.api.common import NO_SUCH_TEAM_MSG, NOT_LEAD_MSG
from assessment.cycles import CYCLE_NAME_TAKEN_MSG, TEAMS_OTHER_ORG_MSG
from assessment.exceptions import ANSWER_CONFLICT_MSG, INCOMPLETE_ASSESSMENT_MSG
from assessment.models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentReopen,
    Cycle,
    Team,
)
from assessment.organizations import NO_USER_MSG
from assessment.tests.factories import answer_all, make_cycle
from capabilities.models import AnswerOption, Question
from finops_portal.api import UNKNOWN_FIELDS_MSG
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for

pytestmark = pytest.mark.django_db

Q_KEY = "cap-0-knowledge-0"


def answer_url(assessment, question=Q_KEY):
    return f"/api/v1/assessments/{assessment.pk}/answers/{question}/"


def bulk_url(assessment):
    return f"/api/v1/assessments/{assessment.pk}/answers/bulk/"


def snapshot(assessment):
    """Everything an answer write could change."""
    assessment.refresh_from_db()
    return (
        list(Answer.objects.filter(assessment=assessment).values()),
        AnswerChange.objects.count(),
        assessment.status,
    )


# --- answers ------------------------------------------------------------------------


def test_it_saves_an_answer_by_score_and_returns_the_new_version(
    respondent_a, assessment_a
):
    response = client_for(respondent_a).put(
        answer_url(assessment_a),
        {"option_score": 3, "comment": "Weekly review", "version": 0},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["option_score"] == 3
    assert body["version"] == 1
    assert body["comment"] == "Weekly review"
    assert body["answered_by"] == "alice"
    answer = Answer.objects.get(assessment=assessment_a)
    assert answer.option.score == 3


def test_it_saves_an_answer_by_question_id_and_option_id(respondent_a, assessment_a):
    question = Question.objects.get(key=Q_KEY)
    option = question.options.get(score=1)
    response = client_for(respondent_a).put(
        answer_url(assessment_a, question.pk),
        {"option_id": option.pk, "version": 0},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["option_id"] == option.pk


def test_a_stale_version_answers_409_with_the_current_answer(
    respondent_a, respondent_b, lead, assessment_a
):
    client = client_for(respondent_a)
    client.put(
        answer_url(assessment_a), {"option_score": 2, "version": 0}, format="json"
    )
    client_for(lead).put(
        answer_url(assessment_a), {"option_score": 4, "version": 1}, format="json"
    )
    before = snapshot(assessment_a)
    response = client.put(
        answer_url(assessment_a), {"option_score": 1, "version": 1}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == ANSWER_CONFLICT_MSG
    assert body["current"]["option_score"] == 4
    assert body["current"]["version"] == 2
    assert body["current"]["answered_by"] == "lena"
    assert snapshot(assessment_a) == before


def test_it_reads_an_unanswered_question_as_version_0(respondent_a, assessment_a):
    response = client_for(respondent_a).get(answer_url(assessment_a))
    assert response.status_code == 200
    assert response.json()["version"] == 0
    assert response.json()["id"] is None


def test_an_option_of_another_question_is_refused(respondent_a, assessment_a):
    other = AnswerOption.objects.get(question__key="cap-1-process-0", score=2)
    before = snapshot(assessment_a)
    response = client_for(respondent_a).put(
        answer_url(assessment_a), {"option_id": other.pk, "version": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "option": [services.OPTION_OF_OTHER_QUESTION_MSG],
    }
    assert snapshot(assessment_a) == before


def test_an_unknown_option_id_is_refused(respondent_a, assessment_a):
    response = client_for(respondent_a).put(
        answer_url(assessment_a), {"option_id": 987654, "version": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"option_id": [answer_refs.OPTION_UNKNOWN_MSG]}


def test_a_score_without_an_option_is_refused(respondent_a, assessment_a):
    AnswerOption.objects.filter(question__key=Q_KEY, score=4).delete()
    response = client_for(respondent_a).put(
        answer_url(assessment_a), {"option_score": 4, "version": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "option_score": [NO_OPTION_WITH_SCORE_MSG.format(score=4)]
    }


def test_unknown_fields_are_refused_and_named(respondent_a, assessment_a):
    response = client_for(respondent_a).put(
        answer_url(assessment_a),
        {"option_score": 2, "version": 0, "score": 2, "colour": "red"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "colour": [UNKNOWN_FIELDS_MSG],
        "score": [UNKNOWN_FIELDS_MSG],
    }
    assert not Answer.objects.exists()


def test_wrong_types_are_refused_per_field(respondent_a, assessment_a):
    response = client_for(respondent_a).put(
        answer_url(assessment_a),
        {"option_score": "high", "version": "one", "not_applicable": "perhaps"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "option_score": ["A valid integer is required."],
        "not_applicable": ["Must be a valid boolean."],
        "version": ["A valid integer is required."],
    }


def test_a_missing_version_is_refused(respondent_a, assessment_a):
    response = client_for(respondent_a).put(
        answer_url(assessment_a), {"option_score": 2}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"version": ["This field is required."]}


def test_malformed_json_answers_400(respondent_a, assessment_a):
    response = client_for(respondent_a).put(
        answer_url(assessment_a), '{"option_score": 2,', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_a_json_list_instead_of_an_object_answers_400(respondent_a, assessment_a):
    response = client_for(respondent_a).put(
        answer_url(assessment_a), [1, 2], format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


def test_an_unknown_question_answers_404(respondent_a, assessment_a):
    response = client_for(respondent_a).put(
        answer_url(assessment_a, "no-such-question"),
        {"option_score": 2, "version": 0},
        format="json",
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_question_of_another_framework_answers_404(
    respondent_a, assessment_a, other_assessment
):
    from capabilities.tests.factories import make_framework

    other_fw = make_framework(slug="other-fw", publish=True)
    question = Question.objects.filter(capability__framework=other_fw).first()
    response = client_for(respondent_a).put(
        answer_url(assessment_a, question.pk),
        {"option_score": 2, "version": 0},
        format="json",
    )
    assert response.status_code == 404


def test_a_key_shared_by_two_capabilities_asks_for_the_id(respondent_a, assessment_a):
    Question.objects.filter(key="cap-1-knowledge-0").update(key=Q_KEY)
    response = client_for(respondent_a).get(answer_url(assessment_a))
    assert response.status_code == 400
    assert response.json() == {"question": [AMBIGUOUS_QUESTION_MSG]}


def test_another_organisations_assessment_answers_404(
    respondent_a, lead, other_assessment
):
    for user in (respondent_a, lead):
        response = client_for(user).put(
            answer_url(other_assessment),
            {"option_score": 2, "version": 0},
            format="json",
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert not Answer.objects.exists()


def test_writes_to_a_submitted_assessment_are_refused(respondent_a, assessment_a):
    Assessment.objects.filter(pk=assessment_a.pk).update(
        status=Assessment.Status.SUBMITTED
    )
    before = snapshot(assessment_a)
    response = client_for(respondent_a).put(
        answer_url(assessment_a), {"option_score": 2, "version": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"assessment": [services.ASSESSMENT_SUBMITTED_MSG]}
    assert snapshot(assessment_a) == before


def test_writes_to_a_closed_cycle_are_refused(respondent_a, assessment_a):
    Cycle.objects.filter(pk=assessment_a.cycle_id).update(status=Cycle.Status.CLOSED)
    before = snapshot(assessment_a)
    response = client_for(respondent_a).post(
        bulk_url(assessment_a),
        {"items": [{"question": Q_KEY, "option_score": 2, "version": 0}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"assessment": [services.CYCLE_NOT_OPEN_MSG]}
    assert snapshot(assessment_a) == before


def test_bulk_records_every_answer(respondent_a, assessment_a):
    items = [
        {"question": q.key, "option_score": 2, "version": 0}
        for q in Question.objects.filter(capability__key="cap-0")
    ]
    response = client_for(respondent_a).post(
        bulk_url(assessment_a), {"items": items}, format="json"
    )
    assert response.status_code == 200
    assert [a["version"] for a in response.json()["answers"]] == [1] * len(items)
    assert Answer.objects.filter(assessment=assessment_a).count() == len(items)


def test_bulk_is_all_or_nothing(respondent_a, assessment_a):
    before = snapshot(assessment_a)
    response = client_for(respondent_a).post(
        bulk_url(assessment_a),
        {
            "items": [
                {"question": Q_KEY, "option_score": 2, "version": 0},
                {"question": "cap-0-process-0", "option_score": 9, "version": 0},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "items[1].option_score": ["Ensure this value is less than or equal to 4."]
    }
    response = client_for(respondent_a).post(
        bulk_url(assessment_a),
        {
            "items": [
                {"question": Q_KEY, "option_score": 2, "version": 0},
                {"question": "cap-0-process-0", "not_applicable": True, "version": 0},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"items[1].not_applicable": [services.NA_NOT_ALLOWED_MSG]}
    assert snapshot(assessment_a) == before


def test_bulk_names_an_unknown_question(respondent_a, assessment_a):
    response = client_for(respondent_a).post(
        bulk_url(assessment_a),
        {"items": [{"question": "nope", "option_score": 2, "version": 0}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "items[0].question": ["No such question in this assessment's framework."]
    }


def test_bulk_with_a_stale_version_changes_nothing(respondent_a, assessment_a):
    client = client_for(respondent_a)
    client.put(
        answer_url(assessment_a), {"option_score": 2, "version": 0}, format="json"
    )
    before = snapshot(assessment_a)
    response = client.post(
        bulk_url(assessment_a),
        {
            "items": [
                {"question": "cap-0-process-0", "option_score": 1, "version": 0},
                {"question": Q_KEY, "option_score": 3, "version": 0},
            ]
        },
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["current"]["version"] == 1
    assert snapshot(assessment_a) == before


def test_the_history_lists_changes_newest_first(respondent_a, lead, assessment_a):
    client_for(respondent_a).put(
        answer_url(assessment_a), {"option_score": 1, "version": 0}, format="json"
    )
    client_for(lead).put(
        answer_url(assessment_a), {"option_score": 3, "version": 1}, format="json"
    )
    response = client_for(respondent_a).get(answer_url(assessment_a) + "history/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(c["version"], c["changed_by"]) for c in body["results"]] == [
        (2, "lena"),
        (1, "alice"),
    ]
    assert body["results"][0]["old"]["option_score"] == 1
    assert body["results"][0]["new"]["option_score"] == 3


def test_user_text_comes_back_as_plain_json(respondent_a, assessment_a):
    text = "<script>alert(1)</script>"
    client_for(respondent_a).put(
        answer_url(assessment_a), {"comment": text, "version": 0}, format="json"
    )
    response = client_for(respondent_a).get(answer_url(assessment_a))
    assert response["Content-Type"] == "application/json"
    assert response.json()["comment"] == text


# --- submit and reopen --------------------------------------------------------------


def test_submit_lists_what_is_missing(respondent_a, assessment_a):
    answer_all(assessment_a, skip=2)
    response = client_for(respondent_a).post(
        f"/api/v1/assessments/{assessment_a.pk}/submit/"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": INCOMPLETE_ASSESSMENT_MSG.format(count=2),
        "missing": [
            {
                "capability": "cap-1",
                "questions": ["cap-1-adoption-0", "cap-1-automation-0"],
            }
        ],
    }
    assessment_a.refresh_from_db()
    assert assessment_a.status != Assessment.Status.SUBMITTED


def test_submit_then_reopen_by_a_lead(respondent_a, lead, assessment_a):
    answer_all(assessment_a)
    response = client_for(respondent_a).post(
        f"/api/v1/assessments/{assessment_a.pk}/submit/"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    assert response.json()["progress"]["complete"] is True
    refused = client_for(respondent_a).post(
        f"/api/v1/assessments/{assessment_a.pk}/reopen/",
        {"reason": "typo"},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json() == {"detail": NOT_LEAD_MSG}
    response = client_for(lead).post(
        f"/api/v1/assessments/{assessment_a.pk}/reopen/",
        {"reason": "Answered for the wrong team."},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    assert AssessmentReopen.objects.get().reason == "Answered for the wrong team."


def test_reopen_needs_a_reason(lead, assessment_a):
    Assessment.objects.filter(pk=assessment_a.pk).update(
        status=Assessment.Status.SUBMITTED
    )
    response = client_for(lead).post(
        f"/api/v1/assessments/{assessment_a.pk}/reopen/",
        {"reason": "   "},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"reason": [services.REOPEN_REASON_REQUIRED_MSG]}
    assert not AssessmentReopen.objects.exists()


# --- lists --------------------------------------------------------------------------


def test_a_respondent_lists_only_their_teams_assessments(
    respondent_a, lead, assessment_a, assessment_b, other_assessment
):
    mine = client_for(respondent_a).get("/api/v1/assessments/").json()
    assert [a["id"] for a in mine["results"]] == [assessment_a.pk]
    leads = client_for(lead).get("/api/v1/assessments/").json()
    assert {a["id"] for a in leads["results"]} == {assessment_a.pk, assessment_b.pk}


def test_assessments_filter_by_status_and_team(lead, assessment_a, assessment_b):
    answer_all(assessment_a)
    Assessment.objects.filter(pk=assessment_a.pk).update(
        status=Assessment.Status.SUBMITTED
    )
    client = client_for(lead)
    submitted = client.get("/api/v1/assessments/", {"status": "submitted"}).json()
    assert [a["id"] for a in submitted["results"]] == [assessment_a.pk]
    assert submitted["results"][0]["progress"] == {
        "answered": 10,
        "total": 10,
        "percent": 100,
    }
    by_team = client.get("/api/v1/assessments/", {"team": assessment_b.team_id}).json()
    assert [a["id"] for a in by_team["results"]] == [assessment_b.pk]
    bad = client.get("/api/v1/assessments/", {"status": "done"})
    assert bad.status_code == 400
    assert bad.json() == {
        "status": ["Select a valid choice. done is not one of the available choices."]
    }


def test_a_huge_page_size_is_clamped(lead, org, framework):
    teams = Team.objects.bulk_create(
        Team(organization=org, name=f"T{i:03}") for i in range(210)
    )
    make_cycle(organization=org, framework=framework, teams=teams)
    body = client_for(lead).get("/api/v1/assessments/", {"page_size": 10**9}).json()
    assert body["count"] == 210
    assert len(body["results"]) == 200
    assert "page=2" in body["next"]
    assert body["previous"] is None


def test_an_out_of_range_page_answers_404(lead, assessment_a):
    response = client_for(lead).get("/api/v1/assessments/", {"page": 99})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def _cycle_with_teams(org, framework, n, name):
    teams = Team.objects.bulk_create(
        Team(organization=org, name=f"{name} {i:03}") for i in range(n)
    )
    cycle = make_cycle(organization=org, framework=framework, teams=teams, name=name)
    for assessment in cycle.assessments.all()[:3]:
        answer_all(assessment, skip=1)
    return cycle


def test_listing_assessments_issues_the_same_queries_for_10_or_50(
    lead, org, framework, django_assert_num_queries
):
    client = client_for(lead)
    client.get("/api/v1/assessments/")  # warm the token's last_used_at
    small = _cycle_with_teams(org, framework, 10, "Small")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ten:
        response = client.get("/api/v1/assessments/", {"cycle": small.pk})
    assert response.json()["count"] == 10
    large = _cycle_with_teams(org, framework, 50, "Large")
    with django_assert_num_queries(len(ten)):
        response = client.get("/api/v1/assessments/", {"cycle": large.pk})
    assert response.json()["count"] == 50


def test_listing_answers_issues_the_same_queries_for_10_or_50(
    lead, org, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from capabilities.tests.factories import make_framework

    client = client_for(lead)
    small_fw = make_framework(slug="small", capabilities=2, publish=True)
    large_fw = make_framework(slug="large", capabilities=10, publish=True)
    team = Team.objects.create(organization=org, name="Counted")
    small = make_cycle(organization=org, framework=small_fw, teams=[team], name="S")
    large = make_cycle(organization=org, framework=large_fw, teams=[team], name="L")
    small_a, large_a = small.assessments.get(), large.assessments.get()
    answer_all(small_a)
    answer_all(large_a)
    client.get("/api/v1/assessments/")
    with CaptureQueriesContext(connection) as ten:
        body = client.get(f"/api/v1/assessments/{small_a.pk}/answers/").json()
    assert body["count"] == 10
    with django_assert_num_queries(len(ten)):
        body = client.get(f"/api/v1/assessments/{large_a.pk}/answers/").json()
    assert body["count"] == 50


# --- cycles, teams, memberships -----------------------------------------------------


def test_a_lead_plans_opens_and_closes_a_cycle(lead, org, framework, team_a, team_b):
    client = client_for(lead)
    response = client.post(
        "/api/v1/cycles/",
        {
            "organization": org.slug,
            "framework": framework.pk,
            "name": "2027 H1",
            "teams": [team_a.pk],
        },
        format="json",
    )
    assert response.status_code == 201
    cycle_id = response.json()["id"]
    assert response.json()["status"] == "planned"
    assert response.json()["teams"] == [team_a.pk]
    opened = client.post(f"/api/v1/cycles/{cycle_id}/open/")
    assert opened.json()["status"] == "open"
    assert Assessment.objects.filter(cycle_id=cycle_id).count() == 1
    closed = client.post(f"/api/v1/cycles/{cycle_id}/close/")
    assert closed.json()["status"] == "closed"


def test_a_duplicate_cycle_name_is_refused(lead, org, framework, api_cycle):
    response = client_for(lead).post(
        "/api/v1/cycles/",
        {"organization": org.slug, "framework": framework.pk, "name": api_cycle.name},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "name": [CYCLE_NAME_TAKEN_MSG.format(name=api_cycle.name)]
    }


def test_a_cycle_for_another_organisation_answers_404(lead, other_org, framework):
    response = client_for(lead).post(
        "/api/v1/cycles/",
        {"organization": other_org.slug, "framework": framework.pk, "name": "X"},
        format="json",
    )
    assert response.status_code == 404
    assert not Cycle.objects.filter(name="X").exists()


def test_teams_of_another_organisation_cannot_be_used_as_parent(lead, org, other_team):
    response = client_for(lead).post(
        "/api/v1/teams/",
        {"organization": org.slug, "name": "Sneaky", "parent": other_team.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"parent": [NO_SUCH_TEAM_MSG]}
    assert not Team.objects.filter(name="Sneaky").exists()


def test_the_team_tree_lists_units_before_their_teams(lead, org, team_a, team_b):
    body = (
        client_for(lead).get("/api/v1/teams/tree/", {"organization": org.slug}).json()
    )
    assert [(n["name"], n["depth"]) for n in body["results"]] == [
        ("Retail", 0),
        ("Team A", 1),
        ("Team B", 1),
    ]


def test_a_lead_adds_a_member_by_username(lead, org, team_a):
    get_user_model().objects.create_user("carol", password="x")
    response = client_for(lead).post(
        "/api/v1/memberships/",
        {
            "organization": org.slug,
            "user": "carol",
            "role": "respondent",
            "team": team_a.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["user"] == "carol"
    assert response.json()["team"] == team_a.pk


def test_an_unknown_user_is_named_under_the_user_field(lead, org, team_a):
    response = client_for(lead).post(
        "/api/v1/memberships/",
        {
            "organization": org.slug,
            "user": "nobody",
            "role": "respondent",
            "team": team_a.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"user": [NO_USER_MSG]}


def test_teams_of_another_organisation_are_refused_in_a_cycle(
    lead, org, framework, other_team
):
    response = client_for(lead).post(
        "/api/v1/cycles/",
        {
            "organization": org.slug,
            "framework": framework.pk,
            "name": "Mixed",
            "teams": [other_team.pk],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"teams": [TEAMS_OTHER_ORG_MSG]}
    assert not Cycle.objects.filter(name="Mixed").exists()


def test_a_version_for_a_missing_answer_is_a_conflict_with_no_current(
    respondent_a, assessment_a
):
    response = client_for(respondent_a).put(
        answer_url(assessment_a), {"option_score": 2, "version": 3}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {"detail": ANSWER_CONFLICT_MSG, "current": None}
    assert not Answer.objects.exists()

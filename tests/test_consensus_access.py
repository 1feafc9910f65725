"""Who sees a consensus-mode team's individual answers, on the pages and the API:
a member before and after their own submission, the named facilitator, a lead,
another team, another organisation. The note for the facilitator reaches the
facilitator and leads only."""

import html
import json

import pytest
from django.urls import reverse

from assessment import consensus
from assessment.models import AnsweringMode, RespondentAnswer
from assessment.tests.factories import make_assessment
from capabilities.models import Question
from conftest import _member
from tests.api_support import client_for

pytestmark = pytest.mark.django_db

CARL_COMMENT = "carl-comment-visible-to-members-after"
CARL_NOTE = "carl-note-for-the-facilitator-only"
ALICE_COMMENT = "alice-comment-after-submission"


@pytest.fixture
def setting(team_a, framework, respondent_a, respondent_b, lead, outsider_lead):
    carl = _member("carl", team_a.organization, "respondent", team_a)
    dora = _member("dora", team_a.organization, "respondent", team_a)
    assessment = make_assessment(team=team_a, framework=framework)
    consensus.cycle_mode_set(cycle=assessment.cycle, mode=AnsweringMode.CONSENSUS)
    assessment.refresh_from_db()
    questions = list(
        Question.objects.filter(capability__framework=framework)
        .order_by("capability__order", "order", "id")
        .prefetch_related("options")
    )
    for index, question in enumerate(questions):
        consensus.own_answer_record(
            assessment=assessment,
            question=question,
            user=respondent_a,
            option=next(o for o in question.options.all() if o.score == 1),
            comment=ALICE_COMMENT if index == 0 else "",
            expected_version=0,
        )
    consensus.own_submit(assessment=assessment, user=respondent_a)
    consensus.own_answer_record(
        assessment=assessment,
        question=questions[0],
        user=carl,
        option=next(o for o in questions[0].options.all() if o.score == 4),
        comment=CARL_COMMENT,
        private_note=CARL_NOTE,
        expected_version=0,
    )
    consensus.facilitator_set(assessment=assessment, facilitator=dora)
    return {
        "assessment": assessment,
        "question": questions[0],
        "users": {
            "member_before": carl,
            "member_after": respondent_a,
            "facilitator": dora,
            "lead": lead,
            "other_team": respondent_b,
            "other_org": outsider_lead,
        },
    }


# persona -> (page status, sees carl's comment, sees carl's note)
PAGE = {
    "member_before": (200, False, False),
    "member_after": (200, True, False),
    "facilitator": (200, True, True),
    "lead": (200, True, True),
    "other_team": (404, False, False),
    "other_org": (404, False, False),
}


@pytest.mark.parametrize("persona", sorted(PAGE))
def test_the_team_answers_page_shows_what_each_persona_may_see(
    client, setting, persona
):
    status, comment, note = PAGE[persona]
    client.force_login(setting["users"][persona])
    response = client.get(
        reverse("assessment:team_answers", args=[setting["assessment"].pk])
    )
    assert response.status_code == status
    body = response.content.decode()
    assert (CARL_COMMENT in body) is comment
    assert (CARL_NOTE in body) is note
    if persona == "member_before":
        assert "Submit your own answers first" in body
        assert ALICE_COMMENT not in body


# persona -> (status, visible, respondents listed, carl's note shown)
API_LIST = {
    "member_before": (200, "own", {"carl"}, True),
    "member_after": (200, "all", {"alice", "carl"}, False),
    "facilitator": (200, "all", {"alice", "carl"}, True),
    "lead": (200, "all", {"alice", "carl"}, True),
    "other_team": (404, None, None, None),
    "other_org": (404, None, None, None),
}


@pytest.mark.parametrize("persona", sorted(API_LIST))
def test_the_individual_answers_api_applies_the_same_rules(setting, persona):
    status, visible, people, note = API_LIST[persona]
    response = client_for(setting["users"][persona]).get(
        f"/api/v1/assessments/{setting['assessment'].pk}/individual-answers/"
    )
    assert response.status_code == status
    if status != 200:
        assert response.json() == {"detail": "Not found."}
        return
    body = response.json()
    assert body["visible"] == visible
    assert {row["respondent"] for row in body["results"]} == people
    carl = [row for row in body["results"] if row["respondent"] == "carl"]
    assert [row["private_note"] == CARL_NOTE for row in carl] == [note]


SETTLE = {
    "member_before": 403,
    "member_after": 403,
    "facilitator": 200,
    "lead": 200,
    "other_team": 404,
    "other_org": 404,
}
DISAGREEMENT = {**SETTLE, "member_after": 200}


@pytest.mark.parametrize("persona", sorted(SETTLE))
def test_only_the_facilitator_and_leads_settle(setting, persona):
    question = setting["question"]
    response = client_for(setting["users"][persona]).post(
        f"/api/v1/assessments/{setting['assessment'].pk}/settle/",
        {"question": question.key, "option_score": 2, "note": "agreed"},
        format="json",
    )
    assert response.status_code == SETTLE[persona]
    if response.status_code == 200:
        assert response.json()["option_score"] == 2


@pytest.mark.parametrize("persona", sorted(DISAGREEMENT))
def test_the_disagreement_api_follows_the_visibility_rule(setting, persona):
    response = client_for(setting["users"][persona]).get(
        f"/api/v1/assessments/{setting['assessment'].pk}/disagreement/"
    )
    assert response.status_code == DISAGREEMENT[persona]
    if response.status_code == 200:
        body = response.json()
        assert body["measure"].startswith("range")
        first = next(
            q for q in body["questions"] if q["question"] == setting["question"].pk
        )
        assert (first["answers"], first["range"]) == (2, 3.0)
        assert body["questions"][0]["range"] == 3.0  # widest first


def test_a_member_autosaves_their_own_answer_on_the_page(client, setting):
    carl = setting["users"]["member_before"]
    question = Question.objects.filter(
        capability__framework_id=setting["assessment"].cycle.framework_id
    ).order_by("capability__order", "order", "id")[1]
    option = question.options.get(score=3)
    client.force_login(carl)
    response = client.post(
        reverse("assessment:answer_save", args=[setting["assessment"].pk, question.pk]),
        json.dumps(
            {"option": option.pk, "private_note": "between us", "expected_version": 0}
        ),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["progress"]["answered"] == 2
    saved = RespondentAnswer.objects.get(respondent=carl, question=question)
    assert (saved.option_id, saved.private_note) == (option.pk, "between us")
    assert not setting["assessment"].answers.exists()


def test_the_questionnaire_shows_a_member_their_own_answers(client, setting):
    client.force_login(setting["users"]["member_before"])
    response = client.get(
        reverse("assessment:questionnaire", args=[setting["assessment"].pk])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert CARL_COMMENT in body
    assert ALICE_COMMENT not in body
    assert "Note for the facilitator" in body


def test_the_lead_is_sent_to_the_board(client, setting):
    client.force_login(setting["users"]["lead"])
    response = client.get(
        reverse("assessment:questionnaire", args=[setting["assessment"].pk])
    )
    assert response["Location"] == reverse(
        "assessment:team_answers", args=[setting["assessment"].pk]
    )


def test_settling_an_unanswered_question_without_a_note_shows_why(client, setting):
    question = Question.objects.filter(
        capability__framework_id=setting["assessment"].cycle.framework_id
    ).order_by("capability__order", "order", "id")[1]
    client.force_login(setting["users"]["lead"])
    url = reverse("assessment:settle", args=[setting["assessment"].pk, question.pk])
    RespondentAnswer.objects.filter(question=question).delete()
    response = client.post(
        url, {"choice": question.options.get(score=1).pk}, follow=True
    )
    assert consensus.SETTLE_NOTE_REQUIRED_MSG in html.unescape(
        response.content.decode()
    )
    assert not setting["assessment"].answers.exists()


def test_the_mode_switch_after_answers_is_refused_on_the_page(client, setting):
    client.force_login(setting["users"]["lead"])
    response = client.post(
        reverse("assessment:cycle_mode", args=[setting["assessment"].cycle_id]),
        {"mode": "single"},
        follow=True,
    )
    assert consensus.MODE_HAS_ANSWERS_MSG.format(count=11) in html.unescape(
        response.content.decode()
    )
    setting["assessment"].refresh_from_db()
    assert setting["assessment"].mode == AnsweringMode.CONSENSUS


def test_the_completion_board_counts_respondents(client, setting):
    client.force_login(setting["users"]["lead"])
    response = client.get(
        reverse("assessment:cycle_detail", args=[setting["assessment"].cycle_id])
    )
    assert "1 of 3 answered" in response.content.decode()


def test_my_assessments_shows_a_members_own_progress(client, setting):
    client.force_login(setting["users"]["member_before"])
    response = client.get(reverse("assessment:my_assessments"))
    rows = {r.assessment.pk: r for r in response.context["open_rows"]}
    assert rows[setting["assessment"].pk].answered == 1


def test_the_api_refuses_a_team_answer_in_consensus_mode(setting):
    response = client_for(setting["users"]["member_before"]).put(
        f"/api/v1/assessments/{setting['assessment'].pk}/answers/"
        f"{setting['question'].key}/",
        {"option_score": 2, "version": 0},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["assessment"]
    assert not setting["assessment"].answers.exists()


def test_the_api_saves_ones_own_answer_and_guards_the_version(setting):
    client = client_for(setting["users"]["member_before"])
    url = f"/api/v1/assessments/{setting['assessment'].pk}/individual-answers/"
    key = setting["question"].key
    response = client.put(url, {"question": key, "option_score": 1, "version": 0})
    assert response.status_code == 409
    response = client.put(
        url,
        {"question": key, "option_score": 1, "version": 1, "private_note": "hm"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["option_score"], response.json()["version"]) == (1, 2)
    response = client.put(
        url, {"question": key, "option_score": 9, "version": 2}, format="json"
    )
    assert response.status_code == 400
    assert "option_score" in response.json()


def test_the_api_settles_an_unanswered_question_only_with_a_note(setting):
    from assessment.models import RespondentAnswer

    client = client_for(setting["users"]["facilitator"])
    question = Question.objects.filter(
        capability__framework_id=setting["assessment"].cycle.framework_id
    ).order_by("capability__order", "order", "id")[1]
    RespondentAnswer.objects.filter(question=question).delete()
    url = f"/api/v1/assessments/{setting['assessment'].pk}/settle/"
    response = client.post(
        url, {"question": question.key, "option_score": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"note": [consensus.SETTLE_NOTE_REQUIRED_MSG]}
    assert not setting["assessment"].answers.exists()
    response = client.post(
        url,
        {"question": question.key, "option_score": 1, "note": "No one owns it yet"},
        format="json",
    )
    assert response.status_code == 200


def test_the_api_refuses_answers_after_the_team_submitted(setting):
    from assessment.models import Assessment

    Assessment.objects.filter(pk=setting["assessment"].pk).update(status="submitted")
    response = client_for(setting["users"]["member_before"]).put(
        f"/api/v1/assessments/{setting['assessment'].pk}/individual-answers/",
        {"question": setting["question"].key, "option_score": 0, "version": 1},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "assessment": [
            "This assessment has been submitted; its answers can no longer be changed."
        ]
    }


def test_staff_read_individual_answers_in_the_admin(client, setting, staff):
    client.force_login(staff)
    for name in ("respondentanswer", "settlement", "assessment"):
        response = client.get(reverse(f"admin:assessment_{name}_changelist"))
        assert response.status_code == 200
    answer = RespondentAnswer.objects.first()
    response = client.get(
        reverse("admin:assessment_respondentanswer_change", args=[answer.pk])
    )
    assert response.status_code == 200
    assert 'name="option"' not in response.content.decode()  # read-only


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_board_and_the_api_query_counts_do_not_grow_with_members(
    client, setting, team_a
):
    from tests.api_support import client_for as api_client

    assessment = setting["assessment"]
    page = reverse("assessment:team_answers", args=[assessment.pk])
    api = f"/api/v1/assessments/{assessment.pk}/individual-answers/"
    lead = setting["users"]["lead"]
    client.force_login(lead)
    before = (_queries(client, page), _queries(api_client(lead), api))
    questions = list(
        Question.objects.filter(
            capability__framework_id=assessment.cycle.framework_id
        ).prefetch_related("options")
    )
    for i in range(4):
        extra = _member(f"extra{i}", team_a.organization, "respondent", team_a)
        for question in questions:
            consensus.own_answer_record(
                assessment=assessment,
                question=question,
                user=extra,
                option=question.options.all()[i % 5],
                comment="more",
                expected_version=0,
            )
    after = (_queries(client, page), _queries(api_client(lead), api))
    assert after == before


def test_a_facilitating_member_finds_the_board_from_the_questionnaire(client, setting):
    client.force_login(setting["users"]["facilitator"])
    response = client.get(
        reverse("assessment:questionnaire", args=[setting["assessment"].pk])
    )
    board = reverse("assessment:team_answers", args=[setting["assessment"].pk])
    assert f'href="{board}"' in response.content.decode()

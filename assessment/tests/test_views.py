import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessment import answer_refs, organizations, selectors, services, views
from assessment.exceptions import ANSWER_CONFLICT_MSG
from assessment.models import Answer, Assessment, Cycle
from assessment.tests.factories import answer_all, make_assessment, make_cycle
from capabilities.models import Question
from capabilities.tests.factories import make_framework

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(team_a, framework):
    return make_assessment(team=team_a, framework=framework, closes_on=None)


@pytest.fixture
def question(framework):
    return (
        Question.objects.filter(capability__framework=framework)
        .order_by("capability__order", "order")
        .first()
    )


# The backend of a password sign-in, which reads the session's user by hand.
PASSWORD_BACKEND = "sso.backends.PasswordBackend"


def _save(client, assessment, question, **payload):
    payload.setdefault("expected_version", 0)
    return client.post(
        reverse("assessment:answer_save", args=[assessment.pk, question.pk]),
        data=json.dumps(payload),
        content_type="application/json",
    )


def _pages(assessment, question):
    pk = assessment.pk
    return [
        reverse("assessment:questionnaire", args=[pk]),
        reverse("assessment:questionnaire_capability", args=[pk, "cap-1"]),
        reverse("assessment:review", args=[pk]),
        reverse("assessment:summary", args=[pk]),
        reverse("assessment:answer_history", args=[pk, question.pk]),
    ]


# --- who may see what ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["respondent_a", "lead"])
def test_it_shows_every_page_to_the_team_and_its_lead(
    client, request, assessment, question, persona
):
    client.force_login(request.getfixturevalue(persona))
    for url in _pages(assessment, question):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["respondent_b", "outsider_lead"])
def test_it_hides_every_page_from_other_teams_and_organisations(
    client, request, assessment, question, persona
):
    client.force_login(request.getfixturevalue(persona))
    for url in _pages(assessment, question):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("persona", ["respondent_b", "outsider_lead"])
def test_it_refuses_writes_from_other_teams_and_organisations(
    client, request, assessment, question, persona
):
    client.force_login(request.getfixturevalue(persona))
    option = question.options.get(score=2)
    assert _save(client, assessment, question, option=option.pk).status_code == 404
    submit = reverse("assessment:submit", args=[assessment.pk])
    assert client.post(submit).status_code == 404
    page = reverse("assessment:questionnaire", args=[assessment.pk])
    assert client.post(page, {}).status_code == 404
    assert not Answer.objects.exists()


def test_it_sends_anonymous_users_to_login(client, assessment, question):
    for url in [
        reverse("assessment:my_assessments"),
        *_pages(assessment, question),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_it_answers_404_for_a_forged_assessment_id(client, respondent_a, assessment):
    client.force_login(respondent_a)
    url = reverse("assessment:questionnaire", args=[assessment.pk + 1000])
    assert client.get(url).status_code == 404


def test_it_refuses_an_autosave_without_a_csrf_token(
    respondent_a, assessment, question
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(respondent_a)
    response = _save(
        client, assessment, question, option=question.options.get(score=1).pk
    )
    assert response.status_code == 403
    assert not Answer.objects.exists()


def test_it_accepts_an_autosave_with_the_csrf_header(
    respondent_a, assessment, question
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(respondent_a)
    client.get(reverse("assessment:questionnaire", args=[assessment.pk]))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("assessment:answer_save", args=[assessment.pk, question.pk]),
        data=json.dumps(
            {"option": question.options.get(score=1).pk, "expected_version": 0}
        ),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


# --- my assessments -------------------------------------------------------------------


def test_my_assessments_lists_open_ones_with_progress(client, respondent_a, assessment):
    answer_all(assessment, skip=5)
    client.force_login(respondent_a)
    response = client.get(reverse("assessment:my_assessments"))
    html = response.content.decode()
    assert "Team A" in html
    assert "5 of 10 questions answered (50%)" in html
    assert "Continue" in html


def test_my_assessments_shows_an_empty_state(client, respondent_a):
    client.force_login(respondent_a)
    response = client.get(reverse("assessment:my_assessments"))
    assert "No open assessments for your teams right now." in response.content.decode()


def test_home_sends_respondents_to_their_assessments(client, respondent_a):
    client.force_login(respondent_a)
    response = client.get("/")
    assert response.url == reverse("assessment:my_assessments")


def test_home_sends_leads_to_the_lead_home(client, lead):
    client.force_login(lead)
    assert client.get("/").url == reverse("assessment:lead_home")


def test_home_explains_what_to_do_to_a_user_without_a_team(client, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("newcomer", password="pw")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "You are not a member of any team yet." in html


# --- the questionnaire -----------------------------------------------------------------


def test_questionnaire_shows_the_first_capability_with_saved_answers_checked(
    client, respondent_a, assessment, question
):
    option = question.options.get(score=3)
    services.answer_record(
        assessment=assessment,
        question=question,
        user=respondent_a,
        option=option,
        comment="<b>ours</b>",
        expected_version=0,
    )
    client.force_login(respondent_a)
    html = client.get(
        reverse("assessment:questionnaire", args=[assessment.pk])
    ).content.decode()
    assert "Capability 0" in html
    assert f'value="{option.pk}" checked' in html
    assert "&lt;b&gt;ours&lt;/b&gt;" in html
    assert "<b>ours</b>" not in html
    assert 'data-version="1"' in html
    assert "1 of 10 questions answered (10%)" in html
    assert "What Knowledge scores mean" in html
    assert "<li>knowledge level 4</li>" in html


def test_questionnaire_selects_a_capability_by_query_string(
    client, respondent_a, assessment
):
    client.force_login(respondent_a)
    url = reverse("assessment:questionnaire", args=[assessment.pk])
    html = client.get(url + "?capability=cap-1").content.decode()
    assert '<h2 id="capability-title">Capability 1</h2>' in html


def test_questionnaire_answers_404_for_an_unknown_capability(
    client, respondent_a, assessment
):
    client.force_login(respondent_a)
    url = reverse("assessment:questionnaire_capability", args=[assessment.pk, "nope"])
    assert client.get(url).status_code == 404


def test_questionnaire_of_a_submitted_assessment_is_read_only(
    client, respondent_a, assessment
):
    answer_all(assessment)
    Assessment.objects.filter(pk=assessment.pk).update(
        status=Assessment.Status.SUBMITTED
    )
    client.force_login(respondent_a)
    html = client.get(
        reverse("assessment:questionnaire", args=[assessment.pk])
    ).content.decode()
    assert views.READ_ONLY_SUBMITTED_MSG in html
    assert html.count("<fieldset") == html.count(" disabled>") == 5
    assert 'id="fallback-save"' not in html


def _query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_questionnaire_uses_the_same_number_of_queries_for_any_size(
    client, respondent_a, team_a, org
):
    client.force_login(respondent_a)
    small = make_framework(slug="small", capabilities=2, questions_per_lens=1)
    large = make_framework(slug="large", capabilities=8, questions_per_lens=2)
    counts = []
    for fw in (small, large):
        assessment = make_assessment(team=team_a, framework=fw, name=fw.slug)
        answer_all(assessment, skip=3)
        counts.append(
            _query_count(
                client, reverse("assessment:questionnaire", args=[assessment.pk])
            )
        )
    assert counts[0] == counts[1]
    assert counts[1] <= 12


def test_fallback_form_saves_a_capability_without_scripts(
    client, respondent_a, assessment, framework
):
    questions = list(
        Question.objects.filter(
            capability__key="cap-0", capability__framework=framework
        )
    )
    data = {f"q-{q.pk}-choice": str(q.options.get(score=2).pk) for q in questions}
    data[f"q-{questions[0].pk}-comment"] = "Done by hand"
    client.force_login(respondent_a)
    url = reverse("assessment:questionnaire_capability", args=[assessment.pk, "cap-0"])
    response = client.post(url, data)
    assert response.status_code == 302
    assert Answer.objects.filter(option__score=2).count() == 5
    assert Answer.objects.get(question=questions[0]).comment == "Done by hand"
    page = client.get(response.url).content.decode()
    assert views.SAVED_MSG in page


def test_fallback_form_shows_field_errors_and_keeps_the_input(
    client, respondent_a, assessment, question
):
    client.force_login(respondent_a)
    url = reverse("assessment:questionnaire_capability", args=[assessment.pk, "cap-0"])
    response = client.post(url, {f"q-{question.pk}-evidence": "ftp://files/x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert services.EVIDENCE_URL_SCHEME_MSG in html
    assert 'value="ftp://files/x"' in html
    assert not Answer.objects.exists()


# --- the autosave endpoint ----------------------------------------------------------


def test_answer_save_stores_the_answer_and_returns_progress(
    client, respondent_a, assessment, question
):
    client.force_login(respondent_a)
    response = _save(
        client,
        assessment,
        question,
        option=question.options.get(score=4).pk,
        comment="Good",
        evidence_url="https://wiki.example.com/p",
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["version"], data["answered"]) == (1, True)
    assert data["progress"]["answered"] == 1
    assert data["progress"]["capabilities"][0]["answered"] == 1
    answer = Answer.objects.get()
    assert (answer.option.score, answer.comment) == (4, "Good")


def test_answer_save_returns_field_errors(client, respondent_a, assessment, question):
    client.force_login(respondent_a)
    response = _save(client, assessment, question, evidence_url="javascript:alert(1)")
    assert response.status_code == 400
    assert response.json() == {"evidence_url": [services.EVIDENCE_URL_SCHEME_MSG]}


def test_answer_save_refuses_an_unknown_option(
    client, respondent_a, assessment, question
):
    client.force_login(respondent_a)
    response = _save(client, assessment, question, option=999999)
    assert response.status_code == 400
    assert response.json() == {"option": [answer_refs.OPTION_UNKNOWN_MSG]}


def test_answer_save_refuses_a_body_that_is_not_a_json_object(
    client, respondent_a, assessment, question
):
    client.force_login(respondent_a)
    response = client.post(
        reverse("assessment:answer_save", args=[assessment.pk, question.pk]),
        data="[1, 2]",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": [views.BAD_JSON_MSG]}


def test_answer_save_reports_a_conflict_with_the_current_answer(
    client, respondent_a, respondent_b, lead, assessment, question
):
    services.answer_record(
        assessment=assessment,
        question=question,
        user=lead,
        option=question.options.get(score=1),
        comment="Lead's view",
        expected_version=0,
    )
    client.force_login(respondent_a)
    response = _save(
        client, assessment, question, option=question.options.get(score=3).pk
    )
    assert response.status_code == 409
    data = response.json()
    assert data["detail"] == ANSWER_CONFLICT_MSG
    current = data["current"]
    assert (current["option_score"], current["option_label"]) == (1, "Level 1")
    assert (current["comment"], current["answered_by"], current["version"]) == (
        "Lead's view",
        "lena",
        1,
    )
    assert Answer.objects.get().option.score == 1


def test_answer_save_keep_mine_resaves_with_the_new_version(
    client, respondent_a, lead, assessment, question
):
    services.answer_record(
        assessment=assessment,
        question=question,
        user=lead,
        option=question.options.get(score=1),
        expected_version=0,
    )
    client.force_login(respondent_a)
    option = question.options.get(score=3).pk
    assert _save(client, assessment, question, option=option).status_code == 409
    response = _save(client, assessment, question, option=option, expected_version=1)
    assert response.json()["version"] == 2
    assert Answer.objects.get().option.score == 3


def test_answer_save_refuses_a_submitted_assessment(
    client, respondent_a, assessment, question
):
    Assessment.objects.filter(pk=assessment.pk).update(
        status=Assessment.Status.SUBMITTED
    )
    client.force_login(respondent_a)
    response = _save(
        client, assessment, question, option=question.options.get(score=1).pk
    )
    assert response.status_code == 400
    assert response.json() == {"assessment": [services.ASSESSMENT_SUBMITTED_MSG]}


def test_answer_save_refuses_a_closed_cycle(client, respondent_a, assessment, question):
    Cycle.objects.filter(pk=assessment.cycle_id).update(status=Cycle.Status.CLOSED)
    client.force_login(respondent_a)
    response = _save(
        client, assessment, question, option=question.options.get(score=1).pk
    )
    assert response.json() == {"assessment": [services.CYCLE_NOT_OPEN_MSG]}


@pytest.mark.parametrize(
    "payload",
    [
        {"option": 999999},
        {"comment": 12},
        {"evidence_url": "javascript:alert(1)"},
        {"option": "first"},
        {},
    ],
    ids=["unknown-option", "comment-not-text", "bad-url", "option-not-id", "valid"],
)
def test_answer_save_out_of_reach_is_404_before_any_validation(
    client, respondent_b, assessment, question, payload
):
    if payload == {}:
        payload = {"option": question.options.get(score=2).pk}
    client.force_login(respondent_b)
    response = _save(client, assessment, question, **payload)
    assert response.status_code == 404
    assert not Answer.objects.exists()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.NOT_STARTED


def test_answer_save_out_of_reach_with_a_bad_body_is_404(
    client, respondent_b, assessment, question
):
    client.force_login(respondent_b)
    response = client.post(
        reverse("assessment:answer_save", args=[assessment.pk, question.pk]),
        data="[1, 2]",
        content_type="application/json",
    )
    assert response.status_code == 404


def test_answer_save_of_a_missing_assessment_or_question_is_404(
    client, respondent_a, assessment, question
):
    client.force_login(respondent_a)
    option = question.options.get(score=2).pk
    missing = Assessment(pk=10**9)
    assert _save(client, missing, question, option=option).status_code == 404
    url = reverse("assessment:answer_save", args=[assessment.pk, 10**9])
    response = client.post(url, data="{}", content_type="application/json")
    assert response.status_code == 404
    assert not Answer.objects.exists()


def test_answer_save_by_a_member_of_a_business_unit_above_the_team(
    client, org, business_unit, framework
):
    from django.contrib.auth import get_user_model

    from assessment.models import Membership

    inner = organizations.team_create(
        organization=org,
        name="Online",
        parent=business_unit,
        kind="business_unit",
    )
    web = organizations.team_create(organization=org, name="Web", parent=inner)
    deep = make_assessment(team=web, framework=framework)
    question = Question.objects.filter(capability__framework=framework).first()
    user = get_user_model().objects.create_user("una", password="x")
    Membership.objects.create(user=user, organization=org, team=business_unit)
    client.force_login(user)
    response = _save(client, deep, question, option=question.options.get(score=1).pk)
    assert response.status_code == 200
    assert Answer.objects.get().assessment_id == deep.pk


def test_answer_save_refuses_a_session_whose_user_is_disabled_or_deleted(
    client, respondent_a, assessment, question
):
    """The session's user is read on every request: deactivating or deleting the
    user ends their open sessions at once."""
    from django.contrib.auth import get_user_model

    client.force_login(respondent_a, backend=PASSWORD_BACKEND)
    option = question.options.get(score=1).pk
    assert _save(client, assessment, question, option=option).status_code == 200
    respondent_a.is_active = False
    respondent_a.save(update_fields=["is_active"])
    response = _save(client, assessment, question, option=option, expected_version=1)
    assert response.status_code == 302
    assert Answer.objects.get().version == 1
    respondent_a.is_active = True
    respondent_a.save(update_fields=["is_active"])
    assert _save(client, assessment, question, expected_version=1).status_code == 200
    get_user_model().objects.filter(pk=respondent_a.pk).delete()
    response = _save(client, assessment, question, option=option, expected_version=2)
    assert response.status_code == 302


def test_answer_save_refuses_get(client, respondent_a, assessment, question):
    client.force_login(respondent_a)
    url = reverse("assessment:answer_save", args=[assessment.pk, question.pk])
    assert client.get(url).status_code == 405


# One save once its answer exists, within a minute of the last: session (the
# test settings keep it in the database), user, option (with its question), BEGIN,
# the assessment locked with the scope and access checks, then on PostgreSQL one
# statement that checks the version, updates the answer, writes its history and
# counts the progress (elsewhere: the answer, its update, its history, and the
# progress after COMMIT), COMMIT.
SAVE_QUERIES = {"postgresql": 7}
SAVE_QUERIES_ELSEWHERE = 10


def _save_queries() -> int:
    return SAVE_QUERIES.get(connection.vendor, SAVE_QUERIES_ELSEWHERE)


def test_answer_save_uses_a_bounded_number_of_queries(
    client,
    respondent_a,
    team_a,
    django_assert_max_num_queries,
    django_assert_num_queries,
):
    big = make_framework(slug="big", capabilities=8, questions_per_lens=2, publish=True)
    assessment = make_assessment(team=team_a, framework=big)
    answer_all(assessment, skip=1)
    question = Question.objects.filter(capability__framework=big).order_by("id")[0]
    client.force_login(respondent_a, backend=PASSWORD_BACKEND)
    client.get(reverse("assessment:my_assessments"))
    option = question.options.get(score=4).pk
    # A conflict: the same but the progress, the current answer read again for the
    # payload, and the rollback (in the test's transaction, a savepoint rolled back
    # and released: two statements).
    with django_assert_max_num_queries(_save_queries() + 2):
        response = _save(
            client, assessment, question, option=option, expected_version=0
        )
    assert response.status_code == 409
    response = _save(client, assessment, question, option=option, expected_version=1)
    assert response.status_code == 200
    option = question.options.get(score=3).pk
    with django_assert_num_queries(_save_queries()):
        response = _save(
            client, assessment, question, option=option, expected_version=2
        )
    assert response.status_code == 200
    assert response.json()["version"] == 3
    # The stored values again: nothing written, the same queries or fewer.
    with django_assert_max_num_queries(_save_queries()):
        response = _save(
            client, assessment, question, option=option, expected_version=3
        )
    assert response.json()["version"] == 3
    # A change a minute after the last stamps the activity (and starts an
    # assessment not started): on PostgreSQL in the same statement, elsewhere with
    # one more.
    stale = timezone.now() - timedelta(minutes=2)
    Assessment.objects.filter(pk=assessment.pk).update(
        last_activity_at=stale, status=Assessment.Status.NOT_STARTED
    )
    touch = 0 if connection.vendor == "postgresql" else 1
    option = question.options.get(score=4).pk
    with django_assert_num_queries(_save_queries() + touch):
        response = _save(
            client, assessment, question, option=option, expected_version=3
        )
    assert response.json()["version"] == 4
    stamped = Assessment.objects.get(pk=assessment.pk)
    assert stamped.last_activity_at > stale
    assert stamped.status == Assessment.Status.IN_PROGRESS
    option = question.options.get(score=3).pk
    response = _save(client, assessment, question, option=option, expected_version=4)
    assert response.json()["version"] == 5
    answer = Answer.objects.get(assessment=assessment, question=question)
    assert (answer.version, answer.option_id) == (5, option)
    changes = list(answer.changes.order_by("version").values("version", "old", "new"))
    assert [c["version"] for c in changes] == [2, 3, 4, 5]
    assert changes[-1]["old"]["option_score"] == 4
    assert changes[-1]["new"] == {
        "option_score": 3,
        "option_id": option,
        "not_applicable": False,
        "comment": "",
        "evidence_url": "",
    }


def test_answer_save_progress_counts_the_answer_as_written(
    client, respondent_a, team_a
):
    """The progress a save returns (counted on PostgreSQL by the statement that
    updates the answer) is the progress read afterwards: an answer changed,
    cleared, marked not applicable, answered again, and saved unchanged."""
    framework = make_framework(
        slug="progress", capabilities=2, questions_per_lens=1, publish=True
    )
    assessment = make_assessment(team=team_a, framework=framework)
    answer_all(assessment, skip=1)
    question = Question.objects.filter(capability__framework=framework).order_by("id")[
        0
    ]
    Question.objects.filter(pk=question.pk).update(allow_na=True)
    client.force_login(respondent_a)
    options = [o.pk for o in question.options.order_by("score")]
    version = Answer.objects.get(assessment=assessment, question=question).version
    saves = [
        {"option": options[0]},
        {"option": None},
        {"option": None, "not_applicable": True},
        {"option": options[1]},
        {"option": options[1]},
    ]
    for values in saves:
        response = _save(
            client, assessment, question, expected_version=version, **values
        )
        assert response.status_code == 200, response.content
        version = response.json()["version"]
        assert response.json()["progress"] == selectors.assessment_progress(
            assessment=assessment
        )
    assert response.json()["progress"]["answered"] == (
        selectors.assessment_progress(assessment=assessment)["total"] - 1
    )


@pytest.mark.parametrize("teams", [3, 40])
def test_answer_save_queries_do_not_grow_with_teams_or_answers(
    client, shipped_framework, teams, django_assert_num_queries
):
    """An organisation built by the bulk loader (its open cycle partly submitted,
    earlier cycles answered): the lead's save issues the same queries whatever
    the number of teams and answers."""
    from django.contrib.auth import get_user_model

    from assessment import demo

    result = demo.load_generate(
        teams=teams, cycles=2, org_name=f"Queries {teams}", password="pw-1234567"
    )
    org = result.organization
    cycle = Cycle.objects.get(organization=org, status="open")
    assessment = (
        Assessment.objects.filter(cycle=cycle)
        .exclude(status="submitted")
        .order_by("id")
        .first()
    )
    question = Question.objects.filter(
        capability__framework=cycle.framework, audience="team"
    ).order_by("id")[0]
    scores = [o.pk for o in question.options.order_by("score")]
    client.force_login(
        get_user_model().objects.get(username=f"{org.slug}-lead"),
        backend=PASSWORD_BACKEND,
    )
    answer = Answer.objects.filter(assessment=assessment, question=question).first()
    version = answer.version if answer else 0
    current = answer.option_id if answer else None
    first = next(o for o in scores if o != current)
    response = _save(
        client, assessment, question, option=first, expected_version=version
    )
    assert response.status_code == 200
    second = next(o for o in scores if o != first)
    with django_assert_num_queries(_save_queries()):
        response = _save(
            client, assessment, question, option=second, expected_version=version + 1
        )
    assert response.status_code == 200
    assert response.json()["version"] == version + 2


def test_answer_history_shows_each_change(client, respondent_a, assessment, question):
    for version, score in enumerate([1, 2]):
        services.answer_record(
            assessment=assessment,
            question=question,
            user=respondent_a,
            option=question.options.get(score=score),
            expected_version=version,
        )
    client.force_login(respondent_a)
    url = reverse("assessment:answer_history", args=[assessment.pk, question.pk])
    html = client.get(url + "?partial=1").content.decode()
    assert "v2" in html
    assert "v1" in html
    assert "alice" in html
    assert "<html" not in html


def test_answer_history_of_an_unanswered_question_says_so(
    client, respondent_a, assessment, question
):
    client.force_login(respondent_a)
    url = reverse("assessment:answer_history", args=[assessment.pk, question.pk])
    assert views.NOT_ANSWERED_YET_MSG in client.get(url).content.decode()


# --- review, submit, summary --------------------------------------------------------


def test_review_lists_unanswered_questions_with_links(client, respondent_a, assessment):
    answer_all(assessment, skip=1)
    last = Question.objects.get(key="cap-1-automation-0")
    client.force_login(respondent_a)
    html = client.get(
        reverse("assessment:review", args=[assessment.pk])
    ).content.decode()
    assert "Still to answer (1)" in html
    assert f"/c/cap-1/#question-{last.pk}" in html


def test_submit_refuses_an_incomplete_assessment_and_shows_what_is_missing(
    client, respondent_a, assessment
):
    answer_all(assessment, skip=2)
    client.force_login(respondent_a)
    response = client.post(reverse("assessment:submit", args=[assessment.pk]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "2 question(s) are not answered yet." in html
    assert "Still to answer (2)" in html
    assessment.refresh_from_db()
    assert not assessment.is_submitted


def test_submit_then_shows_the_read_only_summary(client, respondent_a, assessment):
    answer_all(assessment, score=3)
    Answer.objects.filter(assessment=assessment).update(
        comment="<script>x</script>", evidence_url="https://example.com/e"
    )
    client.force_login(respondent_a)
    response = client.post(reverse("assessment:submit", args=[assessment.pk]))
    assert response.url == reverse("assessment:summary", args=[assessment.pk])
    html = client.get(response.url).content.decode()
    assert views.SUBMITTED_MSG in html
    assert "Submitted" in html
    assert "by alice" in html
    assert 'Level 3 <span class="muted">(3/4)</span>' in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert 'rel="noopener nofollow"' in html
    assert reverse("benchmarks:team_report", args=[assessment.pk]) in html
    assert "See the team report" in html


def test_submit_twice_shows_a_message(client, respondent_a, assessment):
    answer_all(assessment)
    client.force_login(respondent_a)
    url = reverse("assessment:submit", args=[assessment.pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert services.ALREADY_SUBMITTED_MSG in response.content.decode()


def test_a_lead_reopens_a_submitted_assessment_with_a_reason(
    client, respondent_a, lead, assessment
):
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    client.force_login(lead)
    summary = client.get(reverse("assessment:summary", args=[assessment.pk]))
    assert "Reopen for changes" in summary.content.decode()
    response = client.post(
        reverse("assessment:reopen", args=[assessment.pk]), {"reason": "Fix typo"}
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_PROGRESS


def test_a_respondent_cannot_reopen(client, respondent_a, assessment):
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    client.force_login(respondent_a)
    response = client.post(
        reverse("assessment:reopen", args=[assessment.pk]), {"reason": "Please"}
    )
    assert response.status_code == 404
    assessment.refresh_from_db()
    assert assessment.is_submitted


def test_summary_uses_the_same_number_of_queries_for_any_size(
    client, respondent_a, team_a
):
    client.force_login(respondent_a)
    counts = []
    for n, size in enumerate([1, 2]):
        fw = make_framework(
            slug=f"fw{n}", capabilities=2 + 6 * n, questions_per_lens=size
        )
        assessment = make_assessment(team=team_a, framework=fw, name=fw.slug)
        answer_all(assessment)
        counts.append(
            _query_count(client, reverse("assessment:summary", args=[assessment.pk]))
        )
    assert counts[0] == counts[1]


def test_cycles_of_other_teams_do_not_appear_in_my_assessments(
    client, respondent_a, org, team_b, framework
):
    make_cycle(organization=org, framework=framework, teams=[team_b])
    client.force_login(respondent_a)
    html = client.get(reverse("assessment:my_assessments")).content.decode()
    assert "Team B" not in html

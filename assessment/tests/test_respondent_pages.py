"""What a respondent sees: Continue opens the first question still to answer, a
submitted questionnaire offers no submit, a reopening says who, when and why, and a
cycle past its due date is flagged."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import Assessment
from assessment.tests.factories import answer_all, make_assessment
from capabilities.models import Question

pytestmark = pytest.mark.django_db

REASON = "The Metrics answers used last quarter's dashboard; please check them."


@pytest.fixture
def assessment(team_a, framework):
    return make_assessment(team=team_a, framework=framework, closes_on=None)


def ordered_questions(framework):
    return list(
        Question.objects.filter(capability__framework=framework).order_by(
            "capability__order", "order", "id"
        )
    )


def test_continue_opens_the_capability_of_the_first_unanswered_question(
    client, respondent_a, assessment, framework
):
    questions = ordered_questions(framework)
    # the first capability complete, the second with its last question open
    answer_all(assessment, skip=1)
    last = questions[-1]
    client.force_login(respondent_a)
    response = client.get(reverse("assessment:questionnaire", args=[assessment.pk]))
    assert response.context["capability"] == last.capability
    assert response.context["capability"] != questions[0].capability
    html = response.content.decode()
    assert f'data-first-unanswered="question-{last.pk}"' in html


def test_a_named_capability_is_opened_as_asked(
    client, respondent_a, assessment, framework
):
    answer_all(assessment, skip=1)
    first = ordered_questions(framework)[0].capability
    client.force_login(respondent_a)
    response = client.get(
        reverse("assessment:questionnaire_capability", args=[assessment.pk, first.key])
    )
    assert response.context["capability"] == first
    assert "data-first-unanswered" not in response.content.decode()


def test_a_submitted_questionnaire_offers_no_review_and_submit(
    client, respondent_a, assessment
):
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    client.force_login(respondent_a)
    html = client.get(
        reverse("assessment:questionnaire", args=[assessment.pk])
    ).content.decode()
    assert "Review and submit" not in html
    assert reverse("assessment:review", args=[assessment.pk]) not in html
    assert "See the summary" in html


def test_an_open_questionnaire_still_offers_review_and_submit(
    client, respondent_a, assessment
):
    client.force_login(respondent_a)
    html = client.get(
        reverse("assessment:questionnaire", args=[assessment.pk])
    ).content.decode()
    assert "Review and submit" in html


def reopened(assessment, respondent, lead):
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent)
    services.assessment_reopen(assessment=assessment, user=lead, reason=REASON)
    return Assessment.objects.get(pk=assessment.pk)


def test_the_team_sees_who_reopened_when_and_why(
    client, respondent_a, lead, assessment
):
    reopened(assessment, respondent_a, lead)
    client.force_login(respondent_a)
    for name in ["my_assessments", "questionnaire", "summary"]:
        args = [] if name == "my_assessments" else [assessment.pk]
        html = client.get(reverse(f"assessment:{name}", args=args)).content.decode()
        assert "Reopened" in html, name
        assert "by lena" in html, name
        assert "The Metrics answers used last quarter" in html, name
        assert timezone.localdate().strftime("%Y") in html, name


def test_a_resubmitted_assessment_keeps_the_reopening_in_its_history_only(
    client, respondent_a, lead, assessment
):
    reopened(assessment, respondent_a, lead)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    client.force_login(respondent_a)
    cards = client.get(reverse("assessment:my_assessments")).content.decode()
    assert REASON[:20] not in cards
    summary = client.get(
        reverse("assessment:summary", args=[assessment.pk])
    ).content.decode()
    assert "History" in summary
    assert REASON[:20] in summary


def test_an_overdue_cycle_is_flagged_on_the_card_and_the_questionnaire(
    client, respondent_a, team_a, framework
):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    late = make_assessment(team=team_a, framework=framework, closes_on=yesterday)
    assert late.cycle.is_overdue
    client.force_login(respondent_a)
    cards = client.get(reverse("assessment:my_assessments")).content.decode()
    assert "Overdue" in cards
    assert f"Was due {yesterday:%-d %b %Y}" in cards
    page = client.get(
        reverse("assessment:questionnaire", args=[late.pk])
    ).content.decode()
    assert "Overdue:" in page


def test_a_cycle_due_today_is_not_overdue(client, respondent_a, team_a, framework):
    today = timezone.localdate()
    due = make_assessment(team=team_a, framework=framework, closes_on=today)
    assert not due.cycle.is_overdue
    client.force_login(respondent_a)
    assert (
        "Overdue"
        not in client.get(reverse("assessment:my_assessments")).content.decode()
    )


# --- the answers export ---------------------------------------------------------------


def test_the_answers_export_lists_every_question_with_its_answer(
    client, lead, respondent_a, assessment, framework, django_assert_max_num_queries
):
    import csv
    import io

    questions = ordered_questions(framework)
    services.answer_record(
        assessment=assessment,
        question=questions[0],
        user=respondent_a,
        option=questions[0].options.get(score=3),
        comment='=HYPERLINK("http://evil.example")',
        evidence_url="https://wiki.example.com/finops",
        expected_version=0,
    )
    client.force_login(lead)
    url = reverse("assessment:answers_export", args=[assessment.pk, "csv"])
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "capability",
        "question key",
        "question",
        "lens",
        "option",
        "score",
        "not applicable",
        "comment",
        "evidence",
        "answered by",
        "answered at",
    ]
    assert len(rows) == 1 + len(questions)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["question key"] == questions[0].key
    assert first["lens"] == questions[0].lens.name
    assert first["score"] == "3"
    assert first["comment"].startswith("'=HYPERLINK")  # never a formula
    assert first["evidence"] == "https://wiki.example.com/finops"
    assert first["answered by"] == "alice"
    assert first["answered at"]
    assert rows[2][4:7] == ["", "", ""]  # unanswered


def test_the_answers_export_as_xlsx(client, respondent_a, assessment):
    import io

    import openpyxl

    client.force_login(respondent_a)
    response = client.get(
        reverse("assessment:answers_export", args=[assessment.pk, "xlsx"])
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "capability"
    assert sheet.freeze_panes == "A2"


def test_the_answers_export_is_not_found_for_another_team_or_format(
    client, respondent_b, respondent_a, assessment
):
    client.force_login(respondent_b)
    url = reverse("assessment:answers_export", args=[assessment.pk, "csv"])
    assert client.get(url).status_code == 404
    client.force_login(respondent_a)
    bad = reverse("assessment:answers_export", args=[assessment.pk, "pdf"])
    assert client.get(bad).status_code == 404

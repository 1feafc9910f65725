"""What counts as answered is one rule, in Python, in SQL and in the scoring frame."""

import itertools

import pytest

from assessment.models import Answer, answered_q, counts_as_answered
from assessment.scores import answers_frame, cycle_rules
from assessment.tests.factories import make_assessment
from capabilities.models import Question

pytestmark = pytest.mark.django_db


def test_the_rule():
    assert counts_as_answered(has_option=True, not_applicable=False, allow_na=False)
    assert counts_as_answered(has_option=False, not_applicable=True, allow_na=True)
    assert not counts_as_answered(has_option=False, not_applicable=True, allow_na=False)
    assert not counts_as_answered(has_option=False, not_applicable=False, allow_na=True)


def test_python_sql_and_frame_agree_on_every_case(team_a, framework):
    assessment = make_assessment(team=team_a, framework=framework)
    questions = list(
        Question.objects.filter(capability__framework=framework).order_by("id")
    )
    cases = list(itertools.product([True, False], repeat=3))  # option, N/A, allow
    expected = {}
    for question, (has_option, na, allow) in zip(questions, cases, strict=False):
        if has_option and na:
            continue  # the database refuses an option and N/A together
        Question.objects.filter(pk=question.pk).update(allow_na=allow)
        option = question.options.get(score=2) if has_option else None
        Answer.objects.create(
            assessment=assessment, question=question, option=option, not_applicable=na
        )
        expected[question.pk] = counts_as_answered(
            has_option=has_option, not_applicable=na, allow_na=allow
        )

    by_sql = set(
        Answer.objects.filter(assessment=assessment)
        .filter(answered_q())
        .values_list("question_id", flat=True)
    )
    by_model = {
        a.question_id
        for a in Answer.objects.filter(assessment=assessment).select_related("question")
        if a.is_answered
    }
    rules = cycle_rules(cycle=assessment.cycle)
    frame = answers_frame(assessment_ids=[assessment.pk], questions=rules.questions)
    by_frame = set(
        frame.loc[frame["score"].notna() | frame["not_applicable"], "question_id"]
    )

    wanted = {pk for pk, answered in expected.items() if answered}
    assert by_sql == by_model == by_frame == wanted
    assert len(expected) == 6

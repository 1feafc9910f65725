"""The one resolver of which question and option an answer names."""

import pytest
from django.core.exceptions import ValidationError

from assessment.answer_refs import (
    AMBIGUOUS_QUESTION_MSG,
    NO_OPTION_WITH_SCORE_MSG,
    NO_SUCH_QUESTION_MSG,
    OPTION_UNKNOWN_MSG,
    QuestionNotFound,
    resolve_answer,
    resolve_answers,
)
from capabilities.models import AnswerOption, Question
from capabilities.tests.factories import make_framework

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(framework):
    return Question.objects.filter(capability__framework=framework).order_by("id")[0]


def test_an_option_by_id_is_read_with_its_question_in_one_query(
    question, django_assert_num_queries
):
    option = question.options.get(score=3)
    with django_assert_num_queries(1):
        found, chosen = resolve_answer(question=question.pk, option_id=option.pk)
    assert (found, chosen) == (question, option)
    assert found.capability.framework_id == question.capability.framework_id


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.fields}


def test_the_option_read_by_hand_holds_what_the_orm_reads(question):
    """Every column of the option, its question and its capability, converted as
    the ORM converts them (the JSON of N/A reasons included)."""
    Question.objects.filter(pk=question.pk).update(
        allow_na=True,
        na_reasons=["not_in_scope"],
    )
    option = question.options.get(score=2)
    _found, chosen = resolve_answer(question=question.pk, option_id=option.pk)
    reference = AnswerOption.objects.select_related("question__capability").get(
        pk=option.pk
    )
    assert _fields(chosen) == _fields(reference)
    assert _fields(chosen.question) == _fields(reference.question)
    assert _fields(chosen.question.capability) == _fields(reference.question.capability)
    assert chosen.question.na_reason_choices() == reference.question.na_reason_choices()


def test_a_question_by_key_and_an_option_by_score(question, framework):
    found, chosen = resolve_answer(
        question=question.key, framework_id=framework.pk, option_score=4
    )
    assert (found, chosen.score) == (question, 4)


def test_an_unknown_question_is_not_found(framework):
    with pytest.raises(QuestionNotFound):
        resolve_answer(question="no-such-key", framework_id=framework.pk)


def test_a_key_shared_by_two_questions_is_ambiguous(framework):
    first = Question.objects.get(capability__framework=framework, key="cap-0-process-0")
    second = Question.objects.get(
        capability__framework=framework, key="cap-1-process-0"
    )
    Question.objects.filter(pk=second.pk).update(key=first.key)
    with pytest.raises(ValidationError) as error:
        resolve_answer(question=first.key, framework_id=framework.pk)
    assert error.value.message_dict == {"question": [AMBIGUOUS_QUESTION_MSG]}


def test_an_option_of_another_question_is_returned_for_the_service_to_refuse(framework):
    first, second = Question.objects.filter(capability__framework=framework)[:2]
    other = second.options.get(score=1)
    found, chosen = resolve_answer(question=first.pk, option_id=other.pk)
    assert (found, chosen) == (first, other)


def test_option_errors_name_the_input(question):
    with pytest.raises(ValidationError) as error:
        resolve_answer(question=question.pk, option_id=987654, option_field="option")
    assert error.value.message_dict == {"option": [OPTION_UNKNOWN_MSG]}
    question.options.filter(score=4).delete()
    with pytest.raises(ValidationError) as error:
        resolve_answer(question=question.pk, option_score=4)
    assert error.value.message_dict == {
        "option_score": [NO_OPTION_WITH_SCORE_MSG.format(score=4)]
    }


def test_a_batch_resolves_in_two_queries_and_names_the_item(
    framework, django_assert_num_queries
):
    q0, q1 = Question.objects.filter(capability__framework=framework)[:2]
    items = [
        {"question": str(q0.pk), "option_score": 2, "comment": "a"},
        {"question": q1.key, "option_id": q1.options.get(score=0).pk},
    ]
    with django_assert_num_queries(2):
        resolved = resolve_answers(items=items, framework_id=framework.pk)
    assert [(r["question"], r["option"].score) for r in resolved] == [(q0, 2), (q1, 0)]
    assert resolved[0]["comment"] == "a"

    with pytest.raises(ValidationError) as error:
        resolve_answers(
            items=[items[0], {"question": "nope"}], framework_id=framework.pk
        )
    assert error.value.message_dict == {"items[1].question": [NO_SUCH_QUESTION_MSG]}


def test_a_question_of_another_framework_is_not_found(framework):
    other = make_framework(slug="other-fw", capabilities=1)  # no cap-1 questions
    question = Question.objects.get(
        capability__framework=framework, key="cap-1-metrics-0"
    )
    with pytest.raises(QuestionNotFound):
        resolve_answer(question=question.key, framework_id=other.pk)
    with pytest.raises(QuestionNotFound):
        resolve_answer(question=question.pk, framework_id=other.pk)

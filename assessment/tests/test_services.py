import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from assessment import services
from assessment.exceptions import (
    ANSWER_CONFLICT_MSG,
    AnswerConflict,
    AssessmentError,
    IncompleteAssessment,
)
from assessment.models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentReopen,
    Cycle,
)
from assessment.tests.factories import answer_all, make_assessment
from capabilities.models import Capability, Question
from capabilities.tests.factories import make_framework
from finops_portal.audit import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(team_a, framework):
    return make_assessment(team=team_a, framework=framework)


def _question(framework, index=0):
    return (
        Question.objects.filter(capability__framework=framework)
        .select_related("capability")
        .order_by("capability__order", "order")[index]
    )


def _option(question, score):
    return question.options.get(score=score)


def _record(assessment, question, user, **kwargs):
    kwargs.setdefault("expected_version", 0)
    return services.answer_record(
        assessment=assessment, question=question, user=user, **kwargs
    )


def _errors(excinfo) -> dict:
    return excinfo.value.message_dict


# --- answer_record: writes ------------------------------------------------------------


def test_answer_record_creates_the_answer_at_version_1(
    assessment, framework, respondent_a
):
    question = _question(framework)
    answer = _record(
        assessment, question, respondent_a, option=_option(question, 3), comment="ok"
    )
    answer.refresh_from_db()
    assert (answer.option.score, answer.comment, answer.version) == (3, "ok", 1)
    assert answer.answered_by == respondent_a


def test_answer_record_starts_the_assessment_and_stamps_activity(
    assessment, framework, respondent_a
):
    question = _question(framework)
    _record(assessment, question, respondent_a, option=_option(question, 1))
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_PROGRESS
    assert assessment.last_activity_at is not None


def test_answer_record_bumps_the_version_on_each_change(
    assessment, framework, respondent_a, respondent_b
):
    question = _question(framework)
    _record(assessment, question, respondent_a, option=_option(question, 1))
    answer = _record(
        assessment,
        question,
        respondent_b,
        option=_option(question, 4),
        expected_version=1,
    )
    assert answer.version == 2
    assert Answer.objects.get().option.score == 4
    assert Answer.objects.get().answered_by == respondent_b


def test_answer_record_writes_one_history_row_per_change(
    assessment, framework, respondent_a
):
    question = _question(framework)
    _record(assessment, question, respondent_a, option=_option(question, 1))
    _record(
        assessment,
        question,
        respondent_a,
        option=_option(question, 2),
        evidence_url="https://wiki.example.com/finops",
        expected_version=1,
    )
    changes = list(AnswerChange.objects.order_by("version"))
    assert [c.version for c in changes] == [1, 2]
    assert changes[0].old == {
        "option_score": None,
        "option_id": None,
        "not_applicable": False,
        "comment": "",
        "evidence_url": "",
    }
    assert changes[1].old["option_score"] == 1
    assert changes[1].new == {
        "option_score": 2,
        "option_id": _option(question, 2).pk,
        "not_applicable": False,
        "comment": "",
        "evidence_url": "https://wiki.example.com/finops",
    }
    assert changes[1].changed_by == respondent_a


def test_answer_record_leaves_comment_and_evidence_unchanged_when_none(
    assessment, framework, respondent_a
):
    question = _question(framework)
    _record(
        assessment,
        question,
        respondent_a,
        option=_option(question, 1),
        comment="Keep me",
        evidence_url="https://example.com/x",
    )
    answer = _record(
        assessment,
        question,
        respondent_a,
        option=_option(question, 2),
        expected_version=1,
    )
    answer.refresh_from_db()
    assert (answer.comment, answer.evidence_url) == ("Keep me", "https://example.com/x")


def test_answer_record_with_the_stored_values_changes_nothing(
    assessment, framework, respondent_a
):
    question = _question(framework)
    _record(
        assessment, question, respondent_a, option=_option(question, 1), comment="x"
    )
    answer = _record(
        assessment,
        question,
        respondent_a,
        option=_option(question, 1),
        comment="x",
        expected_version=1,
    )
    assert answer.version == 1
    assert AnswerChange.objects.count() == 1


def test_answer_record_of_nothing_on_no_answer_stores_nothing(
    assessment, framework, respondent_a
):
    answer = _record(assessment, _question(framework), respondent_a, comment="")
    assert (answer.pk, answer.version) == (None, 0)
    assert not Answer.objects.exists()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.NOT_STARTED


def test_answer_record_clears_the_option(assessment, framework, respondent_a):
    question = _question(framework)
    _record(assessment, question, respondent_a, option=_option(question, 1))
    answer = _record(assessment, question, respondent_a, expected_version=1)
    assert answer.option is None
    assert not answer.is_answered
    assert answer.version == 2


def test_answer_record_accepts_na_where_allowed(assessment, framework, respondent_a):
    question = _question(framework)
    Question.objects.filter(pk=question.pk).update(allow_na=True)
    question.refresh_from_db()
    answer = _record(assessment, question, respondent_a, not_applicable=True)
    assert answer.is_answered
    assert answer.not_applicable


def test_answer_record_accepts_a_comment_at_the_limit(
    assessment, framework, respondent_a
):
    comment = "x" * services.COMMENT_MAX_LENGTH
    answer = _record(assessment, _question(framework), respondent_a, comment=comment)
    assert len(answer.comment) == services.COMMENT_MAX_LENGTH


# --- answer_record: refusals --------------------------------------------------------


def test_answer_record_rejects_an_option_of_another_question(
    assessment, framework, respondent_a
):
    question, other = _question(framework, 0), _question(framework, 1)
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, question, respondent_a, option=_option(other, 2))
    assert _errors(excinfo) == {"option": [services.OPTION_OF_OTHER_QUESTION_MSG]}
    assert not Answer.objects.exists()


def test_answer_record_rejects_a_question_of_another_framework(
    assessment, respondent_a
):
    other_fw = make_framework(slug="other", publish=True)
    question = _question(other_fw)
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, question, respondent_a, option=_option(question, 2))
    assert _errors(excinfo) == {"question": [services.QUESTION_NOT_IN_FRAMEWORK_MSG]}


def test_answer_record_rejects_a_question_out_of_the_cycles_scope(
    team_a, framework, respondent_a
):
    first = Capability.objects.get(framework=framework, key="cap-0")
    assessment = make_assessment(team=team_a, framework=framework, capabilities=[first])
    question = Question.objects.select_related("capability").filter(
        capability__key="cap-1"
    )[0]
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, question, respondent_a, option=_option(question, 2))
    assert _errors(excinfo) == {"question": [services.QUESTION_OUT_OF_SCOPE_MSG]}


def test_scope_is_checked_per_question_by_answer_record_and_bulk(
    team_a, framework, respondent_a
):
    first = Capability.objects.get(framework=framework, key="cap-0")
    assessment = make_assessment(team=team_a, framework=framework, capabilities=[first])
    inside = Question.objects.select_related("capability").filter(
        capability__key="cap-0"
    )[0]
    outside = Question.objects.select_related("capability").filter(
        capability__key="cap-1"
    )[0]
    answer = _record(assessment, inside, respondent_a, option=_option(inside, 2))
    assert answer.version == 1
    with pytest.raises(ValidationError) as excinfo:
        services.answers_bulk_record(
            assessment=assessment,
            user=respondent_a,
            items=[
                {
                    "question": inside,
                    "option": _option(inside, 3),
                    "expected_version": 1,
                },
                {"question": outside, "option": _option(outside, 3)},
            ],
        )
    assert _errors(excinfo) == {
        "items[1].question": [services.QUESTION_OUT_OF_SCOPE_MSG]
    }
    assert Answer.objects.get().version == 1


def test_answer_record_rejects_a_comment_over_the_limit(
    assessment, framework, respondent_a
):
    with pytest.raises(ValidationError) as excinfo:
        _record(
            assessment,
            _question(framework),
            respondent_a,
            comment="x" * (services.COMMENT_MAX_LENGTH + 1),
        )
    assert _errors(excinfo) == {"comment": [services.COMMENT_TOO_LONG_MSG]}


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://files.example.com/a", "wiki/page", "https://"],
)
def test_answer_record_rejects_evidence_that_is_not_an_http_url(
    assessment, framework, respondent_a, url
):
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, _question(framework), respondent_a, evidence_url=url)
    assert _errors(excinfo) == {"evidence_url": [services.EVIDENCE_URL_SCHEME_MSG]}


def test_answer_record_rejects_an_evidence_url_over_500_characters(
    assessment, framework, respondent_a
):
    url = "https://example.com/" + "a" * 490
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, _question(framework), respondent_a, evidence_url=url)
    assert _errors(excinfo) == {"evidence_url": [services.EVIDENCE_URL_TOO_LONG_MSG]}


def test_answer_record_rejects_na_where_not_allowed(
    assessment, framework, respondent_a
):
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, _question(framework), respondent_a, not_applicable=True)
    assert _errors(excinfo) == {"not_applicable": [services.NA_NOT_ALLOWED_MSG]}


def test_answer_record_rejects_an_option_and_na_together(
    assessment, framework, respondent_a
):
    question = _question(framework)
    Question.objects.filter(pk=question.pk).update(allow_na=True)
    question.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        _record(
            assessment,
            question,
            respondent_a,
            option=_option(question, 1),
            not_applicable=True,
        )
    assert _errors(excinfo) == {"option": [services.OPTION_AND_NA_MSG]}


def test_answer_record_raises_a_conflict_on_a_stale_version(
    assessment, framework, respondent_a, respondent_b
):
    question = _question(framework)
    _record(assessment, question, respondent_a, option=_option(question, 1))
    _record(
        assessment,
        question,
        respondent_a,
        option=_option(question, 2),
        expected_version=1,
    )
    with pytest.raises(AnswerConflict) as excinfo:
        _record(
            assessment,
            question,
            respondent_b,
            option=_option(question, 4),
            expected_version=1,
        )
    assert isinstance(excinfo.value, AssessmentError)
    assert excinfo.value.message == ANSWER_CONFLICT_MSG
    assert excinfo.value.current.version == 2
    assert excinfo.value.current.option.score == 2
    assert Answer.objects.get().option.score == 2
    assert AnswerChange.objects.count() == 2


def test_answer_record_raises_a_conflict_when_someone_answered_first(
    assessment, framework, respondent_a, respondent_b
):
    question = _question(framework)
    _record(assessment, question, respondent_a, option=_option(question, 1))
    with pytest.raises(AnswerConflict) as excinfo:
        _record(
            assessment,
            question,
            respondent_b,
            option=_option(question, 3),
            expected_version=None,
        )
    assert excinfo.value.current.answered_by == respondent_a


def test_answer_record_refuses_a_submitted_assessment(
    assessment, framework, respondent_a
):
    Assessment.objects.filter(pk=assessment.pk).update(
        status=Assessment.Status.SUBMITTED
    )
    question = _question(framework)
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, question, respondent_a, option=_option(question, 1))
    assert _errors(excinfo) == {"assessment": [services.ASSESSMENT_SUBMITTED_MSG]}
    assert not Answer.objects.exists()


@pytest.mark.parametrize("status", [Cycle.Status.CLOSED, Cycle.Status.PLANNED])
def test_answer_record_refuses_a_cycle_that_is_not_open(
    assessment, framework, respondent_a, status
):
    Cycle.objects.filter(pk=assessment.cycle_id).update(status=status)
    question = _question(framework)
    with pytest.raises(ValidationError) as excinfo:
        _record(assessment, question, respondent_a, option=_option(question, 1))
    assert _errors(excinfo) == {"assessment": [services.CYCLE_NOT_OPEN_MSG]}


def test_answer_record_by_pk_returns_the_locked_row_with_the_answer(
    assessment, framework, respondent_a
):
    question = _question(framework)
    answer = _record(
        assessment.pk,
        question,
        respondent_a,
        option=_option(question, 3),
        may_answer=lambda row: row.team_id == assessment.team_id,
    )
    assert answer.version == 1
    assert answer.assessment.pk == assessment.pk
    assert answer.assessment.status == Assessment.Status.IN_PROGRESS


def test_answer_record_by_pk_refuses_before_validating_when_may_answer_is_false(
    assessment, framework, respondent_a
):
    question = _question(framework)
    seen = []

    def may_answer(row):
        seen.append(row.pk)
        return False

    with pytest.raises(Assessment.DoesNotExist):
        # Even an invalid answer: the refusal comes first, and nothing is written.
        _record(
            assessment.pk,
            question,
            respondent_a,
            not_applicable=True,
            option=_option(question, 3),
            may_answer=may_answer,
        )
    assert seen == [assessment.pk]
    assert not Answer.objects.exists()
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.NOT_STARTED


def test_answer_record_by_pk_of_a_missing_assessment_raises_does_not_exist(
    framework, respondent_a
):
    question = _question(framework)
    with pytest.raises(Assessment.DoesNotExist):
        _record(10**9, question, respondent_a, option=_option(question, 1))


def test_answer_record_uses_a_bounded_number_of_queries(
    assessment, framework, respondent_a, django_assert_max_num_queries
):
    question = _question(framework)
    _record(assessment, question, respondent_a, option=_option(question, 1))
    option = _option(question, 2)
    # lock (with the scope check), answer, update, history (+ savepoint on the way
    # in and out); the activity stamp is written at most once a minute.
    with django_assert_max_num_queries(6):
        _record(
            assessment,
            question,
            respondent_a,
            option=option,
            comment="again",
            expected_version=1,
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("answered_before", [False, True])
def test_twenty_concurrent_writers_of_one_version_make_one_change_and_nineteen_conflicts(
    team_a, respondent_a, answered_before
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    framework = make_framework(publish=True)
    assessment = make_assessment(team=team_a, framework=framework)
    question = _question(framework)
    options = list(question.options.all())
    version = 0
    if answered_before:
        _record(assessment, question, respondent_a, option=options[0], comment="first")
        version = 1
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def write(n):
        from django.db import connections

        try:
            barrier.wait()
            fresh = Assessment.objects.select_related("cycle").get(pk=assessment.pk)
            _record(
                fresh,
                question,
                respondent_a,
                option=options[n % 5],
                comment=f"writer {n}",
                expected_version=version,
            )
            outcomes.append("saved")
        except AnswerConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 19 + ["saved"]
    answer = Answer.objects.get(assessment=assessment)
    assert answer.version == version + 1
    assert answer.changes.count() == version + 1


# --- answers_bulk_record ------------------------------------------------------------


def test_answers_bulk_record_saves_every_item(assessment, framework, respondent_a):
    q0, q1 = _question(framework, 0), _question(framework, 1)
    answers = services.answers_bulk_record(
        assessment=assessment,
        user=respondent_a,
        items=[
            {"question": q0, "option": _option(q0, 1), "expected_version": 0},
            {"question": q1.pk, "option": _option(q1, 3).pk, "comment": "by id"},
        ],
    )
    assert [a.version for a in answers] == [1, 1]
    assert Answer.objects.get(question=q1).comment == "by id"


def test_answers_bulk_record_is_all_or_nothing(assessment, framework, respondent_a):
    q0, q1 = _question(framework, 0), _question(framework, 1)
    with pytest.raises(ValidationError) as excinfo:
        services.answers_bulk_record(
            assessment=assessment,
            user=respondent_a,
            items=[
                {"question": q0, "option": _option(q0, 1)},
                {"question": q1, "option": _option(q0, 2)},
            ],
        )
    assert _errors(excinfo) == {
        "items[1].option": [services.OPTION_OF_OTHER_QUESTION_MSG]
    }
    assert not Answer.objects.exists()


def test_answers_bulk_record_refuses_an_empty_list(assessment, respondent_a):
    with pytest.raises(ValidationError) as excinfo:
        services.answers_bulk_record(assessment=assessment, user=respondent_a, items=[])
    assert _errors(excinfo) == {"items": [services.BULK_EMPTY_MSG]}


# --- assessment_submit ----------------------------------------------------------------


def test_assessment_submit_refuses_an_incomplete_assessment_and_lists_what_is_missing(
    assessment, framework, respondent_a
):
    answer_all(assessment, skip=2)
    with pytest.raises(IncompleteAssessment) as excinfo:
        services.assessment_submit(assessment=assessment, user=respondent_a)
    missing = excinfo.value.missing
    assert [group["capability"].key for group in missing] == ["cap-1"]
    assert [q.key for q in missing[0]["questions"]] == [
        "cap-1-adoption-0",
        "cap-1-automation-0",
    ]
    assert excinfo.value.message == (
        "2 question(s) are not answered yet. Answer them, or mark them N/A where "
        "allowed, before submitting."
    )
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.IN_PROGRESS


def test_assessment_submit_counts_na_only_where_allowed(
    assessment, framework, respondent_a
):
    answer_all(assessment, skip=1)
    last = _question(framework, 9)
    # N/A stored on a question that does not allow it (content changed): still missing.
    Answer.objects.create(assessment=assessment, question=last, not_applicable=True)
    with pytest.raises(IncompleteAssessment) as excinfo:
        services.assessment_submit(assessment=assessment, user=respondent_a)
    assert excinfo.value.count == 1


def test_assessment_submit_accepts_na_where_allowed(
    assessment, framework, respondent_a
):
    answer_all(assessment, skip=1)
    last = _question(framework, 9)
    Question.objects.filter(pk=last.pk).update(allow_na=True)
    Answer.objects.create(assessment=assessment, question=last, not_applicable=True)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    assessment.refresh_from_db()
    assert assessment.is_submitted


def test_assessment_submit_stamps_who_and_when(assessment, respondent_a):
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.SUBMITTED
    assert assessment.submitted_by == respondent_a
    assert assessment.submitted_at is not None


def test_assessment_submit_stores_the_scores_and_marks_the_rollup_stale(
    assessment, respondent_a
):
    answer_all(assessment, score=4)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    assert assessment.scores.count() == 2
    assessment.cycle.refresh_from_db()
    assert assessment.cycle.scores_generation >= 1


def test_assessment_submit_refuses_an_already_submitted_assessment(
    assessment, respondent_a
):
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_submit(assessment=assessment, user=respondent_a)
    assert _errors(excinfo) == {"assessment": [services.ALREADY_SUBMITTED_MSG]}


def test_assessment_submit_refuses_a_closed_cycle(assessment, respondent_a):
    answer_all(assessment)
    Cycle.objects.filter(pk=assessment.cycle_id).update(status=Cycle.Status.CLOSED)
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_submit(assessment=assessment, user=respondent_a)
    assert _errors(excinfo) == {"assessment": [services.CYCLE_NOT_OPEN_MSG]}


# --- assessment_reopen ----------------------------------------------------------------


@pytest.fixture
def submitted(assessment, respondent_a):
    answer_all(assessment)
    return services.assessment_submit(assessment=assessment, user=respondent_a)


def test_assessment_reopen_puts_the_assessment_back_in_progress(submitted, lead):
    services.assessment_reopen(assessment=submitted, user=lead, reason="Typo in K2")
    submitted.refresh_from_db()
    assert submitted.status == Assessment.Status.IN_PROGRESS
    assert (submitted.submitted_at, submitted.submitted_by) == (None, None)
    reopen = AssessmentReopen.objects.get()
    assert (reopen.reopened_by, reopen.reason) == (lead, "Typo in K2")
    event = AuditEvent.objects.get(action="assessment.reopen")
    assert event.actor == lead
    assert event.detail == {"assessment_id": submitted.pk, "reason": "Typo in K2"}


def test_assessment_reopen_allows_answers_again(
    submitted, framework, lead, respondent_a
):
    services.assessment_reopen(assessment=submitted, user=lead, reason="More evidence")
    question = _question(framework)
    answer = _record(
        submitted,
        question,
        respondent_a,
        option=_option(question, 4),
        expected_version=1,
    )
    assert answer.version == 2


def test_assessment_reopen_requires_a_reason(submitted, lead):
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_reopen(assessment=submitted, user=lead, reason="  ")
    assert _errors(excinfo) == {"reason": [services.REOPEN_REASON_REQUIRED_MSG]}


def test_assessment_reopen_refuses_an_assessment_that_is_not_submitted(
    assessment, lead
):
    with pytest.raises(ValidationError) as excinfo:
        services.assessment_reopen(assessment=assessment, user=lead, reason="why")
    assert _errors(excinfo) == {"assessment": [services.NOT_SUBMITTED_MSG]}

"""Consensus mode: members answer on their own, the facilitator settles, only the
settled answers score, and the disagreement is kept."""

import statistics

import pytest
from django.core.exceptions import ValidationError

from assessment import consensus, scores, scoring, services
from assessment.exceptions import AnswerConflict, ConsensusTeamAnswer
from assessment.models import (
    Answer,
    AnsweringMode,
    Assessment,
    CapabilityScore,
    Membership,
    RespondentAnswer,
    Settlement,
)
from assessment.tests.factories import answer_all, make_assessment
from capabilities.models import Question
from conftest import _member

pytestmark = pytest.mark.django_db


@pytest.fixture
def trio(team_a, respondent_a):
    """Three members of team A: alice (the fixture), carl and dora."""
    carl = _member("carl", team_a.organization, "respondent", team_a)
    dora = _member("dora", team_a.organization, "respondent", team_a)
    return [respondent_a, carl, dora]


@pytest.fixture
def consensus_assessment(team_a, framework):
    assessment = make_assessment(team=team_a, framework=framework)
    consensus.cycle_mode_set(cycle=assessment.cycle, mode=AnsweringMode.CONSENSUS)
    assessment.refresh_from_db()
    return assessment


def questions(assessment):
    return list(
        Question.objects.filter(capability__framework_id=assessment.cycle.framework_id)
        .order_by("capability__order", "order", "id")
        .prefetch_related("options")
    )


def option(question, score):
    return next(o for o in question.options.all() if o.score == score)


def answer_own(assessment, user, question, score, **extra):
    current = RespondentAnswer.objects.filter(
        assessment=assessment, respondent=user, question=question
    ).first()
    return consensus.own_answer_record(
        assessment=assessment,
        question=question,
        user=user,
        option=option(question, score),
        expected_version=current.version if current else 0,
        **extra,
    )


def answer_everything(assessment, user, scores_by_index):
    for index, question in enumerate(questions(assessment)):
        answer_own(assessment, user, question, scores_by_index(index))


# --- mode ------------------------------------------------------------------------


def test_single_mode_is_the_default(team_a, framework):
    assessment = make_assessment(team=team_a, framework=framework)
    assert assessment.cycle.mode == AnsweringMode.SINGLE
    assert assessment.mode == AnsweringMode.SINGLE


def test_switching_mode_after_answers_exist_is_refused_with_the_reason(
    team_a, framework, respondent_a
):
    assessment = make_assessment(team=team_a, framework=framework)
    answer_all(assessment, skip=8)
    with pytest.raises(ValidationError) as error:
        consensus.cycle_mode_set(cycle=assessment.cycle, mode=AnsweringMode.CONSENSUS)
    assert error.value.message_dict == {
        "mode": [consensus.MODE_HAS_ANSWERS_MSG.format(count=2)]
    }
    assessment.refresh_from_db()
    assert assessment.mode == AnsweringMode.SINGLE
    assert Answer.objects.filter(assessment=assessment).count() == 2


def test_switching_one_team_after_its_own_answers_exist_is_refused(
    consensus_assessment, trio
):
    answer_own(consensus_assessment, trio[0], questions(consensus_assessment)[0], 2)
    with pytest.raises(ValidationError) as error:
        consensus.assessment_mode_set(
            assessment=consensus_assessment, mode=AnsweringMode.SINGLE
        )
    assert error.value.message_dict == {
        "mode": [consensus.MODE_HAS_ANSWERS_MSG.format(count=1)]
    }


def test_an_unknown_mode_is_refused(consensus_assessment):
    with pytest.raises(ValidationError) as error:
        consensus.cycle_mode_set(cycle=consensus_assessment.cycle, mode="vote")
    assert error.value.message_dict == {"mode": [consensus.MODE_INVALID_MSG]}


def test_team_answer_write_is_refused_in_consensus_mode(consensus_assessment, trio):
    question = questions(consensus_assessment)[0]
    with pytest.raises(ConsensusTeamAnswer):
        services.answer_record(
            assessment=consensus_assessment,
            question=question,
            user=trio[0],
            option=option(question, 2),
            expected_version=0,
        )
    assert not Answer.objects.exists()


# --- own answers -----------------------------------------------------------------


def test_each_member_answers_on_their_own_with_history(consensus_assessment, trio):
    question = questions(consensus_assessment)[0]
    answer_own(consensus_assessment, trio[0], question, 1)
    answer_own(consensus_assessment, trio[1], question, 3)
    again = answer_own(
        consensus_assessment, trio[0], question, 2, comment="on second thought"
    )
    assert again.version == 2
    assert again.changes.count() == 2
    assert sorted(
        RespondentAnswer.objects.filter(question=question).values_list(
            "respondent__username", "option__score"
        )
    ) == [("alice", 2), ("carl", 3)]
    assert not Answer.objects.exists()
    progress = consensus.own_progress(assessment=consensus_assessment, user=trio[0])
    assert (progress["answered"], progress["total"]) == (1, 10)


def test_a_stale_version_of_ones_own_answer_is_a_conflict(consensus_assessment, trio):
    question = questions(consensus_assessment)[0]
    answer_own(consensus_assessment, trio[0], question, 1)
    with pytest.raises(AnswerConflict):
        consensus.own_answer_record(
            assessment=consensus_assessment,
            question=question,
            user=trio[0],
            option=option(question, 4),
            expected_version=0,
        )
    assert RespondentAnswer.objects.get().option.score == 1


def test_bad_input_names_the_field_and_writes_nothing(consensus_assessment, trio):
    first, second = questions(consensus_assessment)[:2]
    with pytest.raises(ValidationError) as error:
        consensus.own_answer_record(
            assessment=consensus_assessment,
            question=first,
            user=trio[0],
            option=option(second, 2),
            private_note="x" * (services.COMMENT_MAX_LENGTH + 1),
            expected_version=0,
        )
    assert error.value.message_dict == {
        "option": [services.OPTION_OF_OTHER_QUESTION_MSG],
        "private_note": [consensus.NOTE_TOO_LONG_MSG],
    }
    assert not RespondentAnswer.objects.exists()


def test_a_lead_who_is_not_a_member_does_not_answer_on_their_own(
    consensus_assessment, lead
):
    question = questions(consensus_assessment)[0]
    with pytest.raises(ValidationError) as error:
        answer_own(consensus_assessment, lead, question, 2)
    assert error.value.message_dict == {"assessment": [consensus.NOT_A_MEMBER_MSG]}


def test_a_member_added_mid_cycle_answers_until_the_team_submits(
    consensus_assessment, trio, team_a
):
    question = questions(consensus_assessment)[0]
    answer_own(consensus_assessment, trio[0], question, 2)
    late = _member("late", team_a.organization, "respondent", team_a)
    assert answer_own(consensus_assessment, late, question, 3).version == 1


def test_a_removed_members_answers_stay_marked(consensus_assessment, trio):
    question = questions(consensus_assessment)[0]
    answer_own(consensus_assessment, trio[2], question, 4)
    Membership.objects.filter(user=trio[2]).delete()
    people = consensus.respondents(assessment=consensus_assessment)
    assert [(p["name"], p["removed"]) for p in people] == [
        ("alice", False),
        ("carl", False),
        ("dora", True),
    ]
    board, _ = consensus.facilitation_board(
        assessment=consensus_assessment, with_private_notes=True
    )
    row = next(r for r in board if r.question.pk == question.pk)
    assert [(i["respondent"]["name"], i["score"]) for i in row.individuals] == [
        ("dora", 4)
    ]
    with pytest.raises(ValidationError):
        answer_own(consensus_assessment, trio[2], question, 1)


def test_own_submission_requires_every_answer_and_then_fixes_them(
    consensus_assessment, trio
):
    qs = questions(consensus_assessment)
    answer_own(consensus_assessment, trio[0], qs[0], 2)
    with pytest.raises(services.IncompleteAssessment) as error:
        consensus.own_submit(assessment=consensus_assessment, user=trio[0])
    assert error.value.count == 9
    answer_everything(consensus_assessment, trio[0], lambda i: 2)
    consensus.own_submit(assessment=consensus_assessment, user=trio[0])
    with pytest.raises(ValidationError) as error:
        answer_own(consensus_assessment, trio[0], qs[0], 3)
    assert error.value.message_dict == {"assessment": [consensus.OWN_SUBMITTED_MSG]}


def test_answering_after_the_team_submitted_is_refused(
    consensus_assessment, trio, lead
):
    qs = questions(consensus_assessment)
    for question in qs:
        consensus.answer_settle(
            assessment=consensus_assessment,
            question=question,
            user=lead,
            option=option(question, 2),
            note="settled in the workshop",
        )
    services.assessment_submit(assessment=consensus_assessment, user=lead)
    with pytest.raises(ValidationError) as error:
        answer_own(consensus_assessment, trio[1], qs[0], 3)
    assert error.value.message_dict == {
        "assessment": [services.ASSESSMENT_SUBMITTED_MSG]
    }
    assert not RespondentAnswer.objects.exists()


# --- visibility ------------------------------------------------------------------


def test_members_see_the_others_only_after_their_own_submission(
    consensus_assessment, trio, lead
):
    from assessment.access import access_for

    def visible(user):
        return consensus.individuals_visible(
            access=access_for(user), assessment=consensus_assessment, user=user
        )

    assert not visible(trio[0])
    assert visible(lead)
    answer_everything(consensus_assessment, trio[0], lambda i: 1)
    consensus.own_submit(assessment=consensus_assessment, user=trio[0])
    assert visible(trio[0])
    assert not visible(trio[1])
    consensus.facilitator_set(assessment=consensus_assessment, facilitator=trio[1])
    trio[1]._finops_access = None
    assert visible(trio[1])


def test_only_a_member_can_be_named_facilitator(consensus_assessment, respondent_b):
    with pytest.raises(ValidationError) as error:
        consensus.facilitator_set(
            assessment=consensus_assessment, facilitator=respondent_b
        )
    assert error.value.message_dict == {
        "facilitator": [consensus.FACILITATOR_NOT_MEMBER_MSG]
    }


# --- settling --------------------------------------------------------------------


def test_settling_a_question_no_one_answered_needs_a_note(consensus_assessment, lead):
    question = questions(consensus_assessment)[0]
    with pytest.raises(ValidationError) as error:
        consensus.answer_settle(
            assessment=consensus_assessment,
            question=question,
            user=lead,
            option=option(question, 1),
        )
    assert error.value.message_dict == {"note": [consensus.SETTLE_NOTE_REQUIRED_MSG]}
    assert not Answer.objects.exists()
    consensus.answer_settle(
        assessment=consensus_assessment,
        question=question,
        user=lead,
        option=option(question, 1),
        note="Asked the platform team",
    )
    settlement = Settlement.objects.get()
    assert (settlement.note, settlement.respondents, settlement.used_default) == (
        "Asked the platform team",
        0,
        False,
    )


def test_settling_without_a_choice_is_refused(consensus_assessment, trio, lead):
    question = questions(consensus_assessment)[0]
    answer_own(consensus_assessment, trio[0], question, 2)
    with pytest.raises(ValidationError) as error:
        consensus.answer_settle(
            assessment=consensus_assessment, question=question, user=lead
        )
    assert error.value.message_dict == {
        "option": [consensus.SETTLE_CHOICE_REQUIRED_MSG]
    }


# Individual scores per question index for alice, carl, dora: questions 0, 3 and 7
# disagree by two levels or more, the rest lie within one level.
SCORES = {
    0: (0, 2, 4),
    1: (2, 2, 3),
    2: (1, 2, 2),
    3: (1, 3, 3),
    4: (3, 3, 3),
    5: (2, 3, 3),
    6: (0, 1, 1),
    7: (4, 1, 2),
    8: (2, 2, 2),
    9: (3, 4, 4),
}


def answer_scores(assessment, trio):
    for index, who in enumerate(trio):
        answer_everything(assessment, who, lambda i, who=index: SCORES[i][who])


def test_facilitator_settles_with_the_median_default_and_two_overrides(
    consensus_assessment, trio, lead
):
    answer_scores(consensus_assessment, trio)
    for who in trio:
        consensus.own_submit(assessment=consensus_assessment, user=who)
    board, people = consensus.facilitation_board(
        assessment=consensus_assessment, with_private_notes=True
    )
    qs = questions(consensus_assessment)
    index_of = {q.pk: i for i, q in enumerate(qs)}
    # sorted by disagreement, widest first
    assert [index_of[r.question.pk] for r in board[:3]] == [0, 7, 3]
    assert [r.spread for r in board] == sorted((r.spread for r in board), reverse=True)
    # the default is the (low) median wherever everyone is within one level
    for row in board:
        values = SCORES[index_of[row.question.pk]]
        if max(values) - min(values) <= 1:
            assert row.default.score == statistics.median_low(values)
        else:
            assert row.default is None

    confirmed = consensus.settle_defaults(assessment=consensus_assessment, user=lead)
    assert confirmed == 7
    overrides = {0: 2, 3: 3, 7: 2}
    for index, score in overrides.items():
        consensus.answer_settle(
            assessment=consensus_assessment,
            question=qs[index],
            user=lead,
            option=option(qs[index], score),
            note="discussed",
        )
    # two overrides of a confirmed default: question 1 (default 2) and 9 (default 4)
    for index, score in {1: 3, 9: 3}.items():
        consensus.answer_settle(
            assessment=consensus_assessment,
            question=qs[index],
            user=lead,
            option=option(qs[index], score),
            note="The finance partner's evidence settles it",
        )
    services.assessment_submit(assessment=consensus_assessment, user=lead)

    settled = {
        index_of[a.question_id]: a.option.score
        for a in Answer.objects.filter(assessment=consensus_assessment)
    }
    expected = (
        {i: statistics.median_low(v) for i, v in SCORES.items() if max(v) - min(v) <= 1}
        | overrides
        | {1: 3, 9: 3}
    )
    assert settled == expected
    assert sorted(
        index_of[s.question_id] for s in Settlement.objects.filter(used_default=True)
    ) == [2, 4, 5, 6, 8]
    assert RespondentAnswer.objects.count() == 30  # individual answers kept

    # the stored scores are the scoring function on the settled answers
    rules = scores.cycle_rules(cycle=consensus_assessment.cycle)
    frame = scores.answers_frame(
        assessment_ids=[consensus_assessment.pk], questions=rules.questions
    )
    assert set(frame[scoring.SCORE].astype(int)) <= {0, 1, 2, 3, 4}
    assert dict(zip(frame[scoring.QUESTION], frame[scoring.SCORE], strict=True)) == {
        qs[i].pk: float(s) for i, s in expected.items()
    }
    computed = scores.score_frame(
        rules=rules, answers=frame, assessment_ids=[consensus_assessment.pk]
    )
    stored = {
        row.capability_id: row.percent
        for row in CapabilityScore.objects.filter(assessment=consensus_assessment)
    }
    assert stored == pytest.approx(
        dict(zip(computed[scoring.CAPABILITY], computed[scoring.PERCENT], strict=True))
    )

    # the disagreement figure: mean of the question ranges, computed independently
    by_capability: dict[int, list[int]] = {}
    for i, question in enumerate(qs):
        by_capability.setdefault(question.capability_id, []).append(
            max(SCORES[i]) - min(SCORES[i])
        )
    assert {
        row.capability_id: row.disagreement
        for row in CapabilityScore.objects.filter(assessment=consensus_assessment)
    } == pytest.approx({c: sum(r) / len(r) for c, r in by_capability.items()})


def test_single_mode_scores_have_no_disagreement(team_a, framework, respondent_a):
    assessment = make_assessment(team=team_a, framework=framework)
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    assert set(
        CapabilityScore.objects.filter(assessment=assessment).values_list(
            "disagreement", flat=True
        )
    ) == {None}
    assert Assessment.objects.get(pk=assessment.pk).mode == AnsweringMode.SINGLE

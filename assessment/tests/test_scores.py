"""The stored team scores: ``assessment.scores``."""

import pytest

from assessment.models import Answer, Assessment, CapabilityScore, Cycle
from assessment.scores import (
    answers_frame,
    scores_store,
    scores_store_cycle,
    scores_store_many,
)
from capabilities.models import AnswerOption, Question

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org, framework, team_a, team_b):
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="2026 Q1", status="open"
    )
    cycle.teams.set([team_a, team_b])
    return cycle


@pytest.fixture
def assessment(cycle, team_a):
    return Assessment.objects.create(cycle=cycle, team=team_a)


def answer_all(assessment, score_for):
    """Answer every question of the framework: ``score_for(question)`` -> 0..4 or
    None for N/A (or "skip" to leave it unanswered)."""
    questions = Question.objects.filter(
        capability__framework=assessment.cycle.framework
    ).select_related("capability", "lens")
    options = {
        (o.question_id, o.score): o
        for o in AnswerOption.objects.filter(question__in=questions)
    }
    rows, na_ids = [], []
    for q in questions:
        score = score_for(q)
        if score == "skip":
            continue
        if score is None:
            na_ids.append(q.pk)
        rows.append(
            Answer(
                assessment=assessment,
                question=q,
                option=None if score is None else options[(q.id, score)],
                not_applicable=score is None,
            )
        )
    # N/A is allowed on those questions (set on the rows: the framework is published)
    Question.objects.filter(pk__in=na_ids).update(allow_na=True)
    Answer.objects.bulk_create(rows)


def stored(assessment):
    return {
        s.capability.key: (s.lens_scores, s.percent, s.level_key, s.answered, s.total)
        for s in CapabilityScore.objects.filter(assessment=assessment).select_related(
            "capability"
        )
    }


def test_scores_store_writes_one_row_per_capability_in_scope(assessment):
    answer_all(
        assessment,
        lambda q: {"knowledge": 4, "process": 2, "metrics": 2}.get(q.lens.key, 0),
    )

    scores_store(assessment=assessment)

    lens = {"knowledge": 4.0, "process": 2.0, "metrics": 2.0}
    lens |= {"adoption": 0.0, "automation": 0.0}
    # (4 + 2 + 2 + 0 + 0) / 5 / 4 * 100 = 40
    assert stored(assessment) == {
        "cap-0": (lens, 40.0, "crawl", 5, 5),
        "cap-1": (lens, 40.0, "crawl", 5, 5),
    }


def test_scores_store_leaves_na_and_unanswered_out(assessment):
    answer_all(
        assessment,
        lambda q: (
            None
            if q.lens.key == "knowledge"
            else "skip"
            if q.lens.key == "process"
            else 3
        ),
    )

    scores_store(assessment=assessment)

    lens = {"metrics": 3.0, "adoption": 3.0, "automation": 3.0}
    assert stored(assessment)["cap-0"] == (lens, 75.0, "run", 4, 5)


def test_scores_store_gives_no_percent_when_nothing_is_answered(assessment):
    scores_store(assessment=assessment)

    assert stored(assessment) == {
        "cap-0": ({}, None, "", 0, 5),
        "cap-1": ({}, None, "", 0, 5),
    }


def test_scores_store_uses_the_cycles_lens_weights(assessment, cycle):
    cycle.lens_weights = {
        "knowledge": 30,
        "process": 25,
        "metrics": 20,
        "adoption": 20,
        "automation": 5,
    }
    cycle.save()
    answer_all(assessment, lambda q: 4 if q.lens.key == "knowledge" else 0)

    scores_store(assessment=assessment)

    assert stored(assessment)["cap-0"][1] == 30.0


def test_scores_store_is_idempotent(assessment):
    answer_all(assessment, lambda q: 2)
    scores_store(assessment=assessment)
    first = stored(assessment)

    scores_store(assessment=assessment)

    assert stored(assessment) == first
    assert CapabilityScore.objects.filter(assessment=assessment).count() == 2


def test_scores_store_follows_changed_answers(assessment):
    answer_all(assessment, lambda q: 2)
    scores_store(assessment=assessment)
    Question.objects.filter(capability__framework=assessment.cycle.framework).update(
        allow_na=True
    )
    Answer.objects.filter(assessment=assessment).update(
        option=None, not_applicable=True
    )

    scores_store(assessment=assessment)

    assert stored(assessment)["cap-0"] == ({}, None, "", 5, 5)


def test_scores_store_only_scores_capabilities_in_scope(assessment, cycle, framework):
    cycle.capabilities.set([framework.capabilities.get(key="cap-1")])
    answer_all(assessment, lambda q: 1)

    scores_store(assessment=assessment)

    assert list(stored(assessment)) == ["cap-1"]


def test_scores_store_issues_a_bounded_number_of_queries(
    assessment, django_assert_max_num_queries
):
    answer_all(assessment, lambda q: 1)
    with django_assert_max_num_queries(10):
        scores_store(assessment=assessment)


def test_scores_store_many_scores_every_assessment_with_constant_queries(
    cycle, assessment, team_b, django_assert_max_num_queries
):
    other = Assessment.objects.create(cycle=cycle, team=team_b)
    answer_all(assessment, lambda q: 4)
    answer_all(other, lambda q: 0)

    with django_assert_max_num_queries(12):
        written = scores_store_many(assessment_ids=[assessment.pk, other.pk])

    assert written == 4
    assert stored(assessment)["cap-0"][1] == 100.0
    assert stored(other)["cap-0"][1:3] == (0.0, "not_started")


def test_scores_store_cycle_matches_scores_store(cycle, assessment, team_b):
    other = Assessment.objects.create(cycle=cycle, team=team_b)
    answer_all(assessment, lambda q: q.order % 5)
    answer_all(other, lambda q: "skip" if q.order == 0 else 3)
    scores_store(assessment=assessment)
    scores_store(assessment=other)
    one_by_one = (stored(assessment), stored(other))

    scores_store_cycle(cycle=cycle)

    assert (stored(assessment), stored(other)) == one_by_one


def test_scores_store_cycle_writes_only_the_scores_that_changed(
    cycle, assessment, team_b
):
    other = Assessment.objects.create(cycle=cycle, team=team_b)
    answer_all(assessment, lambda q: q.order % 5)
    answer_all(other, lambda q: 3)
    assert scores_store_cycle(cycle=cycle) == 4  # 2 assessments x 2 capabilities
    assert scores_store_cycle(cycle=cycle) == 0
    before = stored(other)
    # one answer of one capability of ``other`` moves
    answer = Answer.objects.filter(assessment=other).order_by("question__order")[0]
    answer.option = answer.question.options.get(score=0)
    answer.save()
    assert scores_store_cycle(cycle=cycle) == 1
    after = stored(other)
    assert [key for key in after if after[key] != before[key]] == [
        answer.question.capability.key
    ]
    one_by_one = stored(other)
    scores_store(assessment=other)
    assert stored(other) == one_by_one


def test_answers_frame_reads_answers_in_one_query(
    assessment, django_assert_num_queries
):
    answer_all(assessment, lambda q: 3)

    with django_assert_num_queries(1):
        frame = answers_frame(assessment_ids=[assessment.pk])

    assert len(frame) == 10
    assert set(frame["score"]) == {3.0}


def test_scores_store_drops_capabilities_taken_out_of_scope(
    assessment, cycle, framework
):
    answer_all(assessment, lambda q: 1)
    scores_store(assessment=assessment)
    cycle.capabilities.set([framework.capabilities.get(key="cap-0")])

    scores_store(assessment=assessment)

    assert list(stored(assessment)) == ["cap-0"]

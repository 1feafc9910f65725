"""The numbers a FinOps practitioner checks: the Foundation's total score on every
reader (pure, API, grid, export), stored values equal to the scoring function's,
ties, and next steps for every capability below target."""

import re

import pandas as pd
import pytest
from django.urls import reverse

from assessment import scores as score_store
from assessment import scoring
from assessment.models import Answer, Assessment, CapabilityScore, Cycle
from assessment.services import assessment_submit
from assessment.targets import target_set
from assessment.tests.factories import make_cycle
from benchmarks import exports, rollups
from benchmarks.models import NodeStat, TeamRank
from benchmarks.services import rollup_compute, rollup_recompute
from capabilities.models import Framework, Question, Recommendation
from capabilities.tests.factories import make_framework
from tests.api_support import client_for

pytestmark = pytest.mark.django_db

FOUNDATION_WEIGHTS = {
    "knowledge": 30,
    "process": 25,
    "metrics": 20,
    "adoption": 20,
    "automation": 5,
}
# The Foundation's example row (lens scores 2/1/0/1/0 against 12 of 20 = 60 %).
EXAMPLE = {"knowledge": 2, "process": 1, "metrics": 0, "adoption": 1, "automation": 0}


def answer(assessment, scores_by_question):
    Answer.objects.bulk_create(
        Answer(
            assessment=assessment,
            question=question,
            option=next(o for o in question.options.all() if o.score == score),
        )
        for question, score in scores_by_question
    )


def questions_of(framework):
    return list(
        Question.objects.filter(capability__framework=framework)
        .select_related("capability", "lens")
        .prefetch_related("options")
        .order_by("capability__order", "lens__order", "order", "id")
    )


@pytest.fixture
def example(org, team_a, team_b, respondent_a, framework):
    """team_a: cap-0 at the Foundation's example row (target 60 %), cap-1 at 4
    everywhere (target 50 %: above it). team_b answers 3 everywhere."""
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    Cycle.objects.filter(pk=cycle.pk).update(lens_weights=FOUNDATION_WEIGHTS)
    questions = questions_of(framework)
    mine = Assessment.objects.get(cycle=cycle, team=team_a)
    answer(
        mine,
        [
            (q, EXAMPLE[q.lens.key] if q.capability.key == "cap-0" else 4)
            for q in questions
        ],
    )
    theirs = Assessment.objects.get(cycle=cycle, team=team_b)
    answer(theirs, [(q, 3) for q in questions])
    target_set(organization=org, capability_key="cap-0", percent=60)
    target_set(organization=org, capability_key="cap-1", percent=50)
    for assessment in (mine, theirs):
        assessment_submit(assessment=assessment, user=respondent_a)
    rollup_recompute(cycle_id=cycle.pk, force=True)
    return mine


def test_the_api_reads_the_foundations_example_row(example, respondent_a):
    body = (
        client_for(respondent_a).get(f"/api/v1/assessments/{example.pk}/scores/").json()
    )
    row = body["results"][0]
    assert row["capability"] == "cap-0"
    assert row["score_20"] == 4.0
    assert row["lenses_scored"] == 5
    assert row["target_20"] == 12.0
    assert row["relative_to_target"] == -8.0
    assert row["percent"] == 26.25
    assert row["progress_to_target"] == 43.75
    above = body["results"][1]
    assert above["score_20"] == 20.0
    assert above["gap"] == -50.0


def test_the_team_scores_api_reads_the_total_too(example, lead):
    body = (
        client_for(lead).get(f"/api/v1/cycles/{example.cycle_id}/team-scores/").json()
    )
    row = next(
        r
        for r in body["results"]
        if r["assessment"] == example.pk and r["capability"] == "cap-0"
    )
    assert row["score_20"] == 4.0
    assert row["percent"] == 26.25


def grid_row(html: str, capability: str) -> dict:
    """The data-col cells of one grid row, as text."""
    row = re.search(
        rf'<th scope="row">{capability}</th>(.*?)</tr>', html, flags=re.DOTALL
    ).group(1)
    cells = dict(re.findall(r'data-col="([a-z0-9-]+)"[^>]*>(.*?)</td>', row, re.DOTALL))
    return {k: re.sub(r"<[^>]+>", " ", v).split() for k, v in cells.items()}


def test_the_rendered_grid_reads_the_foundations_example_row(
    client, example, respondent_a
):
    client.force_login(respondent_a)
    html = client.get(reverse("benchmarks:team_report", args=[example.pk])).content
    row = grid_row(html.decode(), "Capability 0")
    assert row["total"] == ["4"]
    assert row["target-20"] == ["12"]
    assert row["relative"] == ["-8"]
    assert row["percent"] == ["26.25"]
    assert row["target"] == ["60"]
    assert row["gap"] == ["33.75"]
    assert row["progress"] == ["43.75%"]
    above = grid_row(html.decode(), "Capability 1")
    assert above["gap"] == ["above", "target", "by", "50"]
    assert above["relative"] == ["+10"]


def test_the_export_reads_the_foundations_example_row(example):
    headers, rows = exports.team_scores_table(cycle=example.cycle)
    row = dict(
        zip(headers, next(r for r in rows if r[5] == "Capability 0"), strict=True)
    )
    assert row["total (of 20)"] == 4.0
    assert row["relative to target"] == -8.0
    assert row["percent"] == 26.25
    assert row["progress to target"] == 43.75


def test_next_steps_skip_a_capability_above_target_and_it_shows_apart(
    client, example, respondent_a
):
    client.force_login(respondent_a)
    context = client.get(reverse("benchmarks:team_report", args=[example.pk])).context
    assert {rec["capability"] for rec in context["recommendations"]} == {"Capability 0"}
    assert [row["capability"] for row in context["at_target"]] == ["Capability 1"]
    assert "keep it there" in context["report_html"]


# --- full precision -------------------------------------------------------------------


@pytest.fixture
def thirds(org, team_a, team_b, respondent_a):
    """Three questions per lens and answers whose means are thirds: nothing here
    is exact in binary, so any rounding on the way shows."""
    framework = make_framework(
        slug="thirds", capabilities=2, questions_per_lens=3, publish=True
    )
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    Cycle.objects.filter(pk=cycle.pk).update(lens_weights=FOUNDATION_WEIGHTS)
    questions = questions_of(framework)
    for i, team in enumerate([team_a, team_b]):
        assessment = Assessment.objects.get(cycle=cycle, team=team)
        answer(assessment, [(q, (j * 7 + i) % 5) for j, q in enumerate(questions)])
        assessment_submit(assessment=assessment, user=respondent_a)
    rollup_recompute(cycle_id=cycle.pk, force=True)
    return Cycle.objects.get(pk=cycle.pk)


def test_stored_scores_equal_the_scoring_functions_exactly(thirds):
    rules = score_store.cycle_rules(cycle=thirds)
    ids = list(Assessment.objects.filter(cycle=thirds).values_list("id", flat=True))
    answers = score_store.answers_frame(cycle_id=thirds.pk, questions=rules.questions)
    expected = score_store.score_frame(rules=rules, answers=answers, assessment_ids=ids)
    stored = {
        (row.assessment_id, row.capability_id): row
        for row in CapabilityScore.objects.filter(assessment__cycle=thirds)
    }
    assert len(stored) == len(expected) == 4
    fractional = 0
    for row in expected.to_dict("records"):
        saved = stored[(row[scoring.ASSESSMENT], row[scoring.CAPABILITY])]
        assert saved.percent == row[scoring.PERCENT]  # equality, not a tolerance
        for key in FOUNDATION_WEIGHTS:
            assert saved.lens_scores[key] == row[scoring.lens_column(key)]
            fractional += saved.lens_scores[key] != round(saved.lens_scores[key], 6)
        # every reader's total is the function's
        figures = scoring.foundation_score(saved.lens_scores, FOUNDATION_WEIGHTS)
        assert figures.percent == saved.percent
        assert figures.total == row[scoring.FOUNDATION_20]
    assert fractional > 0  # the premise: values that 6 decimals would change


def test_stored_roll_up_equals_the_pure_roll_up_exactly(thirds):
    snapshot = rollup_compute(cycle=thirds)
    ranks = {
        (row[rollups.ASSESSMENT], row[rollups.CAPABILITY]): row[rollups.PERCENTILE]
        for row in snapshot.team_ranks.to_dict("records")
    }
    stored_ranks = {
        (r.assessment_id, r.capability_id): r.percentile
        for r in TeamRank.objects.filter(cycle=thirds)
    }
    assert stored_ranks == ranks
    stats = {
        (row[rollups.NODE], row[rollups.CAPABILITY]): row["mean"]
        for row in snapshot.node_stats.to_dict("records")
    }
    stored_stats = {
        (s.node_id, s.capability_id): s.mean
        for s in NodeStat.objects.filter(cycle=thirds)
    }
    assert stored_stats == stats


# --- ties -------------------------------------------------------------------------------

# Capability percents whose mean depends on the order they are summed in.
NOISY = [64.16666666666667, 46.66666666666666, 29.583333333333336]


def test_teams_tied_in_truth_share_a_percentile_in_the_stored_roll_up(
    org, team_a, team_b, respondent_a, lead, client
):
    framework = make_framework(slug="three", capabilities=3, publish=True)
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    questions = questions_of(framework)
    orders = {team_a.pk: [0, 1, 2], team_b.pk: [1, 2, 0]}
    for team in (team_a, team_b):
        assessment = Assessment.objects.get(cycle=cycle, team=team)
        answer(assessment, [(q, 2) for q in questions])
        assessment_submit(assessment=assessment, user=respondent_a)
        for capability_order, i in enumerate(orders[team.pk]):
            CapabilityScore.objects.filter(
                assessment=assessment, capability__order=capability_order
            ).update(percent=NOISY[i])
    means = [pd.Series([NOISY[i] for i in order]).mean() for order in orders.values()]
    assert means[0] != means[1]  # the premise: float noise between equal means

    rollup_recompute(cycle_id=cycle.pk, force=True)

    overall = TeamRank.objects.filter(cycle=cycle, capability__isnull=True)
    assert sorted(overall.values_list("percentile", flat=True)) == [50.0, 50.0]
    # the stored percents keep what the pure roll-up computed, unrounded
    pure = rollup_compute(cycle=cycle).team_ranks
    pure = pure[pure[rollups.CAPABILITY].isna()]
    assert sorted(overall.values_list("percent", flat=True)) == sorted(
        pure[rollups.PERCENT]
    )
    assert set(pure[rollups.PERCENTILE]) == {50.0}


# --- next steps ---------------------------------------------------------------------


def test_a_team_below_target_everywhere_gets_a_step_for_every_capability(
    client, org, team_a, respondent_a
):
    """Recommendations tied to a lens other than the weakest, or only to another
    band, still give every capability below target a step."""
    framework = make_framework(slug="steps", capabilities=4)
    capabilities = list(framework.capabilities.order_by("order"))
    Recommendation.objects.filter(capability__framework=framework).delete()
    crawl = framework.levels.get(key="crawl")
    walk = framework.levels.get(key="walk")
    lens = {lens.key: lens for lens in framework.lenses.all()}
    # cap-0: only a step for a strong lens at its level; cap-1: only the next band's;
    # cap-2: a general one; cap-3: one for its weakest lens
    for capability, level, lens_key in [
        (capabilities[0], crawl, "knowledge"),
        (capabilities[1], walk, None),
        (capabilities[2], crawl, None),
        (capabilities[3], crawl, "automation"),
    ]:
        Recommendation.objects.create(
            capability=capability,
            level=level,
            lens=lens.get(lens_key),
            title=f"Step for {capability.key}",
            body="Do this.",
        )
    Framework.objects.filter(pk=framework.pk).update(status=Framework.Status.PUBLISHED)
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a])
    assessment = Assessment.objects.get(cycle=cycle, team=team_a)
    # knowledge 2, the rest 1, automation 0: percent 25-35 (crawl)
    by_lens = {"knowledge": 2, "process": 1, "metrics": 1, "adoption": 1}
    answer(
        assessment, [(q, by_lens.get(q.lens.key, 0)) for q in questions_of(framework)]
    )
    for capability in capabilities:
        target_set(organization=org, capability_key=capability.key, percent=90)
    target_set(organization=org, capability_key=capabilities[2].key, percent=95)
    assessment_submit(assessment=assessment, user=respondent_a)
    rollup_recompute(cycle_id=cycle.pk, force=True)

    client.force_login(respondent_a)
    context = client.get(
        reverse("benchmarks:team_report", args=[assessment.pk])
    ).context

    steps = context["recommendations"]
    assert {rec["capability_key"] for rec in steps} == {c.key for c in capabilities}
    # largest gap first: cap-2 has the highest target
    assert steps[0]["capability_key"] == capabilities[2].key
    assert next(r for r in steps if r["capability_key"] == "cap-1")["next_band"]
    assert context["at_target"] == []
    assert steps[0]["gap"] == 95 - 25  # percent 25: (2 + 1 + 1 + 1 + 0) / 5 x 25


def test_the_api_and_the_page_read_the_stored_percentiles(
    client, org, team_a, team_b, respondent_a, lead
):
    """Two teams with the same scores: 50 and 50 in the roll-up, the API and the
    report (the threshold lowered so that a respondent may see the figure)."""
    org.anonymity_threshold = 2
    org.save(update_fields=["anonymity_threshold"])
    framework = make_framework(slug="tied", capabilities=1, publish=True)
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    questions = questions_of(framework)
    mine = None
    for team in (team_a, team_b):
        assessment = Assessment.objects.get(cycle=cycle, team=team)
        answer(assessment, [(q, i % 5) for i, q in enumerate(questions)])
        assessment_submit(assessment=assessment, user=respondent_a)
        mine = mine or assessment
    rollup_recompute(cycle_id=cycle.pk, force=True)

    stored = TeamRank.objects.filter(cycle=cycle, capability__isnull=False)
    assert sorted(stored.values_list("percentile", flat=True)) == [50.0, 50.0]
    body = client_for(respondent_a).get(f"/api/v1/assessments/{mine.pk}/scores/")
    assert [row["percentile"] for row in body.json()["results"]] == [50.0]
    client.force_login(respondent_a)
    context = client.get(reverse("benchmarks:team_report", args=[mine.pk])).context
    assert context["charts"]["percentile"]["rows"] == [["Capability 0", 50.0]]


def test_a_respondent_gets_no_percentile_below_the_anonymity_threshold(
    example, respondent_a, lead, org
):
    url = f"/api/v1/assessments/{example.pk}/scores/"
    # two teams: cap-0 26.25 against 75 (lower), cap-1 100 against 75 (higher)
    expected = [25.0, 75.0]
    assert [
        r["percentile"] for r in client_for(respondent_a).get(url).json()["results"]
    ] == expected
    org.anonymity_threshold = 3
    org.save(update_fields=["anonymity_threshold"])
    hidden = client_for(respondent_a).get(url).json()["results"]
    assert [row["percentile"] for row in hidden] == [None, None]
    shown = client_for(lead).get(url).json()["results"]
    assert [row["percentile"] for row in shown] == expected

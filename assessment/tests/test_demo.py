"""The demo organisation and the load generator."""

from io import StringIO

import numpy as np
import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Avg

from assessment import demo
from assessment.models import (
    Answer,
    Assessment,
    CapabilityScore,
    Cycle,
    Membership,
    Organization,
    Target,
    Team,
)

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-1"
COUNTED = [
    Organization,
    Team,
    Membership,
    Cycle,
    Assessment,
    Answer,
    Target,
    CapabilityScore,
    get_user_model(),
]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", "--password", PASSWORD, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def seeded(shipped_framework_v2):
    seed()
    return Organization.objects.get(slug=demo.DEMO_ORG_SLUG)


def test_seed_demo_builds_one_org_with_four_units_and_thirty_one_teams(seeded):
    assert Organization.objects.count() == 1
    assert seeded.name == "Northwind Traders"
    assert seeded.anonymity_threshold == 5
    units = Team.objects.filter(organization=seeded, kind=Team.Kind.BUSINESS_UNIT)
    assert sorted(units.values_list("name", flat=True)) == [
        "Commerce",
        "Corporate",
        "Platform",
        "Supply Chain",
    ]
    teams = Team.objects.filter(organization=seeded, kind=Team.Kind.TEAM)
    # thirty product teams and the central FinOps team, set on the organisation
    assert teams.count() == 31
    assert not teams.filter(parent=None).exists()
    assert seeded.central_team.name == demo.CENTRAL_TEAM
    assert seeded.central_team.parent.name == "Corporate"


def test_seed_demo_opens_the_third_cycle_with_about_half_submitted(seeded):
    cycles = list(Cycle.objects.filter(organization=seeded).order_by("opens_on"))
    assert [(c.name, c.status) for c in cycles] == [
        ("2026 Q1", "closed"),
        ("2026 Q2", "closed"),
        ("2026 Q3", "open"),
    ]
    for closed in cycles[:2]:
        statuses = set(closed.assessments.values_list("status", flat=True))
        assert statuses == {Assessment.Status.SUBMITTED}
    open_cycle = cycles[2].assessments
    assert open_cycle.count() == 31
    assert 12 <= open_cycle.filter(status="submitted").count() <= 18
    assert open_cycle.filter(status="in_progress").count() >= 5
    assert not Answer.objects.filter(
        assessment__cycle=cycles[2], assessment__status="not_started"
    ).exists()


def test_seed_demo_users_sign_in_with_the_password(seeded):
    for username in ("admin", "lead", "respondent", "amira"):
        assert authenticate(username=username, password=PASSWORD) is not None
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser
    assert Membership.objects.get(user__username="lead").role == "lead"


def test_seed_demo_leaves_the_respondents_assessment_in_progress(seeded):
    team = Membership.objects.get(user__username="respondent").team
    assert team.name == "Payments API"
    current = Assessment.objects.get(team=team, cycle__status="open")
    assert current.status == Assessment.Status.IN_PROGRESS
    # every answer carried forward from Q2, none confirmed yet; the questions new
    # in the 2026 edition are left to answer
    answers = current.answers.all()
    assert answers.count() > 0
    assert not answers.filter(carried_forward=False).exists()
    team_questions = current.cycle.framework.capabilities.filter(
        questions__audience="team"
    ).values_list("questions", flat=True)
    assert answers.count() < len(team_questions)


def test_seed_demo_stores_scores_and_marks_the_cycles_for_rollup(seeded):
    for cycle in Cycle.objects.filter(organization=seeded, status="closed"):
        assert CapabilityScore.objects.filter(assessment__cycle=cycle).count() == 240
        assert cycle.scores_generation >= 1


def test_seed_demo_answers_look_real(seeded):
    answers = Answer.objects.filter(assessment__cycle__organization=seeded)
    assert answers.filter(not_applicable=True).exists()
    assert answers.exclude(comment="").count() > 50
    assert answers.exclude(evidence_url="").exists()
    # carried-forward answers have no answerer in this cycle until confirmed
    assert not answers.filter(answered_by=None, carried_forward=False).exists()
    targets = Target.objects.filter(organization=seeded)
    # the eight capabilities of v1 and the one the 2026 edition added
    assert targets.filter(team=None).count() == 9
    assert targets.filter(team=None, capability_key="executive-strategy").exists()
    assert targets.exclude(team=None).count() == 3


def test_seed_demo_scores_improve_by_cycle_and_differ_by_capability(seeded):
    def mean(**where):
        rows = CapabilityScore.objects.filter(**where)
        return rows.aggregate(m=Avg("percent"))["m"]

    q1, q2, q3 = (mean(assessment__cycle__name=f"2026 Q{n}") for n in (1, 2, 3))
    assert q1 < q2 < q3
    invoicing = mean(capability__key="invoicing-chargeback")
    assert invoicing + 10 < mean(capability__key="education")


def test_seed_demo_twice_changes_nothing(seeded):
    before = counts()
    assert seed().strip() == "Demo organisation already present"
    assert counts() == before


def test_seed_demo_reset_rebuilds_the_same_shape(seeded):
    before = counts()
    first_org_id = seeded.pk
    out = seed("--reset")
    assert "Demo organisation Northwind Traders: 31 teams, 91 assessments" in out
    assert counts() == before
    assert Organization.objects.get(slug="northwind").pk != first_org_id


# --- the open cycle on the 2026 edition ------------------------------------------------


def test_the_open_cycle_is_on_the_2026_edition_and_past_ones_on_v1(seeded):
    cycles = {c.name: c for c in Cycle.objects.filter(organization=seeded)}
    assert {name: c.framework.version for name, c in cycles.items()} == {
        "2026 Q1": 1,
        "2026 Q2": 1,
        "2026 Q3": 2,
    }
    v1, v2 = cycles["2026 Q1"].framework, cycles["2026 Q3"].framework
    assert v1.is_superseded
    assert not v2.is_superseded
    assert v2.derived_from == {"slug": v1.slug, "version": 1}


def test_the_open_cycle_carries_answers_forward_through_the_mapping(seeded):
    from assessment.editions import question_sources

    open_cycle = Cycle.objects.get(organization=seeded, status="open")
    q2 = Cycle.objects.get(organization=seeded, name="2026 Q2")
    sources = question_sources(new=open_cycle.framework, old=q2.framework)
    carried = Answer.objects.filter(
        assessment__cycle=open_cycle, carried_forward=True
    ).select_related("assessment", "option")
    assert carried.count() > 200
    before = {
        (a.assessment.team_id, a.question_id): a
        for a in Answer.objects.filter(assessment__cycle=q2).select_related(
            "assessment", "option"
        )
    }
    checked = 0
    for answer in carried:
        # a carried answer comes from a v1 question the mapping names
        olds = [
            before[(answer.assessment.team_id, q)]
            for q in sources[answer.question_id]
            if (answer.assessment.team_id, q) in before
        ]
        assert olds, answer.question_id
        if len(olds) == 1 and answer.option is not None:
            assert answer.option.score == olds[0].option.score
            checked += 1
    assert checked > 100
    # unmapped (new) questions are never carried
    new_questions = {q for q, src in sources.items() if not src}
    assert new_questions
    assert not carried.filter(question_id__in=new_questions).exists()


def test_teams_confirmed_and_changed_part_of_their_carried_answers(seeded):
    open_cycle = Cycle.objects.get(organization=seeded, status="open")
    assessments = Assessment.objects.filter(cycle=open_cycle).select_related("team")
    submitted = [a for a in assessments if a.status == "submitted"]
    assert 12 <= len(submitted) <= 18
    for assessment in submitted:
        assert not assessment.answers.filter(carried_forward=True).exists()
    partly = [
        a
        for a in assessments
        if a.status == "in_progress"
        and a.answers.filter(carried_forward=True).exists()
        and a.answers.filter(carried_forward=False).exists()
    ]
    assert len(partly) >= 3
    # the Data Platform team (answered in another way later) has not submitted
    data = next(a for a in assessments if a.team.name == "Data Platform")
    assert data.status != "submitted"
    # of the carried answers the teams reviewed, most were kept and some changed
    from assessment.editions import question_sources

    q2 = Cycle.objects.get(organization=seeded, name="2026 Q2")
    sources = question_sources(new=open_cycle.framework, old=q2.framework)
    before = {
        (team, question): score
        for team, question, score in Answer.objects.filter(
            assessment__cycle=q2, option__isnull=False
        ).values_list("assessment__team_id", "question_id", "option__score")
    }
    kept = changed = 0
    for team, question, score in Answer.objects.filter(
        assessment__cycle=open_cycle, carried_forward=False, version=2
    ).values_list("assessment__team_id", "question_id", "option__score"):
        olds = sources.get(question, [])
        if len(olds) == 1 and (team, olds[0]) in before and score is not None:
            if before[(team, olds[0])] == score:
                kept += 1
            else:
                changed += 1
    assert changed > 20
    assert kept > 3 * changed


def test_the_central_team_answers_the_central_questions(seeded):
    open_cycle = Cycle.objects.get(organization=seeded, status="open")
    central = Assessment.objects.get(cycle=open_cycle, team=seeded.central_team)
    assert central.status == "submitted"
    central_questions = set(
        open_cycle.framework.capabilities.filter(
            questions__audience="central"
        ).values_list("questions", flat=True)
    )
    assert central_questions
    answered = set(central.answers.values_list("question_id", flat=True))
    assert central_questions <= answered
    # no other team answers a central question
    assert (
        not Answer.objects.filter(
            assessment__cycle=open_cycle, question_id__in=central_questions
        )
        .exclude(assessment=central)
        .exists()
    )
    # nor does a member of the consensus-mode team, answering on their own
    from assessment.models import RespondentAnswer

    assert RespondentAnswer.objects.filter(assessment__cycle=open_cycle).exists()
    assert not RespondentAnswer.objects.filter(
        assessment__cycle=open_cycle, question_id__in=central_questions
    ).exists()
    assert Membership.objects.get(user__username="farah").team == seeded.central_team
    assert authenticate(username="farah", password=PASSWORD) is not None


def test_seed_demo_with_v1_alone_builds_every_cycle_on_it(shipped_framework):
    seed()
    org = Organization.objects.get(slug=demo.DEMO_ORG_SLUG)
    assert set(
        Cycle.objects.filter(organization=org).values_list("framework", flat=True)
    ) == {shipped_framework.pk}
    assert org.central_team is None
    assert not Answer.objects.filter(carried_forward=True).exists()


def test_seed_demo_without_a_framework_says_what_to_run(db):
    with pytest.raises(CommandError, match=demo.NO_FRAMEWORK_MSG):
        seed()


def test_load_plan_spreads_teams_over_business_units():
    plan = demo.load_plan(teams=100, cycles=3)
    assert len(plan.units) == 4
    assert plan.team_count == 100
    assert [c.status for c in plan.cycles] == ["closed", "closed", "open"]
    names = [n for _unit, names in plan.units for n in names]
    assert len(set(names)) == 100


def test_cycle_scores_are_deterministic_for_a_seed():
    questions = demo.Questions(
        ids=np.arange(10),
        capability_keys=["education"] * 5 + ["invoicing-chargeback"] * 5,
        lens_keys=["knowledge", "process", "metrics", "adoption", "automation"] * 2,
        allow_na=np.zeros(10, dtype=bool),
        options=np.zeros((10, 5), dtype=np.int64),
    )

    def draw():
        rng = np.random.default_rng(7)
        traits = demo.team_traits(rng, 20, questions)
        return demo.cycle_scores(rng, *traits, 0)

    first, second = draw(), draw()
    assert first.shape == (20, 10)
    np.testing.assert_array_equal(first, second)
    assert first.min() >= 0
    assert first.max() <= 4


def test_progress_bar_draws_one_plain_line():
    lines = []
    demo.progress_bar(lines.append, "Seeding demo", width=10)(0.5, "cycle 2/3")
    assert lines == ["\rSeeding demo  [#####-----] 50%  (cycle 2/3)"]


def test_seed_demo_runs_one_team_of_the_open_cycle_in_consensus_mode(seeded):
    from assessment import consensus
    from assessment.demo_consensus import CONSENSUS_RESPONDENTS

    assessment = Assessment.objects.get(
        cycle__organization=seeded, cycle__status="open", mode="consensus"
    )
    assert assessment.team.name == "Data Platform"
    assert assessment.status == Assessment.Status.IN_PROGRESS
    assert not assessment.answers.exists()
    people = consensus.respondents(assessment=assessment)
    answered = {p["user"].username for p in people if p["submitted_at"]}
    assert answered == set(CONSENSUS_RESPONDENTS)
    assert len(people) > len(answered)  # a member who has not answered yet
    board, _ = consensus.facilitation_board(
        assessment=assessment, with_private_notes=True
    )
    spreads = [row.spread for row in board]
    assert sum(s >= 2 for s in spreads) >= 5  # they disagree on some questions
    assert sum(s <= 1 for s in spreads) >= 20  # and agree on most
    for username in CONSENSUS_RESPONDENTS:
        assert authenticate(username=username, password=PASSWORD) is not None
    assert authenticate(username="respondent", password=PASSWORD) is not None

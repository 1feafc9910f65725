"""The incremental roll-up: after any sequence of submits and reopens, the rows it
leaves are exactly the rows a whole recompute writes from the same scores."""

import random

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from assessment.models import Answer, Assessment, Cycle, RespondentAnswer, Team
from assessment.services import assessment_reopen, assessment_submit
from benchmarks import services
from benchmarks.models import DisagreementStat, NodeStat, RollupState
from benchmarks.services import (
    rollup_recompute,
    rollup_reference_cycle_ids,
    rollup_sweep,
)
from benchmarks.tests import test_services
from capabilities.models import AnswerOption, Question

pytestmark = pytest.mark.django_db

# Where each team sits: a unit with two sub-units, a second unit, and one team
# directly under the organisation.
TREE = {
    "North": None,
    "North East": "North",
    "North West": "North",
    "South": None,
}
TEAMS = {
    "NE 1": "North East",
    "NE 2": "North East",
    "NE 3": "North East",
    "NW 1": "North West",
    "NW 2": "North West",
    "N 1": "North",
    "N 2": "North",
    "S 1": "South",
    "S 2": "South",
    "S 3": "South",
    "Alone": None,
}
NAMES = list(TEAMS)
CONSENSUS = {"NE 1", "NW 2", "S 1"}  # teams whose members' answers disagree

# One step: submit or reopen a team; a batch of steps is followed by one roll-up.
steps = st.lists(
    st.lists(
        st.tuples(st.sampled_from(["submit", "reopen"]), st.sampled_from(NAMES)),
        min_size=1,
        max_size=3,
    ),
    min_size=1,
    max_size=8,
)


def snapshot(cycle):
    """Every roll-up row of the cycle, without ids, in a stable order."""
    stats, ranks = test_services.snapshot(cycle)
    spread = sorted(
        DisagreementStat.objects.filter(cycle=cycle).values(
            "node_id", "capability_id", "teams", "mean", "max"
        ),
        key=lambda r: (r["node_id"] or 0, r["capability_id"] or 0),
    )
    return {"node_stats": stats, "team_ranks": ranks, "disagreement": spread}


def whole_recompute_of(cycle):
    """The rows a whole recompute writes now, leaving the incremental ones in place."""
    with transaction.atomic():
        rollup_recompute(cycle_id=cycle.pk, force=True)
        rows = snapshot(cycle)
        transaction.set_rollback(True)
    return rows


class World:
    """An organisation of ``TEAMS`` with one open cycle of ``framework``."""

    def __init__(self, org, framework, lead, members, rng):
        self.framework, self.lead, self.members, self.rng = (
            framework,
            lead,
            members,
            rng,
        )
        units: dict[str, Team] = {}
        for name, parent in TREE.items():
            units[name] = Team.objects.create(
                organization=org,
                name=name,
                kind=Team.Kind.BUSINESS_UNIT,
                parent=units.get(parent) if parent else None,
            )
        self.cycle = Cycle.objects.create(
            organization=org, framework=framework, name="Random", status="open"
        )
        self.assessments = {}
        for name, unit in TEAMS.items():
            team = Team.objects.create(
                organization=org, name=name, parent=units.get(unit) if unit else None
            )
            self.assessments[name] = Assessment.objects.create(
                cycle=self.cycle, team=team
            )
        self.questions = list(Question.objects.filter(capability__framework=framework))
        self.options = {
            (o.question_id, o.score): o
            for o in AnswerOption.objects.filter(question__in=self.questions)
        }

    def _answer(self, assessment):
        """Answer every question afresh at random (consensus teams: each member too)."""
        Answer.objects.filter(assessment=assessment).delete()
        RespondentAnswer.objects.filter(assessment=assessment).delete()
        Answer.objects.bulk_create(
            Answer(
                assessment=assessment,
                question=q,
                option=self.options[(q.pk, self.rng.randint(0, 4))],
            )
            for q in self.questions
        )
        if assessment.team.name in CONSENSUS:
            RespondentAnswer.objects.bulk_create(
                RespondentAnswer(
                    assessment=assessment,
                    question=q,
                    respondent=member,
                    option=self.options[(q.pk, self.rng.randint(0, 4))],
                )
                for q in self.questions
                for member in self.members
            )

    def apply(self, action: str, name: str) -> bool:
        """Submit (with fresh answers) or reopen a team; False when it cannot."""
        assessment = Assessment.objects.select_related("team").get(
            pk=self.assessments[name].pk
        )
        if action == "submit" and not assessment.is_submitted:
            self._answer(assessment)
            assessment_submit(assessment=assessment, user=self.lead)
            return True
        if action == "reopen" and assessment.is_submitted:
            assessment_reopen(assessment=assessment, user=self.lead, reason="again")
            return True
        return False


@pytest.fixture
def members(db):
    User = get_user_model()
    return [User.objects.create(username=f"member{i}") for i in range(3)]


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    # a failure is reported as found: shrinking one takes minutes of database work
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=steps, seed=st.integers(0, 10_000))
def test_incremental_rollup_equals_the_whole_recompute(
    org, framework, lead, members, batches, seed
):
    with transaction.atomic():
        world = World(org, framework, lead, members, random.Random(seed))
        # The first roll-up is whole; every later one is incremental.
        for name in NAMES[::2]:
            world.apply("submit", name)
        assert rollup_recompute(cycle_id=world.cycle.pk)["mode"] == "full"
        for batch in batches:
            changed = {name for action, name in batch if world.apply(action, name)}
            result = rollup_recompute(cycle_id=world.cycle.pk)
            if not changed:  # nothing could be submitted or reopened
                assert result["status"] == "fresh"
                continue
            assert result["status"] == "computed"
            assert result["mode"] == "incremental"
            assert result["teams_changed"] == len(changed)
            assert snapshot(world.cycle) == whole_recompute_of(world.cycle)
        transaction.set_rollback(True)


def test_an_incremental_run_writes_only_the_statistics_above_the_changed_team(
    org, framework, lead, members
):
    world = World(org, framework, lead, members, random.Random(1))
    for name in NAMES:
        world.apply("submit", name)
    rollup_recompute(cycle_id=world.cycle.pk)
    south = Team.objects.get(name="South")
    untouched = {
        row.pk: row.node_id
        for row in NodeStat.objects.filter(cycle=world.cycle).exclude(node=south)
        if row.node_id is not None
    }
    world.apply("reopen", "S 2")
    result = rollup_recompute(cycle_id=world.cycle.pk)
    assert (result["mode"], result["teams_changed"]) == ("incremental", 1)
    # North's and its sub-units' rows are the same rows; South's and the
    # organisation's were replaced
    kept = NodeStat.objects.filter(pk__in=untouched)
    assert {row.pk for row in kept} == set(untouched)
    assert (
        NodeStat.objects.filter(cycle=world.cycle, node=south).get(capability=None).n
        == 2
    )
    assert (
        NodeStat.objects.filter(cycle=world.cycle, node=None).get(capability=None).n
        == len(NAMES) - 1
    )


def test_many_changes_or_force_recompute_the_whole_snapshot(
    org, framework, lead, members, monkeypatch
):
    world = World(org, framework, lead, members, random.Random(2))
    world.apply("submit", "S 1")
    rollup_recompute(cycle_id=world.cycle.pk)
    monkeypatch.setattr(services, "INCREMENTAL_MAX_TEAMS", 2)
    for name in ["S 2", "S 3", "N 1"]:
        world.apply("submit", name)
    assert rollup_recompute(cycle_id=world.cycle.pk)["mode"] == "full"
    world.apply("submit", "N 2")
    assert rollup_recompute(cycle_id=world.cycle.pk)["mode"] == "incremental"
    assert rollup_recompute(cycle_id=world.cycle.pk, force=True)["mode"] == "full"


def test_the_sweeper_recomputes_whole_a_cycle_updated_incrementally(
    org, framework, lead, members, eager_tasks
):
    world = World(org, framework, lead, members, random.Random(3))
    world.apply("submit", "S 1")
    rollup_recompute(cycle_id=world.cycle.pk)
    world.apply("submit", "S 2")
    rollup_recompute(cycle_id=world.cycle.pk)
    state = RollupState.objects.get(cycle=world.cycle)
    assert (state.mode, state.incremental_runs) == ("incremental", 1)
    assert state.full_generation < state.computed_generation
    # not due while the last whole recompute is recent
    assert rollup_reference_cycle_ids() == []
    assert rollup_sweep() == 0
    # a fresh cycle is not recomputed again unless the reference is asked for
    assert rollup_recompute(cycle_id=world.cycle.pk)["status"] == "fresh"
    # an hour later the sweeper sends the whole recompute (run in-process here)
    RollupState.objects.filter(pk=state.pk).update(
        full_at=state.full_at - services.timedelta(seconds=services.FULL_REFERENCE_S)
    )
    assert rollup_reference_cycle_ids() == [world.cycle.pk]
    assert rollup_sweep() == 1
    state.refresh_from_db()
    assert (state.mode, state.full_generation) == ("full", state.computed_generation)
    assert rollup_reference_cycle_ids() == []
    assert rollup_recompute(cycle_id=world.cycle.pk, full=True)["status"] == "fresh"


def _reopen_and_roll_up(organization, lead) -> tuple[int, dict]:
    """Reopen one submitted team of the open cycle; the queries of the roll-up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cycle = Cycle.objects.get(organization=organization, status="open")
    rollup_recompute(cycle_id=cycle.pk)
    assessment = Assessment.objects.filter(cycle=cycle, status="submitted").first()
    assessment_reopen(assessment=assessment, user=lead, reason="a second look")
    with CaptureQueriesContext(connection) as queries:
        result = rollup_recompute(cycle_id=cycle.pk)
    statements = [q["sql"] for q in queries.captured_queries]
    if connection.vendor != "postgresql":
        # other databases get their rows in batches of bulk_sql.BATCH_SIZE
        statements = [s for s in statements if not s.startswith("INSERT")]
    return len(statements), result


def test_an_incremental_run_costs_the_same_queries_at_10000_teams(
    shipped_framework, lead
):
    """Built with the bulk loader: 20 teams, then 10,000 (1,000 on SQLite, where
    inserts are batched)."""
    from django.db import connection

    from assessment.demo import load_generate

    large = 10_000 if connection.vendor == "postgresql" else 1_000
    counts = []
    for teams in (20, large):
        built = load_generate(
            teams=teams, cycles=1, password="bench-pass-1", framework=shipped_framework
        )
        count, result = _reopen_and_roll_up(built.organization, lead)
        assert (result["mode"], result["teams_changed"]) == ("incremental", 1)
        assert (
            result["teams"]
            == Assessment.objects.filter(
                cycle_id=result["cycle_id"], status="submitted"
            ).count()
        )
        counts.append(count)
    assert counts[0] == counts[1]


def test_rank_rows_leave_room_for_the_updates_every_submission_brings():
    """On PostgreSQL: half of each page free, so rewritten ranks stay on it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL storage setting")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = 'benchmarks_teamrank'"
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=50" in options

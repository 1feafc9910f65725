"""The roll-up tasks, called directly as functions."""

import pytest
from django.db import InterfaceError, OperationalError

from assessment.cycles import cycle_scores_changed
from assessment.models import Cycle
from benchmarks.models import NodeStat, RollupState
from benchmarks.tasks import rollup_cycle, rollup_sweep_stale
from benchmarks.tests.test_services import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org, framework, team_a):
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="2026 Q1", status="open"
    )
    cycle.teams.set([team_a])
    return cycle


def test_rollup_cycle_recomputes_a_stale_cycle(cycle, team_a):
    submit(cycle, team_a, 2)
    cycle_scores_changed(cycle_id=cycle.pk)

    result = rollup_cycle(cycle.pk)

    assert result["status"] == "computed"
    assert NodeStat.objects.get(cycle=cycle, node=None, capability=None).mean == 50.0
    assert not RollupState.objects.get(cycle=cycle).is_stale


def test_rollup_cycle_twice_runs_once(cycle, team_a):
    submit(cycle, team_a, 2)
    cycle_scores_changed(cycle_id=cycle.pk)
    rollup_cycle(cycle.pk)

    assert rollup_cycle(cycle.pk)["status"] == "fresh"
    assert RollupState.objects.get(cycle=cycle).runs == 1


def test_rollup_cycle_retries_transient_database_errors_only():
    assert rollup_cycle.autoretry_for == (OperationalError, InterfaceError)
    assert rollup_cycle.acks_late is True
    assert rollup_cycle.max_retries == 5
    assert rollup_cycle.ignore_result is True
    assert rollup_cycle.time_limit < 3600  # the broker's visibility timeout


def test_rollup_sweep_stale_has_the_name_beat_schedules():
    from django.conf import settings

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert rollup_sweep_stale.name in scheduled


@pytest.mark.usefixtures("eager_tasks")
def test_rollup_sweep_stale_catches_up_stale_cycles(cycle, team_a):
    submit(cycle, team_a, 4)
    cycle_scores_changed(cycle_id=cycle.pk)  # its on_commit never fires inside the test

    assert rollup_sweep_stale() == 1

    state = RollupState.objects.get(cycle=cycle)
    assert (state.is_stale, state.runs) == (False, 1)


def test_many_stale_marks_coalesce_into_one_run(cycle, team_a):
    submit(cycle, team_a, 4)
    for _ in range(100):
        cycle_scores_changed(cycle_id=cycle.pk)

    for _ in range(100):
        rollup_cycle(cycle.pk)

    state = RollupState.objects.get(cycle=cycle)
    assert (state.cycle.scores_generation, state.computed_generation, state.runs) == (
        100,
        100,
        1,
    )

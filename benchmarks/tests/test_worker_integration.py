"""The roll-up end to end: PostgreSQL, Redis and real Celery worker processes.

Each test submits through the ORM (or ``assessment_submit``), lets the worker pick
up the task the commit enqueued, and polls the database until the snapshot is
fresh.
"""

import time

import pytest
from django.db import transaction

from assessment.cycles import cycle_scores_changed
from assessment.models import Assessment, Cycle, Team
from assessment.scores import scores_store
from assessment.tests.test_scores import answer_all
from benchmarks.models import NodeStat, RollupState
from benchmarks.services import TEST_DELAY_ENV, rollup_recompute
from benchmarks.tasks import rollup_cycle, rollup_sweep_stale
from benchmarks.tests.test_services import reset_broker_pools, snapshot
from finops_portal.celery import app

pytestmark = pytest.mark.services

TIMEOUT = 30
RECEIVED = "Task benchmarks.tasks.rollup_cycle["  # as a worker logs each task


@pytest.fixture
def cycle(org, framework, team_a, team_b):
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="2026 Q1", status="open"
    )
    cycle.teams.set([team_a, team_b])
    Assessment.objects.bulk_create(
        Assessment(cycle=cycle, team=team) for team in (team_a, team_b)
    )
    return cycle


def answered(cycle, team, score):
    assessment = Assessment.objects.get(cycle=cycle, team=team)
    answer_all(assessment, lambda q: score)
    return assessment


def submit(assessment):
    """What submitting does: scores stored and the cycle marked stale, in one
    transaction; the roll-up is enqueued when it commits."""
    with transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).update(status="submitted")
        scores_store(assessment=assessment)
        cycle_scores_changed(cycle_id=assessment.cycle.pk)


def state_of(cycle):
    """The cycle's roll-up state (a row with nothing computed before the first run)."""
    return RollupState.objects.get_or_create(cycle_id=cycle.pk)[0]


def wait_until_fresh(cycle, timeout=TIMEOUT, workers=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = state_of(cycle)
        if state.computed_at is not None and not state.is_stale:
            return state
        time.sleep(0.1)
    logs = "\n".join(w.logs()[-3000:] for w in workers)
    pytest.fail(f"the roll-up did not catch up within {timeout} s\n{logs}")


def queue_length():
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen("celery")


def org_overall(cycle):
    stat = NodeStat.objects.get(cycle=cycle, node=None, capability=None)
    return stat.n, stat.mean, stat.median, stat.min, stat.max


def test_a_submission_is_rolled_up_by_a_worker(
    start_worker, cycle, team_a, team_b, respondent_a
):
    from assessment.services import assessment_submit

    worker = start_worker("w1")
    submit(answered(cycle, team_b, 1))
    assessment = answered(cycle, team_a, 4)

    assessment_submit(assessment=assessment, user=respondent_a)

    wait_until_fresh(cycle, workers=[worker])
    assert org_overall(cycle) == (2, 62.5, 62.5, 25.0, 100.0)
    stats, ranks = snapshot(cycle)
    assert len(stats) == 6  # (organisation, Retail) x (overall + 2 capabilities)
    assert {r["percentile"] for r in ranks} == {25.0, 75.0}


def test_a_second_run_leaves_the_snapshot_unchanged(
    start_worker, cycle, team_a, team_b
):
    worker = start_worker("w1")
    submit(answered(cycle, team_a, 3))
    submit(answered(cycle, team_b, 2))
    wait_until_fresh(cycle, workers=[worker])
    first = snapshot(cycle)
    runs = state_of(cycle).runs

    with transaction.atomic():
        cycle_scores_changed(cycle_id=cycle.pk)

    assert wait_until_fresh(cycle, workers=[worker]).runs == runs + 1
    assert snapshot(cycle) == first


def test_two_workers_never_write_one_cycle_at_once(start_worker, cycle, team_a, team_b):
    workers = [start_worker(name, **{TEST_DELAY_ENV: "2"}) for name in ("w1", "w2")]
    answered(cycle, team_a, 4)
    answered(cycle, team_b, 0)
    Assessment.objects.filter(cycle=cycle).update(status="submitted")
    for assessment in Assessment.objects.filter(cycle=cycle):
        scores_store(assessment=assessment)
    Cycle.objects.filter(pk=cycle.pk).update(scores_generation=1)

    rollup_cycle.delay(cycle.pk)
    rollup_cycle.delay(cycle.pk)

    state = wait_until_fresh(cycle, workers=workers)
    deadline = time.monotonic() + TIMEOUT
    while "'status': 'locked'" not in "".join(w.logs() for w in workers):
        assert time.monotonic() < deadline, "the second task never ran"
        time.sleep(0.1)
    logs = [w.logs() for w in workers]
    assert all(RECEIVED in log for log in logs), "both workers got a task"
    assert state.runs == 1
    assert org_overall(cycle) == (2, 50.0, 50.0, 0.0, 100.0)
    assert NodeStat.objects.filter(cycle=cycle).count() == 6


def test_a_burst_of_submissions_is_coalesced(start_worker, cycle, team_a, team_b):
    worker = start_worker("w1")
    submit(answered(cycle, team_a, 3))
    submit(answered(cycle, team_b, 1))

    started = time.monotonic()
    for _ in range(100):
        with transaction.atomic():
            cycle_scores_changed(cycle_id=cycle.pk)
    burst = time.monotonic() - started

    wait_until_fresh(cycle, workers=[worker])
    deadline = time.monotonic() + TIMEOUT
    while queue_length() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    state = state_of(cycle)
    assert state.cycle.scores_generation == 102
    assert state.computed_generation == 102
    assert state.runs <= 5, f"{state.runs} runs for a burst of {burst:.1f} s"
    assert org_overall(cycle) == (2, 50.0, 50.0, 25.0, 75.0)


@pytest.mark.faults
def test_a_task_of_a_killed_worker_is_redelivered(start_worker, cycle, team_a, team_b):
    slow = start_worker(
        "w1", **{TEST_DELAY_ENV: "30", "CELERY_VISIBILITY_TIMEOUT": "5"}
    )
    answered(cycle, team_a, 2)
    submit(answered(cycle, team_b, 4))
    deadline = time.monotonic() + TIMEOUT
    while RECEIVED not in slow.logs():
        assert time.monotonic() < deadline, "the worker never received the task"
        time.sleep(0.1)
    time.sleep(1)

    slow.kill()
    assert state_of(cycle).computed_at is None
    # Past the visibility timeout before the new worker's first scan for
    # unacknowledged messages (later scans come only every 100 s).
    time.sleep(6)
    fresh = start_worker("w2", CELERY_VISIBILITY_TIMEOUT="5")

    state = wait_until_fresh(cycle, timeout=45, workers=[slow, fresh])
    assert state.runs == 1
    assert org_overall(cycle) == (1, 100.0, 100.0, 100.0, 100.0)
    stats, ranks = snapshot(cycle)
    assert (len(stats), len(ranks)) == (6, 3)


@pytest.fixture
def broker_down():
    """Point this process's Celery app at a port nothing listens on."""
    conf = app.conf
    previous = (conf.broker_url, conf.broker_write_url)
    conf.broker_url = conf.broker_write_url = "redis://127.0.0.1:1/0"
    reset_broker_pools()

    def restore():
        conf.broker_url, conf.broker_write_url = previous
        reset_broker_pools()

    yield restore
    restore()


@pytest.mark.faults
def test_a_broker_outage_at_submit_only_delays_the_rollup(
    start_worker, cycle, team_a, team_b, broker_down
):
    # without its own periodic sweeps (finops_portal.celery.WorkerSweeps), so only
    # the sweep sent once the broker is back can catch the roll-up up
    worker = start_worker("w1", WORKER_SWEEP_SECONDS="0")
    assessment = answered(cycle, team_a, 4)

    submit(assessment)

    assert Assessment.objects.get(pk=assessment.pk).is_submitted
    assert state_of(cycle).is_stale
    time.sleep(1)
    assert state_of(cycle).computed_at is None

    broker_down()
    rollup_sweep_stale.delay()

    wait_until_fresh(cycle, workers=[worker])
    assert org_overall(cycle) == (1, 100.0, 100.0, 100.0, 100.0)


def test_the_snapshot_the_worker_writes_equals_an_in_process_recompute(
    start_worker, cycle, org, business_unit, team_a, team_b
):
    worker = start_worker("w1")
    teams = [team_a, team_b]
    for i in range(6):
        team = Team.objects.create(organization=org, parent=business_unit, name=f"T{i}")
        Assessment.objects.create(cycle=cycle, team=team)
        teams.append(team)
    for i, team in enumerate(teams):
        submit(answered(cycle, team, i % 5))
    wait_until_fresh(cycle, workers=[worker])
    by_worker = snapshot(cycle)

    rollup_recompute(cycle_id=cycle.pk, force=True)

    assert snapshot(cycle) == by_worker

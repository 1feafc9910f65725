"""A worker killed in the middle of a roll-up, with no beat running: the snapshot is
still complete within two minutes, through the sweeps every worker sends (at
start-up and every WORKER_SWEEP_SECONDS, 60 by default; see finops_portal/celery.py).

Without them the killed task's message would wait out Redis's visibility timeout
(an hour) before another worker got it.
"""

import time

import pytest
from django.db import transaction

from tests.test_faults import _submitted_cycle

pytestmark = [pytest.mark.services, pytest.mark.faults]

RECOVERY_LIMIT_S = 120
SLOW_ROLLUP_S = "90"  # below the task time limits


def _held_by_a_worker(cycle_id: int) -> bool:
    """True while another connection holds the cycle's roll-up lock (its state row,
    which the roll-up creates before it locks it)."""
    from benchmarks.models import RollupState

    with transaction.atomic():
        rows = RollupState.objects.filter(cycle_id=cycle_id)
        exists = rows.exists()
        free = rows.select_for_update(skip_locked=True).exists()
    return exists and not free


def _wait(condition, timeout: float, what: str, logs) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"{what} not within {timeout:.0f} s:\n{logs()[-3000:]}")


def _slow_roll_up_in_progress(org, teams, framework, user, start_worker):
    """Submit two assessments, then start a slow worker: it takes the roll-up and
    holds its lock. The duplicate roll-up message still queued is purged, so the
    task the worker holds is the only trace of the work. (Submitting while the
    roll-up runs would wait for its lock.)"""
    from assessment.models import Assessment
    from assessment.services import assessment_submit
    from finops_portal.celery import app

    cycle, assessments = _submitted_cycle(org, teams, framework, user)
    for assessment in assessments:
        assessment_submit(
            assessment=Assessment.objects.get(pk=assessment.pk), user=user
        )
    doomed = start_worker("doomed", ROLLUP_TEST_DELAY_S=SLOW_ROLLUP_S)
    _wait(lambda: _held_by_a_worker(cycle.pk), 30, "the roll-up start", doomed.logs)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    return cycle, doomed


def _complete(cycle) -> bool:
    from benchmarks.models import NodeStat, RollupState

    state = RollupState.objects.filter(cycle=cycle).select_related("cycle").first()
    overall = NodeStat.objects.filter(cycle=cycle, node=None, capability=None).first()
    return (
        state is not None
        and state.computed_at is not None
        and not state.is_stale
        and overall is not None
        and overall.n == 2
    )


@pytest.mark.django_db(transaction=True)
def test_a_restarted_worker_completes_the_killed_roll_up(
    start_worker, org, team_a, team_b, respondent_a, framework
):
    cycle, doomed = _slow_roll_up_in_progress(
        org, [team_a, team_b], framework, respondent_a, start_worker
    )
    doomed.kill()
    killed_at = time.monotonic()
    assert not _complete(cycle)
    restarted = start_worker("restarted")
    _wait(lambda: _complete(cycle), RECOVERY_LIMIT_S, "the snapshot", restarted.logs)
    assert time.monotonic() - killed_at < RECOVERY_LIMIT_S


@pytest.mark.django_db(transaction=True)
def test_a_surviving_worker_completes_the_killed_roll_up_without_beat(
    start_worker, org, team_a, team_b, respondent_a, framework
):
    """The other worker was already running: its start-up sweep met the killed
    worker's lock, so it is the periodic sweep, at the default interval, that
    finds the stale cycle."""
    cycle, doomed = _slow_roll_up_in_progress(
        org, [team_a, team_b], framework, respondent_a, start_worker
    )
    survivor = start_worker("survivor")
    time.sleep(4)  # its start-up sweep has come and gone while the lock was held
    assert "rollup_sweep_stale" in survivor.logs()
    doomed.kill()
    killed_at = time.monotonic()
    _wait(lambda: _complete(cycle), RECOVERY_LIMIT_S, "the snapshot", survivor.logs)
    assert time.monotonic() - killed_at < RECOVERY_LIMIT_S

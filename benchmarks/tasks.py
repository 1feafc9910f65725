"""Celery tasks: thin wrappers around ``benchmarks.services``."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

# Limits stay far below the broker's visibility timeout (1 h by default), so a
# running task is never handed to a second worker.
TASK_OPTIONS = {
    "acks_late": True,  # safe: the roll-up is idempotent
    "autoretry_for": (OperationalError, InterfaceError),  # transient DB errors only
    "retry_backoff": True,
    "max_retries": 5,
    "soft_time_limit": 120,
    "time_limit": 180,
    "ignore_result": True,
}


# A worker recomputes one cycle at most once a second; eager runs never wait.
MIN_INTERVAL_S = 1.0


@shared_task(name="benchmarks.tasks.rollup_cycle", bind=True, **TASK_OPTIONS)
def rollup_cycle(self, cycle_id: int, full: bool = False) -> dict:
    """Bring the cycle's roll-up up to date if it is stale, incrementally when few
    teams changed; with ``full``, the sweeper's periodic whole recompute (see
    ``rollup_recompute``)."""
    from benchmarks.services import rollup_recompute

    interval = 0.0 if self.request.is_eager else MIN_INTERVAL_S
    return rollup_recompute(cycle_id=cycle_id, min_interval_s=interval, full=full)


@shared_task(
    name="benchmarks.tasks.rollup_sweep_stale",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def rollup_sweep_stale() -> int:
    """Enqueue ``rollup_cycle`` for every stale cycle (run every minute by beat)."""
    from benchmarks.services import rollup_sweep

    return rollup_sweep()


@shared_task(name="benchmarks.tasks.prebuild_team_reports", **TASK_OPTIONS)
def prebuild_team_reports(cycle_id: int, computed_at: str, after_id: int = 0) -> dict:
    """Build the next batch of the cycle's team reports into the cache (see
    ``reports_prebuild_batch``); enqueued after each roll-up."""
    from benchmarks.services import reports_prebuild_batch

    return reports_prebuild_batch(
        cycle_id=cycle_id, computed_at=computed_at, after_id=after_id
    )


@shared_task(name="benchmarks.tasks.prebuild_organization_reports", **TASK_OPTIONS)
def prebuild_organization_reports(organization_id: int) -> int:
    """Prebuild every rolled-up cycle's reports of the organisation (its targets
    changed); enqueued by name by ``assessment.targets``."""
    from benchmarks.services import prebuild_organization

    return prebuild_organization(organization_id=organization_id)

"""Celery tasks of assessment: thin wrappers around its services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    name="assessment.tasks.framework_dry_run",
    acks_late=True,  # safe: a finished run is left alone
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
    ignore_result=True,
)
def framework_dry_run(run_id: int) -> None:
    """Compute a recorded dry run (see ``dry_runs.dry_run_execute``)."""
    from assessment.dry_runs import dry_run_execute

    dry_run_execute(run_id=run_id)

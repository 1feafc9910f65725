"""Celery tasks: thin wrappers around ``evidence.services``."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

TRANSIENT = (OperationalError, InterfaceError)


# Reading a 10-million-row month takes about a minute; the limits leave room for
# much larger exports and stay below the broker's visibility timeout (1 h).
@shared_task(
    name="evidence.tasks.ingestion_run",
    acks_late=True,  # safe: a run claims the ingestion, so a redelivery is skipped
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=3000,
    time_limit=3300,
    ignore_result=True,
)
def ingestion_run(ingestion_id: int) -> str:
    """Read one ingestion's files into evidence (see ``services.ingestion_run``)."""
    from evidence.services import ingestion_run as run

    return run(ingestion_id=ingestion_id)


@shared_task(
    name="evidence.tasks.measures_recompute",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
    ignore_result=True,
)
def measures_recompute(organization_id: int) -> bool:
    """Recompute an organisation's measures after a mapping or settings change."""
    from evidence.services import measures_recompute as recompute

    return recompute(organization_id=organization_id)


@shared_task(
    name="evidence.tasks.ingestions_sweep",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def ingestions_sweep() -> int:
    """Hand ingestions whose worker went silent to another one; recompute stale
    measures (every minute, from beat)."""
    from evidence.services import ingestions_sweep as sweep
    from evidence.services import measures_sweep

    return sweep() + measures_sweep()


@shared_task(
    name="evidence.tasks.folder_sources_scan",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=120,
    time_limit=180,
)
def folder_sources_scan() -> int:
    """Queue an ingestion for every folder source whose files changed."""
    from evidence.services import folder_sources_scan as scan

    return scan()


@shared_task(
    name="evidence.tasks.storage_clean",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def storage_clean() -> int:
    """Delete old unfinished uploads and summaries no period uses."""
    from evidence.services import storage_clean as clean

    return clean()

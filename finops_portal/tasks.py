"""Celery tasks of the shared plumbing: thin wrappers around its services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(name="finops_portal.ping")
def ping(payload: str = "pong") -> str:
    """Echo, to prove a worker (or the in-process fallback) runs the project's tasks."""
    return payload


@shared_task(
    name="finops_portal.tasks.event_dispatch",
    acks_late=True,  # safe: dispatch marks the event and handlers are idempotent
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def event_dispatch(event_id: int) -> str:
    """Run the handlers of one event (see ``finops_portal.events``)."""
    from finops_portal.events import event_dispatch as dispatch

    return dispatch(event_id=event_id)


@shared_task(
    name="finops_portal.tasks.events_sweep",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def events_sweep() -> int:
    """Enqueue the dispatch of events a broker outage left behind (beat, every minute)."""
    from finops_portal.events import events_sweep as sweep

    return sweep()

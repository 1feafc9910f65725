"""Celery tasks of notifications: thin wrappers around its services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

TRANSIENT_DB = (OperationalError, InterfaceError)


@shared_task(
    name="notifications.tasks.event_notify",
    acks_late=True,  # safe: every notice and mail is keyed by the event
    autoretry_for=TRANSIENT_DB,
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=300,
    time_limit=360,
    ignore_result=True,
)
def event_notify(event_id: int) -> bool:
    """Invitations, notices and mails of one domain event."""
    from notifications.handlers import event_notify as notify

    return notify(event_id=event_id)


@shared_task(
    name="notifications.tasks.deliveries_send",
    acks_late=True,  # safe: rows are claimed, a second run finds nothing to send
    autoretry_for=TRANSIENT_DB,
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
)
def deliveries_send(ids: list[int]) -> dict:
    """Send a batch of queued mails (SMTP errors are retried by the service)."""
    from notifications.delivery import deliveries_send as send

    return vars(send(ids=ids))


@shared_task(
    name="notifications.tasks.deliveries_sweep",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def deliveries_sweep() -> int:
    """Mails a lost message or a killed worker left behind (beat, every minute)."""
    from notifications.delivery import deliveries_sweep as sweep

    return sweep()


@shared_task(
    name="notifications.tasks.schedule_tick",
    acks_late=True,
    autoretry_for=TRANSIENT_DB,
    max_retries=3,
    ignore_result=True,
    soft_time_limit=120,
    time_limit=180,
)
def schedule_tick() -> dict:
    """Open, remind, digest and close as the schedules say (beat, every minute)."""
    from notifications.services import schedule_tick as tick

    return vars(tick())

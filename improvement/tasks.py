"""Celery tasks: thin wrappers around ``improvement.webhooks`` and ``.initiatives``."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

TASK_OPTIONS = {
    "acks_late": True,  # safe: a delivery is claimed under a row lock, sent once
    "autoretry_for": (OperationalError, InterfaceError),  # transient DB errors only
    "retry_backoff": True,
    "max_retries": 5,
    "soft_time_limit": 60,
    "time_limit": 90,
    "ignore_result": True,
}


@shared_task(name="improvement.tasks.webhook_deliver", **TASK_OPTIONS)
def webhook_deliver(delivery_id: int) -> str:
    """One attempt of one webhook delivery (see ``webhooks.delivery_send``)."""
    from improvement.webhooks import delivery_send

    return delivery_send(delivery_id=delivery_id)


@shared_task(name="improvement.tasks.webhook_deliveries_sweep", **TASK_OPTIONS)
def webhook_deliveries_sweep() -> int:
    """Re-send deliveries a crash or a lost message left pending (every minute)."""
    from improvement.webhooks import deliveries_sweep

    return deliveries_sweep()


@shared_task(name="improvement.tasks.initiatives_due_sweep", **TASK_OPTIONS)
def initiatives_due_sweep() -> int:
    """Announce initiatives whose due date nears (daily)."""
    from improvement.initiatives import initiatives_due_publish

    return initiatives_due_publish()

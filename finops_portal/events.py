"""Domain events: an outbox that lower apps write and higher apps subscribe to.

``event_publish`` writes one ``Event`` row inside the caller's transaction, so an
event exists exactly when the change it reports was committed, and after commit
enqueues its dispatch. ``event_dispatch`` calls every handler subscribed to the
event's topic and marks it dispatched; a beat task (``events_sweep``) dispatches
whatever a broker outage or a crash left behind. So a lower app (assessment says
"submitted") reaches a higher one (notifications, webhooks) without importing it.

Handlers are registered with ``subscribe`` in their app's ``AppConfig.ready()``.
They run inside the dispatch transaction, must be idempotent (an event can be
dispatched again after a failure) and quick: slow work goes to a task of their own.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from .queue import enqueue

logger = logging.getLogger(__name__)

DISPATCH_TASK = "finops_portal.tasks.event_dispatch"
# The sweeper leaves alone events younger than this: their own dispatch is on its way.
SWEEP_AFTER = timedelta(seconds=30)
SWEEP_BATCH = 500
HANDLER_FAILED_MSG = "Handler {handler} of event {event_id} ({topic}) failed: {error}"

Handler = Callable[["Event"], None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)


class Event(models.Model):
    """Something that happened in the domain (``assessment.submitted``, ...), with a
    JSON payload of ids and values; dispatched to its subscribers once committed."""

    topic = models.CharField(max_length=80, db_index=True)
    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="event_undispatched",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


def subscribe(topic: str, handler: Handler) -> Handler:
    """Call ``handler(event)`` for every event of ``topic`` (once per handler)."""
    if handler not in _subscribers[topic]:
        _subscribers[topic].append(handler)
    return handler


def subscribers(topic: str) -> list[Handler]:
    return list(_subscribers.get(topic, ()))


def event_publish(
    *, topic: str, organization_id: int | None = None, actor=None, payload=None
) -> Event | None:
    """Record an event in the caller's transaction; it is dispatched after commit.

    Nothing is written (None is returned) when no handler listens to ``topic``:
    every process loads the same apps, so the subscribers are the same everywhere,
    and an event nobody reads would only cost a write on a hot path."""
    if not _subscribers.get(topic):
        return None
    event = Event.objects.create(
        topic=topic,
        organization_id=organization_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        payload=payload or {},
    )
    transaction.on_commit(partial(enqueue, DISPATCH_TASK, event.pk), robust=True)
    return event


def event_dispatch(*, event_id: int) -> str:
    """Run the event's handlers and mark it dispatched, all in one transaction.

    Returns "dispatched", "done" (already dispatched, or being dispatched by another
    worker) or "failed" (a handler raised: the error is kept, and the sweeper tries
    again later)."""
    current: dict[str, str | None] = {"handler": None, "topic": None}
    try:
        with transaction.atomic():
            rows = Event.objects.filter(pk=event_id, dispatched_at__isnull=True)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            event = rows.first()
            if event is None:
                return "done"
            current["topic"] = event.topic
            for handler in subscribers(event.topic):
                current["handler"] = getattr(handler, "__qualname__", repr(handler))
                handler(event)
            Event.objects.filter(pk=event.pk).update(
                dispatched_at=timezone.now(), attempts=models.F("attempts") + 1
            )
    except Exception as error:  # noqa: BLE001 - kept on the event, retried by the sweeper
        message = HANDLER_FAILED_MSG.format(event_id=event_id, error=error, **current)
        logger.exception(message)
        Event.objects.filter(pk=event_id).update(
            attempts=models.F("attempts") + 1, last_error=message[:2000]
        )
        return "failed"
    return "dispatched"


def events_sweep(*, now=None) -> int:
    """Enqueue the dispatch of events left undispatched for a while; returns how
    many were enqueued."""
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    ids = list(
        Event.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    return sum(enqueue(DISPATCH_TASK, pk) for pk in ids)

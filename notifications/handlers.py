"""What notifications does on the domain's events.

``TOPICS`` maps each topic to its handler; ``AppConfig.ready()`` subscribes every
topic listed, so notifying a new event is one line here. Subscribers only enqueue
``notifications.tasks.event_notify`` after the dispatch commits (quick, as the
outbox asks); the task does the work, idempotently (every key names the event).

Payloads expected (``event.payload``):

- ``cycle.opened`` / ``cycle.closed``: ``{"cycle_id"}``.
- ``assessment.submitted``: ``{"assessment_id", "cycle_id", "team_id"}``.
- ``assessment.reopened``: ``{"assessment_id", "cycle_id", "team_id", "reason"}``.
- Team notices (consensus, initiatives, and any event a team should hear of), for
  topics given a ``TeamNotice``: ``{"team_id", "title"}`` and optionally ``"body"``
  (plain text), ``"url"`` (a path of the portal, such as the initiative's page),
  ``"assessment_id"``, ``"cycle_id"``, ``"email"`` (false: in-app only). For
  example, once consensus lands:
  ``"consensus.reached": TeamNotice(Category.CONSENSUS),`` and it publishes
  ``{"team_id": 7, "assessment_id": 12, "title": "Payments API reached consensus",
  "url": "/assessments/12/summary/"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.urls import reverse

from assessment.models import Assessment
from finops_portal.events import Event
from finops_portal.queue import enqueue

from . import services
from .models import Category

NOTIFY_TASK = "notifications.tasks.event_notify"


def on_event(event: Event) -> None:
    """The subscriber of every topic: enqueue the work once the dispatch commits."""
    transaction.on_commit(
        partial(enqueue, NOTIFY_TASK, event.pk, what=f"notices of event {event.pk}"),
        robust=True,
    )


def _actor_name(event: Event) -> str:
    actor = event.actor
    if actor is None:
        return "the schedule"
    return (f"{actor.first_name} {actor.last_name}".strip()) or actor.get_username()


def cycle_opened(event: Event) -> None:
    cycle_id = int(event.payload["cycle_id"])
    services.schedule_ensure(cycle_id=cycle_id)
    services.invitations_queue(cycle_id=cycle_id)


def cycle_closed(event: Event) -> None:
    services.cycle_closed_notify(
        cycle_id=int(event.payload["cycle_id"]), event_id=event.pk
    )


def _assessment(event: Event) -> Assessment | None:
    return (
        Assessment.objects.select_related("team", "cycle")
        .filter(pk=event.payload.get("assessment_id"))
        .first()
    )


def assessment_reopened(event: Event) -> None:
    assessment = _assessment(event)
    if assessment is None:
        return
    reason = str(event.payload.get("reason", "")).strip()
    by = _actor_name(event)
    services.team_notice_queue(
        key=f"reopen:{event.pk}",
        team_id=assessment.team_id,
        organization_id=assessment.cycle.organization_id,
        category=Category.REOPEN,
        kind="reopen",
        title=f"{assessment.team.name}: {assessment.cycle.name} reopened by {by}",
        body=f"Reason: {reason}" if reason else "",
        url=reverse("assessment:questionnaire", args=[assessment.pk]),
        context={"assessment_id": assessment.pk, "reason": reason, "by": by},
        cycle_id=assessment.cycle_id,
    )


def assessment_submitted(event: Event) -> None:
    assessment = _assessment(event)
    if assessment is None:
        return
    by = _actor_name(event)
    services.team_notice_queue(
        key=f"submission:{event.pk}",
        team_id=assessment.team_id,
        organization_id=assessment.cycle.organization_id,
        category=Category.SUBMISSION,
        kind="submission",
        title=f"{assessment.team.name} submitted {assessment.cycle.name}",
        body=f"Submitted by {by}.",
        url=reverse("assessment:summary", args=[assessment.pk]),
        context={"assessment_id": assessment.pk, "by": by},
        cycle_id=assessment.cycle_id,
        exclude_user_id=event.actor_id,
        leads_in_app=True,
    )


@dataclass(frozen=True)
class TeamNotice:
    """A handler that tells a team's respondents of an event (payload above)."""

    category: str

    def __call__(self, event: Event) -> None:
        payload = event.payload
        services.team_notice_queue(
            key=f"{event.topic}:{event.pk}",
            team_id=int(payload["team_id"]),
            organization_id=event.organization_id or 0,
            category=self.category,
            kind="notice",
            title=str(payload.get("title") or event.topic),
            body=str(payload.get("body", "")),
            url=str(payload.get("url", "")),
            context={"assessment_id": payload.get("assessment_id")},
            cycle_id=payload.get("cycle_id"),
            email=bool(payload.get("email", True)),
            exclude_user_id=event.actor_id,
        )


TOPICS: dict[str, Callable[[Event], None]] = {
    "cycle.opened": cycle_opened,
    "cycle.closed": cycle_closed,
    "assessment.submitted": assessment_submitted,
    "assessment.reopened": assessment_reopened,
    # published by improvement for each team still short of a nearing initiative
    "initiative.due_soon": TeamNotice(Category.INITIATIVE),
}


def event_notify(*, event_id: int) -> bool:
    """Do the notifying of one event; False when it is unknown or of no topic here."""
    event = Event.objects.select_related("actor").filter(pk=event_id).first()
    if event is None or event.topic not in TOPICS:
        return False
    TOPICS[event.topic](event)
    return True

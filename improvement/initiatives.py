"""What happens to initiatives over time: reached after a roll-up, due soon.

Both publish events through ``finops_portal.events`` (``initiative.reached``,
``initiative.due_soon``) so that webhooks and notifications can subscribe; each
is published once per initiative, claimed by a conditional update.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from finops_portal.events import event_publish

from . import selectors
from .models import Initiative


def initiatives_check_reached(*, organization_id: int, cycle_id: int) -> list[int]:
    """After a roll-up of ``cycle_id``: mark the initiatives whose every team in
    scope is at target in that cycle as reached, and publish it once."""
    reached = []
    for initiative in Initiative.objects.filter(
        organization_id=organization_id, reached_at__isnull=True
    ):
        progress = selectors.initiative_progress(initiative=initiative)
        row = next((p for p in progress if p["cycle_id"] == cycle_id), None)
        if row is None or row["teams"] == 0 or row["short"] > 0:
            continue
        with transaction.atomic():
            claimed = Initiative.objects.filter(
                pk=initiative.pk, reached_at__isnull=True
            ).update(reached_at=timezone.now())
            if claimed:
                event_publish(
                    topic="initiative.reached",
                    organization_id=organization_id,
                    payload={
                        "initiative_id": initiative.pk,
                        "name": initiative.name,
                        "capability_key": initiative.capability_key,
                        "target_percent": float(initiative.target_percent),
                        "cycle_id": cycle_id,
                        "teams": row["teams"],
                    },
                )
                reached.append(initiative.pk)
    return reached


def initiatives_due_publish(*, today: dt.date | None = None) -> int:
    """Announce, once, each initiative not yet reached whose due date is within
    ``INITIATIVE_DUE_SOON_DAYS``: an ``initiative.due_soon`` event per team still
    short of the target. Returns how many initiatives were announced."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=settings.INITIATIVE_DUE_SOON_DAYS)
    count = 0
    for initiative in Initiative.objects.filter(
        reached_at__isnull=True,
        due_soon_published_on__isnull=True,
        due_on__gte=today,
        due_on__lte=horizon,
    ).select_related("organization"):
        with transaction.atomic():
            claimed = Initiative.objects.filter(
                pk=initiative.pk, due_soon_published_on__isnull=True
            ).update(due_soon_published_on=today)
            if not claimed:
                continue
            progress = selectors.initiative_progress(initiative=initiative)
            last = progress[-1] if progress else {"at_target": 0, "teams": 0}
            # one notice per team still short (notifications' TeamNotice reads it)
            for team_id in last.get("short_ids", []):
                event_publish(
                    topic="initiative.due_soon",
                    organization_id=initiative.organization_id,
                    payload={
                        "initiative_id": initiative.pk,
                        "team_id": team_id,
                        "due_on": initiative.due_on.isoformat(),
                        "title": f"Due {initiative.due_on:%d %b %Y}: {initiative.name}",
                        "body": f"Your team is not yet at "
                        f"{initiative.target_percent:.0f}% in "
                        f"{initiative.capability_name}; {last['at_target']} of "
                        f"{last['teams']} teams are.",
                    },
                )
            count += 1
    return count

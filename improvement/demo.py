"""The demo's improvement data (``seed_demo_improvement``): the Payments API
team's plan, with owners and due dates, and the lead's initiative over Commerce,
whose burn-down spans the demo's three cycles. Idempotent; ``reset`` rebuilds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from assessment.demo import DEMO_LEAD, DEMO_ORG_SLUG
from assessment.models import Assessment, Organization, Team

from . import services
from .models import ActionItem, Initiative

DEMO_TEAM = "Payments API"
DEMO_UNIT = "Commerce"
DEMO_INITIATIVE = "Commerce invoicing at 60 % by mid-2027"
DEMO_PRESENT_MSG = "Demo improvement data already present"
NO_DEMO_MSG = "No demo organisation: run seed_demo first."

# title, capability key, lens, owner ("team" = the demo respondent), due in days
# from the seed date, status, expected effect
DEMO_ITEMS = [
    (
        "Publish a monthly showback of payment processing costs",
        "invoicing-chargeback",
        "process",
        "team",
        45,
        ActionItem.Status.IN_PROGRESS,
        "Invoicing and chargeback: Process 1 -> 3",
    ),
    (
        "Tag every payments account with its cost centre",
        "invoicing-chargeback",
        "adoption",
        "team",
        90,
        ActionItem.Status.PLANNED,
        "Invoicing and chargeback: Adoption 2 -> 3",
    ),
    (
        "Run the FinOps basics course for the on-call rota",
        "education",
        "knowledge",
        "lead",
        30,
        ActionItem.Status.DONE,
        "Education and enablement: Knowledge 2 -> 3",
    ),
    (
        "Alert on daily spend above forecast",
        "tools-services",
        "automation",
        "team",
        120,
        ActionItem.Status.PLANNED,
        "Automation 1 -> 2",
    ),
]


@dataclass
class Seeded:
    items: int
    initiative: Initiative


def demo_improvement_seed(*, reset: bool = False, today: dt.date | None = None):
    """Seed the demo's plan and initiative; None when already present (and not
    ``reset``). ``LookupError`` without the demo organisation."""
    today = today or dt.date.today()  # noqa: DTZ011 - demo dates, local is fine
    org = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
    if org is None:
        raise LookupError(NO_DEMO_MSG)
    team = Team.objects.get(organization=org, name=DEMO_TEAM)
    unit = Team.objects.get(organization=org, name=DEMO_UNIT)
    users = get_user_model().objects
    lead = users.get(username=DEMO_LEAD)
    member = (
        users.filter(memberships__team=team).exclude(pk=lead.pk).order_by("pk").first()
    ) or lead
    with transaction.atomic():
        present = Initiative.objects.filter(organization=org, name=DEMO_INITIATIVE)
        if present.exists() and not reset:
            return None
        present.delete()
        ActionItem.objects.filter(team=team).delete()
        latest = (
            Assessment.objects.filter(team=team, status=Assessment.Status.SUBMITTED)
            .order_by("-cycle__opens_on")
            .first()
        )
        for title, key, lens, owner, days, status, effect in DEMO_ITEMS:
            saved = services.action_create(
                team=team,
                user=member,
                capability_key=key,
                lens_key=lens,
                title=title,
                owner_id=(member if owner == "team" else lead).pk,
                due_on=today + dt.timedelta(days=days),
                expected_effect=effect,
                source=ActionItem.Source.GAP,
                assessment_id=latest.pk if latest else None,
            )
            if status != ActionItem.Status.PLANNED:
                services.action_update(item=saved.item, user=member, status=status)
        initiative = services.initiative_create(
            organization=org,
            user=lead,
            name=DEMO_INITIATIVE,
            capability_key="invoicing-chargeback",
            target_percent=60,
            due_on=dt.date(2027, 6, 30),
            scope_ids=[unit.pk],
        )
    return Seeded(items=len(DEMO_ITEMS), initiative=initiative)

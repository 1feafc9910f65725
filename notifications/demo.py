"""The demo's notifications (``seed_demo_notifications``): schedules on its cycles,
a planned cycle to open by hand (its invitations print in ``make run``'s log), a
respondent without an email address, and a reopened submission whose notice, with
its reason, waits in a respondent's in-app list (Checkout Web's: the demo
respondent's team still has answers carried forward to confirm)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from assessment.cycles import cycle_create
from assessment.demo import DEMO_ORG_SLUG, published_framework
from assessment.models import Answer, Assessment, Cycle, Organization
from assessment.selectors import questions_for_assessment
from assessment.services import answer_record, assessment_reopen, assessment_submit

from .models import CycleSchedule, Delivery, Notification
from .services import schedule_defaults

PLANNED_CYCLE = "2027 Q1"
PLANNED_OPENS, PLANNED_DUE = date(2027, 1, 11), date(2027, 2, 12)
REOPENED_TEAM = "Checkout Web"
REOPENED_RESPONDENT = "ben"
REOPEN_REASON = (
    "Thanks for submitting! Please add evidence for the chargeback answers "
    "(the invoice reconciliation report) before we close the cycle."
)
NO_EMAIL_USER = "emma"


@dataclass
class DemoResult:
    done: list[str] = field(default_factory=list)


def demo_notifications(*, reset: bool = False) -> DemoResult | None:
    """Idempotent; None when the demo organisation is missing."""
    org = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
    if org is None:
        return None
    result = DemoResult()
    if reset:
        _reset(org)
    for cycle in Cycle.objects.filter(organization=org).exclude(status="closed"):
        _, made = CycleSchedule.objects.get_or_create(
            cycle=cycle, defaults=schedule_defaults()
        )
        if made:
            result.done.append(f"schedule of {cycle.name}")
    if not Cycle.objects.filter(organization=org, name=PLANNED_CYCLE).exists():
        planned = cycle_create(
            organization=org,
            framework=published_framework(),
            name=PLANNED_CYCLE,
            opens_on=PLANNED_OPENS,
            closes_on=PLANNED_DUE,
        )
        CycleSchedule.objects.create(
            cycle=planned, **(schedule_defaults() | {"auto_open": True})
        )
        result.done.append(f"planned cycle {PLANNED_CYCLE} (opens by itself)")
    User = get_user_model()
    if User.objects.filter(username=NO_EMAIL_USER).exclude(email="").update(email=""):
        result.done.append(f"{NO_EMAIL_USER} has no email address")
    if _reopen(org):
        result.done.append(f"{REOPENED_TEAM} submitted and reopened")
    return result


def _reset(org: Organization) -> None:
    users = org.memberships.values("user_id")
    Notification.objects.filter(user_id__in=users).delete()
    Delivery.objects.filter(organization_id=org.pk).delete()
    CycleSchedule.objects.filter(cycle__organization=org).delete()
    Cycle.objects.filter(
        organization=org, name=PLANNED_CYCLE, status="planned"
    ).delete()


def _reopen(org: Organization) -> bool:
    """A respondent's team, in the open cycle: answered in full, submitted,
    then reopened by the lead with a reason (through the services, so the notice
    and its mail come from the event, as in use)."""
    User = get_user_model()
    respondent = User.objects.filter(username=REOPENED_RESPONDENT).first()
    lead = User.objects.filter(username="lead").first()
    assessment = (
        Assessment.objects.filter(
            cycle__organization=org, cycle__status="open", team__name=REOPENED_TEAM
        )
        .select_related("cycle")
        .first()
    )
    if respondent is None or lead is None or assessment is None:
        return False
    if Notification.objects.filter(user=respondent, category="reopen").exists():
        return False
    answered = set(
        Answer.objects.filter(assessment=assessment).values_list(
            "question_id", flat=True
        )
    )
    with transaction.atomic():
        for question in questions_for_assessment(
            assessment=assessment
        ).prefetch_related("options"):
            if question.pk in answered:
                continue
            options = sorted(question.options.all(), key=lambda o: o.score)
            answer_record(
                assessment=assessment,
                question=question,
                user=respondent,
                option=options[len(options) // 2],
                expected_version=0,
            )
    if not assessment.is_submitted:
        assessment_submit(assessment=assessment, user=respondent, confirm_carried=True)
    assessment.refresh_from_db()
    assessment_reopen(assessment=assessment, user=lead, reason=REOPEN_REASON)
    return True

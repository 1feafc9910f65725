"""The demo's notifications step (``seed_demo_notifications``)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from assessment.models import Assessment, AssessmentReopen, Cycle, Organization
from notifications.demo import (
    PLANNED_CYCLE,
    REOPEN_REASON,
    REOPENED_RESPONDENT,
    REOPENED_TEAM,
)
from notifications.models import CycleSchedule, Notification

pytestmark = pytest.mark.django_db


def step(*args) -> str:
    out = StringIO()
    call_command("seed_demo_notifications", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(shipped_framework_v2, eager_tasks, django_capture_on_commit_callbacks):
    call_command("seed_demo", "--password", "demo-pass-1", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        out = step()
    return out


def test_a_respondent_finds_the_reopen_notice_with_its_reason(demo):
    respondent = get_user_model().objects.get(username=REOPENED_RESPONDENT)
    notice = Notification.objects.get(user=respondent, category="reopen")
    assert notice.body == f"Reason: {REOPEN_REASON}"
    assessment = Assessment.objects.get(
        cycle__status="open",
        team__name=REOPENED_TEAM,
        cycle__organization__slug="northwind",
    )
    assert assessment.status == "in_progress"
    assert AssessmentReopen.objects.get(assessment=assessment).reason == REOPEN_REASON
    assert any(REOPEN_REASON in m.body for m in mail.outbox)


def test_the_demo_has_a_planned_cycle_that_opens_by_itself_and_a_person_without_email(
    demo,
):
    planned = Cycle.objects.get(name=PLANNED_CYCLE)
    assert planned.status == "planned"
    assert CycleSchedule.objects.get(cycle=planned).auto_open is True
    assert get_user_model().objects.get(username="emma").email == ""


def test_the_step_twice_changes_nothing(demo, django_capture_on_commit_callbacks):
    before = (
        Notification.objects.count(),
        CycleSchedule.objects.count(),
        len(mail.outbox),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert "already present" in step()
    assert (
        Notification.objects.count(),
        CycleSchedule.objects.count(),
        len(mail.outbox),
    ) == before


def test_without_the_demo_organisation_the_step_does_nothing(db):
    assert "No demo organisation" in step()
    assert not Organization.objects.exists()

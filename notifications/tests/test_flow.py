"""Events in, notices and mails out, on the in-process path (tasks run eagerly,
mails land in Django's locmem outbox)."""

import pytest
from django.core import mail

from assessment.cycles import cycle_close, cycle_open
from assessment.models import Assessment
from assessment.services import assessment_reopen
from notifications import services
from notifications.models import Category, Delivery, Notification, Preference

pytestmark = pytest.mark.django_db


def _open(cycle, user, capture):
    from assessment.models import Cycle

    cycle.status = Cycle.Status.PLANNED
    cycle.save(update_fields=["status"])
    with capture(execute=True):
        cycle_open(cycle=cycle, user=user)


def test_opening_a_cycle_invites_every_respondent_with_a_link_to_their_questionnaire(
    cycle,
    lead,
    respondent_a,
    respondent_b,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    _open(cycle, lead, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "alice@example.com",
        "bob@example.com",
    ]
    alice = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    a = Assessment.objects.get(cycle=cycle, team__name="Team A")
    assert f"/assessments/{a.pk}/" in alice.body
    assert (
        alice.subject == "2026 Q4: your team's FinOps assessment is open (due 20 Nov)"
    )
    html = alice.alternatives[0][0]
    assert f"/assessments/{a.pk}/" in html
    assert "/notifications/unsubscribe/" in alice.extra_headers["List-Unsubscribe"]
    assert alice.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    notice = Notification.objects.get(user=respondent_a)
    assert notice.category == Category.INVITATION
    assert notice.url == f"/assessments/{a.pk}/"


def test_an_event_handled_twice_invites_once(
    cycle, lead, eager_tasks, django_capture_on_commit_callbacks
):
    from finops_portal.events import Event
    from notifications.handlers import event_notify

    _open(cycle, lead, django_capture_on_commit_callbacks)
    event = Event.objects.get(topic="cycle.opened")
    with django_capture_on_commit_callbacks(execute=True):
        event_notify(event_id=event.pk)
        services.invitations_queue(cycle_id=cycle.pk)
    assert len(mail.outbox) == 2
    assert Delivery.objects.filter(kind="invitation").count() == 2
    assert Notification.objects.count() == 2


def test_a_respondent_without_an_email_is_listed_not_an_error(
    cycle, lead, respondent_a, eager_tasks, django_capture_on_commit_callbacks
):
    respondent_a.email = ""
    respondent_a.save()
    _open(cycle, lead, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    row = Delivery.objects.get(user=respondent_a)
    assert row.status == Delivery.Status.NO_ADDRESS
    assert Notification.objects.filter(user=respondent_a).exists()


def test_an_invalid_address_is_logged_and_skipped(
    cycle, lead, respondent_a, eager_tasks, django_capture_on_commit_callbacks
):
    respondent_a.email = "alice at example"
    respondent_a.save()
    _open(cycle, lead, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(user=respondent_a)
    assert (row.status, row.last_error) == (
        Delivery.Status.SKIPPED,
        "“alice at example” is not a valid email address.",
    )
    assert len(mail.outbox) == 1


def test_a_person_who_unsubscribed_gets_the_notice_but_no_mail(
    cycle, lead, respondent_a, eager_tasks, django_capture_on_commit_callbacks
):
    Preference.objects.create(user=respondent_a, category="invitation", email=False)
    _open(cycle, lead, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    assert Delivery.objects.get(user=respondent_a).status == Delivery.Status.SKIPPED
    assert Notification.objects.filter(user=respondent_a).count() == 1


def test_a_reopen_reaches_the_team_with_its_reason(
    cycle,
    lead,
    respondent_a,
    respondent_b,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    a = Assessment.objects.get(cycle=cycle, team__name="Team A")
    Assessment.objects.filter(pk=a.pk).update(status="submitted")
    a.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assessment_reopen(
            assessment=a, user=lead, reason="Add evidence for the chargeback answers."
        )
    notice = Notification.objects.get(user=respondent_a)
    assert notice.category == Category.REOPEN
    assert notice.body == "Reason: Add evidence for the chargeback answers."
    assert not Notification.objects.filter(user=respondent_b).exists()
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "Add evidence for the chargeback answers." in message.body
    assert message.subject == "Team A: 2026 Q4 was reopened"


def test_a_submission_tells_the_rest_of_the_team_and_the_leads(
    cycle, lead, respondent_a, team_a, eager_tasks, django_capture_on_commit_callbacks
):
    from conftest import _member
    from finops_portal.events import event_publish

    _member("tom", team_a.organization, "respondent", team_a)
    a = Assessment.objects.get(cycle=cycle, team=team_a)
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(
            topic="assessment.submitted",
            organization_id=cycle.organization_id,
            actor=respondent_a,
            payload={"assessment_id": a.pk, "cycle_id": cycle.pk, "team_id": team_a.pk},
        )
    assert [m.to for m in mail.outbox] == [["tom@example.com"]]
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        "tom",
        "lena",
    }


def test_remind_now_twice_the_same_day_reminds_once(
    cycle, lead, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.remind_now(cycle=cycle, user=lead)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.remind_now(cycle=cycle, user=lead)
    assert (first.queued, second.queued, second.already) == (2, 0, 2)
    assert len(mail.outbox) == 2
    assert mail.outbox[0].subject.startswith("Reminder: 2026 Q4 is ")


def test_a_submitted_team_is_not_reminded(
    cycle, lead, team_a, eager_tasks, django_capture_on_commit_callbacks
):
    Assessment.objects.filter(cycle=cycle, team=team_a).update(status="submitted")
    with django_capture_on_commit_callbacks(execute=True):
        services.remind_now(cycle=cycle, user=lead)
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    with pytest.raises(Exception, match="Team A has submitted already"):
        services.remind_now(cycle=cycle, team_id=team_a.pk, user=lead)


def test_a_reminder_queued_before_a_submission_is_not_sent_after_it(
    cycle, lead, team_a, django_capture_on_commit_callbacks
):
    from notifications.delivery import deliveries_send

    with django_capture_on_commit_callbacks(execute=False):
        result = services.remind_now(cycle=cycle, user=lead)
    Assessment.objects.filter(cycle=cycle, team=team_a).update(status="submitted")
    deliveries_send(ids=result.ids)
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    skipped = Delivery.objects.get(to_address="alice@example.com")
    assert skipped.status == Delivery.Status.SKIPPED


def test_closing_a_cycle_drops_its_queued_reminders(
    cycle, lead, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        services.reminders_queue(cycle_id=cycle.pk, step="before-1")
    with django_capture_on_commit_callbacks(execute=True):
        cycle_close(cycle=cycle, user=lead)
    assert mail.outbox == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {"skipped"}
    assert Notification.objects.filter(category="cycle").count() == 2


def test_a_team_notice_topic_is_one_line(
    cycle, team_a, respondent_a, eager_tasks, django_capture_on_commit_callbacks
):
    from finops_portal.events import event_publish, subscribe
    from notifications import handlers

    handlers.TOPICS["consensus.reached"] = handlers.TeamNotice(Category.CONSENSUS)
    subscribe("consensus.reached", handlers.on_event)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event_publish(
                topic="consensus.reached",
                organization_id=cycle.organization_id,
                payload={
                    "team_id": team_a.pk,
                    "title": "Team A reached consensus",
                    "url": "/assessments/1/summary/",
                },
            )
    finally:
        del handlers.TOPICS["consensus.reached"]
    notice = Notification.objects.get(user=respondent_a)
    assert (notice.category, notice.title) == ("consensus", "Team A reached consensus")
    assert [m.subject for m in mail.outbox] == ["Team A reached consensus"]

"""Mails end to end: PostgreSQL, Redis, real Celery worker processes and a real SMTP
server (aiosmtpd on 127.0.0.1, in this test process). The tests read what the
server received: headers, links, unsubscribe, and how many times each person got
each step."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from assessment.cycles import cycle_open, organization_today
from assessment.models import Assessment, Cycle, Membership, Team
from finops_portal.queue import enqueue
from notifications.delivery import deliveries_sweep
from notifications.models import CycleSchedule, Delivery
from notifications.services import remind_now

pytestmark = pytest.mark.services

TEAMS = 20
PER_TEAM = 2
TIMEOUT = 60


def _world(org, framework, teams=TEAMS, per_team=PER_TEAM):
    """A planned cycle of ``teams`` teams of ``per_team`` respondents each."""
    User = get_user_model()
    made = Team.objects.bulk_create(
        Team(organization=org, name=f"Squad {i:03d}") for i in range(teams)
    )
    made = list(Team.objects.filter(organization=org, name__startswith="Squad "))
    users = User.objects.bulk_create(
        User(username=f"p{t:03d}-{m}", email=f"p{t:03d}-{m}@squads.example")
        for t in range(teams)
        for m in range(per_team)
    )
    users = {u.username: u for u in User.objects.filter(username__startswith="p")}
    Membership.objects.bulk_create(
        Membership(
            user=users[f"p{t:03d}-{m}"],
            organization=org,
            team=made[t],
            role=Membership.Role.RESPONDENT,
        )
        for t in range(teams)
        for m in range(per_team)
    )
    cycle = Cycle.objects.create(organization=org, framework=framework, name="Wave")
    cycle.teams.set(made)
    return cycle


def _worker_env(smtp_server):
    return {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "EMAIL_USE_TLS": "false",
        "PORTAL_URL": "http://portal.test",
        "NOTIFICATIONS_DOMAIN_RATE": "100000/min",
    }


def _wait_for(predicate, what, workers, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    logs = "\n".join(w.logs()[-4000:] for w in workers)
    pytest.fail(f"{what} did not happen within {timeout} s\n{logs}")


def _keys(handler, prefix):
    return Counter(
        str(m["To"])
        for m in handler.messages
        if str(m["X-Portal-Key"]).startswith(prefix)
    )


def test_a_worker_sends_every_invitation_once_with_links_and_unsubscribe(
    org, framework, smtp_server, start_worker
):
    cycle = _world(org, framework)
    worker = start_worker("mail1", concurrency=2, **_worker_env(smtp_server))
    cycle_open(cycle=cycle)
    people = TEAMS * PER_TEAM
    handler = smtp_server.handler
    _wait_for(lambda: len(handler.messages) >= people, "every invitation", [worker])
    time.sleep(0.5)  # nothing more arrives
    received = _keys(handler, f"invitation:{cycle.pk}:")
    assert len(received) == people
    assert set(received.values()) == {1}
    message = handler.to("p007-1@squads.example")[0]
    assessment = Assessment.objects.get(cycle=cycle, team__name="Squad 007")
    text = message.get_body(("plain",)).get_content()
    assert f"http://portal.test/assessments/{assessment.pk}/" in text
    assert (
        str(message["List-Unsubscribe"])
        .strip()
        .startswith("<http://portal.test/notifications/unsubscribe/")
    )
    assert message["Message-ID"].endswith("@portal.test>")
    sent = Delivery.objects.filter(cycle=cycle, status=Delivery.Status.SENT).count()
    assert sent == people


def test_beat_firing_twice_reminds_each_person_once_per_step(
    org, framework, smtp_server, start_worker
):
    cycle = _world(org, framework)
    worker = start_worker("mail2", concurrency=2, **_worker_env(smtp_server))
    cycle_open(cycle=cycle)
    handler = smtp_server.handler
    people = TEAMS * PER_TEAM
    _wait_for(lambda: len(handler.messages) >= people, "the invitations", [worker])
    today = organization_today(org)
    Cycle.objects.filter(pk=cycle.pk).update(
        opened_at=timezone.now() - timedelta(days=5),
        closes_on=today + timedelta(days=1),
    )
    CycleSchedule.objects.filter(cycle=cycle).update(
        days_before=[1], overdue_every=0, send_hour=0, digest="off"
    )
    # Two ticks at once, as two beats (or one beat sending twice) would.
    assert enqueue("notifications.tasks.schedule_tick")
    assert enqueue("notifications.tasks.schedule_tick")
    _wait_for(
        lambda: len(_keys(handler, f"reminder:{cycle.pk}:before-1:")) >= people,
        "every reminder",
        [worker],
    )
    assert enqueue("notifications.tasks.schedule_tick")
    time.sleep(2)
    reminders = _keys(handler, f"reminder:{cycle.pk}:before-1:")
    assert len(reminders) == people
    assert set(reminders.values()) == {1}


def test_a_worker_killed_mid_batch_leaves_one_reminder_per_person(
    org, framework, smtp_server, start_worker, settings
):
    cycle = _world(org, framework)
    Cycle.objects.filter(pk=cycle.pk).update(status="open", opened_at=timezone.now())
    Assessment.objects.bulk_create(
        Assessment(cycle=cycle, team=team) for team in cycle.teams.all()
    )
    cycle.refresh_from_db()
    recorder = smtp_server.handler
    recorder.pause_at, recorder.hold = 15, 5.0
    first = start_worker("mail3", concurrency=1, **_worker_env(smtp_server))
    remind_now(cycle=cycle)
    assert recorder.reached.wait(TIMEOUT), first.logs()[-3000:]
    first.kill()  # in the middle of the 15th mail's conversation, before its DATA
    delivered = len(recorder.messages)
    people = TEAMS * PER_TEAM
    assert 0 < delivered < people
    stuck = Delivery.objects.filter(cycle=cycle, status=Delivery.Status.SENDING)
    assert stuck.exists()
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = 1
    time.sleep(1.5)
    second = start_worker("mail4", concurrency=2, **_worker_env(smtp_server))
    deliveries_sweep()  # what beat runs every minute, with this test's short lease
    _wait_for(lambda: len(recorder.messages) >= people, "the rest", [second])
    time.sleep(1)
    reminders = Counter(str(m["To"]) for m in recorder.messages)
    assert len(reminders) == people
    assert set(reminders.values()) == {1}
    statuses = set(
        Delivery.objects.filter(cycle=cycle).values_list("status", flat=True)
    )
    assert statuses == {Delivery.Status.SENT}

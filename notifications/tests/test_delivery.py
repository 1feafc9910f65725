"""Sending to a real SMTP server (aiosmtpd on 127.0.0.1, in this process): headers
and links as received, refused addresses, temporary failures retried, a server
that is down, the per-domain rate, and signed unsubscribe links."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications import services
from notifications.delivery import deliveries_send, deliveries_sweep, parse_rate
from notifications.models import Delivery, Preference
from notifications.signing import (
    LINK_EXPIRED_MSG,
    LINK_INVALID_MSG,
    BadLink,
    unsubscribe_read,
    unsubscribe_token,
)

pytestmark = pytest.mark.django_db


def _queue(cycle, capture):
    with capture(execute=False):
        return services.reminders_queue(cycle_id=cycle.pk, step="before-1")


def test_the_server_receives_both_parts_with_links_and_unsubscribe(
    cycle, smtp_settings, django_capture_on_commit_callbacks, client
):
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    result = deliveries_send(ids=queued.ids)
    assert result.sent == 2
    (message,) = smtp_settings.handler.to("alice@example.com")
    assert message["Subject"].startswith("Reminder: 2026 Q4 is ")
    assert message["X-Portal-Key"].startswith(f"reminder:{cycle.pk}:before-1:")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "/assessments/" in text
    assert "/assessments/" in html
    link = str(message["List-Unsubscribe"]).strip().strip("<>")
    path = link.removeprefix("http://127.0.0.1:8000")
    assert client.get(path).status_code == 200
    client.post(path, {"action": "unsubscribe"})
    assert Preference.objects.get(user__username="alice").email is False


def test_a_refused_address_is_logged_as_refused_and_not_retried(
    cycle, smtp_settings, django_capture_on_commit_callbacks
):
    smtp_settings.handler.refuse = {"alice@example.com"}
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    result = deliveries_send(ids=queued.ids)
    assert (result.sent, result.bounced) == (1, 1)
    row = Delivery.objects.get(to_address="alice@example.com")
    assert row.status == Delivery.Status.BOUNCED
    assert row.last_error.startswith("550")


def test_a_temporary_failure_is_retried_later(
    cycle, smtp_settings, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_RETRY_SECONDS = 30
    smtp_settings.handler.tempfail_times = 1
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    first = deliveries_send(ids=queued.ids)
    assert (first.sent, first.deferred) == (1, 1)
    waiting = Delivery.objects.get(status=Delivery.Status.QUEUED)
    assert waiting.last_error.startswith("451")
    assert deliveries_send(ids=queued.ids).sent == 0  # not before its time
    later = timezone.now() + timedelta(seconds=31)
    assert deliveries_send(ids=queued.ids, now=later).sent == 1
    assert len(smtp_settings.handler.messages) == 2


def test_a_server_that_is_down_is_retried_then_logged_as_failed(
    cycle, settings, django_capture_on_commit_callbacks
):
    from notifications.tests.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    first = deliveries_send(ids=queued.ids)
    assert first.deferred == 2
    second = deliveries_send(ids=queued.ids, now=timezone.now() + timedelta(hours=1))
    assert second.failed == 2
    rows = Delivery.objects.all()
    assert {r.status for r in rows} == {Delivery.Status.FAILED}
    assert all(
        "Gave up after 2 attempts: ConnectionRefusedError" in r.last_error for r in rows
    )


def test_the_domain_rate_defers_what_is_over_it(
    cycle, smtp_settings, settings, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    cache.clear()
    settings.NOTIFICATIONS_DOMAIN_RATE = "1/min"
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    result = deliveries_send(ids=queued.ids)
    assert (result.sent, result.deferred) == (1, 1)
    row = Delivery.objects.get(status=Delivery.Status.QUEUED)
    assert row.attempts == 0  # waiting for the rate is not a failed attempt
    assert 0 < result.retry_in <= 60


def test_two_workers_given_the_same_batch_send_each_mail_once(
    cycle, smtp_settings, django_capture_on_commit_callbacks
):
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    deliveries_send(ids=queued.ids)
    deliveries_send(ids=queued.ids)
    assert len(smtp_settings.handler.messages) == 2


def test_the_sweeper_hands_back_mails_a_dead_worker_left_claimed(
    cycle, settings, django_capture_on_commit_callbacks
):
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    Delivery.objects.update(
        status=Delivery.Status.SENDING,
        claim_token="dead",
        claimed_at=timezone.now() - timedelta(minutes=10),
    )
    with django_capture_on_commit_callbacks(execute=False):
        enqueued = deliveries_sweep()
    assert enqueued == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"queued"}
    assert len(queued.ids) == 2


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("600/min", (600, 60)), ("20/s", (20, 1)), ("5000/h", (5000, 3600))],
)
def test_parse_rate(value, parsed):
    assert parse_rate(value) == parsed


def test_parse_rate_refuses_nonsense():
    with pytest.raises(ValueError, match="must look like 600/min"):
        parse_rate("lots")


# --- unsubscribe links ------------------------------------------------------------


def test_an_unsubscribe_token_names_its_person_and_category():
    link = unsubscribe_read(unsubscribe_token(user_id=7, category="reminder"))
    assert (link.user_id, link.category) == (7, "reminder")


def test_a_forged_token_is_refused():
    from django.core import signing

    token = unsubscribe_token(user_id=7, category="reminder")
    payload, stamp, signature = token.split(":")
    someone_else = signing.b64_encode(b'{"u":8,"c":"reminder"}').decode()
    forged = f"{someone_else}:{stamp}:{signature}"
    other_key = signing.dumps(
        {"u": 7, "c": "digest"}, key="guessed", salt="notifications.unsubscribe"
    )
    tampered = f"{payload}:{stamp}:{signature[:-2]}xx"
    for bad in (forged, other_key, tampered, "nonsense", ""):
        with pytest.raises(BadLink) as error:
            unsubscribe_read(bad)
        assert error.value.message == LINK_INVALID_MSG


def test_an_expired_token_is_refused(settings):
    settings.NOTIFICATIONS_UNSUBSCRIBE_DAYS = 30
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = unsubscribe_token(user_id=7, category="reminder")
    with time_machine.travel("2026-01-30 12:00Z", tick=False):
        assert unsubscribe_read(token).user_id == 7
    with (
        time_machine.travel("2026-02-01 12:00Z", tick=False),
        pytest.raises(BadLink) as error,
    ):
        unsubscribe_read(token)
    assert error.value.message == LINK_EXPIRED_MSG


def test_the_unsubscribe_page_refuses_a_forged_link_and_changes_nothing(
    client, respondent_a
):
    token = unsubscribe_token(user_id=respondent_a.pk, category="reminder")
    response = client.post(
        f"/notifications/unsubscribe/{token}x/", {"action": "unsubscribe"}
    )
    assert response.status_code == 400
    assert "This unsubscribe link is not valid" in response.content.decode()
    assert not Preference.objects.exists()


def test_the_unsubscribe_page_refuses_an_expired_link(client, respondent_a):
    with time_machine.travel("2025-01-01 12:00Z", tick=False):
        token = unsubscribe_token(user_id=respondent_a.pk, category="reminder")
    response = client.post(
        f"/notifications/unsubscribe/{token}/", {"action": "unsubscribe"}
    )
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not Preference.objects.exists()


def test_unsubscribing_from_a_category_keeps_the_others(client, respondent_a):
    token = unsubscribe_token(user_id=respondent_a.pk, category="reminder")
    page = client.get(f"/notifications/unsubscribe/{token}/")
    assert (
        "Mails about <strong>reminders before and after the due date</strong> are on"
        in page.content.decode()
    )
    assert not Preference.objects.exists()  # a GET (a mail scanner) changes nothing
    client.post(f"/notifications/unsubscribe/{token}/", {"action": "unsubscribe"})
    from notifications.selectors import preferences_of

    prefs = preferences_of(user=respondent_a)
    assert prefs["reminder"] is False
    assert prefs["invitation"] is True


def test_a_mail_that_cannot_be_written_fails_alone(
    cycle, smtp_settings, respondent_a, django_capture_on_commit_callbacks
):
    queued = _queue(cycle, django_capture_on_commit_callbacks)
    broken = Delivery.objects.create(
        key="broken",
        kind="no-such-kind",
        category="reminder",
        user=respondent_a,
        organization_id=cycle.organization_id,
        cycle=cycle,
        to_address="alice@example.com",
        domain="example.com",
    )
    result = deliveries_send(ids=[broken.pk, *queued.ids])
    assert (result.sent, result.failed) == (2, 1)
    broken.refresh_from_db()
    assert broken.status == Delivery.Status.FAILED
    assert broken.last_error.startswith("Could not be written:")

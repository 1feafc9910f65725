"""Webhooks: which URLs are refused (https, SSRF), signatures, deliveries to a
real local receiver with retries and back-off, replay, the payload limit."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from finops_portal.events import Event, event_dispatch
from improvement import services, webhooks
from improvement.models import WebhookDelivery
from improvement.tests.receiver import Receiver

pytestmark = pytest.mark.django_db


def test_http_is_refused_outside_debug(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationError) as caught:
        webhooks.check_url("http://hooks.example.com/x")
    assert caught.value.message_dict == {"url": ["Enter an https:// address."]}


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://localhost:8443/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://192.168.0.10/x",
    ],
)
def test_private_and_loopback_addresses_are_refused_in_production(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as caught:
        webhooks.check_url(url)
    assert caught.value.message_dict == {"url": [webhooks.PRIVATE_MSG]}


def test_a_public_address_is_accepted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert webhooks.check_url("https://93.184.215.14/x") == "https://93.184.215.14/x"


def test_not_a_url_is_refused():
    with pytest.raises(ValidationError) as caught:
        webhooks.check_url("ftp://x")
    assert caught.value.message_dict == {"url": [webhooks.URL_MSG]}


def test_the_signature_verifies_and_a_changed_body_does_not():
    signature = webhooks.sign("s3cret", 1700000000, '{"a":1}')
    assert webhooks.verify("s3cret", "1700000000", b'{"a":1}', signature)
    assert not webhooks.verify("s3cret", "1700000000", b'{"a":2}', signature)
    assert not webhooks.verify("other", "1700000000", b'{"a":1}', signature)
    assert not webhooks.verify("s3cret", "1700000001", b'{"a":1}', signature)


def _hook(org, lead, url, topics=()):
    return webhooks.webhook_create(
        organization=org, user=lead, url=url, topics=list(topics)
    )


def _item_event(team, user):
    services.action_create(
        team=team, user=user, capability_key="cap-0", title="Tag every account"
    )
    return Event.objects.get(topic="action_item.created")


def test_an_event_becomes_one_delivery_per_webhook_once(
    org, team_a, lead, respondent_a, framework, django_capture_on_commit_callbacks
):
    wanted = _hook(org, lead, "https://a.example.com/h", ["action_item.created"])
    _hook(org, lead, "https://b.example.com/h", ["initiative.reached"])
    with django_capture_on_commit_callbacks(execute=False):
        event = _item_event(team_a, respondent_a)
        webhooks.deliveries_for_event(event)
        webhooks.deliveries_for_event(event)  # dispatched again: nothing new
    delivery = WebhookDelivery.objects.get()
    assert delivery.webhook == wanted
    body = json.loads(delivery.body)
    assert body["id"] == str(delivery.key)
    assert body["topic"] == "action_item.created"
    assert body["data"]["title"] == "Tag every account"


def test_a_receiver_failing_twice_gets_one_accepted_delivery(
    settings,
    org,
    team_a,
    lead,
    respondent_a,
    framework,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_BACKOFF_S = 0
    hook = None
    with Receiver(secret_of=lambda: hook.secret, fail_first=2) as receiver:
        hook = _hook(org, lead, receiver.url)
        with django_capture_on_commit_callbacks(execute=False):
            event = _item_event(team_a, respondent_a)
            [delivery_id] = webhooks.deliveries_for_event(event)
        outcomes = [webhooks.delivery_send(delivery_id=delivery_id) for _ in range(4)]
    assert outcomes == ["retry", "retry", "delivered", "skip"]
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 200]
    assert len(receiver.accepted) == 1
    assert {r["key"] for r in receiver.requests} == {str(delivery.key)}
    assert all(r["signed"] for r in receiver.requests)


def test_back_off_grows_exponentially(settings):
    settings.WEBHOOK_BACKOFF_S = 30
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_a_retry_waits_for_its_time(
    settings,
    org,
    team_a,
    lead,
    respondent_a,
    framework,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_BACKOFF_S = 30
    with Receiver(secret_of=lambda: None, fail_first=5) as receiver:
        hook = _hook(org, lead, receiver.url)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            event = _item_event(team_a, respondent_a)
            [delivery_id] = webhooks.deliveries_for_event(event)
            assert webhooks.delivery_send(delivery_id=delivery_id) == "retry"
        assert webhooks.delivery_send(delivery_id=delivery_id) == "skip"
        later = timezone.now() + dt.timedelta(seconds=31)
        assert webhooks.delivery_send(delivery_id=delivery_id, now=later) == "retry"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.attempts == 2
    assert delivery.last_error == "HTTP 500"
    assert hook.deliveries.count() == 1
    assert callbacks  # the retry is enqueued after commit


def test_a_receiver_down_is_marked_failed_after_the_last_attempt(
    settings,
    org,
    team_a,
    lead,
    respondent_a,
    framework,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_BACKOFF_S = 0
    _hook(org, lead, "http://127.0.0.1:9/nothing-listens")
    with django_capture_on_commit_callbacks(execute=False):
        [delivery_id] = webhooks.deliveries_for_event(_item_event(team_a, respondent_a))
    outcomes = [
        webhooks.delivery_send(delivery_id=delivery_id)
        for _ in range(webhooks.MAX_ATTEMPTS)
    ]
    assert outcomes[-1] == "failed"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == "failed"
    assert delivery.last_status_code is None
    assert "ConnectionError" in delivery.last_error


def test_replay_sends_the_same_body_with_a_new_key(
    settings,
    org,
    team_a,
    lead,
    respondent_a,
    framework,
    django_capture_on_commit_callbacks,
):
    hook = None
    with Receiver(secret_of=lambda: hook.secret) as receiver:
        hook = _hook(org, lead, receiver.url)
        with django_capture_on_commit_callbacks(execute=False):
            [delivery_id] = webhooks.deliveries_for_event(
                _item_event(team_a, respondent_a)
            )
        webhooks.delivery_send(delivery_id=delivery_id)
        original = WebhookDelivery.objects.get(pk=delivery_id)
        with django_capture_on_commit_callbacks(execute=False):
            replay = webhooks.delivery_replay(delivery=original, user=lead)
        assert webhooks.delivery_send(delivery_id=replay.pk) == "delivered"
    assert len(receiver.accepted) == 2
    assert json.loads(replay.body)["data"] == json.loads(original.body)["data"]


def test_a_payload_over_the_limit_is_kept_as_failed_with_a_clear_error(
    settings,
    org,
    team_a,
    lead,
    respondent_a,
    framework,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_MAX_BYTES = 100
    _hook(org, lead, "https://a.example.com/h")
    with django_capture_on_commit_callbacks(execute=False):
        assert webhooks.deliveries_for_event(_item_event(team_a, respondent_a)) == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("The payload is ")
    assert delivery.last_error.endswith("over the limit of 100 bytes: not sent.")


def test_dispatching_the_event_creates_the_delivery(
    org, team_a, lead, respondent_a, framework, django_capture_on_commit_callbacks
):
    _hook(org, lead, "https://a.example.com/h")
    with django_capture_on_commit_callbacks(execute=False):
        event = _item_event(team_a, respondent_a)
    assert event_dispatch(event_id=event.pk) == "dispatched"
    assert WebhookDelivery.objects.filter(event_id=event.pk).count() == 1

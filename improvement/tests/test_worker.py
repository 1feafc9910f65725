"""Signed webhooks from a real Celery worker to a real receiver on 127.0.0.1:
retries with back-off end in exactly one accepted delivery per event, and a
worker killed in the middle of a delivery loses nothing."""

import time

import pytest
from django.db import transaction

from improvement import services, webhooks
from improvement.models import WebhookDelivery
from improvement.tests.receiver import Receiver

pytestmark = [pytest.mark.services]

FAST = {
    "WEBHOOK_ALLOW_HTTP": "True",
    "WEBHOOK_ALLOW_PRIVATE": "True",
    "WEBHOOK_BACKOFF_S": "1",
    "WEBHOOK_SWEEP_S": "1",
    "WORKER_SWEEP_SECONDS": "2",
}


def _wait(condition, timeout, what, logs):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"{what} not within {timeout} s:\n{logs()[-3000:]}")


def _items(team, user, titles):
    for title in titles:
        with transaction.atomic():
            services.action_create(
                team=team, user=user, capability_key="cap-0", title=title
            )


@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_signed_webhooks_once_through_failures(
    start_worker, org, team_a, lead, respondent_a, framework
):
    hook = None
    with Receiver(secret_of=lambda: hook.secret, fail_first=2) as receiver:
        hook = webhooks.webhook_create(
            organization=org, user=lead, url=receiver.url, topics=[]
        )
        worker = start_worker("hooks", **FAST)
        _items(team_a, respondent_a, ["First", "Second", "Third"])
        _wait(
            lambda: WebhookDelivery.objects.filter(status="delivered").count() == 3,
            60,
            "three deliveries",
            worker.logs,
        )
    assert all(r["signed"] for r in receiver.requests)
    keys = set(WebhookDelivery.objects.values_list("key", flat=True))
    assert set(receiver.accepted) == {str(k) for k in keys}
    assert len(receiver.accepted) == 3  # one accepted delivery per event
    codes = sorted(
        a.status_code
        for d in WebhookDelivery.objects.all()
        for a in d.attempt_log.all()
    )
    assert codes == [200, 200, 200, 500, 500]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(
    start_worker, org, team_a, lead, respondent_a, framework
):
    hook = None
    with Receiver(secret_of=lambda: hook.secret, hang_first=1) as receiver:
        hook = webhooks.webhook_create(
            organization=org, user=lead, url=receiver.url, topics=[]
        )
        doomed = start_worker("doomed", **FAST)
        _items(team_a, respondent_a, ["Only"])
        _wait(lambda: len(receiver.requests) == 1, 30, "the first request", doomed.logs)
        doomed.kill()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending"  # the killed attempt left no trace
        restarted = start_worker("restarted", **FAST)
        _wait(
            lambda: WebhookDelivery.objects.filter(status="delivered").count() == 1,
            60,
            "the delivery",
            restarted.logs,
        )
    delivery.refresh_from_db()
    assert list(receiver.accepted) == [str(delivery.key)]
    assert {r["key"] for r in receiver.requests} == {str(delivery.key)}
    assert [a.status_code for a in delivery.attempt_log.all()] == [200]

"""Outbound webhooks: which URLs may receive, how a delivery is signed and sent.

Each event of a webhook's topics becomes one ``WebhookDelivery`` (once per event
and webhook, by a unique constraint) whose ``key`` is the idempotency key the
receiver gets with every attempt (``Webhook-Id``). The signature is
HMAC-SHA256, with the webhook's secret, over ``"{timestamp}.{body}"``, sent as
``Webhook-Signature: v1=<hex>`` with ``Webhook-Timestamp`` (seconds since the
epoch). A failed attempt (timeout, refused, non-2xx) is retried with exponential
back-off up to ``MAX_ATTEMPTS``, then the delivery is marked failed; a lead can
replay any delivery from the log. A sweeper re-sends what a crash left pending.

Only https URLs outside DEBUG, and never (in production) a host that resolves
to a private, loopback, link-local or reserved address: checked when the webhook
is saved and again before each attempt (DNS may change). Redirects are not
followed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from finops_portal.audit import audit_record
from finops_portal.queue import enqueue

from .models import Webhook, WebhookAttempt, WebhookDelivery

TOPICS = {
    "action_item.created": "An action item was added to a plan",
    "action_item.changed": "An action item changed",
    "action_item.done": "An action item was done",
    "assessment.submitted": "A team submitted an assessment",
    "rollup.computed": "A cycle's roll-up was computed",
    "initiative.reached": "Every team of an initiative reached its target",
}
DELIVER_TASK = "improvement.tasks.webhook_deliver"
MAX_ATTEMPTS = 5
TIMEOUT_S = 10
RESPONSE_KEEP = 500

HTTPS_MSG = "Enter an https:// address."
PRIVATE_MSG = "That address points at a private or loopback network, which is refused."
UNRESOLVED_MSG = "That host name cannot be resolved."
URL_MSG = "Enter a full web address, such as https://tracker.example.com/hooks."
TOPICS_MSG = "Choose among the listed topics."
TOO_LARGE_MSG = (
    "The payload is {size} bytes, over the limit of {limit} bytes: not sent."
)


def allow_http() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_HTTP", settings.DEBUG))


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", settings.DEBUG))


def max_bytes() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_BYTES", 256 * 1024))


def backoff_seconds(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: base * 2**(attempt - 1)."""
    base = float(getattr(settings, "WEBHOOK_BACKOFF_S", 30))
    return base * 2 ** max(0, attempt - 1)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def check_url(url: str) -> str:
    """``url`` if a webhook may be sent to it, else ``ValidationError`` (field
    ``url``) saying why."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": URL_MSG})
    if parts.scheme != "https" and not allow_http():
        raise ValidationError({"url": HTTPS_MSG})
    if allow_private():
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443)
    except (socket.gaierror, UnicodeError):
        raise ValidationError({"url": UNRESOLVED_MSG}) from None
    if not infos or not all(_is_public(str(info[4][0])) for info in infos):
        raise ValidationError({"url": PRIVATE_MSG})
    return url


def sign(secret: str, timestamp: int, body: str) -> str:
    """The signature header's value for one attempt."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
    ).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    expected = sign(secret, int(timestamp), body.decode())
    return hmac.compare_digest(expected, signature)


@transaction.atomic
def webhook_create(
    *, organization, user, url: str, topics: list[str], description: str = ""
) -> Webhook:
    """A new webhook with a fresh secret (shown to its creator once)."""
    url = check_url(url)
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        raise ValidationError({"topics": TOPICS_MSG})
    webhook = Webhook.objects.create(
        organization=organization,
        url=url,
        description=(description or "").strip()[:200],
        secret=secrets.token_urlsafe(32),
        topics=list(topics),
        created_by=user if user is not None and user.is_authenticated else None,
    )
    audit_record(
        organization=organization,
        actor=user,
        action="webhook.create",
        summary=f"Webhook to {webhook.url} added",
        webhook_id=webhook.pk,
    )
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook, user) -> None:
    audit_record(
        organization_id=webhook.organization_id,
        actor=user,
        action="webhook.delete",
        summary=f"Webhook to {webhook.url} removed",
    )
    webhook.delete()


def envelope(*, delivery_key: str, topic: str, organization_id, payload, at) -> str:
    """The JSON body of a delivery (documented in the OpenAPI schema)."""
    return json.dumps(
        {
            "id": delivery_key,
            "topic": topic,
            "organization_id": organization_id,
            "created_at": at.isoformat(),
            "data": payload,
        },
        cls=DjangoJSONEncoder,
        sort_keys=True,
    )


def deliveries_for_event(event) -> list[int]:
    """One delivery per webhook of the event's organisation that wants its topic
    (idempotent: a second dispatch of the event adds none); their sending is
    enqueued after commit. Returns the new deliveries' ids."""
    if event.organization_id is None:
        return []
    created = []
    for webhook in Webhook.objects.filter(
        organization_id=event.organization_id, active=True
    ):
        if not webhook.wants(event.topic):
            continue
        if WebhookDelivery.objects.filter(
            webhook=webhook, event_id=event.pk, replay_of__isnull=True
        ).exists():
            continue
        delivery = WebhookDelivery(
            webhook=webhook, event_id=event.pk, topic=event.topic
        )
        delivery.body = envelope(
            delivery_key=str(delivery.key),
            topic=event.topic,
            organization_id=event.organization_id,
            payload=event.payload,
            at=event.created_at,
        )
        size = len(delivery.body.encode())
        if size > max_bytes():
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.last_error = TOO_LARGE_MSG.format(size=size, limit=max_bytes())
        delivery.save()
        if delivery.status == WebhookDelivery.Status.PENDING:
            created.append(delivery.pk)
            transaction.on_commit(
                partial(enqueue, DELIVER_TASK, delivery.pk), robust=True
            )
    return created


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, user) -> WebhookDelivery:
    """A new delivery of the same body, with a new idempotency key, sent at once."""
    body = json.loads(delivery.body)
    replay = WebhookDelivery(
        webhook=delivery.webhook,
        event_id=delivery.event_id,
        topic=delivery.topic,
        replay_of=delivery,
    )
    body["id"] = str(replay.key)
    replay.body = json.dumps(body, sort_keys=True)
    replay.save()
    audit_record(
        organization_id=delivery.webhook.organization_id,
        actor=user,
        action="webhook.replay",
        summary=f"Delivery {delivery.key} replayed to {delivery.webhook.url}",
    )
    transaction.on_commit(partial(enqueue, DELIVER_TASK, replay.pk), robust=True)
    return replay


def _post(webhook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One HTTP attempt: (status code, error text)."""
    import requests

    try:
        check_url(webhook.url)
    except ValidationError as error:
        return None, error.message_dict["url"][0]
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "finops-portal-webhooks/1",
        "Webhook-Id": str(delivery.key),
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Topic": delivery.topic,
        "Webhook-Signature": sign(webhook.secret, timestamp, delivery.body),
    }
    try:
        response = requests.post(
            webhook.url,
            data=delivery.body.encode(),
            headers=headers,
            timeout=TIMEOUT_S,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:RESPONSE_KEEP]
    return response.status_code, ""


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Make one attempt of a pending delivery whose time has come; returns
    "delivered", "retry" (another attempt enqueued with back-off), "failed"
    (attempts used up) or "skip" (not pending, not due, or taken by another
    worker). The row stays locked during the attempt, so two workers never send
    the same delivery at once."""
    with transaction.atomic():
        rows = WebhookDelivery.objects.select_related("webhook").filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING
        )
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        delivery = rows.first()
        now = now or timezone.now()
        if delivery is None or (
            delivery.next_attempt_at is not None and delivery.next_attempt_at > now
        ):
            return "skip"
        started = time.perf_counter()
        code, error = _post(delivery.webhook, delivery)
        WebhookAttempt.objects.create(
            delivery=delivery,
            status_code=code,
            error=error[:RESPONSE_KEEP],
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        delivery.attempts += 1
        delivery.last_status_code = code
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
            outcome = "delivered"
        else:
            delivery.last_error = error or f"HTTP {code}"
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = WebhookDelivery.Status.FAILED
                outcome = "failed"
            else:
                wait = backoff_seconds(delivery.attempts)
                delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=wait)
                transaction.on_commit(
                    partial(enqueue, DELIVER_TASK, delivery.pk, countdown=wait),
                    robust=True,
                )
                outcome = "retry"
        delivery.save()
    return outcome


def deliveries_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Enqueue pending deliveries that are due and were left (a crash, a lost
    message); returns how many were enqueued."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=float(settings.WEBHOOK_SWEEP_S))
    ids = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .filter(created_at__lt=stale)
        .exclude(next_attempt_at__gt=now)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    return sum(enqueue(DELIVER_TASK, pk) for pk in ids)

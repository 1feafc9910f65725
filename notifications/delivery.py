"""Sending queued mails: claim, rate-limit per domain, send, log; and the sweeper.

A worker claims its rows with one conditional update (``queued`` -> ``sending``,
stamped with a token of its own) and sends only what it claimed, so two workers
given the same ids never send one mail twice. Each mail is marked sent the moment
the SMTP server accepts it. Rows a killed worker left ``sending`` are handed back
by the sweeper once their lease (``NOTIFICATIONS_CLAIM_LEASE_SECONDS``) has run out; the only mail that can then go twice
is one the server accepted in the instant before the kill, before it was marked.

SMTP errors: a refused recipient (5xx) marks the address refused (``bounced``);
other errors (server down, 4xx, time-outs) are retried with a doubling delay, then
logged as failed. Nothing waits in a worker: a mail over its domain's rate, or to
be retried, goes back to the queue with the time of its next attempt.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import smtplib
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from . import messages as mail_messages
from . import selectors
from .models import Delivery
from .services import deliveries_enqueue

logger = logging.getLogger(__name__)

CLOCK_SLACK = timedelta(seconds=1)
# Queued rows whose next attempt is this far past have lost their task.
SWEEP_AFTER = timedelta(seconds=60)
SWEEP_BATCH = 5000
RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
PERIODS |= {"h": 3600, "hour": 3600}
RATE_INVALID_MSG = (
    "NOTIFICATIONS_DOMAIN_RATE must look like 600/min, 20/s or 5000/h, not {value!r}."
)
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError, socket.timeout)


def parse_rate(value: str) -> tuple[int, int]:
    """ "600/min" -> (600, 60): mails per period of seconds."""
    match = RATE.match(value or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(RATE_INVALID_MSG.format(value=value))
    return int(match.group(1)), PERIODS[match.group(2)]


def rate_take(domain: str, count: int, *, now: float) -> tuple[int, float]:
    """Take up to ``count`` mails of ``domain``'s allowance in the current window,
    shared by every worker through the cache: (how many may go now, seconds until
    the next window for the rest). One increment per domain and batch."""
    limit, period = parse_rate(settings.NOTIFICATIONS_DOMAIN_RATE)
    window = int(now // period)
    key = f"notifications:rate:{domain}:{window}"
    cache.add(key, 0, timeout=period * 2)
    try:
        used = cache.incr(key, count)
    except ValueError:  # expired between add and incr, or the cache is down
        cache.add(key, count, timeout=period * 2)
        used = count
    allowed = max(0, min(count, limit - (used - count)))
    return allowed, (window + 1) * period - now


class Allowance:
    """The batch's share of each domain's rate, taken once per domain."""

    def __init__(self, rows: list[Delivery], now: float):
        self.now = now
        self.wanted: dict[str, int] = {}
        for row in rows:
            self.wanted[row.domain] = self.wanted.get(row.domain, 0) + 1
        self.left: dict[str, int] = {}
        self.wait: dict[str, float] = {}

    def take(self, domain: str) -> float:
        """0 when one more mail to ``domain`` may go now, else seconds to wait."""
        if domain not in self.left:
            self.left[domain], self.wait[domain] = rate_take(
                domain, self.wanted.get(domain, 1), now=self.now
            )
        if self.left[domain] > 0:
            self.left[domain] -= 1
            return 0.0
        return self.wait[domain]


def _retry_delay(attempts: int) -> timedelta:
    base = settings.NOTIFICATIONS_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    skipped: int = 0
    deferred: int = 0
    retry_in: float | None = None


def _claim(ids: list[int], now: datetime) -> tuple[str, list[Delivery]]:
    token = secrets.token_hex(16)
    # A retry's task may run a moment before the row's time: allow for it.
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLOCK_SLACK)
    Delivery.objects.filter(due, pk__in=ids, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.SENDING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    rows = list(
        Delivery.objects.filter(claim_token=token, status=Delivery.Status.SENDING)
        .select_related("user", "cycle__organization")
        .order_by("id")
    )
    return token, rows


def _finish(row: Delivery, **fields) -> None:
    """Write the outcome of a claimed row (only while it is still ours).

    The commit does not wait for the WAL flush: a killed worker loses nothing (the
    server has the commit), and only a crash of PostgreSQL itself could lose the
    last few marks, whose mails would then go once more. Waiting for the disk on
    every mail would cost more than sending it (see ``_durability_relaxed``)."""
    Delivery.objects.filter(
        pk=row.pk, claim_token=row.claim_token, status=Delivery.Status.SENDING
    ).update(**fields)


@contextlib.contextmanager
def _durability_relaxed():
    """Commits of this session skip the WAL flush while the batch sends."""
    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
    if relaxed:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if relaxed:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _defer(row: Delivery, when: datetime, *, attempt_used: bool, error: str = ""):
    fields = {"status": Delivery.Status.QUEUED, "next_attempt_at": when}
    if not attempt_used:
        fields["attempts"] = F("attempts") - 1
    if error:
        fields["last_error"] = error[:2000]
    _finish(row, **fields)


def deliveries_send(*, ids: list[int], now: datetime | None = None) -> BatchResult:
    """Send the queued mails among ``ids`` (one SMTP connection for the batch)."""
    now = now or timezone.now()
    result = BatchResult()
    _token, rows = _claim(ids, now)
    if not rows:
        return result
    off = _switched_off(rows)
    context = mail_messages.BatchContext.load(rows)
    smtp = None
    clock = now.timestamp()
    retry: list[int] = []
    with _durability_relaxed():
        try:
            smtp = _send_rows(rows, off, context, clock, now, result, retry)
        finally:
            _reset(smtp)
    if retry:
        delay = max(result.retry_in or 0, 0.5)
        deliveries_enqueue(retry, countdown=delay)
    return result


def _send_rows(rows, off, context, clock, now, result, retry):
    """Send each claimed row over one SMTP connection (reopened after an error);
    returns the connection left open. A server that cannot be reached fails the
    rest of the batch at once (each retried later) instead of waiting out a
    time-out per mail."""
    smtp = None
    down = ""
    allowance = Allowance(rows, clock)
    try:
        for row in rows:
            if (row.user_id, row.category) in off:
                _finish(
                    row,
                    status=Delivery.Status.SKIPPED,
                    last_error=f"Unsubscribed from {row.get_category_display().lower()}.",
                )
                result.skipped += 1
                continue
            if down:
                _transient(row, down, result, now, retry)
                continue
            try:
                message = mail_messages.build(row, context)
            except Exception as error:  # noqa: BLE001 - one broken mail must not stop the batch
                logger.exception("Mail %s could not be rendered", row.pk)
                _finish(
                    row,
                    status=Delivery.Status.FAILED,
                    last_error=f"Could not be written: {error}"[:2000],
                )
                result.failed += 1
                continue
            if message is None:
                _finish(
                    row,
                    status=Delivery.Status.SKIPPED,
                    last_error=context.skip_reason(row),
                )
                result.skipped += 1
                continue
            wait = allowance.take(row.domain)
            if wait:
                _defer(row, now + timedelta(seconds=wait), attempt_used=False)
                result.deferred += 1
                retry.append(row.pk)
                result.retry_in = min(result.retry_in or wait, wait)
                continue
            if smtp is None:
                try:
                    smtp = get_connection(fail_silently=False)
                    smtp.open()
                except TRANSIENT_ERRORS as error:
                    smtp = _reset(smtp)
                    down = f"{type(error).__name__}: {error}"
                    _transient(row, down, result, now, retry)
                    continue
            try:
                message.connection = smtp
                smtp.send_messages([message])
            except smtplib.SMTPRecipientsRefused as error:
                code, reason = next(iter(error.recipients.values()), (550, b""))
                _refused(row, code, reason, result, now, retry)
                smtp = _reset(smtp)
            except smtplib.SMTPResponseException as error:
                _refused(row, error.smtp_code, error.smtp_error, result, now, retry)
                smtp = _reset(smtp)
            except TRANSIENT_ERRORS as error:
                _transient(row, f"{type(error).__name__}: {error}", result, now, retry)
                smtp = _reset(smtp)
            else:
                _finish(
                    row,
                    status=Delivery.Status.SENT,
                    sent_at=timezone.now(),
                    subject=message.subject[:255],
                    last_error="",
                )
                result.sent += 1
    except BaseException:
        _reset(smtp)
        raise
    return smtp


def _refused(row, code, reason, result, now, retry) -> None:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    message = f"{code} {text}".strip()
    if isinstance(code, int) and 400 <= code < 500:
        _transient(row, message, result, now, retry)
        return
    _finish(row, status=Delivery.Status.BOUNCED, last_error=message[:2000])
    result.bounced += 1


def _transient(row, error: str, result, now, retry) -> None:
    if row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        _finish(
            row,
            status=Delivery.Status.FAILED,
            last_error=f"Gave up after {row.attempts} attempts: {error}"[:2000],
        )
        result.failed += 1
        return
    delay = _retry_delay(row.attempts)
    _defer(row, now + delay, attempt_used=True, error=error)
    retry.append(row.pk)
    wait = delay.total_seconds()
    result.retry_in = min(result.retry_in or wait, wait)
    result.deferred += 1


def _reset(connection):
    if connection is not None:
        with contextlib.suppress(*TRANSIENT_ERRORS):  # already gone
            connection.close()
    return None


def _switched_off(rows: list[Delivery]) -> set[tuple[int, str]]:
    """(user, category) pairs switched off since the rows were queued."""
    off: set[tuple[int, str]] = set()
    for category in {r.category for r in rows}:
        users = {r.user_id for r in rows if r.category == category}
        off |= {
            (u, category)
            for u in selectors.email_off(user_ids=users, category=category)
        }
    return off


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Hand back rows a killed worker left claimed, and enqueue queued rows whose
    task was lost; returns how many rows were enqueued."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS)
    stale = list(
        Delivery.objects.filter(
            status=Delivery.Status.SENDING, claimed_at__lt=now - lease
        ).values_list("id", flat=True)[:SWEEP_BATCH]
    )
    if stale:
        Delivery.objects.filter(
            pk__in=stale, status=Delivery.Status.SENDING, claimed_at__lt=now - lease
        ).update(status=Delivery.Status.QUEUED, next_attempt_at=None, claim_token="")
    cutoff = now - SWEEP_AFTER
    lost = Q(next_attempt_at__lt=cutoff) | Q(
        next_attempt_at__isnull=True, queued_at__lt=cutoff
    )
    ids = list(
        Delivery.objects.filter(lost, status=Delivery.Status.QUEUED)
        .exclude(pk__in=stale)
        .order_by("id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    ids = sorted(set(ids) | set(stale))
    deliveries_enqueue(ids)
    return len(ids)

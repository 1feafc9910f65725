"""Schedules of cycles, mails to send (and the log of what was sent), in-app
notifications and each person's choices.

A ``Delivery`` is one mail to one person, created once under a unique ``key``
(``invitation:<cycle>:<user>``, ``reminder:<cycle>:<step>:<user>``, ...): queuing the
same thing twice writes nothing, and a worker sends a row only after claiming it
with a conditional update, so beat firing twice or a worker dying mid-batch never
sends a mail twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from assessment.models import Cycle

from . import schedule


class Category(models.TextChoices):
    """What a mail or notice is about; preferences are kept per category."""

    INVITATION = "invitation", "Invitations to a cycle"
    REMINDER = "reminder", "Reminders before and after the due date"
    DIGEST = "digest", "Digests of a cycle's progress (leads)"
    REOPEN = "reopen", "A submission reopened"
    SUBMISSION = "submission", "A submission of your team"
    CONSENSUS = "consensus", "Consensus of your team's answers"
    INITIATIVE = "initiative", "Improvement initiatives"
    CYCLE = "cycle", "A cycle closed"


# Mails a person needs to take part: they honour the person's own choice, but a
# lead's schedule cannot switch them off.
TRANSACTIONAL = frozenset({Category.INVITATION, Category.REOPEN})


class CycleSchedule(models.Model):
    """How a cycle runs itself: opening on its date, reminders, digests, closing.

    The dates are the cycle's (``opens_on``, ``closes_on`` = due date), read in the
    organisation's time zone; the steps follow ``notifications.schedule``."""

    class Digest(models.TextChoices):
        OFF = "off", "No digest"
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every Monday"

    cycle = models.OneToOneField(
        Cycle, on_delete=models.CASCADE, related_name="notification_schedule"
    )
    auto_open = models.BooleanField(
        "open by itself on the opening date",
        default=False,
    )
    days_before = models.JSONField(
        default=list, blank=True, help_text="Days before the due date, e.g. [7, 1]."
    )
    overdue_every = models.PositiveSmallIntegerField(
        "remind overdue teams every (days)", default=7
    )
    auto_close = models.BooleanField(
        "close by itself after the due date", default=False
    )
    grace_days = models.PositiveSmallIntegerField("grace period (days)", default=0)
    send_hour = models.PositiveSmallIntegerField(
        "send reminders and digests from (hour)", default=9
    )
    digest = models.CharField(
        max_length=8, choices=Digest.choices, default=Digest.WEEKLY
    )
    # The last reminder step queued (the tick skips a step it has queued already)
    # and the last local date a digest went out.
    last_step_key = models.CharField(max_length=40, blank=True, editable=False)
    last_digest_on = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(send_hour__lte=23), name="schedule_send_hour_range"
            )
        ]

    def __str__(self) -> str:
        return f"Schedule of {self.cycle}"

    @property
    def plan(self) -> schedule.Plan:
        return schedule.Plan(
            days_before=tuple(int(d) for d in self.days_before or ()),
            overdue_every=self.overdue_every,
            auto_close=self.auto_close,
            grace_days=self.grace_days,
        )


DEFAULT_DAYS_BEFORE = [7, 1]


class Delivery(models.Model):
    """One mail to one person: queued, then sent, failed or bounced; the lead's
    delivery log. Rendered when sent, from ``kind`` and ``context``."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Address refused"
        SKIPPED = "skipped", "Not sent"
        NO_ADDRESS = "no_address", "No email address"

    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=24)
    category = models.CharField(max_length=16, choices=Category.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    organization_id = models.BigIntegerField(db_index=True)
    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    step = models.CharField(max_length=40, blank=True)
    context = models.JSONField(default=dict, blank=True)
    to_address = models.CharField(max_length=254, blank=True)
    domain = models.CharField(max_length=254, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    subject = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set by the worker that claimed the row: it sends only the rows it claimed.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["organization_id", "-queued_at"]),
            models.Index(fields=["cycle", "kind", "status"]),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="delivery_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address or self.user_id} ({self.status})"


class Notification(models.Model):
    """A notice in a person's in-app list; ``key`` makes each notice once per person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=160)
    organization_id = models.BigIntegerField(null=True, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="notification_once_per_user"
            )
        ]
        indexes = [
            models.Index(
                fields=["user"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["user", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.user_id})"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class Preference(models.Model):
    """A person's choice for one category: no row means mails are sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "category"], name="preference_once_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.category} {'on' if self.email else 'off'}"

"""Improvement plans (action items), initiatives across teams, and outbound
webhooks with their delivery log.

Action items are keyed by capability key, as targets are, so a plan outlives the
framework version it was written against. Every change of an item is kept in
``ActionItemChange`` (who, when, field: old -> new) besides the audit trail.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from assessment.models import Assessment, Organization, Team
from capabilities.models import Recommendation


class ActionItem(models.Model):
    """One piece of work in a team's improvement plan, closing (part of) a gap."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    class Source(models.TextChoices):
        NEXT_STEP = "next_step", "A recommended next step"
        GAP = "gap", "A gap to target"
        MANUAL = "manual", "Written by hand"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="action_items"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="action_items"
    )
    capability_key = models.SlugField(max_length=60)
    capability_name = models.CharField(max_length=200, blank=True)
    lens_key = models.SlugField(max_length=40, blank=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    due_on = models.DateField("due date", null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    drop_reason = models.TextField(blank=True)
    expected_effect = models.CharField(max_length=200, blank=True)
    links = models.JSONField(default=list, blank=True)
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    recommendation = models.ForeignKey(
        Recommendation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["team", "capability_key", "due_on", "id"]
        indexes = [
            models.Index(fields=["team", "capability_key"]),
            models.Index(fields=["organization", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="dropped") | ~Q(drop_reason=""),
                name="action_dropped_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PLANNED, self.Status.IN_PROGRESS)


class ActionItemChange(models.Model):
    """One change of an action item: who, when, and each changed field's old and
    new value (``{"status": ["planned", "done"]}``)."""

    item = models.ForeignKey(
        ActionItem, on_delete=models.CASCADE, related_name="changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField()
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "version"], name="action_change_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.version}"


class Initiative(models.Model):
    """A lead's goal for a group of teams: every team in scope at ``target_percent``
    or better in one capability by ``due_on``. Scope: business units (every team
    under them) and single teams."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="initiatives"
    )
    name = models.CharField(max_length=200)
    capability_key = models.SlugField(max_length=60)
    capability_name = models.CharField(max_length=200, blank=True)
    target_percent = models.DecimalField(max_digits=5, decimal_places=2)
    due_on = models.DateField("due date")
    scope = models.ManyToManyField(Team, related_name="initiatives", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reached_at = models.DateTimeField(null=True, blank=True)
    # The day the "due date nears" event was published (once per initiative).
    due_soon_published_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "due_on", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="initiative_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(target_percent__gt=0) & Q(target_percent__lte=100),
                name="initiative_target_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Webhook(models.Model):
    """An organisation's receiver of signed event notifications.

    The secret signs each delivery (HMAC-SHA256 over ``timestamp.body``); it is
    shown once when the webhook is created and never again."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=128, editable=False)
    topics = models.JSONField(default=list, help_text="Empty for every topic.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, topic: str) -> bool:
        return self.active and (not self.topics or topic in self.topics)


class WebhookDelivery(models.Model):
    """One event to deliver to one webhook; ``key`` is the idempotency key the
    receiver sees on every attempt of it (``Webhook-Id`` header)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries"
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_id = models.BigIntegerField(null=True, blank=True)
    topic = models.CharField(max_length=80)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    replay_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event_id"],
                condition=Q(replay_of__isnull=True, event_id__isnull=False),
                name="webhook_delivery_once_per_event",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} -> {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: the response code (or the error)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"

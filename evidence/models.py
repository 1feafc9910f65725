"""Evidence from FOCUS cost data: sources, ingestions, team mappings and measures.

An organisation's evidence is one ``EvidencePeriod`` per billing period, each with
small ``MeasureValue`` rows (organisation, business unit, team x measure). An
ingestion replaces the periods it holds in one transaction; until it commits, the
previous evidence stays as it was.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from assessment.models import Assessment, Organization, Team
from capabilities.measures import MEASURE_KEYS
from capabilities.models import Question

MEASURE_CHOICES = [(key, name) for key, (name, _unit) in MEASURE_KEYS.items()]


class EvidenceSettings(models.Model):
    """An organisation's rules for its evidence: required tag keys, maximum age."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="evidence_settings"
    )
    required_tag_keys = models.JSONField(
        default=list,
        blank=True,
        help_text="Tag keys every taggable resource must carry, e.g. CostCenter.",
    )
    max_age_days = models.PositiveSmallIntegerField(
        "evidence is stale after (days)",
        default=90,
        help_text="Evidence whose billing period ended longer ago stops suggesting scores.",
    )
    # Bumped when an input of the measures changes (mapping, tags, invoice totals);
    # the measures are current when computed_generation caught up with it.
    generation = models.PositiveIntegerField(default=0, editable=False)
    computed_generation = models.PositiveIntegerField(default=0, editable=False)
    computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "evidence settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_age_days__gte=1), name="evidence_max_age_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Evidence settings of {self.organization}"

    @property
    def is_stale(self) -> bool:
        return self.computed_generation < self.generation


class Upload(models.Model):
    """A file a lead sends in chunks; stored under ``EVIDENCE_ROOT`` by its id.

    ``name`` is what the browser called it, kept for display only: it never becomes
    part of a path.
    """

    class Status(models.TextChoices):
        RECEIVING = "receiving", "Receiving"
        COMPLETE = "complete", "Complete"
        ABORTED = "aborted", "Aborted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence_uploads"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RECEIVING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(received__gte=0) & Q(received__lte=models.F("size")),
                name="upload_received_within_size",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_complete(self) -> bool:
        return self.status == self.Status.COMPLETE

    @property
    def percent(self) -> int:
        return int(self.received * 100 // self.size) if self.size else 100


class FolderSource(models.Model):
    """A server folder that receives a provider's scheduled FOCUS exports.

    ``path`` is inside one of ``EVIDENCE_IMPORT_ROOTS``; the folder is scanned every
    15 minutes (and on demand) and ingested again when its files change.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence_folders"
    )
    name = models.CharField(max_length=120)
    path = models.CharField(max_length=500)
    enabled = models.BooleanField(default=True)
    signature = models.CharField(max_length=64, blank=True, editable=False)
    last_scanned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "path"], name="folder_source_path_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Ingestion(models.Model):
    """One run that reads FOCUS files and replaces the billing periods they hold.

    A worker claims it (``claim``), reports progress as it goes (``heartbeat_at``);
    the sweeper hands an ingestion whose worker went silent to another worker.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Stage(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        CHECKING = "checking", "Checking the files"
        READING = "reading", "Reading rows"
        COMPUTING = "computing", "Computing measures"
        SAVING = "saving", "Saving the evidence"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence_ingestions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploads = models.ManyToManyField(Upload, blank=True, related_name="ingestions")
    folder = models.ForeignKey(
        FolderSource,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ingestions",
    )
    # [{"name": shown name, "size": bytes}] of the files read
    files = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.QUEUED)
    rows_read = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    rows_per_second = models.FloatField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    focus_version = models.CharField(max_length=8, blank=True)
    providers = models.JSONField(default=list, blank=True)
    periods = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Ingestion {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        """Rows read against the estimate, 0-100 (None while nothing is known)."""
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.rows_total:
            return None
        return min(99, int(self.rows_read * 100 // self.rows_total))


class EvidencePeriod(models.Model):
    """The organisation's evidence for one billing period, from one ingestion."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence_periods"
    )
    ingestion = models.ForeignKey(
        Ingestion, on_delete=models.PROTECT, related_name="evidence_periods"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    focus_version = models.CharField(max_length=8)
    providers = models.JSONField(default=list)
    currencies = models.JSONField(default=list)
    rows = models.BigIntegerField(default=0)
    # Optional FOCUS columns its files lacked: measures that need one are not
    # computable for this period (a column of nulls is present, not missing).
    missing_columns = models.JSONField(default=list, blank=True)
    effective_cost = models.DecimalField(max_digits=28, decimal_places=6)
    billed_cost = models.DecimalField(max_digits=28, decimal_places=6)
    # The period's compact summary (Parquet), relative to EVIDENCE_ROOT.
    cube = models.CharField(max_length=300)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["organization", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_start"],
                name="evidence_period_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.period_start:%B %Y}"


class MeasureValue(models.Model):
    """One measure of one billing period for the organisation (``team`` null), a
    business unit or a team. ``value`` null: not computable, ``note`` says why."""

    period = models.ForeignKey(
        EvidencePeriod, on_delete=models.CASCADE, related_name="measures"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    measure = models.CharField(max_length=40, choices=MEASURE_CHOICES)
    value = models.FloatField(null=True, blank=True)
    numerator = models.DecimalField(
        max_digits=28, decimal_places=6, null=True, blank=True
    )
    denominator = models.DecimalField(
        max_digits=28, decimal_places=6, null=True, blank=True
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["period", "team", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "team", "measure"], name="measure_value_unique"
            ),
            models.UniqueConstraint(
                fields=["period", "measure"],
                condition=Q(team__isnull=True),
                name="measure_value_org_unique",
            ),
        ]
        indexes = [models.Index(fields=["team", "measure"])]

    def __str__(self) -> str:
        return f"{self.period} {self.team or 'organisation'} {self.measure}"


class InvoiceSum(models.Model):
    """``BilledCost`` summed per ``InvoiceId`` in one period's data."""

    period = models.ForeignKey(
        EvidencePeriod, on_delete=models.CASCADE, related_name="invoices"
    )
    invoice_id = models.CharField(max_length=200)
    billing_account_id = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    billed_cost = models.DecimalField(max_digits=28, decimal_places=6)
    corrections = models.DecimalField(max_digits=28, decimal_places=6, default=0)

    class Meta:
        ordering = ["period", "invoice_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "invoice_id", "currency"], name="invoice_sum_unique"
            )
        ]

    def __str__(self) -> str:
        return self.invoice_id


class InvoiceTotal(models.Model):
    """An invoice's total as the provider billed it, entered or uploaded by a lead."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invoice_totals"
    )
    invoice_id = models.CharField(max_length=200)
    total = models.DecimalField(max_digits=20, decimal_places=4)
    currency = models.CharField(max_length=8, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "invoice_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "invoice_id"], name="invoice_total_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.total}"


class TeamMapping(models.Model):
    """A rule that attributes cost to a team (or business unit) of the portal.

    ``sub_account``: rows whose ``SubAccountId`` is ``value``; ``tag``: rows whose tag
    ``key`` is ``value``; ``column``: rows whose custom column ``key`` (``x_...``)
    is ``value``. A row matched by several rules goes to the lowest ``position``.
    """

    class Kind(models.TextChoices):
        SUB_ACCOUNT = "sub_account", "Sub-account (SubAccountId)"
        TAG = "tag", "Tag"
        COLUMN = "column", "Custom column (x_)"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence_mappings"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=128, blank=True)
    value = models.CharField(max_length=256)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "key", "value"],
                name="team_mapping_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.describe()} -> {self.team_id}"

    def describe(self) -> str:
        if self.kind == self.Kind.SUB_ACCOUNT:
            return f"SubAccountId = {self.value}"
        if self.kind == self.Kind.TAG:
            return f"tag {self.key} = {self.value}"
        return f"{self.key} = {self.value}"


class SuggestionDecision(models.Model):
    """What a respondent did with a measured suggestion: accepted it, or answered
    otherwise and said why. One per (assessment, question); the latest decision."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        OVERRIDDEN = "overridden", "Answered otherwise"

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="+"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=40, choices=MEASURE_CHOICES)
    period_start = models.DateField()
    value = models.FloatField()
    suggested_score = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    answer_score = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assessment", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question"], name="suggestion_decision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.question_id}: {self.decision}"

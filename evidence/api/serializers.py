"""Shapes of the evidence API: inputs validate form, outputs describe state.
Every field says what it holds (the schema's docs show it)."""

from django.urls import reverse
from rest_framework import serializers

from finops_portal.api import StrictInputSerializer

from ..models import (
    EvidencePeriod,
    FolderSource,
    Ingestion,
    InvoiceTotal,
    MeasureValue,
    TeamMapping,
    Upload,
)

ORGANIZATION_HELP = "Slug of the organisation."
AMOUNT = {"max_digits": 28, "decimal_places": 6}


def described(**texts) -> dict:
    """``extra_kwargs`` giving each model field its help text."""
    return {name: {"help_text": text} for name, text in texts.items()}


class UploadInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text=ORGANIZATION_HELP)
    name = serializers.CharField(
        max_length=1000, help_text="The file's name (shown only, never a path)."
    )
    size = serializers.IntegerField(min_value=0, help_text="The file's size in bytes.")


class UploadSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text=ORGANIZATION_HELP
    )

    class Meta:
        model = Upload
        fields = [
            "id",
            "organization",
            "name",
            "size",
            "received",
            "status",
            "created_at",
        ]
        extra_kwargs = described(
            id="Id of the upload.",
            name="The file's name as uploaded (display only).",
            size="The file's size in bytes.",
            received="Bytes the server has: send the next chunk from here.",
            status="receiving, complete or aborted.",
            created_at="When the upload started.",
        )


class IngestionInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text=ORGANIZATION_HELP)
    uploads = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        help_text="Ids of complete uploads.",
    )


class IngestionSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text=ORGANIZATION_HELP
    )
    stage_display = serializers.CharField(
        source="get_stage_display", read_only=True, help_text="The stage in words."
    )
    percent = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Rows read against the estimate, 0-100 (null while unknown).",
    )
    url = serializers.SerializerMethodField(help_text="This ingestion in the API.")

    class Meta:
        model = Ingestion
        fields = [
            "id",
            "url",
            "organization",
            "status",
            "stage",
            "stage_display",
            "files",
            "rows_read",
            "rows_total",
            "rows_per_second",
            "percent",
            "errors",
            "focus_version",
            "providers",
            "periods",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        extra_kwargs = described(
            id="Id of the ingestion.",
            status="queued, running, succeeded or failed.",
            stage="queued, checking, reading, computing, saving, done or failed.",
            files="The files read: name, size in bytes, format.",
            rows_read="Rows read so far (estimated while reading, exact when done).",
            rows_total="Rows in the files: estimated while reading.",
            rows_per_second="Reading speed.",
            errors="Why the files were refused; nothing changed then.",
            focus_version="FOCUS version of the files.",
            providers="Providers found in the files.",
            periods="Billing periods (start dates) the files replaced.",
            attempts="Workers that took it on (more than one after a crash).",
            created_at="When it was queued.",
            started_at="When a worker started its last attempt.",
            finished_at="When it succeeded or failed.",
        )

    def get_url(self, obj) -> str:
        return reverse("v1:evidence-ingestion-detail", args=[obj.pk])


KIND_HELP = "sub_account (SubAccountId), tag (a tag key) or column (an x_ column)."


class MappingInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text=ORGANIZATION_HELP)
    team = serializers.IntegerField(help_text="Id of the team or business unit.")
    kind = serializers.ChoiceField(
        choices=TeamMapping.Kind.choices, help_text=KIND_HELP
    )
    key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Tag key or x_ column.",
    )
    value = serializers.CharField(max_length=1000, help_text="The value to match.")


class MappingPreviewInputSerializer(MappingInputSerializer):
    team = serializers.IntegerField(
        required=False, help_text="Id of the team of a rule to try (optional)."
    )
    kind = serializers.ChoiceField(
        choices=TeamMapping.Kind.choices, required=False, help_text=KIND_HELP
    )
    value = serializers.CharField(
        required=False, max_length=1000, help_text="The value the rule to try matches."
    )


class MappingSerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(
        source="team.name", read_only=True, help_text="Name of the team."
    )
    rule = serializers.CharField(
        source="describe", read_only=True, help_text="The rule in words."
    )

    class Meta:
        model = TeamMapping
        fields = ["id", "team", "team_name", "kind", "key", "value", "position", "rule"]
        extra_kwargs = described(
            id="Id of the rule.",
            team="Id of the team or business unit the cost goes to.",
            kind=KIND_HELP,
            key="Tag key or x_ column (empty for a sub-account).",
            value="The value matched.",
            position="Order: a row matched by several rules goes to the first.",
        )


class PreviewRuleSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="Position of the rule.")
    caught = serializers.DecimalField(
        **AMOUNT, help_text="EffectiveCost the rule matches on its own."
    )
    attributed = serializers.DecimalField(
        **AMOUNT, help_text="EffectiveCost it gets after earlier rules took theirs."
    )


class PreviewSerializer(serializers.Serializer):
    period_start = serializers.DateField(help_text="The billing period previewed.")
    total = serializers.DecimalField(
        **AMOUNT, help_text="All EffectiveCost of the period."
    )
    unmapped = serializers.DecimalField(
        **AMOUNT, help_text="EffectiveCost no rule attributes to a team."
    )
    rules = PreviewRuleSerializer(many=True, help_text="Each saved rule.")
    candidate = PreviewRuleSerializer(
        allow_null=True, help_text="The rule tried (last), or null."
    )


class PeriodSerializer(serializers.ModelSerializer):
    age_days = serializers.IntegerField(help_text="Days since the period ended.")
    stale = serializers.BooleanField(help_text="Older than the organisation's limit.")

    class Meta:
        model = EvidencePeriod
        fields = [
            "period_start",
            "period_end",
            "focus_version",
            "providers",
            "currencies",
            "rows",
            "effective_cost",
            "billed_cost",
            "computed_at",
            "age_days",
            "stale",
        ]
        extra_kwargs = described(
            period_start="First day of the billing period.",
            period_end="End of the billing period (exclusive).",
            focus_version="FOCUS version of the files it came from.",
            providers="Providers in one schema.",
            currencies="Billing currencies.",
            rows="FOCUS rows read.",
            effective_cost="Sum of EffectiveCost.",
            billed_cost="Sum of BilledCost.",
            computed_at="When the period was read.",
        )


class MeasureValueSerializer(serializers.ModelSerializer):
    period_start = serializers.DateField(
        source="period.period_start", help_text="The billing period."
    )
    team_name = serializers.CharField(
        source="team.name",
        allow_null=True,
        default=None,
        help_text="Name of the team or business unit; null for the organisation.",
    )

    class Meta:
        model = MeasureValue
        fields = [
            "period_start",
            "team",
            "team_name",
            "measure",
            "value",
            "numerator",
            "denominator",
            "note",
        ]
        extra_kwargs = described(
            team="Id of the team or business unit; null for the organisation.",
            measure="The measure's key.",
            value="Percent 0-100 (a count for providers and periods); null when not computable.",
            numerator="The sum on top of the ratio.",
            denominator="The sum below it.",
            note="Why there is no value, if so.",
        )


class SettingsSerializer(serializers.Serializer):
    required_tag_keys = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Tag keys every taggable resource must carry.",
    )
    max_age_days = serializers.IntegerField(
        required=False,
        help_text="Evidence older than this (after its period) is stale.",
    )
    updating = serializers.BooleanField(
        read_only=True,
        source="is_stale",
        help_text="The measures are being recomputed.",
    )
    computed_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the measures were last computed.",
    )


class InvoiceTotalInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text=ORGANIZATION_HELP)
    invoice_id = serializers.CharField(
        max_length=1000, help_text="InvoiceId as in FOCUS."
    )
    total = serializers.CharField(
        max_length=40, help_text="The invoice's total, e.g. 1234.56."
    )
    currency = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Currency (optional).",
    )


class InvoiceTotalSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceTotal
        fields = ["id", "invoice_id", "total", "currency", "updated_at"]
        extra_kwargs = described(
            id="Id of the entry.",
            invoice_id="InvoiceId as in FOCUS.",
            total="The invoice's total.",
            currency="Its currency.",
            updated_at="When it was entered.",
        )


class FolderInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text=ORGANIZATION_HELP)
    name = serializers.CharField(
        max_length=120, required=False, allow_blank=True, help_text="A name to show."
    )
    path = serializers.CharField(
        max_length=500, help_text="A folder inside the configured import roots."
    )


class FolderSerializer(serializers.ModelSerializer):
    class Meta:
        model = FolderSource
        fields = ["id", "name", "path", "enabled", "last_scanned_at", "created_at"]
        extra_kwargs = described(
            id="Id of the folder source.",
            name="Its name.",
            path="The folder on the server.",
            enabled="Scanned every 15 minutes when true.",
            last_scanned_at="When its files were last checked.",
            created_at="When it was added.",
        )


class SuggestionSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id", help_text="Question id.")
    measure = serializers.CharField(help_text="The measure's key.")
    name = serializers.CharField(help_text="The measure's name.")
    value = serializers.FloatField(help_text="The team's (or organisation's) figure.")
    unit = serializers.CharField(help_text="percent or count.")
    score = serializers.IntegerField(help_text="The score (0-4) the figure suggests.")
    period_start = serializers.DateField(help_text="The billing period measured.")
    period_end = serializers.DateField(help_text="Its end.")
    age_days = serializers.IntegerField(help_text="Days since the period ended.")
    scope = serializers.CharField(help_text="team or organisation.")
    source = serializers.CharField(help_text="Where the figure comes from.")
    formula = serializers.CharField(help_text="How it is computed.")
    decision = serializers.CharField(
        allow_null=True, help_text="accepted, overridden, or null (none yet)."
    )
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the team answered otherwise."
    )


class DecisionInputSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(
        choices=["accepted", "overridden"],
        help_text="accepted (the saved answer is the suggested score) or overridden.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="Why the team answers otherwise (required then).",
    )

"""Shapes of the evidence API: inputs validate form, outputs describe state."""

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


class UploadInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text="Slug of the organisation.")
    name = serializers.CharField(
        max_length=1000, help_text="The file's name (shown only)."
    )
    size = serializers.IntegerField(min_value=0, help_text="The file's size in bytes.")


class UploadSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)

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
        extra_kwargs = {
            "received": {
                "help_text": "Bytes the server has: send the next chunk from here."
            },
        }


class IngestionInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text="Slug of the organisation.")
    uploads = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        help_text="Ids of complete uploads.",
    )


class IngestionSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()

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
        extra_kwargs = {
            "rows_total": {"help_text": "Rows in the files: estimated while reading."},
            "errors": {
                "help_text": "Why the files were refused; nothing changed then."
            },
        }

    def get_url(self, obj) -> str:
        return reverse("v1:evidence-ingestion-detail", args=[obj.pk])


class MappingInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text="Slug of the organisation.")
    team = serializers.IntegerField(help_text="Id of the team or business unit.")
    kind = serializers.ChoiceField(choices=TeamMapping.Kind.choices)
    key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Tag key or x_ column.",
    )
    value = serializers.CharField(max_length=1000, help_text="The value to match.")


class MappingPreviewInputSerializer(MappingInputSerializer):
    team = serializers.IntegerField(
        required=False, help_text="Id of the team (optional)."
    )
    kind = serializers.ChoiceField(choices=TeamMapping.Kind.choices, required=False)
    value = serializers.CharField(required=False, max_length=1000)


class MappingSerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(source="team.name", read_only=True)
    rule = serializers.CharField(source="describe", read_only=True)

    class Meta:
        model = TeamMapping
        fields = ["id", "team", "team_name", "kind", "key", "value", "position", "rule"]


class PreviewRuleSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    caught = serializers.DecimalField(max_digits=28, decimal_places=6)
    attributed = serializers.DecimalField(max_digits=28, decimal_places=6)


class PreviewSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    total = serializers.DecimalField(max_digits=28, decimal_places=6)
    unmapped = serializers.DecimalField(max_digits=28, decimal_places=6)
    rules = PreviewRuleSerializer(many=True)
    candidate = PreviewRuleSerializer(allow_null=True)


class PeriodSerializer(serializers.ModelSerializer):
    age_days = serializers.IntegerField()
    stale = serializers.BooleanField()

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


class MeasureValueSerializer(serializers.ModelSerializer):
    period_start = serializers.DateField(source="period.period_start")
    team_name = serializers.CharField(source="team.name", allow_null=True, default=None)

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


class SettingsSerializer(serializers.Serializer):
    required_tag_keys = serializers.ListField(
        child=serializers.CharField(), required=False
    )
    max_age_days = serializers.IntegerField(required=False)
    updating = serializers.BooleanField(read_only=True, source="is_stale")
    computed_at = serializers.DateTimeField(read_only=True, allow_null=True)


class InvoiceTotalInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField()
    invoice_id = serializers.CharField(max_length=1000)
    total = serializers.CharField(max_length=40)
    currency = serializers.CharField(max_length=40, required=False, allow_blank=True)


class InvoiceTotalSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceTotal
        fields = ["id", "invoice_id", "total", "currency", "updated_at"]


class FolderInputSerializer(StrictInputSerializer):
    organization = serializers.SlugField()
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    path = serializers.CharField(max_length=500)


class FolderSerializer(serializers.ModelSerializer):
    class Meta:
        model = FolderSource
        fields = ["id", "name", "path", "enabled", "last_scanned_at", "created_at"]


class SuggestionSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    measure = serializers.CharField()
    name = serializers.CharField()
    value = serializers.FloatField()
    unit = serializers.CharField()
    score = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    age_days = serializers.IntegerField()
    scope = serializers.CharField()
    source = serializers.CharField()
    formula = serializers.CharField()
    decision = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class DecisionInputSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=["accepted", "overridden"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000)

"""Output shapes of the framework content; the API never writes content directly."""

from rest_framework import serializers

from capabilities.models import (
    AnswerOption,
    Capability,
    Domain,
    Framework,
    Lens,
    MaturityLevel,
    Question,
    Recommendation,
)
from finops_portal.api import StrictInputSerializer


class AnswerOptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnswerOption
        fields = ["id", "score", "label", "description", "order"]
        extra_kwargs = {
            "id": {"help_text": "Send as option_id when answering."},
            "score": {"help_text": "0-4: what choosing this option scores."},
            "label": {"help_text": "Short label of the option."},
            "description": {"help_text": "What this level looks like in practice."},
            "order": {"help_text": "Display order."},
        }


class MeasureBandSerializer(serializers.Serializer):
    min = serializers.FloatField(help_text="Lowest value of the band.")
    score = serializers.IntegerField(help_text="The score (0-4) the band suggests.")


class MeasureSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Measure key (see the evidence pages).")
    bands = MeasureBandSerializer(many=True, help_text="Bands, ascending by min.")


class QuestionSerializer(serializers.ModelSerializer):
    lens = serializers.SlugRelatedField(
        slug_field="key", read_only=True, help_text="Key of the lens asked about."
    )
    options = AnswerOptionSerializer(
        many=True, read_only=True, help_text="The graded options, by score."
    )
    measure = MeasureSerializer(
        read_only=True,
        allow_null=True,
        help_text="The FOCUS cost-data measure that informs the question, or null.",
    )

    class Meta:
        model = Question
        fields = [
            "id",
            "key",
            "lens",
            "prompt",
            "help_text",
            "weight",
            "allow_na",
            "audience",
            "evidence_prompt",
            "measure",
            "order",
            "options",
        ]
        extra_kwargs = {
            "audience": {
                "help_text": "team (every team answers) or central (answered by the "
                "organisation's central FinOps function, read-only for teams)."
            },
            "evidence_prompt": {"help_text": "What artefact would show this."},
            "id": {"help_text": "Question id."},
            "key": {"help_text": "Stable key, unique within its capability."},
            "prompt": {"help_text": "The question as asked."},
            "help_text": {"help_text": "Guidance shown while answering."},
            "weight": {"help_text": "Weight within its lens (positive)."},
            "allow_na": {"help_text": "Whether 'not applicable' is allowed."},
            "order": {"help_text": "Display order within the capability."},
        }


class RecommendationSerializer(serializers.ModelSerializer):
    lens = serializers.SlugRelatedField(
        slug_field="key",
        read_only=True,
        allow_null=True,
        help_text="Key of the lens this applies to, or null for the capability.",
    )
    level = serializers.SlugRelatedField(
        slug_field="key",
        read_only=True,
        help_text="Key of the maturity level whose band this applies to.",
    )
    links = serializers.JSONField(
        read_only=True, help_text='List of {"title", "url"} objects.'
    )

    class Meta:
        model = Recommendation
        fields = ["id", "lens", "level", "title", "body", "links", "effort", "impact"]
        extra_kwargs = {
            "id": {"help_text": "Recommendation id."},
            "title": {"help_text": "Short title of the next step."},
            "body": {"help_text": "What to do, in plain text."},
            "effort": {"help_text": "Effort: low, medium or high."},
            "impact": {"help_text": "Impact: low, medium or high."},
        }


class CapabilitySerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(
        many=True, read_only=True, help_text="Questions, in questionnaire order."
    )
    recommendations = RecommendationSerializer(
        many=True, read_only=True, help_text="Next steps per maturity level."
    )

    class Meta:
        model = Capability
        fields = [
            "id",
            "key",
            "name",
            "summary",
            "description",
            "docs_url",
            "foundation_url",
            "order",
            "status",
            "questions",
            "recommendations",
        ]
        extra_kwargs = {
            "status": {"help_text": "active, or retired by the edition."},
            "id": {"help_text": "Capability id."},
            "key": {"help_text": "Stable key, unique within the framework."},
            "name": {"help_text": "Name of the capability."},
            "summary": {"help_text": "One-line summary."},
            "description": {"help_text": "Longer description."},
            "docs_url": {"help_text": "Microsoft Learn page of the capability."},
            "foundation_url": {"help_text": "FinOps Foundation page."},
            "order": {"help_text": "Display order."},
        }


class DomainSerializer(serializers.ModelSerializer):
    capabilities = CapabilitySerializer(
        many=True, read_only=True, help_text="Capabilities of the domain, in order."
    )

    class Meta:
        model = Domain
        fields = ["id", "key", "name", "description", "order", "capabilities"]
        extra_kwargs = {
            "id": {"help_text": "Domain id."},
            "key": {"help_text": "Stable key, unique within the framework."},
            "name": {"help_text": "Name of the domain."},
            "description": {"help_text": "Description of the domain."},
            "order": {"help_text": "Display order."},
        }


class LensSerializer(serializers.ModelSerializer):
    levels = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What scores 0, 1, 2, 3 and 4 mean for this lens.",
    )

    class Meta:
        model = Lens
        fields = ["id", "key", "name", "description", "order", "weight", "levels"]
        extra_kwargs = {
            "id": {"help_text": "Lens id."},
            "key": {"help_text": "Stable key (knowledge, process, ...)."},
            "name": {"help_text": "Name of the lens."},
            "description": {"help_text": "Description of the lens."},
            "order": {"help_text": "Display order."},
            "weight": {"help_text": "Default weight of the lens (percent)."},
        }


class MaturityLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = MaturityLevel
        fields = [
            "id",
            "key",
            "name",
            "min_percent",
            "min_lens_score",
            "description",
            "colour",
        ]
        extra_kwargs = {
            "id": {"help_text": "Level id."},
            "key": {"help_text": "Stable key (crawl, walk, run, ...)."},
            "name": {"help_text": "Name of the level."},
            "min_percent": {"help_text": "A score of at least this reaches the level."},
            "min_lens_score": {
                "help_text": "When set, every scored lens must reach it too (0-4)."
            },
            "description": {"help_text": "What the level means."},
            "colour": {"help_text": "Colour used in charts (#rrggbb)."},
        }


FRAMEWORK_FIELDS = [
    "id",
    "slug",
    "version",
    "title",
    "description",
    "source_url",
    "status",
    "published_at",
    "superseded_at",
    "created_at",
    "edition_key",
    "edition_name",
    "derived_from_slug",
    "derived_from_version",
]
FRAMEWORK_HELP = {
    "superseded_at": {
        "help_text": "When a later version was published; null for the current one."
    },
    "edition_key": {"help_text": "Edition of the content; empty for the v1 seed."},
    "edition_name": {"help_text": "Name of the edition."},
    "derived_from_slug": {"help_text": "Slug of the version this one maps onto."},
    "derived_from_version": {"help_text": "Version this one maps onto, or null."},
    "id": {"help_text": "Framework version id."},
    "slug": {"help_text": "Slug shared by every version of the framework."},
    "version": {"help_text": "Version number (1, 2, ...)."},
    "title": {"help_text": "Title of the framework."},
    "description": {"help_text": "Description of the framework."},
    "source_url": {"help_text": "Where the content comes from."},
    "status": {"help_text": "draft, published or retired."},
    "published_at": {"help_text": "When it was published; null for drafts."},
    "created_at": {"help_text": "When this version was created."},
}


class FrameworkListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Framework
        fields = FRAMEWORK_FIELDS
        extra_kwargs = FRAMEWORK_HELP


class FrameworkDetailSerializer(serializers.ModelSerializer):
    lenses = LensSerializer(
        many=True, read_only=True, help_text="The five lenses, in order."
    )
    levels = MaturityLevelSerializer(
        many=True, read_only=True, help_text="Maturity levels, lowest first."
    )
    domains = DomainSerializer(
        many=True, read_only=True, help_text="Domains with their capabilities."
    )

    class Meta:
        model = Framework
        fields = [*FRAMEWORK_FIELDS, "lenses", "levels", "domains"]
        extra_kwargs = FRAMEWORK_HELP


class FrameworkImportSerializer(StrictInputSerializer):
    document = serializers.JSONField(
        required=False, help_text="The content document as a JSON object."
    )
    content = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="The content file as YAML or JSON text (instead of document).",
    )
    replace = serializers.BooleanField(
        required=False, default=False, help_text="Overwrite a draft of that version."
    )
    publish = serializers.BooleanField(
        required=False, default=False, help_text="Publish after importing."
    )
    next_version = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Import as the next free version of the file's slug.",
    )

    def validate(self, attrs):
        if ("document" in attrs) == ("content" in attrs):
            raise serializers.ValidationError(
                {"document": ["Send the file as document or as content (one of them)."]}
            )
        return attrs

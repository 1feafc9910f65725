"""Shapes of the improvement API, and of the webhook payloads (documented in the
schema as the ``body`` of a delivery)."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from finops_portal.api import StrictInputSerializer

from ..models import ActionItem, Initiative, Webhook, WebhookAttempt, WebhookDelivery

ORGANIZATION_HELP = "Slug of the organisation."

# What each field holds, by name, for every serializer below without its own text.
DESCRIPTIONS = {
    "id": "Id of the object.",
    "action_item_id": "Id of the action item.",
    "team": "The team (its id, or its name in a payload).",
    "team_id": "Id of the team.",
    "capability_key": "Key of the capability (stable across framework versions).",
    "capability_name": "Name of the capability.",
    "capability": "Name of the capability.",
    "lens_key": "Key of the lens the item works on (empty: any).",
    "lens": "Key of the lens.",
    "title": "What is to be done.",
    "description": "Details.",
    "due_on": "Due date (ISO 8601).",
    "status": "Current state.",
    "drop_reason": "Why the item was dropped.",
    "expected_effect": "The effect expected, e.g. 'Process 1 -> 3'.",
    "links": "Web addresses (tickets, runbooks).",
    "source": "Where the item came from: a next step, a gap or by hand.",
    "version": "Version, raised by each change.",
    "created_at": "When it was created.",
    "updated_at": "When it last changed.",
    "closed_at": "When it was done or dropped.",
    "item": "The action item as saved.",
    "assessment_id": "Id of the assessment.",
    "cycle_id": "Id of the cycle.",
    "cycle": "Name of the cycle.",
    "kind": "What caused this part of the change.",
    "question_key": "Key of the question (stable across framework versions).",
    "prompt": "The question as asked.",
    "from_score": "Earlier score 0-4 (null: N/A or unanswered).",
    "to_score": "Later score 0-4 (null: N/A or unanswered).",
    "from_label": "Earlier option's label.",
    "to_label": "Later option's label.",
    "detail": "Further detail (e.g. the weights before and after).",
    "name": "Name.",
    "target_percent": "Target score in percent.",
    "scope": "Ids of the business units and teams in scope.",
    "reached_at": "When every team in scope was first at target.",
    "progress": "Teams at target per cycle, oldest first.",
    "at_target": "Teams at target or better.",
    "teams": "Teams in scope that took part.",
    "short": "Teams still short of the target.",
    "before": "Percent in the earlier cycle.",
    "after": "Percent in the later cycle.",
    "target_before": "Target in the earlier cycle.",
    "target_after": "Target in the later cycle.",
    "weights_changed": "Whether the lens weights differ.",
    "summary": "The change in one line.",
    "causes": "The parts of the change, in the order they were walked.",
    "previous_assessment": "Id of the team's previous submitted assessment.",
    "capabilities": "One movement per capability of the later cycle.",
    "computed_at": "When the roll-up was computed.",
    "url": "Where deliveries are POSTed.",
    "active": "Whether deliveries are sent.",
    "topics": "Topics delivered (empty: every topic).",
    "at": "When the attempt was made.",
    "status_code": "HTTP status of the response (null: no response).",
    "error": "Why the attempt failed, when it did.",
    "duration_ms": "How long the attempt took.",
    "key": "Idempotency key (Webhook-Id header), the same on every retry.",
    "topic": "The event's topic.",
    "attempts": "Attempts made.",
    "last_status_code": "HTTP status of the last attempt.",
    "last_error": "Error of the last attempt.",
    "next_attempt_at": "When the next attempt is due.",
    "delivered_at": "When a receiver accepted it.",
    "replay_of": "Id of the delivery this one replays.",
    "body": "The JSON body sent (a WebhookEnvelope).",
    "attempts_log": "Each attempt with its response code.",
    "organization_id": "Id of the organisation.",
    "data": "The event's data; its shape depends on the topic.",
    "owner": "Username of the owner.",
    "initiative_id": "Id of the initiative.",
}


def described(cls):
    """Give every field of ``cls`` without a help text the one of its name."""
    for name, field in getattr(cls, "_declared_fields", {}).items():
        if not getattr(field, "help_text", None) and name in DESCRIPTIONS:
            # fields are deep-copied per serializer from their arguments
            field._kwargs["help_text"] = field.help_text = DESCRIPTIONS[name]
    meta = getattr(cls, "Meta", None)
    if meta is not None and hasattr(meta, "fields"):
        extra = dict(getattr(meta, "extra_kwargs", {}))
        for name in meta.fields:
            if name not in cls._declared_fields and name in DESCRIPTIONS:
                extra.setdefault(name, {"help_text": DESCRIPTIONS[name]})
        meta.extra_kwargs = extra
    return cls


@described
class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Username of the owner."
    )
    team = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="Id of the team."
    )

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "team",
            "capability_key",
            "capability_name",
            "lens_key",
            "title",
            "description",
            "owner",
            "due_on",
            "status",
            "drop_reason",
            "expected_effect",
            "links",
            "source",
            "version",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        read_only_fields = fields


@described
class ActionItemWriteSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    capability_key = serializers.SlugField(required=False)
    lens_key = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(
        required=False, allow_null=True, help_text="Username of a member of the team."
    )
    due_on = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ActionItem.Status.choices, required=False)
    drop_reason = serializers.CharField(required=False, allow_blank=True)
    expected_effect = serializers.CharField(
        required=False, allow_blank=True, max_length=200
    )
    links = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=10
    )
    version = serializers.IntegerField(
        required=False, help_text="The version read; a stale one answers 409."
    )


@described
class ActionItemCreateSerializer(ActionItemWriteSerializer):
    team = serializers.IntegerField(help_text="Id of the team.")
    title = serializers.CharField(max_length=200)
    capability_key = serializers.SlugField()
    source = serializers.ChoiceField(choices=ActionItem.Source.choices, required=False)
    recommendation = serializers.IntegerField(
        required=False, help_text="Id of the next step it comes from."
    )


@described
class ActionItemSavedSerializer(serializers.Serializer):
    item = ActionItemSerializer()
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="E.g. a due date in the past."
    )


@described
class CauseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            "answer",
            "question_removed",
            "question_changed",
            "question_added",
            "weights",
        ]
    )
    delta = serializers.FloatField(help_text="Effect on the percent (points).")
    question_key = serializers.CharField()
    prompt = serializers.CharField()
    lens = serializers.CharField()
    from_score = serializers.IntegerField(allow_null=True)
    to_score = serializers.IntegerField(allow_null=True)
    from_label = serializers.CharField()
    to_label = serializers.CharField()
    by = serializers.CharField(help_text="Username of who gave the later answer.")
    detail = serializers.DictField()


@described
class MovementSerializer(serializers.Serializer):
    capability_key = serializers.CharField()
    capability = serializers.CharField()
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(
        allow_null=True, help_text="after - before; the causes' deltas sum to it."
    )
    target_before = serializers.FloatField(allow_null=True)
    target_after = serializers.FloatField(allow_null=True)
    weights_changed = serializers.BooleanField()
    summary = serializers.CharField()
    causes = CauseSerializer(many=True)


@described
class MovementsSerializer(serializers.Serializer):
    previous_assessment = serializers.IntegerField(allow_null=True)
    capabilities = MovementSerializer(many=True)


@described
class InitiativeProgressSerializer(serializers.Serializer):
    cycle_id = serializers.IntegerField()
    cycle = serializers.CharField()
    at_target = serializers.IntegerField()
    teams = serializers.IntegerField()
    short = serializers.IntegerField()


@described
class InitiativeSerializer(serializers.ModelSerializer):
    scope = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Initiative
        fields = [
            "id",
            "name",
            "capability_key",
            "capability_name",
            "target_percent",
            "due_on",
            "scope",
            "reached_at",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(InitiativeProgressSerializer(many=True))
    def get_progress(self, obj):
        rows = self.context.get("progress", {}).get(obj.pk, [])
        return [{k: v for k, v in row.items() if k != "short_ids"} for row in rows]


@described
class InitiativeCreateSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text=ORGANIZATION_HELP)
    name = serializers.CharField(max_length=200)
    capability_key = serializers.SlugField()
    target_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    due_on = serializers.DateField()
    scope = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of business units and teams of the organisation.",
    )


@described
class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "url", "description", "topics", "active", "created_at"]
        read_only_fields = fields


@described
class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery; returned once, at creation only."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


@described
class WebhookCreateSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text=ORGANIZATION_HELP)
    url = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True)
    topics = serializers.ListField(child=serializers.CharField(), required=False)


# --- webhook payloads -------------------------------------------------------------


@described
class ActionItemPayload(serializers.Serializer):
    """``data`` of action_item.created / .changed / .done."""

    action_item_id = serializers.IntegerField()
    team_id = serializers.IntegerField()
    team = serializers.CharField()
    capability_key = serializers.CharField()
    lens_key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    owner = serializers.CharField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    expected_effect = serializers.CharField()
    version = serializers.IntegerField()
    changes = serializers.DictField(
        required=False, help_text="field -> [old, new] (changed and done only)."
    )


@described
class AssessmentSubmittedPayload(serializers.Serializer):
    """``data`` of assessment.submitted."""

    assessment_id = serializers.IntegerField()
    cycle_id = serializers.IntegerField()
    team_id = serializers.IntegerField()


@described
class RollupComputedPayload(serializers.Serializer):
    """``data`` of rollup.computed."""

    cycle_id = serializers.IntegerField()
    computed_at = serializers.DateTimeField()


@described
class InitiativeReachedPayload(serializers.Serializer):
    """``data`` of initiative.reached."""

    initiative_id = serializers.IntegerField()
    name = serializers.CharField()
    capability_key = serializers.CharField()
    target_percent = serializers.FloatField()
    cycle_id = serializers.IntegerField()
    teams = serializers.IntegerField()


@described
class WebhookEnvelope(serializers.Serializer):
    """The JSON body POSTed to a receiver. Headers: ``Webhook-Id`` (this ``id``,
    the idempotency key, the same on every retry), ``Webhook-Timestamp`` (seconds),
    ``Webhook-Topic``, ``Webhook-Signature: v1=<hex HMAC-SHA256 of
    "{timestamp}.{body}" with the webhook's secret>``."""

    id = serializers.UUIDField(help_text="Idempotency key of the delivery.")
    topic = serializers.CharField()
    organization_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    data = PolymorphicProxySerializer(
        component_name="WebhookData",
        serializers=[
            ActionItemPayload,
            AssessmentSubmittedPayload,
            RollupComputedPayload,
            InitiativeReachedPayload,
        ],
        resource_type_field_name=None,
    )


@described
class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "error", "duration_ms"]
        read_only_fields = fields


@described
class WebhookDeliverySerializer(serializers.ModelSerializer):
    body = serializers.SerializerMethodField()
    attempts_log = WebhookAttemptSerializer(source="attempt_log", many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "key",
            "topic",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "replay_of",
            "body",
            "attempts_log",
        ]
        read_only_fields = fields

    @extend_schema_field(WebhookEnvelope)
    def get_body(self, obj):
        import json

        return json.loads(obj.body)

"""The improvement API: action items (the team's respondents and leads), why a
team's scores moved, initiatives and webhooks (leads: 403 for a member, 404
outside the organisation)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment.access import (
    access_for,
    get_assessment_for_user,
    get_organization_for_member,
    get_team_for_user,
)
from assessment.api.views import require_lead

from .. import selectors, services, webhooks
from ..access import get_action_item_for_user
from ..models import Initiative, Webhook, WebhookDelivery
from . import serializers as s

NOT_FOUND = OpenApiResponse(description="Not found, or out of your reach.")
FORBIDDEN = OpenApiResponse(description="Only a lead may do this.")
BAD_REQUEST = OpenApiResponse(description="Invalid input: {field: [messages]}.")
CONFLICT = OpenApiResponse(description="The item changed meanwhile (stale version).")
ORGANIZATION_QUERY = OpenApiParameter(
    "organization",
    OpenApiTypes.STR,
    description="Slug of the organisation.",
    required=True,
)
TEAM_QUERY = OpenApiParameter(
    "team", OpenApiTypes.INT, description="Id of the team.", required=True
)
OWNER_UNKNOWN_MSG = "No user has that username."
ASSESSMENT_PK = OpenApiParameter(
    "assessment_pk",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="Assessment id.",
)


def _lead_organization(request, slug):
    organization = get_organization_for_member(request.user, slug or "")
    require_lead(request.user, organization.pk)
    return organization


def _owner_id(value):
    if value in (None, ""):
        return None
    user_id = (
        get_user_model()
        .objects.filter(username=value)
        .values_list("pk", flat=True)
        .first()
    )
    if user_id is None:
        raise ValidationError({"owner": OWNER_UNKNOWN_MSG})
    return user_id


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


class ActionItemListApi(APIView):
    @extend_schema(
        summary="List a team's action items",
        parameters=[TEAM_QUERY],
        responses={200: s.ActionItemSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request):
        team = get_team_for_user(request.user, _int(request.query_params.get("team")))
        items = selectors.plan_items(team_ids=[team.pk])
        return Response(s.ActionItemSerializer(items, many=True).data)

    @extend_schema(
        summary="Add an action item to a team's plan",
        description="The owner must be a member of the team (or a lead); a due date "
        "in the past is saved with a warning.",
        request=s.ActionItemCreateSerializer,
        responses={201: s.ActionItemSavedSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def post(self, request):
        data = s.ActionItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        team = get_team_for_user(request.user, values.pop("team"))
        values.pop("version", None)
        owner = values.pop("owner", None)
        rec = values.pop("recommendation", None)
        saved = services.action_create(
            team=team,
            user=request.user,
            owner_id=_owner_id(owner),
            recommendation_id=rec,
            **values,
        )
        return Response(
            s.ActionItemSavedSerializer(saved).data, status=status.HTTP_201_CREATED
        )


class ActionItemDetailApi(APIView):
    @extend_schema(
        summary="Read an action item",
        responses={200: s.ActionItemSerializer, 404: NOT_FOUND},
    )
    def get(self, request, pk):
        return Response(
            s.ActionItemSerializer(get_action_item_for_user(request.user, pk)).data
        )

    @extend_schema(
        summary="Change an action item",
        description="Send the fields to change; ``version`` guards against "
        "overwriting someone's change. Each change is kept in the item's history.",
        request=s.ActionItemWriteSerializer,
        responses={
            200: s.ActionItemSavedSerializer,
            400: BAD_REQUEST,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def patch(self, request, pk):
        item = get_action_item_for_user(request.user, pk)
        data = s.ActionItemWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        if "owner" in values:
            values["owner_id"] = _owner_id(values.pop("owner"))
        saved = services.action_update(
            item=item, user=request.user, version=version, **values
        )
        return Response(s.ActionItemSavedSerializer(saved).data)


class MovementsApi(APIView):
    @extend_schema(
        summary="Why the team's scores moved since its previous cycle",
        description="Per capability: the change and its causes (answers changed, "
        "questions added or removed by an edition, lens weights), which sum to the "
        "change exactly; the target's change beside them.",
        parameters=[ASSESSMENT_PK],
        responses={200: s.MovementsSerializer, 404: NOT_FOUND},
    )
    def get(self, request, assessment_pk):
        assessment = get_assessment_for_user(request.user, assessment_pk)
        found = selectors.movements(assessment=assessment)
        previous = found["previous"]
        return Response(
            {
                "previous_assessment": previous.pk if previous else None,
                "capabilities": [selectors.movement_payload(r) for r in found["rows"]],
            }
        )


class InitiativeListApi(APIView):
    @extend_schema(
        summary="List the organisation's initiatives with their progress per cycle",
        parameters=[ORGANIZATION_QUERY],
        responses={
            200: s.InitiativeSerializer(many=True),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request):
        org = _lead_organization(request, request.query_params.get("organization"))
        initiatives = list(
            Initiative.objects.filter(organization=org).prefetch_related("scope")
        )
        progress = {
            i.pk: selectors.initiative_progress(initiative=i) for i in initiatives
        }
        return Response(
            s.InitiativeSerializer(
                initiatives, many=True, context={"progress": progress}
            ).data
        )

    @extend_schema(
        summary="Create an initiative",
        description="A scope naming a team of another organisation answers 404.",
        request=s.InitiativeCreateSerializer,
        responses={
            201: s.InitiativeSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.InitiativeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        org = _lead_organization(request, values.pop("organization"))
        initiative = services.initiative_create(
            organization=org,
            user=request.user,
            scope_ids=values.pop("scope"),
            **values,
        )
        progress = {initiative.pk: selectors.initiative_progress(initiative=initiative)}
        return Response(
            s.InitiativeSerializer(initiative, context={"progress": progress}).data,
            status=status.HTTP_201_CREATED,
        )


class WebhookListApi(APIView):
    @extend_schema(
        summary="List the organisation's webhooks",
        parameters=[ORGANIZATION_QUERY],
        responses={200: s.WebhookSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        org = _lead_organization(request, request.query_params.get("organization"))
        return Response(
            s.WebhookSerializer(
                Webhook.objects.filter(organization=org), many=True
            ).data
        )

    @extend_schema(
        summary="Add a webhook",
        description="https only (outside development); private and loopback "
        "addresses are refused. The secret is in this response only. Topics: "
        + ", ".join(webhooks.TOPICS)
        + ". Deliveries carry a WebhookEnvelope body.",
        request=s.WebhookCreateSerializer,
        responses={
            201: s.WebhookCreatedSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.WebhookCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        org = _lead_organization(request, values.pop("organization"))
        webhook = webhooks.webhook_create(
            organization=org,
            user=request.user,
            url=values["url"],
            topics=values.get("topics", []),
            description=values.get("description", ""),
        )
        return Response(
            s.WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED
        )


def _webhook_for_lead(request, pk) -> Webhook:
    webhook = Webhook.objects.filter(pk=_int(pk)).first()
    if webhook is None or not access_for(request.user).leads(webhook.organization_id):
        raise Http404
    return webhook


class WebhookDeliveryListApi(APIView):
    @extend_schema(
        summary="A webhook's delivery log",
        description="The latest 50 deliveries, their attempts with response codes, "
        "and the body each one sends (the documented payloads).",
        responses={200: s.WebhookDeliverySerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, pk):
        webhook = _webhook_for_lead(request, pk)
        deliveries = (
            WebhookDelivery.objects.filter(webhook=webhook)
            .prefetch_related("attempt_log")
            .order_by("-created_at", "-id")[:50]
        )
        return Response(s.WebhookDeliverySerializer(deliveries, many=True).data)


class WebhookDeliveryReplayApi(APIView):
    @extend_schema(
        summary="Send a delivery again",
        description="A new delivery of the same data, with a new idempotency key.",
        request=None,
        responses={202: s.WebhookDeliverySerializer, 404: NOT_FOUND},
    )
    def post(self, request, pk):
        delivery = (
            WebhookDelivery.objects.select_related("webhook")
            .filter(pk=_int(pk))
            .first()
        )
        if delivery is None or not access_for(request.user).leads(
            delivery.webhook.organization_id
        ):
            raise Http404
        replay = webhooks.delivery_replay(delivery=delivery, user=request.user)
        return Response(
            s.WebhookDeliverySerializer(replay).data, status=status.HTTP_202_ACCEPTED
        )

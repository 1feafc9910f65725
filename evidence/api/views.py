"""The evidence API: chunked uploads, ingestions and their progress, team mapping
with its preview, periods and measures, settings, invoice totals, folder sources;
and, for a team, the suggestions on its questionnaire.

Organisation-wide endpoints are for the organisation's leads: a member who is not
a lead gets 403, anyone outside the organisation 404; objects out of reach 404.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment.access import get_assessment_for_user, get_organization_for_member
from assessment.api.views import require_lead
from assessment.models import Team
from capabilities.models import Question

from .. import decisions, invoices, mappings, selectors, services, uploads
from ..access import (
    get_folder_for_lead,
    get_ingestion_for_lead,
    get_invoice_total_for_lead,
    get_mapping_for_lead,
    get_upload_for_lead,
)
from ..models import (
    FolderSource,
    Ingestion,
    InvoiceTotal,
    MeasureValue,
    TeamMapping,
    Upload,
)
from . import serializers as s

NOT_FOUND = OpenApiResponse(description="Not found, or out of your reach.")
FORBIDDEN = OpenApiResponse(description="Only a lead may do this.")
BAD_REQUEST = OpenApiResponse(description="Invalid input: {field: [messages]}.")
ORGANIZATION_QUERY = OpenApiParameter(
    "organization",
    OpenApiTypes.STR,
    description="Slug of the organisation.",
    required=True,
)
ORGANIZATION_PATH = OpenApiParameter(
    "slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Slug of the organisation.",
    pattern="^[-a-zA-Z0-9_]+$",
)
LENGTH_REQUIRED_MSG = "Send the chunk with a Content-Length header."
OFFSET_HEADER_MSG = "Send the chunk's offset in the Upload-Offset header."


def _lead_organization(request, slug):
    """The organisation of ``slug``: 404 outside it, 403 for a member not leading it."""
    organization = get_organization_for_member(request.user, slug or "")
    require_lead(request.user, organization.pk)
    return organization


class UploadListApi(APIView):
    @extend_schema(
        summary="Start a chunked upload",
        description="Declares a FOCUS file's name and size; refused (400) over the size "
        "limit before any byte is sent. Send the bytes with PUT .../content/.",
        request=s.UploadInputSerializer,
        responses={
            201: s.UploadSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.UploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = _lead_organization(request, data.validated_data["organization"])
        upload = uploads.upload_start(
            organization=organization,
            user=request.user,
            name=data.validated_data["name"],
            size=data.validated_data["size"],
        )
        return Response(s.UploadSerializer(upload).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="List recent uploads",
        parameters=[ORGANIZATION_QUERY],
        responses={200: s.UploadSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        organization = _lead_organization(
            request, request.query_params.get("organization")
        )
        uploads = Upload.objects.filter(organization=organization).order_by(
            "-created_at"
        )[:50]
        return Response(s.UploadSerializer(uploads, many=True).data)


class UploadDetailApi(APIView):
    @extend_schema(
        summary="Read an upload's state",
        description="``received`` is where the next chunk starts (resume from there).",
        responses={200: s.UploadSerializer, 404: NOT_FOUND},
    )
    def get(self, request, pk):
        return Response(s.UploadSerializer(get_upload_for_lead(request.user, pk)).data)

    @extend_schema(summary="Abort an upload", responses={204: None, 404: NOT_FOUND})
    def delete(self, request, pk):
        uploads.upload_abort(upload=get_upload_for_lead(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadContentApi(APIView):
    parser_classes: list = []

    @extend_schema(
        summary="Send one chunk of an upload",
        description="The raw bytes (application/octet-stream), at most the chunk size, "
        "starting at ``Upload-Offset``, which must equal the bytes the server has "
        "(409 with ``received`` otherwise).",
        parameters=[
            OpenApiParameter(
                "Upload-Offset",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                required=True,
                description="Byte offset of this chunk in the file.",
            )
        ],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            200: s.UploadSerializer,
            400: BAD_REQUEST,
            404: NOT_FOUND,
            409: OpenApiResponse(description="Another offset: {detail, received}."),
            411: OpenApiResponse(description="No Content-Length."),
        },
    )
    def put(self, request, pk):
        upload = get_upload_for_lead(request.user, pk)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or "")
        except ValueError:
            return Response({"detail": LENGTH_REQUIRED_MSG}, status=411)
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
        except ValueError:
            return Response({"offset": [OFFSET_HEADER_MSG]}, status=400)
        try:
            upload = uploads.upload_append(
                upload=upload, offset=offset, stream=request._request, length=length
            )
        except ValidationError as error:
            body = error.message_dict
            if "offset" in body:
                upload.refresh_from_db()
                return Response(
                    {"detail": body["offset"][0], "received": upload.received},
                    status=status.HTTP_409_CONFLICT,
                )
            raise
        return Response(s.UploadSerializer(upload).data)


class IngestionListApi(APIView):
    @extend_schema(
        summary="Read uploaded files into evidence",
        description="Queues the reading of complete uploads; follow it with GET "
        ".../ingestions/{id}/ (stage, rows read, rows per second, errors).",
        request=s.IngestionInputSerializer,
        responses={
            201: s.IngestionSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.IngestionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = _lead_organization(request, data.validated_data["organization"])
        ids = data.validated_data["uploads"]
        uploads = list(Upload.objects.filter(organization=organization, pk__in=ids))
        if len(uploads) != len(set(ids)):
            raise Http404
        ingestion = services.ingestion_start(
            organization=organization, user=request.user, uploads=uploads
        )
        return Response(
            s.IngestionSerializer(ingestion).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="List recent ingestions",
        parameters=[ORGANIZATION_QUERY],
        responses={
            200: s.IngestionSerializer(many=True),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request):
        organization = _lead_organization(
            request, request.query_params.get("organization")
        )
        rows = Ingestion.objects.filter(organization=organization).order_by(
            "-created_at"
        )[:50]
        return Response(s.IngestionSerializer(rows, many=True).data)


class IngestionDetailApi(APIView):
    @extend_schema(
        summary="Follow an ingestion",
        responses={200: s.IngestionSerializer, 404: NOT_FOUND},
    )
    def get(self, request, pk):
        return Response(
            s.IngestionSerializer(get_ingestion_for_lead(request.user, pk)).data
        )


def _team_of(organization, team_id):
    return Team.objects.filter(organization=organization, pk=team_id).first()


def _preview_body(preview, candidate_position=None) -> dict:
    rules = [
        {
            "position": position,
            "caught": preview["caught"].get(position, 0),
            "attributed": preview["attributed"].get(position, 0),
        }
        for position in sorted(set(preview["caught"]) | set(preview["attributed"]))
        if position != candidate_position
    ]
    candidate = None
    if candidate_position is not None:
        candidate = {
            "position": candidate_position,
            "caught": preview["caught"].get(candidate_position, 0),
            "attributed": preview["attributed"].get(candidate_position, 0),
        }
    return {
        "period_start": preview["period"].period_start,
        "total": preview["total"],
        "unmapped": preview["unmapped"],
        "rules": rules,
        "candidate": candidate,
    }


class MappingListApi(APIView):
    @extend_schema(
        summary="List the team mapping",
        parameters=[ORGANIZATION_QUERY],
        responses={200: s.MappingSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        organization = _lead_organization(
            request, request.query_params.get("organization")
        )
        rows = TeamMapping.objects.filter(organization=organization).select_related(
            "team"
        )
        return Response(s.MappingSerializer(rows, many=True).data)

    @extend_schema(
        summary="Map a sub-account, tag or x_ column value to a team",
        description="Refused (400) when the rule catches no spend in the latest evidence.",
        request=s.MappingInputSerializer,
        responses={
            201: s.MappingSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.MappingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        organization = _lead_organization(request, values["organization"])
        mapping = mappings.mapping_add(
            organization=organization,
            user=request.user,
            team=_team_of(organization, values["team"]),
            kind=values["kind"],
            key=values.get("key", ""),
            value=values["value"],
        )
        return Response(
            s.MappingSerializer(mapping).data, status=status.HTTP_201_CREATED
        )


class MappingDetailApi(APIView):
    @extend_schema(
        summary="Remove a mapping rule", responses={204: None, 404: NOT_FOUND}
    )
    def delete(self, request, pk):
        mappings.mapping_remove(
            mapping=get_mapping_for_lead(request.user, pk), user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MappingPreviewApi(APIView):
    @extend_schema(
        summary="Preview the mapping",
        description="Spend each rule catches and is attributed in the latest period, "
        "and what is left unmapped; with team, kind and value, as if that rule were "
        "added last.",
        request=s.MappingPreviewInputSerializer,
        responses={
            200: s.PreviewSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.MappingPreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        organization = _lead_organization(request, values["organization"])
        candidate = None
        if values.get("kind") or values.get("value"):
            team = _team_of(organization, values.get("team"))
            rule = mappings.rule_clean(
                organization=organization,
                team=team,
                kind=values.get("kind", ""),
                key=values.get("key", ""),
                value=values.get("value", ""),
            )
            candidate = {"team_id": team.pk, **rule}
        preview = mappings.mapping_preview(
            organization=organization, candidate=candidate
        )
        if preview is None:
            raise ValidationError({"detail": [mappings.MAPPING_NO_EVIDENCE_MSG]})
        body = _preview_body(preview, preview["candidate_position"])
        return Response(s.PreviewSerializer(body).data)


class PeriodListApi(APIView):
    @extend_schema(
        summary="List the billing periods held as evidence",
        parameters=[ORGANIZATION_QUERY],
        responses={200: s.PeriodSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        organization = _lead_organization(
            request, request.query_params.get("organization")
        )
        rows = []
        for entry in selectors.periods_list(organization=organization):
            period = entry["period"]
            period.age_days, period.stale = entry["age_days"], entry["stale"]
            rows.append(period)
        return Response(s.PeriodSerializer(rows, many=True).data)


class MeasureListApi(APIView):
    @extend_schema(
        summary="Read the measures",
        description="Per period and node (team null: the organisation). Filter with "
        "?period=YYYY-MM-DD and ?team=ID.",
        parameters=[
            ORGANIZATION_QUERY,
            OpenApiParameter("period", OpenApiTypes.DATE, description="Period start."),
            OpenApiParameter("team", OpenApiTypes.INT, description="Team id."),
        ],
        responses={
            200: s.MeasureValueSerializer(many=True),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request):
        organization = _lead_organization(
            request, request.query_params.get("organization")
        )
        rows = MeasureValue.objects.filter(
            period__organization=organization
        ).select_related("period", "team")
        period = request.query_params.get("period")
        if period:
            try:
                rows = rows.filter(period__period_start=period)
            except ValidationError:
                raise ValidationError(
                    {"period": ["Give a date like 2026-05-01."]}
                ) from None
        team = request.query_params.get("team")
        if team:
            if not team.isdigit():
                raise ValidationError({"team": ["Give a team id."]})
            rows = rows.filter(team_id=int(team))
        return Response(
            s.MeasureValueSerializer(
                rows.order_by("-period__period_start", "measure"), many=True
            ).data
        )


class SettingsApi(APIView):
    @extend_schema(
        summary="Read the evidence settings",
        parameters=[ORGANIZATION_PATH],
        responses={200: s.SettingsSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, slug):
        organization = _lead_organization(request, slug)
        return Response(
            s.SettingsSerializer(
                services.evidence_settings_get(organization=organization)
            ).data
        )

    @extend_schema(
        summary="Change the evidence settings",
        parameters=[ORGANIZATION_PATH],
        request=s.SettingsSerializer,
        responses={
            200: s.SettingsSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def patch(self, request, slug):
        organization = _lead_organization(request, slug)
        current = services.evidence_settings_get(organization=organization)
        updated = services.evidence_settings_update(
            organization=organization,
            user=request.user,
            required_tag_keys=request.data.get(
                "required_tag_keys", current.required_tag_keys
            ),
            max_age_days=request.data.get("max_age_days", current.max_age_days),
        )
        return Response(s.SettingsSerializer(updated).data)


class InvoiceTotalListApi(APIView):
    @extend_schema(
        summary="List the invoice totals entered",
        parameters=[ORGANIZATION_QUERY],
        responses={
            200: s.InvoiceTotalSerializer(many=True),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request):
        organization = _lead_organization(
            request, request.query_params.get("organization")
        )
        rows = InvoiceTotal.objects.filter(organization=organization)
        return Response(s.InvoiceTotalSerializer(rows, many=True).data)

    @extend_schema(
        summary="Enter an invoice total",
        request=s.InvoiceTotalInputSerializer,
        responses={
            200: s.InvoiceTotalSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.InvoiceTotalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        organization = _lead_organization(request, values.pop("organization"))
        entry = invoices.invoice_total_set(
            organization=organization, user=request.user, **values
        )
        return Response(s.InvoiceTotalSerializer(entry).data)


class InvoiceTotalDetailApi(APIView):
    @extend_schema(
        summary="Remove an invoice total", responses={204: None, 404: NOT_FOUND}
    )
    def delete(self, request, pk):
        invoices.invoice_total_delete(
            entry=get_invoice_total_for_lead(request.user, pk)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class FolderListApi(APIView):
    @extend_schema(
        summary="List folder sources",
        parameters=[ORGANIZATION_QUERY],
        responses={200: s.FolderSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request):
        organization = _lead_organization(
            request, request.query_params.get("organization")
        )
        rows = FolderSource.objects.filter(organization=organization)
        return Response(s.FolderSerializer(rows, many=True).data)

    @extend_schema(
        summary="Add a folder source",
        description="A server folder (inside EVIDENCE_IMPORT_ROOTS) holding a provider's "
        "scheduled exports; read at once and whenever its files change.",
        request=s.FolderInputSerializer,
        responses={
            201: s.FolderSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request):
        data = s.FolderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        organization = _lead_organization(request, values.pop("organization"))
        folder = services.folder_source_add(
            organization=organization, user=request.user, **values
        )
        return Response(s.FolderSerializer(folder).data, status=status.HTTP_201_CREATED)


class FolderScanApi(APIView):
    @extend_schema(
        summary="Read a folder source again",
        request=None,
        responses={200: s.IngestionSerializer, 204: None, 404: NOT_FOUND},
    )
    def post(self, request, pk):
        folder = get_folder_for_lead(request.user, pk)
        ingestion = services.folder_source_scan(
            folder=folder, user=request.user, force=True
        )
        if ingestion is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.IngestionSerializer(ingestion).data)


def _suggestion_body(suggestion, decision) -> dict:
    return {
        "question_id": suggestion.question_id,
        "measure": suggestion.measure,
        "name": suggestion.name,
        "value": suggestion.value,
        "unit": suggestion.unit,
        "score": suggestion.score,
        "period_start": suggestion.period_start,
        "period_end": suggestion.period_end,
        "age_days": suggestion.age_days,
        "scope": suggestion.scope,
        "source": suggestion.source,
        "formula": suggestion.formula,
        "decision": decision.decision if decision else None,
        "reason": decision.reason if decision else "",
    }


ASSESSMENT_PK = OpenApiParameter(
    "assessment_pk",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="Assessment id.",
)


class SuggestionListApi(APIView):
    @extend_schema(
        summary="Measured suggestions for an assessment",
        description="For the questions that carry a measure: the figure from the team's "
        "fresh FOCUS evidence, the score it suggests, its period and source, and the "
        "team's decision.",
        parameters=[ASSESSMENT_PK],
        responses={200: s.SuggestionSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, assessment_pk):
        assessment = get_assessment_for_user(request.user, assessment_pk)
        questions = list(
            Question.objects.filter(
                capability__framework_id=assessment.cycle.framework_id
            )
            .exclude(measure_key="")
            .prefetch_related("options")
        )
        found = selectors.suggestions_for(assessment=assessment, questions=questions)
        decisions = selectors.decisions_for(assessment=assessment, question_ids=found)
        body = [_suggestion_body(v, decisions.get(k)) for k, v in found.items()]
        return Response(s.SuggestionSerializer(body, many=True).data)


class SuggestionDecisionApi(APIView):
    @extend_schema(
        summary="Accept a suggestion, or answer otherwise with a reason",
        description="Accepting needs the saved answer to be the suggested score "
        "(save it through the answers endpoint first).",
        parameters=[
            ASSESSMENT_PK,
            OpenApiParameter(
                "question",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="Question id.",
            ),
        ],
        request=s.DecisionInputSerializer,
        responses={200: s.SuggestionSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def post(self, request, assessment_pk, question):
        assessment = get_assessment_for_user(request.user, assessment_pk)
        data = s.DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = (
            Question.objects.filter(
                pk=question, capability__framework_id=assessment.cycle.framework_id
            )
            .prefetch_related("options")
            .first()
        )
        if found is None:
            raise Http404
        suggestion = selectors.question_suggestion(
            assessment=assessment, question=found
        )
        record = decisions.suggestion_decide(
            assessment=assessment,
            question=found,
            user=request.user,
            decision=data.validated_data["decision"],
            reason=data.validated_data.get("reason", ""),
            suggestion=suggestion,
        )
        return Response(
            s.SuggestionSerializer(_suggestion_body(suggestion, record)).data
        )

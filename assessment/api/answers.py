"""Assessments and their answers: read, save one or many, history, submit, reopen.

Every assessment is fetched through ``assessment.access`` (404 out of reach); the
question and option an answer names are resolved by ``answer_refs``; writes call
``assessment.services``.
"""

from django.db.models import Q
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from assessment import selectors
from assessment import services as answer_services
from assessment.access import (
    access_for,
    get_assessment_for_user,
)
from assessment.answer_refs import QuestionNotFound, resolve_answer, resolve_answers
from assessment.models import (
    Answer,
    AnswerChange,
    Assessment,
)
from assessment.selectors import answer_history, assessment_progress
from capabilities.models import Question

from . import serializers as s
from .common import (
    BAD_REQUEST_RESPONSE,
    NOT_FOUND_RESPONSE,
    lead_write_responses,
    require_lead,
    valid_input,
)
from .filters import (
    AnswerFilter,
    AssessmentFilter,
)

# --- assessments --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List the assessments within your reach",
        description="Your teams' assessments; a lead's: every team of the "
        "organisation. Each with its progress.",
    ),
    retrieve=extend_schema(
        summary="Read an assessment with its progress per capability",
        responses={200: s.AssessmentDetailSerializer, 404: NOT_FOUND_RESPONSE},
    ),
)
class AssessmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"
    serializer_class = s.AssessmentSerializer
    filterset_class = AssessmentFilter
    ordering_fields = [
        "id",
        "status",
        "submitted_at",
        "last_activity_at",
        "team__name",
        "cycle__closes_on",
    ]
    ordering = ["-cycle_id", "team__name"]

    def get_queryset(self):
        access = access_for(self.request.user)
        assessments = Assessment.objects.select_related("cycle", "team", "submitted_by")
        if not access.is_staff:
            assessments = assessments.filter(
                Q(cycle__organization_id__in=access.lead_org_ids)
                | Q(team_id__in=access.team_ids)
            )
        return assessments

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        progress = selectors.assessments_progress(page)
        for assessment in page:
            assessment.progress = progress[assessment.pk]
        return self.get_paginated_response(s.AssessmentSerializer(page, many=True).data)

    def _detail(self, assessment):
        assessment.progress = assessment_progress(assessment=assessment)
        return Response(s.AssessmentDetailSerializer(assessment).data)

    def retrieve(self, request, pk=None):
        return self._detail(get_assessment_for_user(request.user, pk))

    @extend_schema(
        summary="Submit an assessment",
        description="Every question in scope must be answered (or N/A where "
        "allowed); a 400 lists what is missing. Answers carried forward must be "
        "confirmed (or send confirm_carried).",
        request=s.SubmitSerializer,
        responses={
            200: s.AssessmentDetailSerializer,
            400: BAD_REQUEST_RESPONSE,
            404: NOT_FOUND_RESPONSE,
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        assessment = get_assessment_for_user(request.user, pk)
        data = valid_input(s.SubmitSerializer, request.data or {})
        answer_services.assessment_submit(
            assessment=assessment,
            user=request.user,
            confirm_carried=data["confirm_carried"],
        )
        return self._detail(assessment)

    @extend_schema(
        summary="Reopen a submitted assessment (leads)",
        request=s.ReopenSerializer,
        responses=lead_write_responses(s.AssessmentDetailSerializer),
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        assessment = get_assessment_for_user(request.user, pk)
        require_lead(request.user, assessment.cycle.organization_id)
        data = valid_input(s.ReopenSerializer, request.data)
        answer_services.assessment_reopen(
            assessment=assessment, user=request.user, reason=data["reason"]
        )
        return self._detail(assessment)


# --- answers ------------------------------------------------------------------------


def question_for(assessment: Assessment, ref: str) -> Question:
    """A question of the assessment's framework by id or key; 404 otherwise."""
    try:
        question, _option = resolve_answer(
            question=ref, framework_id=assessment.cycle.framework_id
        )
    except QuestionNotFound:
        raise Http404 from None
    return question


def _answer_kwargs(data: dict) -> dict:
    return {
        "not_applicable": data.get("not_applicable", False),
        "na_reason": data.get("na_reason"),
        "comment": data.get("comment"),
        "evidence_url": data.get("evidence_url"),
        "expected_version": data["version"],
    }


ANSWER_REF = OpenApiParameter(
    "question",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Question id, or its key when unique within the framework.",
)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "assessment_pk",
            OpenApiTypes.INT,
            OpenApiParameter.PATH,
            description="Assessment id.",
        )
    ]
)
class AnswerViewSet(viewsets.GenericViewSet):
    """The team's answers of one assessment; respondents of the team and leads."""

    serializer_class = s.AnswerSerializer
    filterset_class = AnswerFilter
    ordering_fields = ["updated_at", "version", "question"]
    ordering = ["question__capability__order", "question__order", "question_id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Answer.objects.none()
        assessment = self.assessment()
        return Answer.objects.filter(assessment=assessment).select_related(
            "question", "option", "answered_by"
        )

    def assessment(self) -> Assessment:
        if not hasattr(self, "_assessment"):
            self._assessment = get_assessment_for_user(
                self.request.user, self.kwargs["assessment_pk"]
            )
        return self._assessment

    @extend_schema(
        summary="List an assessment's answers",
        responses={200: s.AnswerSerializer(many=True), 404: NOT_FOUND_RESPONSE},
    )
    def list(self, request, assessment_pk=None):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.AnswerSerializer(page, many=True).data)

    @extend_schema(
        summary="Read the answer to one question",
        description="Version 0 and no id when nothing is stored yet.",
        parameters=[ANSWER_REF],
        responses={200: s.AnswerSerializer, 404: NOT_FOUND_RESPONSE},
        filters=False,
    )
    def retrieve(self, request, assessment_pk=None, question=None):
        assessment = self.assessment()
        question = question_for(assessment, question)
        answer = (
            Answer.objects.filter(assessment=assessment, question=question)
            .select_related("question", "option", "answered_by")
            .first()
        ) or Answer(assessment=assessment, question=question, version=0)
        return Response(s.AnswerSerializer(answer).data)

    @extend_schema(
        summary="Save the answer to one question",
        description="Send the `version` you last read (0 for a new answer). A stale "
        "version answers 409 with the current answer; nothing is changed.",
        parameters=[ANSWER_REF],
        request=s.AnswerUpsertSerializer,
        responses={
            200: s.AnswerSerializer,
            400: BAD_REQUEST_RESPONSE,
            404: NOT_FOUND_RESPONSE,
            409: OpenApiResponse(
                description="Stale version: {detail, current: answer}."
            ),
        },
        filters=False,
    )
    def update(self, request, assessment_pk=None, question=None):
        assessment = self.assessment()
        data = valid_input(s.AnswerUpsertSerializer, request.data)
        try:
            question, option = resolve_answer(
                question=question,
                framework_id=assessment.cycle.framework_id,
                option_id=data.get("option_id"),
                option_score=data.get("option_score"),
            )
        except QuestionNotFound:
            raise Http404 from None
        answer = answer_services.answer_record(
            assessment=assessment,
            question=question,
            user=request.user,
            option=option,
            **_answer_kwargs(data),
        )
        return Response(s.AnswerSerializer(answer).data)

    @extend_schema(
        summary="Save several answers, all or nothing",
        description="Errors name the item (`items[2].option_score`); a stale "
        "version of any item answers 409 and nothing is saved.",
        request=s.BulkAnswersSerializer,
        responses={
            200: s.BulkResultSerializer,
            400: BAD_REQUEST_RESPONSE,
            404: NOT_FOUND_RESPONSE,
            409: OpenApiResponse(
                description="Stale version: {detail, current: answer}."
            ),
        },
        filters=False,
    )
    def bulk(self, request, assessment_pk=None):
        assessment = self.assessment()
        serializer = s.BulkAnswersSerializer(data=request.data)
        if not serializer.is_valid():
            raise DRFValidationError(_flat_item_errors(serializer.errors))
        items = resolve_answers(
            items=serializer.validated_data["items"],
            framework_id=assessment.cycle.framework_id,
        )
        resolved = [
            {
                "question": item["question"],
                "option": item["option"],
                **_answer_kwargs(item),
            }
            for item in items
        ]
        answers = answer_services.answers_bulk_record(
            assessment=assessment, user=request.user, items=resolved
        )
        return Response({"answers": s.AnswerSerializer(answers, many=True).data})

    @extend_schema(
        summary="History of the answer to one question",
        description="Every change, newest first: who, when, old and new values.",
        parameters=[ANSWER_REF],
        responses={200: s.AnswerChangeSerializer(many=True), 404: NOT_FOUND_RESPONSE},
        filters=False,
    )
    def history(self, request, assessment_pk=None, question=None):
        assessment = self.assessment()
        question = question_for(assessment, question)
        answer = Answer.objects.filter(assessment=assessment, question=question).first()
        if answer is None:
            changes = AnswerChange.objects.none()
        else:
            changes = answer_history(answer=answer)
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(
            s.AnswerChangeSerializer(page, many=True).data
        )


def _flat_item_errors(errors: dict) -> dict:
    """``{"items": {1: {"option_score": [...]}}}`` -> ``{"items[1].option_score": [...]}``,
    the shape the service uses for errors of one item."""
    items = errors.get("items")
    if not isinstance(items, dict):
        return errors
    flat = {key: value for key, value in errors.items() if key != "items"}
    for index, item_errors in items.items():
        if not isinstance(item_errors, dict):  # the list itself: {"items": "x"}
            name = "items" if index == "non_field_errors" else f"items[{index}]"
            flat[name] = item_errors
            continue
        for field, messages in item_errors.items():
            flat[f"items[{index}].{field}"] = messages
    return flat

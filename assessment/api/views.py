"""Organisations, teams, memberships, cycles, assessments and answers.

Every object is fetched through ``assessment.access`` (anything out of reach is a
404); lists are filtered by ``access_for(user)``. Writes call the services in
``assessment.services`` and ``assessment.cycles``; their errors become HTTP in
``finops_portal.api.exception_handler``.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from assessment import cycles as cycle_services
from assessment import organizations, selectors
from assessment import services as answer_services
from assessment.access import (
    access_for,
    get_assessment_for_user,
    get_cycle_for_member,
    get_organization_for_member,
    get_team_for_user,
)
from assessment.answer_refs import QuestionNotFound, resolve_answer, resolve_answers
from assessment.models import (
    Answer,
    AnswerChange,
    Assessment,
    Cycle,
    Membership,
    Organization,
    Team,
)
from assessment.selectors import answer_history, assessment_progress
from capabilities.models import Capability, Framework, Question

from . import serializers as s
from .filters import (
    AnswerFilter,
    AssessmentFilter,
    CycleFilter,
    MembershipFilter,
    TeamFilter,
)

NOT_LEAD_MSG = "Only a lead of the organisation may do this."
NO_SUCH_TEAM_MSG = "No such team in this organisation."
NO_SUCH_FRAMEWORK_MSG = "No such framework."
ORGANIZATION_REQUIRED_MSG = "Give the organisation's slug."

NOT_FOUND_RESPONSE = OpenApiResponse(description="Not found, or out of your reach.")
FORBIDDEN_RESPONSE = OpenApiResponse(description="Only a lead may do this.")
BAD_REQUEST_RESPONSE = OpenApiResponse(
    description="Invalid input: {field: [messages]} or {detail: message}."
)


def require_lead(user, organization_id: int) -> None:
    """403 for a member who is not a lead; 404 for anyone outside the organisation."""
    access = access_for(user)
    if access.leads(organization_id):
        return
    if access.can_see_org(organization_id):
        raise PermissionDenied(NOT_LEAD_MSG)
    raise Http404


# The services name some fields as the pages do; the API names them as its input.
def lead_write_responses(ok, *, status: int = 200) -> dict:
    """The documented answers of a lead's write: done, refused, not a lead, not found."""
    return {
        status: ok,
        400: BAD_REQUEST_RESPONSE,
        403: FORBIDDEN_RESPONSE,
        404: NOT_FOUND_RESPONSE,
    }


SERVICE_FIELD_NAMES = {
    "identifier": "user",
    "team_ids": "teams",
    "capability_ids": "capabilities",
}


@contextmanager
def api_field_names():
    """Re-raise a service's ``ValidationError`` under the API's field names."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {
                SERVICE_FIELD_NAMES.get(field, field): messages
                for field, messages in error.message_dict.items()
            }
        ) from None


def _team_in(organization_id: int, pk: int | None, field: str = "team") -> Team | None:
    if pk is None:
        return None
    team = Team.objects.filter(pk=pk, organization_id=organization_id).first()
    if team is None:
        raise ValidationError({field: [NO_SUCH_TEAM_MSG]})
    return team


# --- organisations ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List my organisations"),
    retrieve=extend_schema(
        summary="Read an organisation", responses={200: s.OrganizationSerializer}
    ),
)
class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.OrganizationSerializer
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    ordering_fields = ["name", "slug"]
    ordering = ["name"]
    filterset_fields: list = []

    def get_queryset(self):
        access = access_for(self.request.user)
        organizations = Organization.objects.all()
        if not access.is_staff:
            organizations = organizations.filter(id__in=access.member_org_ids)
        return organizations

    def get_object(self):
        return get_organization_for_member(self.request.user, self.kwargs["slug"])


# --- teams --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List teams",
        description="Leads see every team of their organisations; respondents their "
        "own team (and the teams under it).",
    ),
    retrieve=extend_schema(summary="Read a team", responses={200: s.TeamSerializer}),
)
class TeamViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"
    serializer_class = s.TeamSerializer
    filterset_class = TeamFilter
    ordering_fields = ["name", "kind", "id"]
    ordering = ["name"]

    def get_queryset(self):
        access = access_for(self.request.user)
        teams = Team.objects.select_related("organization")
        if not access.is_staff:
            teams = teams.filter(
                Q(organization_id__in=access.lead_org_ids) | Q(id__in=access.team_ids)
            )
        return teams

    def get_object(self):
        return get_team_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="Add a business unit or team (leads)",
        request=s.TeamCreateSerializer,
        responses=lead_write_responses(s.TeamSerializer, status=201),
    )
    def create(self, request):
        data = _valid(s.TeamCreateSerializer, request.data)
        organization = get_organization_for_member(request.user, data["organization"])
        require_lead(request.user, organization.id)
        team = organizations.team_create(
            organization=organization,
            name=data["name"],
            kind=data["kind"],
            parent=_team_in(organization.id, data.get("parent"), "parent"),
            user=request.user,
        )
        return Response(s.TeamSerializer(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename, move or change the kind of a team (leads)",
        request=s.TeamUpdateSerializer,
        responses=lead_write_responses(s.TeamSerializer),
    )
    def partial_update(self, request, pk=None):
        team = self.get_object()
        require_lead(request.user, team.organization_id)
        data = _valid(s.TeamUpdateSerializer, request.data)
        move = {}
        if "parent" in data:
            if data["parent"] is None:
                move["to_root"] = True
            else:
                move["parent"] = _team_in(
                    team.organization_id, data["parent"], "parent"
                )
        team = organizations.team_update(
            team=team,
            name=data.get("name"),
            kind=data.get("kind"),
            user=request.user,
            **move,
        )
        return Response(s.TeamSerializer(team).data)

    @extend_schema(
        summary="Delete an empty team (leads)",
        responses=lead_write_responses(None, status=204),
    )
    def destroy(self, request, pk=None):
        team = self.get_object()
        require_lead(request.user, team.organization_id)
        organizations.team_delete(team=team, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="An organisation's team tree, depth-first (leads)",
        parameters=[
            OpenApiParameter(
                "organization",
                OpenApiTypes.STR,
                required=True,
                description="Organisation slug.",
            )
        ],
        responses=lead_write_responses(s.TeamTreeNodeSerializer(many=True)),
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, ordering_fields=[])
    def tree(self, request):
        slug = request.query_params.get("organization")
        if not slug:
            raise ValidationError({"organization": [ORGANIZATION_REQUIRED_MSG]})
        organization = get_organization_for_member(request.user, slug)
        require_lead(request.user, organization.id)
        nodes = selectors.team_tree(organization=organization)
        page = self.paginate_queryset(nodes)
        return self.get_paginated_response(
            s.TeamTreeNodeSerializer(page, many=True).data
        )


# --- memberships --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List memberships",
        description="Leads see their organisations' memberships; others their own.",
    ),
    retrieve=extend_schema(
        summary="Read a membership", responses={200: s.MembershipSerializer}
    ),
)
class MembershipViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"
    serializer_class = s.MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["id", "role", "created_at"]
    ordering = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        access = access_for(self.request.user)
        memberships = Membership.objects.select_related("user", "organization", "team")
        if not access.is_staff:
            memberships = memberships.filter(
                Q(organization_id__in=access.lead_org_ids) | Q(user=self.request.user)
            )
        return memberships

    @extend_schema(
        summary="Give an existing user a role in an organisation (leads)",
        request=s.MembershipCreateSerializer,
        responses=lead_write_responses(s.MembershipSerializer, status=201),
    )
    def create(self, request):
        data = _valid(s.MembershipCreateSerializer, request.data)
        organization = get_organization_for_member(request.user, data["organization"])
        require_lead(request.user, organization.id)
        with api_field_names():
            membership = organizations.membership_add(
                organization=organization,
                identifier=data["user"],
                role=data["role"],
                team=_team_in(organization.id, data.get("team")),
                by=request.user,
            )
        return Response(
            s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Change a member's role (leads)",
        request=s.MembershipUpdateSerializer,
        responses=lead_write_responses(s.MembershipSerializer),
    )
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        require_lead(request.user, membership.organization_id)
        data = _valid(s.MembershipUpdateSerializer, request.data)
        membership = organizations.membership_update_role(
            membership=membership, role=data["role"], by=request.user
        )
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(
        summary="Remove a membership (leads)",
        responses=lead_write_responses(None, status=204),
    )
    def destroy(self, request, pk=None):
        membership = self.get_object()
        require_lead(request.user, membership.organization_id)
        organizations.membership_remove(membership=membership, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- cycles -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List cycles",
        description="The cycles of the organisations you belong to.",
    ),
    retrieve=extend_schema(summary="Read a cycle", responses={200: s.CycleSerializer}),
)
class CycleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"
    serializer_class = s.CycleSerializer
    filterset_class = CycleFilter
    ordering_fields = ["id", "name", "opens_on", "closes_on", "created_at"]
    ordering = ["-id"]

    def get_queryset(self):
        access = access_for(self.request.user)
        cycles = Cycle.objects.select_related("organization").prefetch_related(
            Prefetch("teams", queryset=Team.objects.only("id")),
            Prefetch("capabilities", queryset=Capability.objects.only("id", "key")),
        )
        if not access.is_staff:
            cycles = cycles.filter(organization_id__in=access.member_org_ids)
        return cycles

    def get_object(self):
        get_cycle_for_member(self.request.user, self.kwargs["pk"])
        return self.get_queryset().get(pk=self.kwargs["pk"])

    def _cycle_response(self, cycle, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=cycle.pk)
        return Response(s.CycleSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Plan a cycle (leads)",
        request=s.CycleCreateSerializer,
        responses=lead_write_responses(s.CycleSerializer, status=201),
    )
    def create(self, request):
        data = _valid(s.CycleCreateSerializer, request.data)
        organization = get_organization_for_member(request.user, data["organization"])
        require_lead(request.user, organization.id)
        framework = (
            Framework.objects.filter(pk=data["framework"])
            .exclude(status=Framework.Status.DRAFT)
            .first()
        )
        if framework is None:
            raise ValidationError({"framework": [NO_SUCH_FRAMEWORK_MSG]})
        with api_field_names():
            cycle = cycle_services.cycle_create(
                organization=organization,
                framework=framework,
                name=data["name"],
                opens_on=data.get("opens_on"),
                closes_on=data.get("closes_on"),
                team_ids=data.get("teams"),
                capability_ids=data.get("capabilities"),
                lens_weights=data.get("lens_weights"),
                user=request.user,
            )
        return self._cycle_response(cycle, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a cycle (leads)",
        description="Name and dates until it closes; teams, capabilities and lens "
        "weights only while it is planned.",
        request=s.CycleUpdateSerializer,
        responses=lead_write_responses(s.CycleSerializer),
    )
    def partial_update(self, request, pk=None):
        cycle = get_cycle_for_member(request.user, pk)
        require_lead(request.user, cycle.organization_id)
        data = _valid(s.CycleUpdateSerializer, request.data)
        dates = {key: data[key] for key in ("opens_on", "closes_on") if key in data}
        with api_field_names():
            cycle = cycle_services.cycle_update(
                cycle=cycle,
                name=data.get("name"),
                team_ids=data.get("teams"),
                capability_ids=data.get("capabilities"),
                lens_weights=data.get("lens_weights"),
                user=request.user,
                **dates,
            )
        return self._cycle_response(cycle)

    @extend_schema(
        summary="Open a planned cycle (leads)",
        description="Creates one assessment per team in scope.",
        request=None,
        responses=lead_write_responses(s.CycleSerializer),
    )
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        cycle = get_cycle_for_member(request.user, pk)
        require_lead(request.user, cycle.organization_id)
        return self._cycle_response(
            cycle_services.cycle_open(cycle=cycle, user=request.user)
        )

    @extend_schema(
        summary="Close an open cycle (leads)",
        description="Nothing more is written to a closed cycle.",
        request=None,
        responses=lead_write_responses(s.CycleSerializer),
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        cycle = get_cycle_for_member(request.user, pk)
        require_lead(request.user, cycle.organization_id)
        return self._cycle_response(
            cycle_services.cycle_close(cycle=cycle, user=request.user)
        )

    @extend_schema(
        summary="Completion board of a cycle (leads)",
        description="Per team: status and answered of total questions.",
        responses={
            200: s.CompletionRowSerializer(many=True),
            403: FORBIDDEN_RESPONSE,
            404: NOT_FOUND_RESPONSE,
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=[])
    def completion(self, request, pk=None):
        cycle = get_cycle_for_member(request.user, pk)
        require_lead(request.user, cycle.organization_id)
        rows = selectors.cycle_completion(cycle=cycle)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            s.CompletionRowSerializer(page, many=True).data
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
        "allowed); a 400 lists what is missing.",
        request=None,
        responses={
            200: s.AssessmentDetailSerializer,
            400: BAD_REQUEST_RESPONSE,
            404: NOT_FOUND_RESPONSE,
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        assessment = get_assessment_for_user(request.user, pk)
        answer_services.assessment_submit(assessment=assessment, user=request.user)
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
        data = _valid(s.ReopenSerializer, request.data)
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
        data = _valid(s.AnswerUpsertSerializer, request.data)
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
        for field, messages in item_errors.items():
            flat[f"items[{index}].{field}"] = messages
    return flat


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data

"""Organisations, teams, memberships and cycles.

Every object is fetched through ``assessment.access`` (anything out of reach is a
404); lists are filtered by ``access_for(user)``. Writes call the services in
``assessment.organizations`` and ``assessment.cycles``; their errors become HTTP in
``finops_portal.api.exception_handler``.
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from assessment import cycles as cycle_services
from assessment import invitations, organizations, selectors
from assessment.access import (
    access_for,
    get_cycle_for_member,
    get_organization_for_member,
    get_team_for_user,
)
from assessment.models import (
    Cycle,
    Invitation,
    Membership,
    Organization,
    Team,
)
from capabilities.models import Capability, Framework

from . import serializers as s
from .common import (
    FORBIDDEN_RESPONSE,
    NO_SUCH_FRAMEWORK_MSG,
    NOT_FOUND_RESPONSE,
    ORGANIZATION_REQUIRED_MSG,
    api_field_names,
    lead_write_responses,
    require_lead,
    team_in,
    valid_input,
)
from .filters import (
    CycleFilter,
    InvitationFilter,
    MembershipFilter,
    TeamFilter,
)

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
        data = valid_input(s.TeamCreateSerializer, request.data)
        organization = get_organization_for_member(request.user, data["organization"])
        require_lead(request.user, organization.id)
        team = organizations.team_create(
            organization=organization,
            name=data["name"],
            kind=data["kind"],
            parent=team_in(organization.id, data.get("parent"), "parent"),
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
        data = valid_input(s.TeamUpdateSerializer, request.data)
        move = {}
        if "parent" in data:
            if data["parent"] is None:
                move["to_root"] = True
            else:
                move["parent"] = team_in(team.organization_id, data["parent"], "parent")
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
        summary="Give someone a role in an organisation, or invite them (leads)",
        description="One of the organisation's people (a member, someone who signed "
        "in through its single sign-on, accepted one of its invitations or held a "
        "role in it) gets the role at once: 201 with the membership. Anyone else is "
        "named by email and sent an invitation to accept: 202 with the invitation, "
        "whether or not that address has an account elsewhere. A username outside "
        "the organisation is refused (400), whether or not it exists elsewhere.",
        request=s.MembershipCreateSerializer,
        responses={
            **lead_write_responses(s.MembershipSerializer, status=201),
            202: s.InvitationSerializer,
        },
    )
    def create(self, request):
        data = valid_input(s.MembershipCreateSerializer, request.data)
        organization = get_organization_for_member(request.user, data["organization"])
        require_lead(request.user, organization.id)
        with api_field_names():
            added = organizations.membership_add(
                organization=organization,
                identifier=data["user"],
                role=data["role"],
                team=team_in(organization.id, data.get("team")),
                by=request.user,
                site_url=invitations.site_url_for(request),
            )
        if isinstance(added, Invitation):
            return Response(
                s.InvitationSerializer(added).data, status=status.HTTP_202_ACCEPTED
            )
        return Response(
            s.MembershipSerializer(added).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Change a member's role (leads)",
        request=s.MembershipUpdateSerializer,
        responses=lead_write_responses(s.MembershipSerializer),
    )
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        require_lead(request.user, membership.organization_id)
        data = valid_input(s.MembershipUpdateSerializer, request.data)
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


# --- invitations ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List invitations waiting (leads)",
        description="The invitations of the organisations you lead that are neither "
        "accepted nor expired; POST /memberships/ with an email sends one.",
    ),
    retrieve=extend_schema(
        summary="Read an invitation (leads)", responses={200: s.InvitationSerializer}
    ),
)
class InvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"
    serializer_class = s.InvitationSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["id", "created_at", "expires_at", "email"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        access = access_for(self.request.user)
        pending = invitations.pending_invitations_everywhere().select_related(
            "organization", "team", "invited_by"
        )
        if not access.is_staff:
            pending = pending.filter(organization_id__in=access.lead_org_ids)
        return pending

    @extend_schema(
        summary="Withdraw an invitation (leads)",
        responses=lead_write_responses(None, status=204),
    )
    def destroy(self, request, pk=None):
        invitation = self.get_object()
        invitations.invitation_revoke(invitation=invitation, by=request.user)
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
        data = valid_input(s.CycleCreateSerializer, request.data)
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
        data = valid_input(s.CycleUpdateSerializer, request.data)
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
        description="Creates one assessment per team in scope; with carry_forward, "
        "pre-fills answers from each team's last submitted assessment.",
        request=s.CycleOpenSerializer,
        responses=lead_write_responses(s.CycleSerializer),
    )
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        cycle = get_cycle_for_member(request.user, pk)
        require_lead(request.user, cycle.organization_id)
        data = valid_input(s.CycleOpenSerializer, request.data or {})
        return self._cycle_response(
            cycle_services.cycle_open(
                cycle=cycle, user=request.user, carry_forward=data["carry_forward"]
            )
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

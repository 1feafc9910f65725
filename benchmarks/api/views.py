"""Scores, benchmarks (roll-up snapshots) and targets.

Respondents see benchmarks as aggregates only: groups with fewer teams than the
organisation's anonymity threshold are left out (listed under ``hidden``), and no
team is named. Leads also read every team's scores, named.
"""

import math

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from assessment import scoring
from assessment import targets as target_services
from assessment.access import (
    access_for,
    get_assessment_for_user,
    get_cycle_for_member,
    get_organization_for_member,
)
from assessment.api.common import (
    BAD_REQUEST_RESPONSE,
    FORBIDDEN_RESPONSE,
    NO_SUCH_TEAM_MSG,
    NOT_FOUND_RESPONSE,
    require_lead,
)
from assessment.models import Assessment, CapabilityScore, Target, Team
from assessment.scoring import lens_weights_for
from benchmarks.anonymity import anonymity_split_rows, hidden_message
from benchmarks.models import DisagreementStat, NodeStat, RollupState, TeamRank
from benchmarks.report_frames import records
from capabilities.selectors import framework_lenses, lens_weights

from . import serializers as s
from .filters import TargetFilter, TeamScoreFilter

NODE_NOT_A_NUMBER_MSG = "Give a business unit id, or leave node empty."
ORGANISATION_GROUP = "the organisation"

ASSESSMENT_PK = OpenApiParameter(
    "assessment_pk",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="Assessment id.",
)
CYCLE_PK = OpenApiParameter(
    "pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Cycle id."
)


@extend_schema(
    summary="Capability scores of an assessment",
    description="Stored when the assessment is submitted: lens scores, percent, "
    "level, and the distance to the team's target.",
    parameters=[ASSESSMENT_PK],
    responses={200: s.ScoreSerializer(many=True), 404: NOT_FOUND_RESPONSE},
)
class AssessmentScoresView(generics.ListAPIView):
    serializer_class = s.ScoreSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CapabilityScore.objects.none()
        self.assessment = get_assessment_for_user(
            self.request.user, self.kwargs["assessment_pk"]
        )
        return (
            CapabilityScore.objects.filter(assessment=self.assessment)
            .select_related("capability")
            .order_by("capability__order", "capability_id")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        targets = target_services.team_targets(
            organization_id=self.assessment.cycle.organization_id,
            team_id=self.assessment.team_id,
        )
        with_foundation_figures(
            page,
            cycle_lens_weights(self.assessment.cycle),
            [targets.get(row.capability.key) for row in page],
        )
        ranks = self._percentiles()
        for row in page:
            row.percentile = ranks.get(row.capability_id)
        return self.get_paginated_response(s.ScoreSerializer(page, many=True).data)

    def _percentiles(self) -> dict:
        """Capability id -> the team's stored percentile (the roll-up's, ties
        equal); for a respondent only where the organisation's figure may be
        shown (as many teams as the anonymity threshold), as on the report."""
        assessment = self.assessment
        ranks = TeamRank.objects.filter(assessment=assessment, capability__isnull=False)
        cycle = assessment.cycle
        if not access_for(self.request.user).leads(cycle.organization_id):
            shown = NodeStat.objects.filter(
                cycle=cycle,
                node__isnull=True,
                n__gte=cycle.organization.anonymity_threshold,
            ).values("capability_id")
            ranks = ranks.filter(capability_id__in=shown)
        return dict(ranks.values_list("capability_id", "percentile"))


def cycle_lens_weights(cycle) -> dict[str, float]:
    """The weights the cycle's scores were computed with (one query)."""
    return lens_weights_for(
        cycle.lens_weights,
        lens_weights(framework_lenses(framework_id=cycle.framework_id)),
    )


def with_foundation_figures(rows, weights: dict[str, float], targets=None) -> None:
    """Set the Foundation's figures (``scoring.foundation_scores``, the grid's and
    the exports' function) on stored ``CapabilityScore`` rows: score_20,
    lenses_scored and, with ``targets`` (percents, None for none), target,
    target_20, relative_to_target, gap and progress_to_target."""
    rows = list(rows)
    if not rows:
        return
    keys = list(weights)
    values = [
        [(row.lens_scores or {}).get(key, math.nan) for key in keys] for row in rows
    ]
    targets = list(targets) if targets is not None else [None] * len(rows)
    goals = [math.nan if t is None else float(t) for t in targets]
    figures = scoring.foundation_scores(values, [weights[k] for k in keys], goals)
    for row, target, fig in zip(rows, targets, records(figures), strict=True):
        row.score_20 = _none(fig[scoring.FOUNDATION_20])
        row.lenses_scored = int(fig[scoring.LENSES_SCORED])
        row.target = target
        row.target_20 = _none(fig[scoring.TARGET_20])
        row.relative_to_target = _none(fig[scoring.RELATIVE_20])
        row.gap = _none(fig[scoring.GAP])
        row.progress_to_target = _none(fig[scoring.PROGRESS])


def _none(value):
    return None if value is None or value != value else float(value)


def _node_for(cycle, raw: str | None, *, is_lead: bool) -> Team | None:
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationError({"node": [NODE_NOT_A_NUMBER_MSG]})
    node = Team.objects.filter(pk=int(raw), organization_id=cycle.organization_id)
    if not is_lead:
        # Respondents compare with groups, never with another team.
        node = node.filter(kind=Team.Kind.BUSINESS_UNIT)
    found = node.first()
    if found is None:
        raise Http404
    return found


@extend_schema(
    summary="Benchmark statistics of a cycle for the organisation or a business unit",
    description="Roll-up snapshot rows per capability (and overall, capability "
    "null). For respondents, groups with fewer teams than the organisation's "
    "anonymity threshold are left out and listed under `hidden`.",
    parameters=[
        CYCLE_PK,
        OpenApiParameter(
            "node",
            OpenApiTypes.INT,
            description="Business unit id (leads: any node); empty for the "
            "organisation.",
        ),
        OpenApiParameter("page", OpenApiTypes.INT, description="Page number."),
        OpenApiParameter(
            "page_size", OpenApiTypes.INT, description="Rows per page (max 200)."
        ),
    ],
    responses={
        200: s.BenchmarkPageSerializer,
        400: BAD_REQUEST_RESPONSE,
        404: NOT_FOUND_RESPONSE,
    },
)
class CycleBenchmarksView(generics.GenericAPIView):
    serializer_class = s.BenchmarkPageSerializer
    filter_backends: list = []

    def get(self, request, pk):
        cycle = get_cycle_for_member(request.user, pk)
        is_lead = access_for(request.user).leads(cycle.organization_id)
        node = _node_for(cycle, request.query_params.get("node"), is_lead=is_lead)
        k = cycle.organization.anonymity_threshold
        rows = list(
            NodeStat.objects.filter(cycle=cycle, node=node)
            .order_by("capability__order", "capability_id")
            .values(
                "capability__key",
                "capability__name",
                "n",
                "mean",
                "median",
                "p25",
                "p75",
                "min",
                "max",
                "level_counts",
                "lens_means",
            )
        )
        group = node.name if node is not None else ORGANISATION_GROUP
        hidden = []
        if not is_lead:
            rows, hidden_rows = anonymity_split_rows(rows, k=k)
            hidden = [
                {
                    "capability": row["capability__key"],
                    "reason": hidden_message(group=group, k=k, fully=not rows),
                }
                for row in hidden_rows
            ]
        for row in rows:
            row["capability"] = row.pop("capability__key")
            row["capability_name"] = row.pop("capability__name")
        state = RollupState.objects.filter(cycle=cycle).first()
        page = self.paginate_queryset(rows)
        paginated = self.get_paginated_response(page).data
        body = {
            "count": paginated["count"],
            "next": paginated["next"],
            "previous": paginated["previous"],
            "node": node.pk if node is not None else None,
            "node_name": group,
            "anonymity_threshold": k,
            "computed_at": state.computed_at if state else None,
            "stale": bool(state and state.is_stale),
            "hidden": hidden,
            "results": page,
            "disagreement": [
                {
                    "capability": row["capability__key"],
                    "teams": row["teams"],
                    "mean": row["mean"],
                    "max": row["max"],
                }
                for row in DisagreementStat.objects.filter(cycle=cycle, node=node)
                .order_by("capability__order", "capability_id")
                .values("capability__key", "teams", "mean", "max")
            ]
            if is_lead
            else [],
        }
        return Response(s.BenchmarkPageSerializer(body).data)


@extend_schema(
    summary="Every team's capability scores in a cycle (leads)",
    description="Submitted assessments only, teams named; filter by business unit "
    "(any depth), team or capability.",
    parameters=[CYCLE_PK],
    responses={
        200: s.TeamScoreSerializer(many=True),
        403: FORBIDDEN_RESPONSE,
        404: NOT_FOUND_RESPONSE,
    },
)
class CycleTeamScoresView(generics.ListAPIView):
    serializer_class = s.TeamScoreSerializer
    filterset_class = TeamScoreFilter
    ordering_fields = ["percent", "assessment__team__name", "capability__order"]
    ordering = ["assessment__team__name", "capability__order", "capability_id"]

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        with_foundation_figures(page, cycle_lens_weights(self.cycle))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CapabilityScore.objects.none()
        cycle = get_cycle_for_member(self.request.user, self.kwargs["pk"])
        require_lead(self.request.user, cycle.organization_id)
        self.cycle = cycle
        return CapabilityScore.objects.filter(
            assessment__cycle=cycle,
            assessment__status=Assessment.Status.SUBMITTED,
        ).select_related("capability", "assessment__team")


@extend_schema_view(
    list=extend_schema(
        summary="List targets",
        description="Organisation defaults and team targets; respondents see the "
        "defaults and their own teams' targets.",
    ),
)
class TargetViewSet(
    mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.TargetSerializer
    filterset_class = TargetFilter
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["capability_key", "updated_at", "id"]
    ordering = ["id"]

    def get_queryset(self):
        access = access_for(self.request.user)
        targets = Target.objects.select_related("organization")
        if not access.is_staff:
            targets = targets.filter(
                Q(organization_id__in=access.lead_org_ids)
                | Q(organization_id__in=access.member_org_ids, team__isnull=True)
                | Q(team_id__in=access.team_ids)
            )
        return targets

    @extend_schema(
        summary="Set a target (leads)",
        description="The organisation default when `team` is omitted, else the "
        "team's; replaces an existing one.",
        request=s.TargetSetSerializer,
        responses={
            200: s.TargetSerializer,
            400: BAD_REQUEST_RESPONSE,
            403: FORBIDDEN_RESPONSE,
            404: NOT_FOUND_RESPONSE,
        },
    )
    def create(self, request):
        serializer = s.TargetSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = get_organization_for_member(request.user, data["organization"])
        require_lead(request.user, organization.id)
        if not target_services.capability_key_known(data["capability_key"]):
            raise ValidationError(
                {
                    "capability_key": [
                        target_services.TARGET_UNKNOWN_CAPABILITY_MSG.format(
                            key=data["capability_key"]
                        )
                    ]
                }
            )
        team = None
        if data.get("team") is not None:
            team = Team.objects.filter(
                pk=data["team"], organization_id=organization.id
            ).first()
            if team is None:
                raise ValidationError({"team": [NO_SUCH_TEAM_MSG]})
        try:
            target = target_services.target_set(
                organization=organization,
                capability_key=data["capability_key"],
                percent=data["percent"],
                team=team,
                user=request.user,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                raise
            raise ValidationError({"percent": error.messages}) from None
        return Response(s.TargetSerializer(target).data, status=status.HTTP_200_OK)

    @extend_schema(
        summary="Clear a target (leads)",
        responses={204: None, 403: FORBIDDEN_RESPONSE, 404: NOT_FOUND_RESPONSE},
    )
    def destroy(self, request, pk=None):
        target = self.get_object()
        require_lead(request.user, target.organization_id)
        target_services.target_clear(
            organization=target.organization,
            capability_key=target.capability_key,
            team=target.team,
            user=request.user,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

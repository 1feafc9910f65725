"""Dry runs of a framework version through the API (staff only): start one on an
organisation, read its progress and result."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment import dry_runs
from assessment.models import FrameworkDryRun, Organization
from capabilities.models import Framework
from finops_portal.api import StrictInputSerializer

from .common import valid_input


class DryRunStartSerializer(StrictInputSerializer):
    organization = serializers.IntegerField(
        min_value=1,
        help_text="Id of the organisation whose last closed cycle is scored.",
    )


class DryRunSerializer(serializers.ModelSerializer):
    framework = serializers.IntegerField(
        source="framework_id", read_only=True, help_text="Framework version id."
    )
    organization = serializers.IntegerField(
        source="organization_id", read_only=True, help_text="Organisation id."
    )

    class Meta:
        model = FrameworkDryRun
        fields = [
            "id",
            "framework",
            "organization",
            "state",
            "done",
            "total",
            "error",
            "result",
            "created_at",
            "finished_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "Dry run id."},
            "error": {"help_text": "Why it failed; empty otherwise."},
            "created_at": {"help_text": "When it was started."},
            "finished_at": {"help_text": "When it finished; null before."},
            "state": {"help_text": "queued, running, done or failed."},
            "done": {"help_text": "Assessments scored so far."},
            "total": {"help_text": "Assessments to score."},
            "result": {
                "help_text": "When done: per capability and per team, scores and "
                "levels before and after; unmatched questions."
            },
        }


class FrameworkDryRunStartView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        summary="Dry-run a framework version on an organisation (staff)",
        description="Scores the organisation's last closed cycle against the "
        "version, through its mapping, with the scoring code of a submit; writes "
        "nothing of the organisation's. Small organisations are scored at once "
        "(201, state done); large ones in a worker (201, state queued: read the run).",
        request=DryRunStartSerializer,
        responses={201: DryRunSerializer, 400: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    def post(self, request, pk: int):
        framework = get_object_or_404(Framework, pk=pk)
        data = valid_input(DryRunStartSerializer, request.data)
        organization = Organization.objects.filter(pk=data["organization"]).first()
        if organization is None:
            return Response({"organization": ["No such organisation."]}, status=400)
        run = dry_runs.dry_run_start(
            framework=framework, organization=organization, user=request.user
        )
        return Response(DryRunSerializer(run).data, status=201)


class DryRunView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        summary="A dry run's progress and result (staff)",
        responses={200: DryRunSerializer},
    )
    def get(self, request, pk: int):
        run = get_object_or_404(FrameworkDryRun, pk=pk)
        return Response(DryRunSerializer(run).data)

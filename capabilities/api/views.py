"""Frameworks: read by everyone signed in (drafts by staff only); staff publish,
copy into a new draft, and export."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from capabilities.models import (
    AnswerOption,
    Capability,
    Framework,
    Question,
    Recommendation,
)

from .filters import FrameworkFilter
from .serializers import FrameworkDetailSerializer, FrameworkListSerializer


def frameworks_for_user(user):
    """Published and retired versions; staff also see drafts."""
    frameworks = Framework.objects.all()
    if not user.is_staff:
        frameworks = frameworks.exclude(status=Framework.Status.DRAFT)
    return frameworks


def _content_prefetches():
    """Every level of the nested content in one query each."""
    questions = Question.objects.select_related("lens").prefetch_related(
        Prefetch("options", queryset=AnswerOption.objects.order_by("score", "id"))
    )
    recommendations = Recommendation.objects.select_related("lens", "level")
    capabilities = Capability.objects.order_by("order", "id").prefetch_related(
        Prefetch("questions", queryset=questions.order_by("order", "id")),
        Prefetch("recommendations", queryset=recommendations),
    )
    return [
        "lenses",
        "levels",
        Prefetch("domains__capabilities", queryset=capabilities),
    ]


@extend_schema_view(
    list=extend_schema(
        summary="List framework versions",
        description="Published and retired versions; staff also see drafts.",
    ),
    retrieve=extend_schema(
        summary="Read a framework version with its content",
        description="Lenses, maturity levels, domains, capabilities, questions, "
        "answer options and recommendations.",
    ),
)
class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = "[0-9]+"
    filterset_class = FrameworkFilter
    ordering_fields = ["slug", "version", "published_at", "created_at"]
    ordering = ["slug", "-version"]

    def get_queryset(self):
        frameworks = frameworks_for_user(self.request.user)
        if self.action == "retrieve":
            frameworks = frameworks.prefetch_related(*_content_prefetches())
        return frameworks

    def get_serializer_class(self):
        if self.action == "list":
            return FrameworkListSerializer
        return FrameworkDetailSerializer

    @extend_schema(
        summary="Publish a draft framework (staff)",
        description="A published framework is immutable; assessments pin it.",
        request=None,
        responses={200: FrameworkListSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[permissions.IsAdminUser],
    )
    def publish(self, request, pk=None):
        from capabilities.services import framework_publish

        framework = framework_publish(framework=self.get_object(), user=request.user)
        return Response(FrameworkListSerializer(framework).data)

    @extend_schema(
        summary="Copy a framework into a new draft version (staff)",
        request=None,
        responses={201: FrameworkListSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="new-draft",
        permission_classes=[permissions.IsAdminUser],
    )
    def new_draft(self, request, pk=None):
        from capabilities.services import framework_new_draft

        draft = framework_new_draft(framework=self.get_object())
        return Response(FrameworkListSerializer(draft).data, status=201)

    @extend_schema(
        summary="Export a framework version as a content document (staff)",
        description="The same document the importer reads (JSON).",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[permissions.IsAdminUser],
    )
    def export(self, request, pk=None):
        from capabilities.importer import framework_export

        return Response(framework_export(framework=self.get_object()))

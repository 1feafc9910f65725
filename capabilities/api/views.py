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
from .serializers import (
    FrameworkDetailSerializer,
    FrameworkImportSerializer,
    FrameworkListSerializer,
)

ERRORS_RESPONSE = OpenApiResponse(
    OpenApiTypes.OBJECT, description='{"errors": ["location: problem", ...]}'
)


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

    @extend_schema(
        summary="Import a content file as a new version (staff)",
        description="All or nothing: a refused file answers 400 with every problem "
        "and its location, and nothing is written. With next_version the file is "
        "imported as the next free version of its slug.",
        request=FrameworkImportSerializer,
        responses={201: FrameworkListSerializer, 400: ERRORS_RESPONSE},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        permission_classes=[permissions.IsAdminUser],
    )
    def import_file(self, request):
        from capabilities.importer import FrameworkFileError
        from capabilities.services import framework_import

        serializer = FrameworkImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            framework = framework_import(
                data=data["document"] if "document" in data else data["content"],
                replace=data["replace"],
                publish=data["publish"],
                next_version=data["next_version"],
                user=request.user,
            )
        except FrameworkFileError as exc:
            return Response({"errors": exc.errors}, status=400)
        return Response(FrameworkListSerializer(framework).data, status=201)

    @extend_schema(
        summary="Validate a framework version (staff)",
        description="Every problem that would stop it from being published, with "
        "its location; an empty list when there is none.",
        request=None,
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[permissions.IsAdminUser],
    )
    def validate(self, request, pk=None):
        from capabilities.services import framework_validate, publish_consequences

        framework = self.get_object()
        return Response(
            {
                "problems": framework_validate(framework=framework),
                "publish_consequences": (
                    publish_consequences(framework=framework)
                    if framework.is_editable
                    else []
                ),
            }
        )

    @extend_schema(
        summary="Retire a published framework version (staff)",
        description="It stays readable (its cycles keep it) but is no longer offered.",
        request=None,
        responses={200: FrameworkListSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[permissions.IsAdminUser],
    )
    def retire(self, request, pk=None):
        from capabilities.services import framework_retire

        framework = framework_retire(framework=self.get_object(), user=request.user)
        return Response(FrameworkListSerializer(framework).data)

    @extend_schema(
        summary="Diff a framework version against the one it was derived from (staff)",
        description="Capabilities and questions added, changed and removed, with "
        "their mapping, and changed options and recommendations.",
        request=None,
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[permissions.IsAdminUser],
    )
    def diff(self, request, pk=None):
        from capabilities.diff import framework_diff

        return Response(framework_diff(self.get_object()))

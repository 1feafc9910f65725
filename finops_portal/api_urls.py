"""The API: version 1 under /api/v1/, its OpenAPI schema and Swagger UI docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import tokens

v1 = [
    path("tokens/", tokens.TokenCreateApi.as_view(), name="token-create"),
    path("", include("capabilities.api.urls")),
    path("", include("assessment.api.urls")),
    path("", include("benchmarks.api.urls")),
    path("", include("evidence.api.urls")),
    path("", include("improvement.api.urls")),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
]

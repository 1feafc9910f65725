from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assessment.views import home

from . import tokens, views

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("framework/", include("capabilities.urls")),
    path("", include("assessment.urls")),
    path("", include("benchmarks.urls")),
    path("", include("evidence.urls")),
    path("api/", include("finops_portal.api_urls")),
    path("account/tokens/", tokens.tokens, name="tokens"),
    path(
        "account/tokens/<int:pk>/revoke/",
        tokens.token_revoke_view,
        name="token_revoke",
    ),
]

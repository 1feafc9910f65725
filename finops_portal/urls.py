from django.contrib import admin
from django.urls import include, path

from assessment.views import home
from sso import views as sso_views

from . import tokens, views

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # browsers ask for /favicon.ico whatever the page declares
    path("favicon.ico", views.favicon, name="favicon"),
    # Sign-in and sign-out come from the sso app: the sign-in page offers the
    # organisations' identity providers, sign-out ends the provider's session too.
    path("accounts/login/", sso_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", sso_views.logout, name="logout"),
    path("accounts/", include("sso.urls")),
    path("admin/", admin.site.urls),
    path("framework/", include("capabilities.urls")),
    path("", include("assessment.urls")),
    path("", include("benchmarks.urls")),
    path("", include("notifications.urls")),
    path("", include("evidence.urls")),
    path("", include("improvement.urls")),
    path("api/", include("finops_portal.api_urls")),
    path("account/tokens/", tokens.tokens, name="tokens"),
    path(
        "account/tokens/<int:pk>/revoke/",
        tokens.token_revoke_view,
        name="token_revoke",
    ),
]

"""Sign-in pages: the sign-in form with a "Sign in with <provider>" button per
provider in use, the start of a single sign-on (a redirect to the provider), its
callback, and sign-out (which ends the provider's session too when the provider
supports RP-initiated logout).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib import auth
from django.contrib.auth.views import LoginView
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from finops_portal.signin import SignInForm

from .backends import CALLBACK_URL_NAME
from .models import SsoConnection
from .providers import DiscoveryError, Provider, discover, get_provider, providers
from .services import landing_url

SESSION_STATES = "sso_states"  # state -> provider key, for the callback
SESSION_PROVIDER = "sso_provider"
SESSION_LOGOUT_ORIGIN = "sso_logout_origin"
SESSION_ID_TOKEN = "oidc_id_token"  # where mozilla-django-oidc keeps it
MAX_PENDING_STATES = 20

EXPIRED_MSG = (
    "This sign-in was started too long ago, in another browser, or was already "
    "used. Start again."
)
PROVIDER_REFUSED_MSG = "{provider} did not sign you in: {reason}"
MIXED_UP_MSG = "The sign-in answer came from another provider than {provider}."
GENERIC_MSG = "Single sign-on with {provider} did not complete. Start again."
PKCE_METHOD = "S256"


def enabled_providers() -> list[Provider]:
    """Configured providers that at least one organisation signs in with."""
    configured = providers()
    used = set(
        SsoConnection.objects.filter(
            enabled=True, provider__in=list(configured)
        ).values_list("provider", flat=True)
    )
    return [provider for key, provider in configured.items() if key in used]


def _refused(request, message: str, *, provider: Provider | None, status: int):
    return render(
        request,
        "sso/refused.html",
        {"message": message, "provider": provider},
        status=status,
    )


class SignInView(LoginView):
    """The sign-in form; organisations' providers offered as buttons."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_providers"] = enabled_providers()
        return context


class StartView(OIDCAuthenticationRequestView):
    """Redirect to the provider's authorization endpoint (code flow with PKCE,
    state and nonce kept in the session by mozilla-django-oidc)."""

    def __init__(self, **kwargs):
        # The parent reads one provider's endpoints from settings here.
        View.__init__(self, **kwargs)
        self.provider: Provider | None = None

    def get_settings(self, attr, *args):
        overrides = {
            "OIDC_RP_SCOPES": self.provider.scopes if self.provider else "openid",
            "OIDC_USE_NONCE": True,
            "OIDC_USE_PKCE": True,
            "OIDC_PKCE_CODE_CHALLENGE_METHOD": PKCE_METHOD,
            "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
            "OIDC_REDIRECT_FIELD_NAME": "next",
        }
        if attr in overrides:
            return overrides[attr]
        return super().get_settings(attr, *args)

    def get_extra_params(self, request):
        hint = request.GET.get("login_hint", "").strip()
        return {"login_hint": hint[:254]} if hint else {}

    def get(self, request, provider_key: str):
        provider = get_provider(provider_key)
        if (
            provider is None
            or not SsoConnection.objects.filter(
                provider=provider.key, enabled=True
            ).exists()
        ):
            raise Http404("No such sign-in.")
        try:
            endpoints = discover(provider)
        except DiscoveryError as error:
            return _refused(request, error.message, provider=provider, status=503)
        self.provider = provider
        self.OIDC_OP_AUTH_ENDPOINT = endpoints.authorization
        self.OIDC_RP_CLIENT_ID = provider.client_id
        response = super().get(request)
        state = parse_qs(urlsplit(response.url).query)["state"][0]
        states = dict(request.session.get(SESSION_STATES) or {})
        states[state] = provider.key
        request.session[SESSION_STATES] = dict(
            list(states.items())[-MAX_PENDING_STATES:]
        )
        return response


class CallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: the backend exchanges the code
    and verifies the ID token; a refusal is shown on a page that says why."""

    provider: Provider | None = None

    def get(self, request):
        state = request.GET.get("state", "")
        pending = dict(request.session.get(SESSION_STATES) or {})
        provider = get_provider(pending.pop(state, None))
        known = state in (request.session.get("oidc_states") or {})
        if provider is None or not known:
            return _refused(request, EXPIRED_MSG, provider=provider, status=400)
        request.session[SESSION_STATES] = pending
        self.provider = provider
        request.sso_provider = provider
        issuer = request.GET.get("iss")
        if issuer and issuer != provider.issuer:
            # RFC 9207: the answer names its issuer; a mix-up is refused.
            request.session["oidc_states"].pop(state, None)
            request.session.modified = True
            return _refused(
                request,
                MIXED_UP_MSG.format(provider=provider.name),
                provider=provider,
                status=403,
            )
        error = request.GET.get("error")
        if error:
            reason = request.GET.get("error_description") or error
            request.sso_refusal_message = PROVIDER_REFUSED_MSG.format(
                provider=provider.name, reason=reason[:300]
            )
        try:
            return super().get(request)
        except SuspiciousOperation:
            return _refused(request, EXPIRED_MSG, provider=provider, status=400)

    def login_failure(self):
        request = self.request
        refusal = getattr(request, "sso_refusal", None)
        message = (
            getattr(request, "sso_refusal_message", None)
            or (refusal.message if refusal is not None else None)
            or GENERIC_MSG.format(provider=self.provider.name)
        )
        return _refused(request, message, provider=self.provider, status=403)

    def login_success(self):
        super().login_success()  # signs the user in (a new session key)
        session = self.request.session
        session[SESSION_PROVIDER] = self.provider.key
        try:
            origin = discover(self.provider).end_session_origin
        except DiscoveryError:
            origin = None
        if origin:
            session[SESSION_LOGOUT_ORIGIN] = origin
        next_url = session.pop("oidc_login_next", None)
        return HttpResponseRedirect(
            next_url or landing_url(self.user) or reverse("home")
        )


@never_cache
@require_POST
def logout(request):
    """End the portal session; for a single sign-on session, go on to the
    provider's end-session endpoint (RP-initiated logout) when it has one, which
    sends the browser back to the sign-in page."""
    provider = get_provider(request.session.get(SESSION_PROVIDER))
    id_token = request.session.get(SESSION_ID_TOKEN)
    auth.logout(request)
    if provider is not None and id_token:
        try:
            end_session = discover(provider).end_session
        except DiscoveryError:
            end_session = None
        if end_session:
            query = urlencode(
                {
                    "id_token_hint": id_token,
                    "post_logout_redirect_uri": request.build_absolute_uri(
                        reverse("login")
                    ),
                    "client_id": provider.client_id,
                }
            )
            separator = "&" if "?" in end_session else "?"
            return HttpResponseRedirect(f"{end_session}{separator}{query}")
    return redirect("login")

"""Authentication backends: OpenID Connect sign-in (mozilla-django-oidc, set up
for the provider of each sign-in) and password sign-in that an organisation can
switch off.

mozilla-django-oidc does the authorization-code exchange (with PKCE), keeps
state and nonce in the session, finds the signing key in the provider's JWKS and
fetches the user info. It reads one provider from settings and does not check
the ID token's issuer or audience, so ``OidcBackend`` gives it the provider of the
sign-in in progress and verifies the token itself with PyJWT: signature (RS256 or
the provider's configured algorithms, never ``none`` or HMAC), issuer, audience
(and ``azp``), expiry, issue time, nonce; the user info must name the same
subject.
"""

from __future__ import annotations

import logging
from functools import cache

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import connections, router
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from finops_portal.signin import refuse

from .models import SsoConnection
from .providers import DiscoveryError, Provider, discover, get_provider
from .services import SignInRefused, sso_sign_in

logger = logging.getLogger(__name__)

# Seconds of clock difference tolerated between the provider and the portal.
LEEWAY_S = 60
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]
# One callback for every provider: the session's state says which one it was.
CALLBACK_URL_NAME = "sso:callback"

TOKEN_EXPIRED_MSG = (
    "The sign-in answer from {provider} has expired. Start again; if this keeps "
    "happening, check that this server's clock is right."
)
TOKEN_ISSUER_MSG = (
    "The sign-in answer did not come from {provider}: its issuer is not the one "
    "configured."
)
TOKEN_AUDIENCE_MSG = (
    "The sign-in answer from {provider} was issued for another application."
)
TOKEN_SIGNATURE_MSG = (
    "The sign-in answer claiming to come from {provider} is not signed by it, so "
    "it was refused."
)
TOKEN_INVALID_MSG = "The sign-in answer from {provider} is not valid ({problem})."
PROVIDER_ERROR_MSG = (
    "{provider} did not complete the sign-in. Try again in a minute; if it keeps "
    "failing, tell your administrator."
)
USERINFO_SUBJECT_MSG = "{provider} described another user than the one signing in."
SSO_ONLY_MSG = (
    "{org} signs in with single sign-on: use “Sign in with {provider}” below."
)


class OidcBackend(OIDCAuthenticationBackend):
    """Signs in the user of an OpenID Connect callback; the callback view puts the
    provider on ``request.sso_provider``. Refusals are raised as ``SignInRefused``
    (a PermissionDenied, so Django reports a failed sign-in to django-axes) and
    kept on ``request.sso_refusal`` for the view to show."""

    def __init__(self, *args, **kwargs):
        # The parent reads one provider's endpoints from settings here; they are
        # set per sign-in in authenticate() instead.
        self.UserModel = get_user_model()
        self.provider: Provider | None = None

    def get_settings(self, attr, *args):
        overrides = {
            "OIDC_RP_SCOPES": self.provider.scopes if self.provider else "openid",
            "OIDC_STORE_ID_TOKEN": True,
            "OIDC_VERIFY_SSL": True,
            "OIDC_TIMEOUT": settings.OIDC_TIMEOUT_SECONDS,
            "OIDC_TOKEN_USE_BASIC_AUTH": False,
            "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
        }
        if attr in overrides:
            return overrides[attr]
        return super().get_settings(attr, *args)

    def authenticate(self, request, **kwargs):
        provider = getattr(request, "sso_provider", None)
        if provider is None or "nonce" not in kwargs:
            return None  # a password sign-in, or not our callback
        self.provider = provider
        try:
            endpoints = discover(provider)
        except DiscoveryError as error:
            self._refuse(request, error.message, "discovery")
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints.token
        self.OIDC_OP_USER_ENDPOINT = endpoints.userinfo
        self.OIDC_OP_JWKS_ENDPOINT = endpoints.jwks
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = provider.client_secret
        self.OIDC_RP_SIGN_ALGO = provider.algorithms[0]
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            return super().authenticate(request, **kwargs)
        except SignInRefused as refusal:
            request.sso_refusal = refusal
            raise
        except (requests.RequestException, SuspiciousOperation, ValueError) as error:
            logger.warning("Single sign-on with %s failed: %s", provider.key, error)
            self._refuse(
                request,
                PROVIDER_ERROR_MSG.format(provider=provider.name),
                "provider_error",
            )

    def _refuse(self, request, message: str, reason: str):
        refusal = SignInRefused(message, reason)
        request.sso_refusal = refusal
        raise refusal

    def verify_token(self, token, **kwargs):
        """The verified claims of the ID token; SignInRefused if any check fails."""
        provider = self.provider
        name = provider.name
        if not token:
            self._refuse(
                self.request,
                TOKEN_INVALID_MSG.format(provider=name, problem="no ID token"),
                "no_id_token",
            )
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            self._refuse(
                self.request,
                TOKEN_INVALID_MSG.format(provider=name, problem="not a JWT"),
                "malformed",
            )
        if header.get("alg") not in provider.algorithms:
            # "none" and HMAC (keyed with the client secret) are never accepted.
            self._refuse(
                self.request, TOKEN_SIGNATURE_MSG.format(provider=name), "algorithm"
            )
        try:
            key = self.retrieve_matching_jwk(token)
        except SuspiciousOperation:
            self._refuse(
                self.request, TOKEN_SIGNATURE_MSG.format(provider=name), "unknown_key"
            )
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=list(provider.algorithms),
                audience=provider.client_id,
                issuer=provider.issuer,
                leeway=LEEWAY_S,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            self._refuse(
                self.request, TOKEN_EXPIRED_MSG.format(provider=name), "expired"
            )
        except jwt.InvalidIssuerError:
            self._refuse(self.request, TOKEN_ISSUER_MSG.format(provider=name), "issuer")
        except jwt.InvalidAudienceError:
            self._refuse(
                self.request, TOKEN_AUDIENCE_MSG.format(provider=name), "audience"
            )
        except jwt.InvalidSignatureError:
            self._refuse(
                self.request, TOKEN_SIGNATURE_MSG.format(provider=name), "signature"
            )
        except jwt.PyJWTError as error:
            self._refuse(
                self.request,
                TOKEN_INVALID_MSG.format(provider=name, problem=str(error)),
                "invalid",
            )
        audiences = (
            payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        )
        if len(audiences) > 1 and payload.get("azp") != provider.client_id:
            self._refuse(self.request, TOKEN_AUDIENCE_MSG.format(provider=name), "azp")
        nonce = kwargs.get("nonce")
        if not nonce or payload.get("nonce") != nonce:
            self._refuse(
                self.request,
                TOKEN_INVALID_MSG.format(
                    provider=name, problem="the nonce does not match"
                ),
                "nonce",
            )
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the user-info endpoint when the
        provider has one; it must describe the same subject."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and access_token:
            info = super().get_userinfo(access_token, id_token, payload)
            if str(info.get("sub")) != str(payload["sub"]):
                self._refuse(
                    self.request,
                    USERINFO_SUBJECT_MSG.format(provider=self.provider.name),
                    "userinfo_subject",
                )
            for name, value in info.items():
                claims.setdefault(name, value)
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            signed_in = sso_sign_in(provider=self.provider, claims=claims)
        except SignInRefused as refusal:
            self.request.sso_refusal = refusal
            raise
        self.request.sso_connection = signed_in.connection
        return signed_in.user


@cache
def _user_sql(alias: str) -> tuple[str, list[str]]:
    """The statement reading one user by primary key, composed once by the ORM,
    and the attribute names of its columns."""
    user_model = get_user_model()
    fields = user_model._meta.concrete_fields
    compiler = (
        user_model._default_manager.using(alias)
        .filter(pk=0)
        .order_by()
        .query.get_compiler(alias)
    )
    sql, _params = compiler.as_sql()
    return sql, [f.attname for f in fields]


def user_by_pk(user_id):
    """The user with this primary key, or None: the query of
    ``User.objects.get(pk=...)`` composed once per process rather than on every
    request that reads ``request.user`` (on PostgreSQL, whose driver returns every
    column of the user as the ORM would; elsewhere through the ORM)."""
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return user_model._default_manager.using(alias).filter(pk=user_id).first()
    sql, names = _user_sql(alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_model._meta.pk.to_python(user_id)])
        row = cursor.fetchone()
    return None if row is None else user_model.from_db(alias, names, row)


class PasswordBackend(ModelBackend):
    """Django's password sign-in, refused for members of an organisation whose
    single sign-on connection switches passwords off (administrators excepted,
    so that someone can still get in when the provider is down). The check runs
    after the password, so it tells nothing to someone who does not know it.

    The user of a session is read on every request, as Django's backend does
    (a deleted or deactivated user is refused at once), by ``user_by_pk``."""

    def get_user(self, user_id):
        user = user_by_pk(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(
            request, username=username, password=password, **kwargs
        )
        if user is None or user.is_superuser:
            return user
        connection = (
            SsoConnection.objects.filter(
                enabled=True,
                password_sign_in=False,
                organization__memberships__user=user,
            )
            .select_related("organization")
            .order_by("pk")
            .first()
        )
        if connection is None:
            return user
        provider = get_provider(connection.provider)
        refuse(
            request,
            SSO_ONLY_MSG.format(
                org=connection.organization.name,
                provider=provider.name if provider else connection.provider,
            ),
        )
        return None

"""The configured identity providers and what their discovery documents say.

A provider's endpoints come from ``<issuer>/.well-known/openid-configuration``,
read once and kept in the cache for ``DISCOVERY_CACHE_SECONDS``. The document must
name the configured issuer exactly (OpenID Connect Discovery 1.0, section 4.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_CACHE_SECONDS = 3600
UNREACHABLE_MSG = "{name} cannot be reached just now. Try again in a minute."
BAD_DISCOVERY_MSG = (
    "{name} is not configured correctly for single sign-on ({problem}). "
    "Tell your administrator."
)
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class DiscoveryError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Provider:
    """One identity provider of ``OIDC_PROVIDERS`` (see ``sso.config``)."""

    key: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str
    userinfo: str | None
    end_session: str | None

    @property
    def end_session_origin(self) -> str | None:
        if not self.end_session:
            return None
        parts = urlsplit(self.end_session)
        return f"{parts.scheme}://{parts.netloc}"


def providers() -> dict[str, Provider]:
    return {
        key: Provider(**{**values, "algorithms": tuple(values["algorithms"])})
        for key, values in settings.SSO_PROVIDERS.items()
    }


def get_provider(key: str | None) -> Provider | None:
    values = settings.SSO_PROVIDERS.get(key or "")
    if values is None:
        return None
    return Provider(**{**values, "algorithms": tuple(values["algorithms"])})


def _cache_key(provider: Provider) -> str:
    return "sso:discovery:" + sha256(provider.issuer.encode()).hexdigest()[:32]


def discover(provider: Provider, *, refresh: bool = False) -> Endpoints:
    """The provider's endpoints; DiscoveryError with a message for the user."""
    key = _cache_key(provider)
    document = None if refresh else cache.get(key)
    if document is None:
        url = provider.issuer.rstrip("/") + DISCOVERY_PATH
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT_SECONDS)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError):
            raise DiscoveryError(UNREACHABLE_MSG.format(name=provider.name)) from None
        problem = _problem(provider, document)
        if problem:
            raise DiscoveryError(
                BAD_DISCOVERY_MSG.format(name=provider.name, problem=problem)
            )
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return Endpoints(
        authorization=document["authorization_endpoint"],
        token=document["token_endpoint"],
        jwks=document["jwks_uri"],
        userinfo=document.get("userinfo_endpoint"),
        end_session=document.get("end_session_endpoint"),
    )


def _problem(provider: Provider, document) -> str | None:
    if not isinstance(document, dict):
        return "its discovery document is not a JSON object"
    if document.get("issuer") != provider.issuer:
        return (
            f"its discovery document names the issuer {document.get('issuer')}, "
            f"not {provider.issuer}"
        )
    missing = [name for name in REQUIRED_ENDPOINTS if not document.get(name)]
    if missing:
        return "its discovery document lacks " + ", ".join(missing)
    return None

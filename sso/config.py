"""Identity providers, read from the environment (no Django models: settings import it).

``OIDC_PROVIDERS`` lists provider keys (``entra,okta``); each key ``K`` has

- ``OIDC_K_ISSUER``: the issuer URL (its ``/.well-known/openid-configuration`` is read);
- ``OIDC_K_CLIENT_ID`` and ``OIDC_K_CLIENT_SECRET``: the portal's registration there;
- ``OIDC_K_SCOPES`` (default ``openid email profile``): add ``groups`` where the
  provider sends groups only for that scope (Okta);
- ``OIDC_K_NAME`` (default: the key): shown as "Sign in with <name>";
- ``OIDC_K_SIGN_ALGS`` (default ``RS256``): the ID-token algorithms accepted.

Which organisations sign in through which provider, and with which groups, is data
(``sso.models.SsoConnection``), edited in the admin.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from finops_portal.env import env, env_list

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DEFAULT_SCOPES = "openid email profile"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
ALLOWED_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"}


def _var(key: str, field: str) -> str:
    return f"OIDC_{key.upper().replace('-', '_')}_{field}"


def oidc_providers_from_env() -> dict[str, dict]:
    """``{key: {name, issuer, client_id, client_secret, scopes, algorithms}}``;
    a missing or bad value raises ImproperlyConfigured naming the variable."""
    providers = {}
    for key in env_list("OIDC_PROVIDERS", []):
        key = key.lower()
        if not KEY_RE.match(key):
            raise ImproperlyConfigured(
                f"OIDC_PROVIDERS: {key!r} is not a provider key (lower-case letters, "
                "digits and hyphens, such as entra or okta-eu)."
            )
        values = {
            field: env(_var(key, field))
            for field in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET")
        }
        missing = [_var(key, f) for f, value in values.items() if not value]
        if missing:
            raise ImproperlyConfigured(
                f"OIDC_PROVIDERS names {key!r}, so {' and '.join(missing)} "
                "must be set in the environment."
            )
        issuer = values["ISSUER"]
        parts = urlsplit(issuer)
        local = parts.hostname in LOOPBACK_HOSTS
        if (
            not parts.netloc
            or parts.scheme != "https"
            and not (parts.scheme == "http" and local)
        ):
            raise ImproperlyConfigured(
                f"{_var(key, 'ISSUER')} must be the issuer's https:// URL (http:// "
                f"only for a provider on this machine), not {issuer!r}."
            )
        scopes = env(_var(key, "SCOPES")) or DEFAULT_SCOPES
        if "openid" not in scopes.split():
            raise ImproperlyConfigured(f"{_var(key, 'SCOPES')} must include openid.")
        algorithms = env_list(_var(key, "SIGN_ALGS"), ["RS256"])
        unknown = sorted(set(algorithms) - ALLOWED_ALGS)
        if unknown:
            raise ImproperlyConfigured(
                f"{_var(key, 'SIGN_ALGS')}: unsupported {', '.join(unknown)} "
                f"(use {', '.join(sorted(ALLOWED_ALGS))})."
            )
        providers[key] = {
            "key": key,
            "name": env(_var(key, "NAME")) or key,
            "issuer": issuer,
            "client_id": values["CLIENT_ID"],
            "client_secret": values["CLIENT_SECRET"],
            "scopes": " ".join(scopes.split()),
            "algorithms": algorithms,
        }
    return providers

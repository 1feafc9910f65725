"""Tiny helpers that read settings from the environment and fail loudly.

Every error names the variable, so a bad deployment says what to fix instead of
failing later deep inside a database or broker driver.
"""

import os
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from .client_ip import parse_networks

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off"}
BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "memory"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, *, default: bool) -> bool:
    value = env(name).lower()
    if not value:
        return default
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(
        f"{name} must be true or false, not {os.environ[name]!r}."
    )


def env_int(name: str, default: int) -> int:
    value = env(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}."
        ) from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    """Parse a database URL (postgres://, sqlite:///) into Django's DATABASES entry."""
    url = env(name) or default
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:/// URL, not {_redact(url)!r}."
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # the parser raises several kinds
        raise ImproperlyConfigured(
            f"{name} is not a valid database URL: {exc}"
        ) from None
    if config["ENGINE"].endswith("postgresql") and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database (postgres://host/NAME).")
    return config


def env_broker_url(name: str, default: str = "") -> str:
    url = env(name) or default
    if url and urlsplit(url).scheme not in BROKER_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a redis:// (or amqp://) URL, not {_redact(url)!r}."
        )
    return url


def env_redis_url(name: str, default: str = "") -> str:
    url = env(name) or default
    if url and urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a redis:// URL, not {_redact(url)!r}."
        )
    return url


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or networks (``10.0.0.0/8, 192.0.2.10``)."""
    values = env_list(name, [])
    try:
        parse_networks(values)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None
    return values


def env_header(name: str, default: str) -> str:
    """An HTTP header name (``X-Forwarded-For``) as its ``request.META`` key."""
    value = env(name) or default
    if not value.replace("-", "").replace("_", "").isalnum():
        raise ImproperlyConfigured(
            f"{name} must be an HTTP header name such as {default}, not {value!r}."
        )
    return "HTTP_" + value.upper().replace("-", "_")


def missing(**values: object) -> list[str]:
    """Names of the given settings that are empty."""
    return [name for name, value in values.items() if not value]


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(parts.password, "***")
    return url

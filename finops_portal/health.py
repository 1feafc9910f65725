"""Health checks of the services the portal depends on."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

CHECK_TIMEOUT_S = 2


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return _down(exc, started)
    return _up(started, engine=connection.vendor)


def check_cache() -> dict:
    started = time.monotonic()
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        cache.set("healthz", "ok", 10)
        if cache.get("healthz") != "ok":
            raise RuntimeError("value written was not read back")
    except Exception as exc:
        return _down(exc, started, backend=backend)
    return _up(started, backend=backend)


def check_broker() -> dict:
    """The broker's state; ``in-process`` when tasks run eagerly (no broker configured)."""
    started = time.monotonic()
    if not settings.TASK_BROKER_CONFIGURED:
        return {"status": "in-process", "ok": True}
    from finops_portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_S)
    except Exception as exc:
        return _down(exc, started)
    return _up(started)


def _up(started: float, **extra) -> dict:
    return {
        "status": "ok",
        "ok": True,
        "ms": round((time.monotonic() - started) * 1000, 1),
        **extra,
    }


def _down(exc: Exception, started: float, **extra) -> dict:
    return {
        "status": "down",
        "ok": False,
        "error": exc.__class__.__name__,
        "ms": round((time.monotonic() - started) * 1000, 1),
        **extra,
    }

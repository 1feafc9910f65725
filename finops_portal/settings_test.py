"""Test settings: the real settings, made fast and deterministic.

Tasks do not run by themselves: a test of a task calls it, a test of enqueueing
captures the on-commit callbacks, tests of the in-process path (the embedded
default) use the ``eager_tasks`` fixture, and tests that need a real worker start
one (the ``start_worker`` fixture in ``conftest.py``).
"""

import os
import re

from .settings import *  # noqa: F403
from .settings import CELERY_BROKER_URL, TASK_BROKER_CONFIGURED

# Parallel test processes (pytest-xdist) each get a Redis database of their own,
# so the workers one process starts never take another's tasks.
_XDIST = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
if _XDIST and TASK_BROKER_CONFIGURED and CELERY_BROKER_URL.startswith("redis"):
    _base, _db = re.match(r"(.*?)(?:/(\d+))?$", CELERY_BROKER_URL).groups()
    CELERY_BROKER_URL = f"{_base}/{int(_db or 0) + 1 + int(_XDIST.group(1))}"
    # results (and the workers' cache) on the same database as the broker
    REDIS_URL = CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    # Celery reads these variables before its configuration: keep them in step
    os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"] = CELERY_BROKER_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True
# In-process, a prebuild would run inside every submit; its tests switch it on.
REPORTS_PREBUILD = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Sign-in throttling is switched on by the tests that exercise it.
AXES_ENABLED = False
# Query-count tests count the session read; keep it the same with or without Redis.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Tests deliver webhooks to a receiver on 127.0.0.1; the refusals have own tests.
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOW_PRIVATE = True

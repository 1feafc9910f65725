"""Test settings: the real settings, made fast and deterministic.

Tasks do not run by themselves: a test of a task calls it, a test of enqueueing
captures the on-commit callbacks, tests of the in-process path (the embedded
default) use the ``eager_tasks`` fixture, and tests that need a real worker start
one (the ``start_worker`` fixture in ``conftest.py``).
"""

from .settings import *  # noqa: F403
from .settings import TASK_BROKER_CONFIGURED  # noqa: F401

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

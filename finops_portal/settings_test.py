"""Test settings: the real settings, made fast and deterministic.

Tasks run in-process by default; tests that need a real worker start one (see the
``celery_worker`` fixture in ``conftest.py``) and switch the app to the broker.
"""

from .settings import *  # noqa: F403
from .settings import TASK_BROKER_CONFIGURED  # noqa: F401

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
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

"""Settings of the local OpenID Connect provider (see ``devidp/__init__.py``)."""

import json
import os
from pathlib import Path

STATE_DIR = Path(os.environ.get("DEVIDP_STATE_DIR", "/tmp/devidp"))
ISSUER = os.environ.get("DEVIDP_ISSUER", "http://127.0.0.1:8001/o")
CONFIG = json.loads(Path(os.environ["DEVIDP_CONFIG"]).read_text())
# client id -> the fault built into its ID tokens ("expired", "forged", "wrong-issuer")
DEVIDP_FAULTS = {
    client["client_id"]: client["fault"]
    for client in CONFIG.get("clients", [])
    if client.get("fault")
}

DEBUG = False
SECRET_KEY = "devidp-local-only-" + "k" * 40  # noqa: S105 - a local test provider
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "devidp.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "devidp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": STATE_DIR / "devidp.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
# The portal runs on the same host (another port) and cookies ignore ports: keep
# this provider's cookies apart from the portal's.
SESSION_COOKIE_NAME = "devidp_session"
CSRF_COOKIE_NAME = "devidp_csrftoken"
LOGIN_URL = "/login/"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": (STATE_DIR / "signing-key.pem").read_text()
    if (STATE_DIR / "signing-key.pem").exists()
    else "",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OAUTH2_VALIDATOR_CLASS": "devidp.validators.DevValidator",
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your name",
        "email": "Your email address",
        "groups": "Your groups",
    },
    "PKCE_REQUIRED": True,
}

"""Settings, read from the environment.

Defaults suit development on the embedded default (SQLite, tasks in-process).
With ``DEBUG=false`` the secret key and allowed hosts are required, and a bad
``DATABASE_URL`` or broker URL stops start-up with a message naming the variable.
"""

import warnings
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

from sso.config import oidc_providers_from_env

from .env import (
    env,
    env_bool,
    env_broker_url,
    env_database,
    env_header,
    env_int,
    env_list,
    env_networks,
    env_redis_url,
    missing,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = env("SECRET_KEY", "")
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not DEBUG:
    missing_names = missing(SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS=ALLOWED_HOSTS)
    if missing_names:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"DEBUG is off, so {' and '.join(missing_names)} must be set in the environment."
        )
if not SECRET_KEY:
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The reverse proxies in front of the portal: only their TRUSTED_PROXY_HEADER is
# believed when finding the client's address (sign-in lockouts, API throttles).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
TRUSTED_PROXY_HEADER = env_header("TRUSTED_PROXY_HEADER", "X-Forwarded-For")

INSTALLED_APPS = [
    "finops_portal.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "finops_portal",
    "capabilities",
    "assessment",
    "benchmarks",
    "evidence",
    "notifications",
    "sso",
    "improvement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A null character in the address is a 400 before any view looks it up.
    "finops_portal.middleware.NullCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "finops_portal.middleware.SecurityHeadersMiddleware",
    # After SecurityHeadersMiddleware, so it sees the response first: a single
    # sign-on session's pages let the sign-out form redirect to the provider.
    "sso.middleware.LogoutFormActionMiddleware",
    # Last, as django-axes requires: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "finops_portal.urls"
CSRF_FAILURE_VIEW = "finops_portal.views.csrf_failure"
WSGI_APPLICATION = "finops_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assessment.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # WAL lets readers proceed while the autosave writes; a busy timeout waits
    # for the writer instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------
REDIS_URL = env_redis_url("REDIS_URL")
CELERY_BROKER_URL = env_broker_url("CELERY_BROKER_URL", REDIS_URL)
if not REDIS_URL and CELERY_BROKER_URL.startswith("redis"):
    REDIS_URL = CELERY_BROKER_URL

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "finops_portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "finops",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Sessions read from Redis, written through to the database: one query fewer
    # on every request, and nothing lost if Redis is flushed.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without a broker, tasks run in-process right after the transaction commits.
TASK_BROKER_CONFIGURED = bool(CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not TASK_BROKER_CONFIGURED
# After each roll-up, workers build every team report of the cycle into the cache,
# so the first visit reads a finished page. Off without a broker: in-process, it
# would run inside the submit request.
REPORTS_PREBUILD = env_bool("REPORTS_PREBUILD", default=TASK_BROKER_CONFIGURED)
CELERY_TASK_EAGER_PROPAGATES = False
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_RESULT_EXPIRES = 3600
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers unacknowledged tasks after this; far above the time limits.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# A publish while the broker is down gives up quickly: the beat sweeper catches up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Each worker sends these at start-up and every WORKER_SWEEP_SECONDS (0: never), so
# the work of a worker killed mid-task is picked up within a minute, even without
# beat (see finops_portal/celery.py).
WORKER_SWEEP_TASKS = [
    "benchmarks.tasks.rollup_sweep_stale",
    "notifications.tasks.deliveries_sweep",
    "improvement.tasks.webhook_deliveries_sweep",
]
WORKER_SWEEP_SECONDS = env_int("WORKER_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    # https://crontab.guru/#*_*_*_*_* : every minute
    "sweep-stale-rollups": {
        "task": "benchmarks.tasks.rollup_sweep_stale",
        "schedule": crontab(minute="*"),
    },
    # https://crontab.guru/#*_*_*_*_* : every minute
    "sweep-undispatched-events": {
        "task": "finops_portal.tasks.events_sweep",
        "schedule": crontab(minute="*"),
    },
    # https://crontab.guru/#*_*_*_*_* : every minute (cycles open, close, remind)
    "notifications-schedule-tick": {
        "task": "notifications.tasks.schedule_tick",
        "schedule": crontab(minute="*"),
    },
    # https://crontab.guru/#*_*_*_*_* : every minute (mails a lost message left queued)
    "notifications-deliveries-sweep": {
        "task": "notifications.tasks.deliveries_sweep",
        "schedule": crontab(minute="*"),
    },
    # https://crontab.guru/#*_*_*_*_* : every minute
    "sweep-evidence-ingestions": {
        "task": "evidence.tasks.ingestions_sweep",
        "schedule": crontab(minute="*"),
    },
    # https://crontab.guru/#*/15_*_*_*_* : every 15 minutes
    "scan-evidence-folders": {
        "task": "evidence.tasks.folder_sources_scan",
        "schedule": crontab(minute="*/15"),
    },
    # https://crontab.guru/#*_*_*_*_* : every minute (webhook deliveries left pending)
    "improvement-webhook-deliveries-sweep": {
        "task": "improvement.tasks.webhook_deliveries_sweep",
        "schedule": crontab(minute="*"),
    },
    # https://crontab.guru/#7_6_*_*_* : daily at 06:07 (initiatives whose due date nears)
    "improvement-initiatives-due": {
        "task": "improvement.tasks.initiatives_due_sweep",
        "schedule": crontab(minute="7", hour="6"),
    },
    # https://crontab.guru/#17_3_*_*_* : daily at 03:17
    "clean-evidence-storage": {
        "task": "evidence.tasks.storage_clean",
        "schedule": crontab(minute="17", hour="3"),
    },
}

# --- Improvement: outbound webhooks ----------------------------------------------
# http:// receivers and private or loopback addresses are refused unless DEBUG is on
# (or these say otherwise: tests deliver to a receiver on 127.0.0.1).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", default=DEBUG)
WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 256 * 1024)
# Seconds before the second attempt; each later one waits twice as long.
WEBHOOK_BACKOFF_S = env_int("WEBHOOK_BACKOFF_S", 30)
# Pending deliveries older than this are sent again by the sweep (a crash, a lost message).
WEBHOOK_SWEEP_S = env_int("WEBHOOK_SWEEP_S", 60)
# Days before an initiative's due date when "due soon" is announced.
INITIATIVE_DUE_SOON_DAYS = env_int("INITIATIVE_DUE_SOON_DAYS", 14)

# --- Evidence from FOCUS cost data ------------------------------------------------
# Uploaded exports and their compact summaries live here: outside the web root,
# never served, each file named by an id (never by the name it was uploaded with).
EVIDENCE_ROOT = Path(env("EVIDENCE_ROOT", str(BASE_DIR / "var" / "evidence")))
EVIDENCE_UPLOAD_MAX_BYTES = env_int("EVIDENCE_UPLOAD_MAX_BYTES", 10 * 1024**3)
EVIDENCE_CHUNK_BYTES = env_int("EVIDENCE_CHUNK_BYTES", 4 * 1024 * 1024)
# Server folders a lead may point a folder source at (the provider's scheduled
# exports land there); empty: folder sources are off.
EVIDENCE_IMPORT_ROOTS = env_list("EVIDENCE_IMPORT_ROOTS", [])
EVIDENCE_MAX_AGE_DAYS = env_int("EVIDENCE_MAX_AGE_DAYS", 90)
# DuckDB works out of core within this memory and spills to EVIDENCE_ROOT/tmp.
EVIDENCE_DUCKDB_MEMORY_LIMIT = env("EVIDENCE_DUCKDB_MEMORY_LIMIT", "1GB")
EVIDENCE_DUCKDB_THREADS = env_int("EVIDENCE_DUCKDB_THREADS", 0)  # 0: every core
# An ingestion whose worker has not reported for this long is handed to another.
EVIDENCE_STALE_AFTER_S = env_int("EVIDENCE_STALE_AFTER_S", 120)

# --- Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
DEMO_PASSWORD = env("DEMO_PASSWORD", "finops-demo")
AUTHENTICATION_BACKENDS = [
    # Refuses sign-ins from a locked-out username+address or address (see lockout.py).
    "axes.backends.AxesStandaloneBackend",
    # Passwords, unless the user's organisation signs in only with single sign-on.
    "sso.backends.PasswordBackend",
    # OpenID Connect sign-in through the providers of OIDC_PROVIDERS.
    "sso.backends.OidcBackend",
]
# Identity providers for single sign-on (sso/config.py says which variables).
SSO_PROVIDERS = oidc_providers_from_env()
OIDC_TIMEOUT_SECONDS = env_int("OIDC_TIMEOUT_SECONDS", 10)
# Failures of one username from one address before that pair is locked out...
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
# ...and failures from one address, any usernames, before the address is.
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "finops_portal.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "finops_portal.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "finops_portal.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "finops_portal.lockout.username_key"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Email (invitations) ------------------------------------------------------------
# SMTP when EMAIL_HOST is set; otherwise, in development, emails are printed.
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = 10
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", "FinOps maturity portal <noreply@localhost>"
)
# The portal's public address for links in emails; empty: the requesting address.
PORTAL_URL = env("PORTAL_URL").rstrip("/")

# --- Notifications (invitations, reminders, digests; see notifications/) -------------
# Mails per recipient domain and period ("600/min", "20/s", "5000/h"), across workers.
NOTIFICATIONS_DOMAIN_RATE = env("NOTIFICATIONS_DOMAIN_RATE", "600/min")
# Tries of one mail on SMTP errors, the first retry after NOTIFICATIONS_RETRY_SECONDS,
# doubling each time.
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 5)
NOTIFICATIONS_RETRY_SECONDS = env_int("NOTIFICATIONS_RETRY_SECONDS", 60)
# A mail claimed by a worker that died is handed to another after this.
NOTIFICATIONS_CLAIM_LEASE_SECONDS = env_int("NOTIFICATIONS_CLAIM_LEASE_SECONDS", 300)
# How long an unsubscribe link in a mail works.
NOTIFICATIONS_UNSUBSCRIBE_DAYS = env_int("NOTIFICATIONS_UNSUBSCRIBE_DAYS", 180)

# --- REST framework -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that anonymous requests answer 401 with "WWW-Authenticate: Token".
        "finops_portal.api.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "finops_portal.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "finops_portal.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "finops_portal.api.TokenUserRateThrottle",
        "finops_portal.api.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env("API_TOKEN_RATE", "1000/min"),
        "anon": env("API_ANON_RATE", "60/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FinOps maturity portal API",
    "DESCRIPTION": "Frameworks, cycles, assessments, answers, scores and benchmarks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The validator badge would load an image from swagger.io, which the CSP refuses.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "finops_portal.api.describe_path_parameters",
    ],
    "ENUM_NAME_OVERRIDES": {
        "FrameworkStatusEnum": "capabilities.models.Framework.Status",
        "CycleStatusEnum": "assessment.models.Cycle.Status",
        "AssessmentStatusEnum": "assessment.models.Assessment.Status",
        "RecommendationSizeEnum": "capabilities.models.Recommendation.Size",
        "MappingKindEnum": "evidence.models.TeamMapping.Kind",
        "TeamKindEnum": "assessment.models.Team.Kind",
        "ActionItemStatusEnum": "improvement.models.ActionItem.Status",
        "ActionItemSourceEnum": "improvement.models.ActionItem.Source",
        "WebhookDeliveryStatusEnum": "improvement.models.WebhookDelivery.Status",
    },
}

# --- I18N, static ---------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the files that WhiteNoise serves when DEBUG is off.
STATIC_ROOT = Path(env("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "finops_portal.staticfinders.PlotlyFinder",
]
if DEBUG:
    # runserver serves static files from the finders; no collectstatic needed.
    warnings.filterwarnings(
        "ignore", message="No directory at", module="whitenoise.base"
    )
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Limits and security ---------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FRAMEWORK_FILE_MAX_BYTES = 2 * 1024 * 1024
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the autosave script reads it
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # In-process tasks (no broker) would log every run into the page's request
        # log; a worker logs them as usual.
        **(
            {}
            if TASK_BROKER_CONFIGURED
            else {"celery.app.trace": {"level": env("LOG_LEVEL_TASKS", "WARNING")}}
        ),
    },
}

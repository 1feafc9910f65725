import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env) -> subprocess.CompletedProcess:
    """Import the real settings module in a fresh interpreter with the given environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
        }
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="finops_portal.settings")
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_are_sqlite_and_in_process_tasks():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_broker_url_switches_tasks_to_a_worker():
    result = load_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/9")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == "False"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "mysq://x"},
            "DATABASE_URL must be a postgres:// or sqlite:/// URL",
        ),
        (
            {"DATABASE_URL": "postgres://127.0.0.1:5432/"},
            "DATABASE_URL names no database",
        ),
        (
            {"CELERY_BROKER_URL": "http://broker"},
            "CELERY_BROKER_URL must be a redis:// (or amqp://) URL",
        ),
        ({"REDIS_URL": "memcached://x"}, "REDIS_URL must be a redis:// URL"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        (
            {"DEBUG": "false", "ALLOWED_HOSTS": "example.com"},
            "DEBUG is off, so SECRET_KEY must be set",
        ),
        (
            {"DEBUG": "false", "SECRET_KEY": "x" * 50},
            "DEBUG is off, so ALLOWED_HOSTS must be set",
        ),
        (
            {"DEBUG": "false"},
            "DEBUG is off, so SECRET_KEY and ALLOWED_HOSTS must be set",
        ),
    ],
)
def test_bad_configuration_fails_naming_the_variable(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: " + message in result.stderr


def test_passwords_in_bad_urls_are_not_printed():
    result = load_settings(DATABASE_URL="mysql://user:s3cret@host/db")
    assert result.returncode != 0
    assert "s3cret" not in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    # The browser tests allow sync database calls beside Playwright's event loop;
    # a deployment never sets that, so neither does this check.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="finops_portal.settings",
        DEBUG="false",
        SECRET_KEY="a-long-random-production-secret-key-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="finops.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

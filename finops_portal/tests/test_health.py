import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
CLOSED_PORT_POSTGRES = "postgres://postgres@127.0.0.1:1/nothing"
SERVICE_VARS = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}


def healthz_with(**env) -> tuple[int, dict]:
    """GET /healthz in a fresh interpreter whose settings come from ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update(env, DJANGO_SETTINGS_MODULE="finops_portal.settings")
    code = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='127.0.0.1').get('/healthz'); print(r.status_code); print(r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split("\n", 1)
    return int(status), json.loads(body)


@pytest.mark.django_db
def test_healthz_answers_ok_in_the_test_settings(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "broker": True,
    }


def test_embedded_default_reports_sqlite_locmem_and_in_process_tasks(tmp_path):
    status, body = healthz_with(DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}")
    assert status == 200
    assert body["checks"]["database"]["engine"] == "sqlite"
    assert body["checks"]["cache"]["backend"] == "LocMemCache"
    assert body["checks"]["broker"]["status"] == "in-process"


def test_a_database_that_does_not_answer_is_reported(tmp_path):
    status, body = healthz_with(DATABASE_URL=CLOSED_PORT_POSTGRES)
    assert status == 503
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["cache"]["status"] == "ok"


def test_a_cache_and_broker_that_do_not_answer_are_reported(tmp_path):
    status, body = healthz_with(
        DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}",
        CELERY_BROKER_URL=CLOSED_PORT_REDIS,
        REDIS_URL=CLOSED_PORT_REDIS,
    )
    assert status == 503
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["broker"]["status"] == "down"


@pytest.mark.services
def test_real_redis_is_reported_up(tmp_path):
    redis_url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set")
    status, body = healthz_with(
        DATABASE_URL=os.environ.get(
            "DATABASE_URL", f"sqlite:///{tmp_path / 'h.sqlite3'}"
        ),
        CELERY_BROKER_URL=redis_url,
        REDIS_URL=redis_url,
    )
    assert status == 200, body
    assert body["checks"]["cache"]["backend"] == "ResilientRedisCache"
    assert body["checks"]["broker"]["status"] == "ok"

"""PostgreSQL restarts under a running portal; the next requests recover by themselves.

This restarts the machine's PostgreSQL cluster, so it runs only when asked
(``RESTART_POSTGRES=1``, a step of its own in .ci/run after the main suite). The
portal under test is a gunicorn process on a database of its own.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DB = "finops_restart_check"
URL = f"postgres://postgres@127.0.0.1:5432/{DB}"

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        os.environ.get("RESTART_POSTGRES") != "1",
        reason="restarts the machine's PostgreSQL: set RESTART_POSTGRES=1",
    ),
]


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql, "postgres"],
        check=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
    )
    for _ in range(60):
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError("PostgreSQL did not come back")


def test_requests_recover_after_a_postgres_restart(tmp_path):
    if not shutil.which("pg_ctlcluster"):
        pytest.fail("pg_ctlcluster is not installed")
    _psql(f"DROP DATABASE IF EXISTS {DB}")
    _psql(f"CREATE DATABASE {DB}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finops_portal.settings",
        "DATABASE_URL": URL,
        "DEBUG": "true",
    }
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; User.objects.create_user('pat', password='pw-pat-12345')",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = _free_port()
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "finops_portal.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        client = httpx.Client(base_url=base, timeout=10)
        client.get("/accounts/login/")
        signed_in = client.post(
            "/accounts/login/",
            data={"username": "pat", "password": "pw-pat-12345"},
            headers={"X-CSRFToken": client.cookies["csrftoken"]},
        )
        assert signed_in.status_code == 302
        assert [client.get("/healthz").status_code for _ in range(4)] == [200] * 4

        _restart_postgres()

        # Every worker's pooled connection died with the server; each request after
        # the restart must reconnect on its own (CONN_HEALTH_CHECKS), with no 500.
        after = [
            client.get(path).status_code
            for path in ["/healthz", "/", "/framework/"] * 3
        ]
        assert 500 not in after, (
            after,
            (tmp_path / "gunicorn.log").read_text()[-3000:],
        )
        assert after[:1] == [200]
        client.close()
    finally:
        server.terminate()
        server.wait(15)
        log.close()
        _psql(f"DROP DATABASE IF EXISTS {DB}")

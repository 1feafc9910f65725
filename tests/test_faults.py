"""Faults a real deployment meets: the broker goes away, database connections drop.

The broker outage uses a Redis server of its own on a spare port, so stopping it
disturbs nothing else; database drops terminate the server side of every connection.
"""

import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conftest import ARTIFACTS, ROOT, WorkerProcess, skip_or_fail

pytestmark = [pytest.mark.services, pytest.mark.faults]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> "PrivateRedis":
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


SUBMIT_SCRIPT = """
import django, sys
django.setup()
from django.contrib.auth import get_user_model
from assessment.models import Assessment
from assessment.services import assessment_submit
user = get_user_model().objects.get(username=sys.argv[1])
for pk in sys.argv[2:]:
    assessment_submit(assessment=Assessment.objects.get(pk=pk), user=user)
print("submitted", len(sys.argv) - 2)
"""

SWEEP_SCRIPT = """
import django
django.setup()
from benchmarks.tasks import rollup_sweep_stale
rollup_sweep_stale.delay()
"""


def _portal_process(env: dict, script: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``script`` as a portal process would, with ``env``'s broker and database."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _submitted_cycle(org, teams, framework, user):
    from assessment.models import Answer, Assessment, Cycle

    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="Outage", status="open"
    )
    cycle.teams.set(teams)
    assessments = []
    for n, team in enumerate(teams):
        a = Assessment.objects.create(cycle=cycle, team=team)
        for cap in framework.capabilities.all():
            for q in cap.questions.all():
                Answer.objects.create(
                    assessment=a, question=q, option=q.options.get(score=(n + q.id) % 5)
                )
        assessments.append(a)
    return cycle, assessments


@pytest.mark.django_db(transaction=True)
def test_submissions_survive_a_broker_outage_and_the_sweeper_catches_up(
    worker_env, org, team_a, team_b, respondent_a, framework
):
    from assessment.models import Assessment
    from benchmarks.models import NodeStat, RollupState

    if not shutil.which("redis-server"):
        skip_or_fail("redis-server is not installed")
    redis = PrivateRedis().start()
    env = {**worker_env, "CELERY_BROKER_URL": redis.url, "REDIS_URL": redis.url}
    worker = None
    try:
        cycle, assessments = _submitted_cycle(
            org, [team_a, team_b], framework, respondent_a
        )
        redis.stop()  # the broker goes away

        result = _portal_process(
            env, SUBMIT_SCRIPT, "alice", *(str(a.pk) for a in assessments)
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Could not enqueue the roll-up" in result.stderr

        assert Assessment.objects.filter(cycle=cycle, status="submitted").count() == 2
        state = RollupState.objects.get_or_create(cycle_id=cycle.pk)[0]
        assert state.is_stale
        assert not NodeStat.objects.filter(cycle=cycle).exists()

        redis.start()  # the broker comes back; a worker and the beat sweeper resume
        worker = WorkerProcess(env, "outage").start()
        assert _portal_process(env, SWEEP_SCRIPT).returncode == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state.refresh_from_db()
            if not state.is_stale:
                break
            time.sleep(0.2)
        assert not state.is_stale, worker.logs()[-3000:]
        overall = NodeStat.objects.get(cycle=cycle, node=None, capability=None)
        assert overall.n == 2
    finally:
        if worker:
            worker.stop()
        redis.stop()


@pytest.mark.django_db(transaction=True)
def test_the_portal_recovers_when_database_connections_are_dropped(
    live_server, respondent_a
):
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("this fault needs PostgreSQL (set DATABASE_URL)")
    ARTIFACTS.mkdir(exist_ok=True)
    client = httpx.Client(base_url=live_server.url, timeout=30)
    client.get("/accounts/login/")
    signed_in = client.post(
        "/accounts/login/",
        data={"username": "alice", "password": "pw-alice"},
        headers={"X-CSRFToken": client.cookies["csrftoken"]},
    )
    assert signed_in.status_code == 302
    assert client.get("/healthz").status_code == 200

    with connection.cursor() as cursor:  # what a PostgreSQL restart does to clients
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1

    statuses = [
        client.get(path).status_code for path in ["/healthz", "/", "/healthz", "/"]
    ]
    assert statuses.count(500) == 0
    assert statuses[-2:] == [200, 200] or statuses[-1] in (200, 302)
    client.close()

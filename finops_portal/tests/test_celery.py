import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.services
def test_a_real_worker_runs_a_project_task(start_worker):
    from finops_portal.tasks import ping

    worker = start_worker("ping")
    result = ping.delay("hello from the test")
    assert result.get(timeout=20) == "hello from the test"
    assert "finops_portal.ping" in worker.logs()


def test_without_a_broker_the_same_task_runs_in_process(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="finops_portal.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )
    code = (
        "import django; django.setup(); from finops_portal.tasks import ping; "
        "r = ping.delay('in-process'); print(type(r).__name__, r.get(timeout=5))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["EagerResult", "in-process"]

"""The production start (bin/start, used by the Procfile, the Dockerfile and
compose.yaml) from a clean copy of the repository with DEBUG=false: it collects the
static files, migrates and serves pages whose stylesheet loads. Started without the
collected static files, the portal refuses to start with a message instead of
answering 500 on every page."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT

START_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory) -> Path:
    """The repository's files as a fresh clone has them (tracked, or new and not
    ignored), without staticfiles/, databases or caches; the virtualenv linked."""
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    target = tmp_path_factory.mktemp("clone") / "portal"
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if not source.is_file():
            continue  # deleted in the working tree
        destination = target / name.decode()
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    assert not (target / "staticfiles").exists()
    (target / ".venv").symlink_to(Path(sys.executable).resolve().parents[1])
    return target


def _production_env(copy: Path, port: int) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_"))
    }
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "start-script-test-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"sqlite:///{copy / 'portal.sqlite3'}",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
            "PYTHON": sys.executable,
        }
    )
    return env


def _wait_for(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"bin/start exited:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(
        f"not serving after {START_TIMEOUT_S} s:\n{log.read_text()[-4000:]}"
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_bin_start_web_serves_pages_with_their_css_with_debug_off(clean_copy):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = clean_copy / "start.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["bin/start", "web"],
            cwd=clean_copy,
            env=_production_env(clean_copy, port),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(base, proc, log)
        page = httpx.get(base + "/accounts/login/", timeout=10)
        assert page.status_code == 200, log.read_text()[-3000:]
        assert "Sign in" in page.text
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        assert stylesheet, page.text[:2000]
        # The manifest storage names each file by its content's hash.
        assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", stylesheet[1])
        css = httpx.get(base + stylesheet[1], timeout=10)
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert "max-age=315360000" in css.headers["cache-control"]
        assert ".site-header" in css.text
        assert (clean_copy / "staticfiles" / "staticfiles.json").exists()
    finally:
        _stop(proc)


def test_without_collected_static_files_the_portal_refuses_to_start(tmp_path):
    """gunicorn straight away, as a deployment that skips bin/start would."""
    port = _free_port()
    env = _production_env(tmp_path, port)
    env["STATIC_ROOT"] = str(tmp_path / "nothing-collected")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "finops_portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert (
        "DEBUG is off, but the static files are not collected in "
        f"{tmp_path / 'nothing-collected'}: run `python manage.py collectstatic"
    ) in result.stderr

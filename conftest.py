"""Shared fixtures: personas, a small framework, a real Celery worker, a browser.

Personas: ``respondent_a`` answers for team A, ``respondent_b`` for team B (same
organisation), ``lead`` leads organisation 1, ``outsider_lead`` leads organisation 2,
``staff`` is an admin. Tests of a page or endpoint use them to prove who sees what.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """CI sets REQUIRE_SERVICES=1 so that a missing service fails instead of skipping."""
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


# --- personas -----------------------------------------------------------------------


@pytest.fixture
def org(db):
    from assessment.models import Organization

    return Organization.objects.create(
        name="Org One", slug="org-one", anonymity_threshold=2
    )


@pytest.fixture
def other_org(db):
    from assessment.models import Organization

    return Organization.objects.create(name="Org Two", slug="org-two")


@pytest.fixture
def business_unit(org):
    from assessment.models import Team

    return Team.objects.create(
        organization=org, name="Retail", kind=Team.Kind.BUSINESS_UNIT
    )


@pytest.fixture
def team_a(org, business_unit):
    from assessment.models import Team

    return Team.objects.create(organization=org, parent=business_unit, name="Team A")


@pytest.fixture
def team_b(org, business_unit):
    from assessment.models import Team

    return Team.objects.create(organization=org, parent=business_unit, name="Team B")


@pytest.fixture
def other_team(other_org):
    from assessment.models import Team

    return Team.objects.create(organization=other_org, name="Elsewhere")


def _member(username, organization, role, team=None, **user_fields):
    from django.contrib.auth import get_user_model

    from assessment.models import Membership

    user = get_user_model().objects.create_user(
        username=username,
        password="pw-" + username,
        email=f"{username}@example.com",
        **user_fields,
    )
    if organization is not None:
        Membership.objects.create(
            user=user, organization=organization, team=team, role=role
        )
    return user


@pytest.fixture
def respondent_a(team_a):
    return _member("alice", team_a.organization, "respondent", team_a)


@pytest.fixture
def respondent_b(team_b):
    return _member("bob", team_b.organization, "respondent", team_b)


@pytest.fixture
def lead(org):
    return _member("lena", org, "lead")


@pytest.fixture
def outsider_lead(other_org, other_team):
    return _member("oscar", other_org, "lead")


@pytest.fixture
def staff(db):
    return _member("stella", None, None, is_staff=True, is_superuser=True)


# --- content ----------------------------------------------------------------------


@pytest.fixture
def framework(db):
    """A small published framework: 2 capabilities x 5 lenses, one question each."""
    from capabilities.tests.factories import make_framework

    return make_framework(capabilities=2, questions_per_lens=1, publish=True)


@pytest.fixture
def shipped_framework(db):
    """The shipped v1 content (capabilities/content/finops-practice-v1.yaml),
    imported and published, and current (the 2026 edition is not loaded)."""
    from capabilities.services import SHIPPED_SLUG, framework_load_shipped

    results = framework_load_shipped(versions=[1])
    return next(fw for fw, _imported in results if fw.slug == SHIPPED_SLUG)


@pytest.fixture
def shipped_framework_v2(db):
    """Every shipped edition, as ``load_shipped_content`` loads them: v1, then the
    2026 edition (v2), which supersedes it and is current for new cycles."""
    from capabilities.services import SHIPPED_SLUG, framework_load_shipped

    results = framework_load_shipped()
    return next(
        fw for fw, _imported in results if fw.slug == SHIPPED_SLUG and fw.version == 2
    )


# --- tasks ----------------------------------------------------------------------------


@pytest.fixture
def eager_tasks():
    """Tasks run in-process, as on the embedded default (``make run``). Off
    otherwise: a test of a task calls it, and a test of enqueueing captures the
    on-commit callbacks; only tests of the in-process path itself use this."""
    from finops_portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# --- a real Celery worker -----------------------------------------------------------


def _database_url_for_tests() -> str:
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("a real worker needs PostgreSQL (set DATABASE_URL)")
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += ":" + s["PASSWORD"]
    return (
        f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


class WorkerProcess:
    """A ``celery worker`` subprocess against the test database and the real broker."""

    def __init__(self, env: dict, name: str, concurrency: int = 1):
        self.env, self.name, self.concurrency = env, name, concurrency
        # one log per test process (pytest-xdist runs several at once)
        process = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.log_path = ARTIFACTS / f"worker-{process}-{name}.log"
        self.proc: subprocess.Popen | None = None
        self.process = process

    def start(self, wait: float = 30) -> "WorkerProcess":
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "finops_portal",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                f"--hostname={self.name}-{self.process}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"worker exited: {self.log_path.read_text()[-2000:]}"
                )
            if "ready." in self.log_path.read_text():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"worker did not start: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture
def worker_env(transactional_db):
    """Environment for worker subprocesses; switches this process to the real broker."""
    from django.conf import settings

    from finops_portal.celery import app

    if not settings.TASK_BROKER_CONFIGURED:
        skip_or_fail("a real worker needs a broker (set CELERY_BROKER_URL)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "finops_portal.settings",
        "DATABASE_URL": _database_url_for_tests(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    if settings.CELERY_BROKER_URL.startswith("redis"):
        # the worker's cache (claims, reports) on the database of its broker:
        # parallel test processes each have their own (see settings_test)
        env["REDIS_URL"] = settings.CELERY_BROKER_URL
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield env
    app.conf.task_always_eager = previous


@pytest.fixture
def start_worker(worker_env):
    """Start worker subprocesses: ``start_worker("w1")``; all are stopped at teardown."""
    started: list[WorkerProcess] = []

    def start(name: str = "w1", concurrency: int = 1, **extra_env) -> WorkerProcess:
        worker = WorkerProcess({**worker_env, **extra_env}, name, concurrency).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# --- a browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page; fails the test on any console error or page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    page.base_url = live_server.url
    yield page
    context.close()


# axe-core, installed from npm by ``make install-dev`` (never loaded from a CDN).
AXE_JS = ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
# Impacts that fail a page: axe's "serious" and "critical".
AXE_FAILING = {"serious", "critical"}


def axe_violations(page, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """The serious and critical accessibility violations axe-core finds on the page
    as it is now: ``[{"id", "impact", "help", "targets"}]``. The script is evaluated
    through the browser's debugging protocol, which the page's CSP does not block."""
    if not AXE_JS.exists():
        skip_or_fail(f"axe-core is not installed at {AXE_JS} (make install-dev)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text())
    results = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {exclude: exclude.map(s => [s])} : document;
            const found = await window.axe.run(context, {resultTypes: ["violations"]});
            return found.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")).slice(0, 10),
            }));
        }""",
        list(exclude),
    )
    return [v for v in results if v["impact"] in AXE_FAILING]


def browser_login(page, username: str, password: str | None = None) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or "pw-" + username)
    page.click("button[type=submit]")
    page.wait_for_load_state()

"""Helpers shared by the benchmark scripts: Django set-up, timing, peak memory,
result rows and a plain-text table."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROC_STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def django_ready(settings: str = "finops_portal.settings") -> None:
    """Set Django up once (a no-op when the caller already did)."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    django.setup()


def _status_kb(field: str) -> int | None:
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    """The process's resident memory now, in MB (None off Linux)."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024


@dataclass
class Measure:
    """What ``measure`` saw: wall-clock seconds, the peak resident memory of the
    process while the call ran (MB) and how far above the start that peak was."""

    seconds: float
    peak_mb: float | None
    peak_increase_mb: float | None
    result: object = None


class _Sampler(threading.Thread):
    """Reads VmRSS every few milliseconds; keeps the maximum."""

    def __init__(self, interval: float = 0.005):
        super().__init__(daemon=True)
        self.interval, self.peak, self._done = (
            interval,
            rss_mb() or 0.0,
            threading.Event(),
        )

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mb() or 0.0)
            time.sleep(self.interval)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, rss_mb() or 0.0)


def _reset_high_water_mark() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def measure(call: Callable[[], object]) -> Measure:
    """Run ``call`` once; time it and record the peak resident memory meanwhile.

    Uses the kernel's high-water mark (reset first through /proc/self/clear_refs)
    and, as a cross-check, a thread sampling VmRSS every 5 ms; the larger wins.
    """
    start_mb = rss_mb()
    exact = _reset_high_water_mark()
    sampler = _Sampler()
    sampler.start()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    if exact:
        hwm = _status_kb("VmHWM")
        if hwm is not None:
            peak = max(peak, hwm / 1024)
    if start_mb is None:
        return Measure(seconds, None, None, result)
    return Measure(seconds, peak, peak - start_mb, result)


def row(name: str, value, unit: str, baseline=None, note: str = "") -> dict:
    """One result row; ``ratio`` = value / baseline when there is a baseline."""
    ratio = value / baseline if baseline and value is not None else None
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "note": note,
    }


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned plain-text table."""
    columns = ["name", "value", "unit", "baseline", "ratio", "note"]
    cells = [columns] + [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def progress(done: int, total: int, label: str = "", stream=None) -> None:
    """A one-line progress bar redrawn in place with a carriage return."""
    stream = stream or sys.stderr
    width = 30
    filled = int(width * done / total) if total else width
    percent = 100 * done / total if total else 100
    stream.write(
        f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}% {done}/{total}"
    )
    if done >= total:
        stream.write("\n")
    stream.flush()


# --- the bench's services, database and environment ------------------------------

BENCH_DB = os.environ.get("BENCH_DB_NAME", "finops_bench")
BENCH_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
BENCH_BROKER_URL = f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '10')}"
BENCH_PASSWORD = "bench-pass-1"
BENCH_ENV = {
    "DATABASE_URL": BENCH_DATABASE_URL,
    "CELERY_BROKER_URL": BENCH_BROKER_URL,
    "REDIS_URL": BENCH_BROKER_URL,
    "DJANGO_SETTINGS_MODULE": "finops_portal.settings",
}
# What gunicorn and Celery get on top: the production-like configuration.
SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}
PG_START = "pg_ctlcluster --skip-systemctl-redirect {version} main start"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]
QUIET_LOGGERS = ("httpx", "httpcore", "axes", "celery", "kombu")


def _ok(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _wait(check: list[str], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not _ok(check):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.5)


def ensure_services() -> None:
    """Start PostgreSQL and Redis as CI does, if they are not answering."""
    if not _ok(["pg_isready", "-h", "127.0.0.1"]):
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(PG_START.format(version=version).split(), check=True)
        _wait(["pg_isready", "-h", "127.0.0.1"], "PostgreSQL")
    if not _ok(["redis-cli", "ping"]):
        subprocess.run(REDIS_START, check=True)
        _wait(["redis-cli", "ping"], "Redis")


def setup_django() -> None:
    """Point this process at the bench database and broker, then set Django up.
    Idempotent; creates and migrates the database and loads the shipped content."""
    from django.apps import apps

    if apps.ready:
        return
    ensure_services()
    os.environ.update(BENCH_ENV)
    django_ready()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    from django.core.management import call_command

    quiet = io.StringIO()
    call_command("ensure_database", stdout=quiet)
    call_command("migrate", verbosity=0, interactive=False, stdout=quiet)
    call_command("load_shipped_content", stdout=quiet)


def server_env(**extra: str) -> dict[str, str]:
    """Environment for gunicorn and Celery subprocesses."""
    return {**os.environ, **BENCH_ENV, **SERVER_ENV, **extra}


def bench_org(teams: int, cycles: int = 3, *, fresh: bool = False):
    """The benchmark organisation of ``teams`` teams, generated if missing (or
    always with ``fresh``). Returns (organization, seconds spent generating)."""
    from assessment.demo import load_plan
    from assessment.models import Organization
    from benchmarks.demo import load_generate

    slug = load_plan(teams=teams, cycles=cycles, org_name=org_name(teams)).slug
    org = Organization.objects.filter(slug=slug).first()
    if org is not None and not fresh:
        return org, 0.0
    result = load_generate(
        teams=teams,
        cycles=cycles,
        org_name=org_name(teams),
        password=BENCH_PASSWORD,
        replace=True,
    )
    return result.organization, result.elapsed


def org_name(teams: int) -> str:
    return f"Bench {teams} teams"


def machine() -> str:
    """Cores and memory of this machine, and the PostgreSQL server version."""
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kb = int(info.readline().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    pg = ""
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = f", PostgreSQL {cursor.fetchone()[0].split()[0]}"
    except Exception:  # noqa: BLE001 - informative only
        pass
    return f"{os.cpu_count()} cores{memory}{pg}, Python {sys.version.split()[0]}"


def peak_memory_mb() -> float:
    """Peak resident memory (MB) of this process, which runs the roll-ups itself.
    (A forked child's peak starts from its parent's, so children are not summed.)"""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- HTTP load against a local gunicorn ------------------------------------------

CLIENTS = 20
REQUESTS_PER_CLIENT = 25
WARMUP_REQUESTS = 10
REQUEST_TIMEOUT = 30
GUNICORN_WORKERS = 2
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SETTINGS_MODULE = "bench_settings"
SETTINGS_TEXT = """from finops_portal.settings import *  # noqa: F403

STATIC_ROOT = {static_root!r}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Portal:
    """gunicorn serving the portal on 127.0.0.1 with production-like settings and
    static files collected into a temporary directory; stopped on exit."""

    def __init__(self, workers: int = GUNICORN_WORKERS):
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Portal:
        self.tmp = tempfile.TemporaryDirectory(prefix="finops-bench-")
        tmp = Path(self.tmp.name)
        (tmp / f"{SETTINGS_MODULE}.py").write_text(
            SETTINGS_TEXT.format(static_root=str(tmp / "static"))
        )
        env = server_env(
            DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
            PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT)]),
        )
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        self.log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [
                str(Path(python).parent / "gunicorn"),
                "finops_portal.wsgi",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, seconds: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.logs()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer: {self.logs()[-2000:]}")

    def logs(self) -> str:
        path = Path(self.tmp.name) / "gunicorn.log"
        return path.read_text() if path.exists() else ""

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            print(f"gunicorn log:\n{self.logs()[-3000:]}", file=sys.stderr)
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()
        if self.tmp:
            self.tmp.cleanup()


def _cookies(response, jar: dict[str, str]) -> dict[str, str]:
    # The cookies are Secure (DEBUG is off) and the bench speaks plain http to
    # 127.0.0.1, so they are kept by hand rather than by httpx's cookie jar.
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def login(portal: Portal, username: str, password: str) -> dict[str, str]:
    """Sign in through the login form; returns the session and CSRF cookies."""
    import httpx

    jar: dict[str, str] = {}
    with httpx.Client(base_url=portal.url, timeout=30) as client:
        page = client.get("/accounts/login/")
        _cookies(page, jar)
        token = CSRF_FIELD.search(page.text).group(1)
        done = client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token,
            },
            headers={"Cookie": cookie_header(jar)},
        )
        _cookies(done, jar)
    if done.status_code != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login as {username} failed ({done.status_code})")
    return jar


@dataclass
class Load:
    """Latencies (ms) of one load phase and how long it took."""

    name: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return statistics.quantiles(ordered, n=100, method="inclusive")[p - 1]

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class LoadError(RuntimeError):
    """A request of a load phase failed; the phase stops at the first failure."""


async def _load(portal, name, make_request, clients, per_client, headers) -> Load:
    import httpx

    result = Load(name)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=portal.url, timeout=REQUEST_TIMEOUT, limits=limits, headers=headers
    ) as client:

        async def worker(c: int) -> None:
            for i in range(per_client):
                method, url, body = make_request(c, i)
                started = time.perf_counter()
                try:
                    response = await client.request(method, url, json=body)
                except httpx.HTTPError as error:
                    raise LoadError(f"{name}: {method} {url}: {error!r}") from None
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise LoadError(
                        f"{name}: {method} {url} answered {response.status_code}"
                    )
                result.latencies.append(elapsed)

        started = time.perf_counter()
        # A task group cancels the other clients as soon as one fails.
        async with asyncio.TaskGroup() as group:
            for c in range(clients):
                group.create_task(worker(c))
        result.seconds = time.perf_counter() - started
    return result


def load(
    portal: Portal,
    name: str,
    make_request,
    *,
    cookies: dict[str, str] | None = None,
    clients: int = CLIENTS,
    per_client: int = REQUESTS_PER_CLIENT,
    warmup: int = WARMUP_REQUESTS,
) -> Load:
    """``clients`` concurrent clients each sending ``per_client`` requests made by
    ``make_request(client, i) -> (method, url, json body or None)``, after
    ``warmup`` unrecorded ones. Raises ``LoadError`` at the first failed request."""
    headers = {}
    if cookies:
        headers = {
            "Cookie": cookie_header(cookies),
            "X-CSRFToken": cookies["csrftoken"],
        }
    try:
        if warmup:
            asyncio.run(_load(portal, name, make_request, 1, warmup, headers))
        return asyncio.run(
            _load(portal, name, make_request, clients, per_client, headers)
        )
    except ExceptionGroup as group:
        raise group.exceptions[0] from None


def get(url: str):
    return lambda _c, _i: ("GET", url, None)

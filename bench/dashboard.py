"""Lead dashboard and team report under 20 concurrent clients, against ``/healthz``.

    .venv/bin/python bench/dashboard.py [--teams 1000]

Serves the portal with gunicorn (2 workers, DEBUG off) against the bench database,
signs in as the organisation's lead, and sends a fixed number of requests per client
to each URL. Targets: p95 under 300 ms and at most 5x ``/healthz``.
Also holds what ``autosave.py`` shares: ``Portal`` and ``load``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run_all  # noqa: E402
from bench.common import format_table, row  # noqa: E402

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
        env = run_all.server_env(
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


def rows_for(phase: Load, healthz: Load, label: str, note: str = "") -> list[dict]:
    return [
        row(f"{label} p50", phase.p50, "ms", healthz.p50, note),
        row(f"{label} p95", phase.p95, "ms", healthz.p95, note),
        row(f"{label} throughput", phase.per_second, "req/s", healthz.per_second, note),
    ]


def run(
    *,
    teams: int = 1000,
    clients: int = CLIENTS,
    per_client: int = REQUESTS_PER_CLIENT,
    portal: Portal | None = None,
) -> list[dict]:
    """Dashboard and team report of a ``teams``-team organisation under load."""
    run_all.setup_django()
    from assessment.models import Assessment, Cycle

    org, _ = run_all.bench_org(teams)
    cycle = Cycle.objects.filter(organization=org, status="open").get()
    reports = list(
        Assessment.objects.filter(cycle=cycle, status="submitted")
        .order_by("id")
        .values_list("id", flat=True)[: clients * per_client]
    )
    if portal is None:
        with Portal() as own:
            return run(teams=teams, clients=clients, per_client=per_client, portal=own)
    cookies = login(portal, f"{org.slug}-lead", run_all.BENCH_PASSWORD)
    dashboard = f"/org/{org.slug}/dashboard/?cycle={cycle.id}"

    def report(c: int, i: int):
        return (
            "GET",
            f"/assessments/{reports[(c * per_client + i) % len(reports)]}/report/",
            None,
        )

    kw = {"clients": clients, "per_client": per_client}
    note = (
        f"{teams:,} teams, {clients} clients x {per_client}, {portal.workers} workers"
    )
    healthz = load(portal, "healthz", get("/healthz"), **kw)
    rows = [
        row("healthz p50", healthz.p50, "ms", note=note),
        row("healthz p95", healthz.p95, "ms", note=note),
        row("healthz throughput", healthz.per_second, "req/s", note=note),
    ]
    phases = (
        ("lead dashboard", get(dashboard), None),
        # every request a different team, none of them cached yet
        ("team report, built on request", report, forget_reports),
        # what a visit reads once a worker has prebuilt the cycle's reports
        (
            "team report, prebuilt",
            report,
            lambda: rows.extend(prebuild(cycle.id, reports)),
        ),
    )
    for label, make_request, before in phases:
        if before is not None:
            before()
        try:
            phase = load(portal, label, make_request, cookies=cookies, **kw)
        except LoadError as error:
            print(f"{error}; server log:\n{portal.logs()[-3000:]}", file=sys.stderr)
            rows.append(row(f"{label} p95", None, "ms", note=str(error)))
            continue
        rows += rows_for(phase, healthz, label, note)
    return rows


def forget_reports() -> int:
    """Delete every cached team report (and nothing else); returns how many."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=cache.make_key("benchmarks:report:*")))
    for i in range(0, len(keys), 1000):
        client.delete(*keys[i : i + 1000])
    return len(keys)


def prebuild(cycle_id: int, assessment_ids: list[int]) -> list[dict]:
    """Build the given assessments' reports as a worker does after a roll-up;
    returns the time per report."""
    from benchmarks.reports import team_report_prebuild
    from benchmarks.services import prebuild_assessments

    forget_reports()
    wanted = set(assessment_ids)
    rows = [a for a in prebuild_assessments(cycle_id=cycle_id) if a.pk in wanted]
    started = time.perf_counter()
    built = sum(team_report_prebuild(assessment=a) for a in rows)
    seconds = time.perf_counter() - started
    return [
        row(
            "team report prebuild, per report",
            1000 * seconds / max(built, 1),
            "ms",
            note=f"{built} reports built for {len(rows)} teams (leads share "
            "a member's when it reads the same)",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--requests", type=int, default=REQUESTS_PER_CLIENT)
    args = parser.parse_args()
    rows = run(teams=args.teams, clients=args.clients, per_client=args.requests)
    print(format_table(rows))


if __name__ == "__main__":
    main()

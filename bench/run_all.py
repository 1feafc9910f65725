"""Run every benchmark against PostgreSQL and Redis and print one table.

    .venv/bin/python bench/run_all.py [--quick]

Uses its own database (``finops_bench``, created if missing) and Redis DB 10, and
starts PostgreSQL and Redis the way CI does if they are not running. Also holds the
set-up the other benchmark modules share (services, database, environment).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import format_table  # noqa: E402

BENCH_DB = "finops_bench"
BENCH_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
BENCH_BROKER_URL = "redis://127.0.0.1:6379/10"
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
    common.setup_django()
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
    from assessment.demo import load_generate, load_plan
    from assessment.models import Organization

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="Roll-up at 100 and 1,000 teams only; evidence from 1,000,000 rows.",
    )
    parser.add_argument("--only", nargs="*", help="Run only these benchmarks.")
    args = parser.parse_args(argv)
    setup_django()
    from bench import autosave, dashboard, evidence, submit_delay

    try:
        from bench import rollup
    except ImportError:
        rollup = None

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows: list[dict] = []
    failures: list[str] = []
    wanted = set(
        args.only or ["rollup", "dashboard", "autosave", "submit_delay", "evidence"]
    )

    def attempt(name: str, call) -> None:
        if name not in wanted:
            return
        print(f"--- {name}", flush=True)
        try:
            rows.extend(call())
        except Exception as error:  # noqa: BLE001 - report and go on with the rest
            failures.append(f"{name}: {type(error).__name__}: {error}")
            print(f"{name} failed: {error}", file=sys.stderr, flush=True)

    if rollup is not None:
        sizes = [100, 1000] if args.quick else [100, 1000, 10000]
        attempt("rollup", lambda: [r for n in sizes for r in rollup.run(teams=n)])
    else:
        failures.append("rollup: bench/rollup.py is not available")
    if wanted & {"dashboard", "autosave", "submit_delay"}:
        # Fresh data each run, so earlier autosaves and submissions don't pile up.
        bench_org(1000, fresh=True)
    if wanted & {"dashboard", "autosave"}:
        with dashboard.Portal() as portal:
            attempt("dashboard", lambda: dashboard.run(portal=portal))
            attempt("autosave", lambda: autosave.run(portal=portal))
    attempt("submit_delay", submit_delay.run)
    attempt(
        "evidence",
        lambda: evidence.run(rows=1_000_000 if args.quick else evidence.ROWS),
    )

    print()
    print(f"Machine: {machine()}")
    print(f"Peak memory of the bench process: {peak_memory_mb():,.0f} MB")
    print(
        f"Load average (1 min): {load_before:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end"
    )
    print(f"Total time: {time.perf_counter() - started:,.0f} s")
    print()
    print(format_table(rows))
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

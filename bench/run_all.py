"""Run every benchmark against PostgreSQL and Redis and print one table.

    .venv/bin/python bench/run_all.py [--quick]

Uses its own database (``finops_bench``, created if missing) and Redis DB 10, and
starts PostgreSQL and Redis the way CI does if they are not running (see
``bench.common``, which holds the set-up every benchmark shares).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import format_table  # noqa: E402
from bench.targets import check, format_targets  # noqa: E402


def sized(teams: int, rows: list[dict]) -> list[dict]:
    """Rows of a benchmark run at ``teams`` teams, named so ("1000 teams: ...")."""
    return [{**r, "name": f"{teams} teams: {r['name']}"} for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="Roll-up at 100 and 1,000 teams only, the web pages at 1,000 teams "
        "only, evidence from 1,000,000 rows.",
    )
    parser.add_argument("--only", nargs="*", help="Run only these benchmarks.")
    args = parser.parse_args(argv)
    common.setup_django()
    from bench import autosave, dashboard, evidence, notifications, rollup, submit_delay

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows: list[dict] = []
    failures: list[str] = []
    wanted = set(
        args.only
        or [
            "rollup",
            "dashboard",
            "autosave",
            "submit_delay",
            "evidence",
            "notifications",
        ]
    )

    def attempt(name: str, call, teams: int | None = None, **kwargs) -> None:
        """Run one benchmark, its rows named by size when ``teams`` is given."""
        if name not in wanted:
            return
        print(f"--- {name}" + (f" at {teams} teams" if teams else ""), flush=True)
        try:
            if teams is None:
                rows.extend(call(**kwargs))
            else:
                rows.extend(sized(teams, call(teams=teams, **kwargs)))
        except Exception as error:  # noqa: BLE001 - report and go on with the rest
            failures.append(f"{name}: {type(error).__name__}: {error}")
            print(f"{name} failed: {error}", file=sys.stderr, flush=True)

    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    attempt("rollup", lambda: [r for n in sizes for r in rollup.run(teams=n)])
    web_sizes = [1000] if args.quick else [1000, 10000]
    for teams in web_sizes:
        if wanted & {"dashboard", "autosave", "submit_delay"}:
            # Fresh data each run, so earlier autosaves and submissions don't pile up.
            common.bench_org(teams, fresh=True)
        if wanted & {"dashboard", "autosave"}:
            with common.Portal() as portal:
                attempt("dashboard", dashboard.run, teams, portal=portal)
                if teams == web_sizes[0]:
                    attempt("autosave", autosave.run, teams, portal=portal)
        attempt("submit_delay", submit_delay.run, teams)
    attempt(
        "evidence",
        lambda: evidence.run(rows=1_000_000 if args.quick else evidence.ROWS),
    )
    attempt(
        "notifications",
        lambda: notifications.run(teams=1000 if args.quick else notifications.TEAMS),
    )

    print()
    print(f"Machine: {common.machine()}")
    print(f"Peak memory of the bench process: {common.peak_memory_mb():,.0f} MB")
    print(
        f"Load average (1 min): {load_before:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end"
    )
    print(f"Total time: {time.perf_counter() - started:,.0f} s")
    print()
    print(format_table(rows))
    print()
    print("Against the targets of the design:")
    print(format_targets(check(rows)))
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

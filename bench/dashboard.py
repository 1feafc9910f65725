"""Lead dashboard and team report under 20 concurrent clients, against ``/healthz``.

    .venv/bin/python bench/dashboard.py [--teams 1000]

Serves the portal with gunicorn (2 workers, DEBUG off) against the bench database,
signs in as the organisation's lead, and sends a fixed number of requests per client
to each URL: the organisation's dashboard (at 10,000 teams its business units
stand for their teams) and one unit's (its teams listed), whose page sizes it
prints too, and team reports. Targets (the design's): dashboard p95 within 2x
``/healthz`` at 1,000 teams, within 3x and a page under 500 KB at 10,000.
Also holds what ``autosave.py`` shares: ``Portal`` and ``load``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import format_table, row  # noqa: E402


def rows_for(
    phase: common.Load, healthz: common.Load, label: str, note: str = ""
) -> list[dict]:
    return [
        row(f"{label} p50", phase.p50, "ms", healthz.p50, note),
        row(f"{label} p95", phase.p95, "ms", healthz.p95, note),
        row(f"{label} throughput", phase.per_second, "req/s", healthz.per_second, note),
    ]


def run(
    *,
    teams: int = 1000,
    clients: int = common.CLIENTS,
    per_client: int = common.REQUESTS_PER_CLIENT,
    portal: common.Portal | None = None,
) -> list[dict]:
    """Dashboard and team report of a ``teams``-team organisation under common.load."""
    common.setup_django()
    from assessment.models import Assessment, Cycle, Team

    org, _ = common.bench_org(teams)
    cycle = Cycle.objects.filter(organization=org, status="open").get()
    reports = list(
        Assessment.objects.filter(cycle=cycle, status="submitted")
        .order_by("id")
        .values_list("id", flat=True)[: clients * per_client]
    )
    if portal is None:
        with common.Portal() as own:
            return run(teams=teams, clients=clients, per_client=per_client, portal=own)
    cookies = common.login(portal, f"{org.slug}-lead", common.BENCH_PASSWORD)
    dashboard = f"/org/{org.slug}/dashboard/?cycle={cycle.id}"
    # the first business unit (by name): a unit's own dashboard, its teams listed
    unit = (
        Team.objects.filter(organization=org, kind=Team.Kind.BUSINESS_UNIT)
        .order_by("name")
        .first()
    )
    unit_dashboard = f"{dashboard}&unit={unit.id}" if unit is not None else None

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
    healthz = common.load(portal, "healthz", common.get("/healthz"), **kw)
    rows = [
        row("healthz p50", healthz.p50, "ms", note=note),
        row("healthz p95", healthz.p95, "ms", note=note),
        row("healthz throughput", healthz.per_second, "req/s", note=note),
    ]
    for label, url in (
        ("lead dashboard", dashboard),
        ("lead dashboard, one unit", unit_dashboard),
    ):
        if url is not None:
            rows.append(page_size_row(portal, url, cookies, label, note))
    phases = (
        ("lead dashboard", common.get(dashboard), None),
        *(
            [("lead dashboard, one unit", common.get(unit_dashboard), None)]
            if unit_dashboard is not None
            else []
        ),
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
            phase = common.load(portal, label, make_request, cookies=cookies, **kw)
        except common.LoadError as error:
            print(f"{error}; server log:\n{portal.logs()[-3000:]}", file=sys.stderr)
            rows.append(row(f"{label} p95", None, "ms", note=str(error)))
            continue
        rows += rows_for(phase, healthz, label, note)
    return rows


def page_size_row(
    portal: common.Portal, url: str, cookies: dict[str, str], label: str, note: str
) -> dict:
    """The size of the page at ``url`` as the lead gets it (HTML, uncompressed)."""
    import httpx

    response = httpx.get(
        portal.url + url,
        headers={"Cookie": common.cookie_header(cookies)},
        timeout=common.REQUEST_TIMEOUT,
    )
    response.raise_for_status()
    return row(f"{label} page size", len(response.content) / 1024, "KB", note=note)


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
    parser.add_argument("--clients", type=int, default=common.CLIENTS)
    parser.add_argument("--requests", type=int, default=common.REQUESTS_PER_CLIENT)
    args = parser.parse_args()
    rows = run(teams=args.teams, clients=args.clients, per_client=args.requests)
    print(format_table(rows))


if __name__ == "__main__":
    main()

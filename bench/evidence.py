"""Benchmark: FOCUS evidence from a 10-million-row month, against a DuckDB floor.

    .venv/bin/python bench/evidence.py                  # 10,000,000 rows, CSV and Parquet
    .venv/bin/python bench/evidence.py --rows 1000000   # a smaller month

Generates (once, then reuses, under $TMPDIR/finops-bench-evidence) a FOCUS 1.3
month: a focus-data-toolkit sample (AWS, 20,000 rows) scaled up in DuckDB to N
rows over 60 sub-accounts, 40 owner teams, 200 applications, with a quarter of the
rows untagged and some without CostCenter; written as CSV and as Parquet. Then,
for each format:

(a) ours: the whole ingestion as a worker runs it (``services.ingestion_run``):
    check the file, read it once into the summary, write the period's summary,
    compute every measure for the organisation, its business units and 40 teams,
    save them in PostgreSQL; with the process's peak resident memory;
(b) the floor: the same aggregates (every measure, organisation and per team)
    written directly as one DuckDB query over the file, with the same DuckDB
    settings, nothing stored;
(c) a bare read: one count and one sum over the file, nothing grouped (the least
    any reading of the file costs).

Each is run three times, alternating, and the fastest run counts (the file is in the page
cache after the first). ``run(rows)`` returns result rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    format_table,
    measure,
    progress,
    row,
    setup_django,
)

ROWS = 10_000_000
SAMPLE_ROWS = 20_000
TEAMS = 40
ACCOUNTS = 60
REPEAT = 3
CACHE = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "finops-bench-evidence"
ORG_SLUG = "bench-evidence"


def _sample() -> Path:
    """A focus-data-toolkit month (dev dependency, run as a command)."""
    import subprocess

    target = CACHE / "sample"
    found = sorted(target.glob("*cost_and_usage*.csv"))
    if found:
        return found[0]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "focus_data_toolkit",
            "generate",
            "--provider",
            "aws",
            "--focus-version",
            "1.3",
            "--rows",
            str(SAMPLE_ROWS),
            "--seed",
            "11",
            "--out",
            str(target),
        ],
        check=True,
        capture_output=True,
    )
    return sorted(target.glob("*cost_and_usage*.csv"))[0]


def generate(rows: int) -> dict[str, Path]:
    """The N-row month as CSV and Parquet (made once)."""
    import duckdb

    CACHE.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": CACHE / f"focus-{rows}.csv",
        "parquet": CACHE / f"focus-{rows}.parquet",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    sample = _sample()
    copies = -(-rows // SAMPLE_ROWS)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"CREATE TABLE sample AS SELECT row_number() OVER () AS n, * FROM read_csv('{sample}', all_varchar = true)"
    )
    # Row g of the month belongs to resource g // 32 (about a day's rows each);
    # a resource runs one of 400 applications, whose owner team, cost centre and
    # sub-account follow from it (as tags do in practice).
    scaled = f"""
WITH rows AS (
    SELECT s.*, (r.i * {SAMPLE_ROWS} + s.n) // 32 AS res, r.i AS copy FROM sample s, range({copies}) r(i)
    LIMIT {rows}
)
SELECT * EXCLUDE (n, res, copy, app) REPLACE (
    CASE WHEN ResourceId IS NULL THEN NULL ELSE ResourceId || '-' || res END AS ResourceId,
    'acct-' || lpad((app % {ACCOUNTS})::VARCHAR, 3, '0') AS SubAccountId,
    'account-' || (app % {ACCOUNTS}) AS SubAccountName,
    CAST(round(TRY_CAST(EffectiveCost AS DOUBLE) * (1 + (copy % 9) / 10.0), 8) AS VARCHAR) AS EffectiveCost,
    CAST(round(TRY_CAST(BilledCost AS DOUBLE) * (1 + (copy % 9) / 10.0), 8) AS VARCHAR) AS BilledCost,
    CASE
      WHEN res % 4 = 0 THEN NULL
      WHEN app % 10 = 0 THEN json_object('Owner', 'team-' || (app % {TEAMS}), 'Environment', ['prod', 'staging', 'dev'][res % 3 + 1], 'Application', 'app-' || app)::VARCHAR
      ELSE json_object('Owner', 'team-' || (app % {TEAMS}), 'CostCenter', 'cc-' || (app % 12), 'Environment', ['prod', 'staging', 'dev'][res % 3 + 1], 'Application', 'app-' || app)::VARCHAR
    END AS Tags
)
FROM (SELECT *, res % 400 AS app FROM rows)
"""
    started = time.perf_counter()
    print(f"generating {rows:,} FOCUS rows (CSV)...", file=sys.stderr, flush=True)
    con.execute(f"COPY ({scaled}) TO '{paths['csv']}.tmp' (FORMAT csv, HEADER)")
    os.replace(f"{paths['csv']}.tmp", paths["csv"])
    print("... and Parquet", file=sys.stderr, flush=True)
    con.execute(
        f"""COPY (SELECT * REPLACE (
            CAST(EffectiveCost AS DOUBLE) AS EffectiveCost, CAST(BilledCost AS DOUBLE) AS BilledCost,
            CAST(BillingPeriodStart AS TIMESTAMPTZ) AS BillingPeriodStart,
            CAST(BillingPeriodEnd AS TIMESTAMPTZ) AS BillingPeriodEnd)
          FROM read_csv('{paths["csv"]}', all_varchar = true))
        TO '{paths["parquet"]}.tmp' (FORMAT parquet)"""
    )
    os.replace(f"{paths['parquet']}.tmp", paths["parquet"])
    print(
        f"generated in {time.perf_counter() - started:,.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return paths


# --- the floor ----------------------------------------------------------------------------

FLOOR_SQL = """
WITH f AS (
    SELECT
        TRY_CAST(EffectiveCost AS DECIMAL(38, 10)) AS ec,
        TRY_CAST(BilledCost AS DECIMAL(38, 10)) AS bc,
        (ResourceId IS NOT NULL AND ResourceId <> '') AS taggable,
        coalesce(json_extract_string(Tags, '$.CostCenter'), '') <> ''
            AND coalesce(json_extract_string(Tags, '$.Owner'), '') <> '' AS tagged,
        (AllocatedMethodId IS NOT NULL AND AllocatedMethodId <> '') AS allocated,
        json_extract_string(Tags, '$.Owner') AS owner,
        ChargeClass, CommitmentDiscountStatus, InvoiceId, SubAccountId,
        coalesce(ServiceProviderName, ProviderName) AS provider
    FROM {source}
),
agg AS (
    SELECT GROUPING(owner) AS is_org, owner,
        SUM(ec) FILTER (WHERE taggable AND tagged) AS tag_num,
        SUM(ec) FILTER (WHERE taggable) AS tag_den,
        SUM(ec) FILTER (WHERE (taggable AND tagged) OR allocated) AS alloc_num,
        SUM(ec) FILTER (WHERE taggable OR allocated) AS alloc_den,
        SUM(ec) FILTER (WHERE owner IS NOT NULL) AS cb_num,
        SUM(ec) AS cb_den,
        abs(SUM(bc) FILTER (WHERE ChargeClass = 'Correction')) AS corr_num,
        SUM(bc) AS corr_den,
        SUM(ec) FILTER (WHERE CommitmentDiscountStatus = 'Used') AS cu_num,
        SUM(ec) FILTER (WHERE CommitmentDiscountStatus IN ('Used', 'Unused')) AS cu_den,
        count(DISTINCT provider) AS providers
    FROM f GROUP BY GROUPING SETS ((), (owner))
),
invoices AS (SELECT InvoiceId, SUM(bc) AS billed FROM f GROUP BY InvoiceId)
SELECT 'agg', to_json(agg)::VARCHAR FROM agg
UNION ALL SELECT 'invoice', to_json(invoices)::VARCHAR FROM invoices
"""


def _floor_source(path: Path, fmt: str) -> str:
    if fmt == "parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, all_varchar = true)"


def floor(path: Path, fmt: str) -> list:
    """Every measure's aggregates, organisation and per owner team, in one
    hand-written DuckDB query over the file (the same DuckDB settings)."""
    from django.conf import settings

    from evidence import engine

    con = engine.connect(
        memory_limit=settings.EVIDENCE_DUCKDB_MEMORY_LIMIT,
        threads=settings.EVIDENCE_DUCKDB_THREADS,
        temp_dir=str(CACHE / "tmp"),
    )
    try:
        # Every aggregate is fetched, so none is optimised away.
        return con.execute(FLOOR_SQL.format(source=_floor_source(path, fmt))).fetchall()
    finally:
        con.close()


def scan(path: Path, fmt: str) -> list:
    """The bare read: one sum over the file, nothing grouped (a lower bound)."""
    from django.conf import settings

    from evidence import engine

    con = engine.connect(
        memory_limit=settings.EVIDENCE_DUCKDB_MEMORY_LIMIT,
        threads=settings.EVIDENCE_DUCKDB_THREADS,
        temp_dir=str(CACHE / "tmp"),
    )
    try:
        return con.execute(
            f"SELECT count(*), sum(TRY_CAST(EffectiveCost AS DECIMAL(38, 10))) "
            f"FROM {_floor_source(path, fmt)}"
        ).fetchall()
    finally:
        con.close()


# --- ours ------------------------------------------------------------------------------------


def bench_org():
    """An organisation of 40 teams under 4 business units, mapped by Owner tag."""
    from assessment.models import Organization, Team
    from evidence.models import TeamMapping

    org, created = Organization.objects.get_or_create(
        slug=ORG_SLUG, defaults={"name": "Bench evidence"}
    )
    if created or not TeamMapping.objects.filter(organization=org).exists():
        units = [
            Team.objects.get_or_create(
                organization=org,
                name=f"Unit {u}",
                defaults={"kind": Team.Kind.BUSINESS_UNIT},
            )[0]
            for u in range(4)
        ]
        for t in range(TEAMS):
            team, _ = Team.objects.get_or_create(
                organization=org, name=f"team-{t}", defaults={"parent": units[t % 4]}
            )
            TeamMapping.objects.get_or_create(
                organization=org,
                kind="tag",
                key="Owner",
                value=f"team-{t}",
                defaults={"team": team, "position": t + 1},
            )
        from evidence.services import evidence_settings_get

        settings = evidence_settings_get(organization=org)
        settings.required_tag_keys = ["CostCenter", "Owner"]
        settings.save()
    return org


def ours(path: Path, name: str):
    """The worker's whole ingestion of the file, from disk to PostgreSQL."""
    from evidence import services, storage
    from evidence.models import Ingestion, Upload

    org = bench_org()
    size = path.stat().st_size
    upload = Upload.objects.create(
        organization=org, name=name, size=size, received=size, status="complete"
    )
    target = storage.upload_path(upload)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(path, target)  # no copy: the bench measures reading, not uploading
    except OSError:
        shutil.copyfile(path, target)
    ingestion = services.ingestion_start(
        organization=org, user=None, uploads=[upload], enqueue=False
    )
    try:
        result = services.ingestion_run(ingestion_id=ingestion.pk)
        ingestion = Ingestion.objects.get(pk=ingestion.pk)
        if result != "succeeded":
            raise RuntimeError(f"ingestion {result}: {ingestion.errors}")
        return ingestion
    finally:
        storage.remove(target)


def run(rows: int = ROWS) -> list[dict]:
    setup_django()
    from django.conf import settings

    settings.EVIDENCE_ROOT = CACHE / "root"
    paths = generate(rows)
    results = []
    label = f"evidence {rows:,} rows"
    for fmt, path in paths.items():
        size_mb = path.stat().st_size / 1e6
        floors, runs, scans = [], [], []
        for attempt in range(REPEAT):
            progress(attempt * 3, REPEAT * 3, f"{fmt} scan/floor/ours")
            scans.append(measure(lambda p=path, f=fmt: scan(p, f)))
            progress(attempt * 3 + 1, REPEAT * 3, f"{fmt} scan/floor/ours")
            floors.append(measure(lambda p=path, f=fmt: floor(p, f)))
            progress(attempt * 3 + 2, REPEAT * 3, f"{fmt} scan/floor/ours")
            runs.append(measure(lambda p=path, f=fmt: ours(p, f"focus.{f}")))
        progress(REPEAT * 3, REPEAT * 3, f"{fmt} scan/floor/ours")
        best_floor = min(floors, key=lambda m: m.seconds)
        best_scan = min(scans, key=lambda m: m.seconds)
        best = min(runs, key=lambda m: m.seconds)
        ingestion = best.result
        peak = max(m.peak_mb or 0 for m in runs)
        results += [
            row(f"{label} ({fmt}): file", round(size_mb), "MB"),
            row(
                f"{label} ({fmt}): ingestion + every measure",
                best.seconds,
                "s",
                best_floor.seconds,
                "ratio = ours / floor; target <= 1.5",
            ),
            row(f"{label} ({fmt}): floor, one DuckDB query", best_floor.seconds, "s"),
            row(
                f"{label} ({fmt}): ours against a bare read of the file",
                best.seconds,
                "s",
                best_scan.seconds,
                "ratio = ours / (count and one sum, nothing grouped)",
            ),
            row(
                f"{label} ({fmt}): rows per second",
                rows / best.seconds,
                "rows/s",
                note="ours, end to end",
            ),
            row(
                f"{label} ({fmt}): rows per second while reading",
                ingestion.rows_per_second,
                "rows/s",
                note="as the page shows it",
            ),
            row(
                f"{label} ({fmt}): peak memory",
                peak,
                "MB",
                2048,
                "process peak (DuckDB in process); target < 2048",
            ),
        ]
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args(argv)
    print(format_table(run(args.rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

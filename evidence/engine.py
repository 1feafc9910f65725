"""DuckDB over FOCUS files: check them, summarise them, compute the measures.

Out of core and multi-threaded: one pass over the files (CSV, gzip'd CSV or
Parquet) groups them into a compact summary (the "cube": one row per distinct
combination of the columns the measures and the team mapping look at, costs
summed), kept as one Parquet file per billing period. The measures
(``measures.py``) then run over the summaries in milliseconds, again whenever the
mapping, the required tags or the invoice totals change.

Pure: no Django. Results come back as small lists and pandas frames.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from . import focus
from .files import (
    BAD_CSV_MSG,
    INTERNAL,
    TRUNCATED_GZIP_MSG,
    FileInfo,
    FocusInputError,
    duckdb_detail,
    relation_of,
)
from .measures import (
    MEASURES,
    NO_INVOICE_TOTALS_NOTE,
    NOT_COMPUTABLE_NOTE,
    ORGANIZATION,
    ROW_FLAGS,
    assign_sql,
    dims_sql,
    measures_sql,
    quote_ident,
    sql_string,
    tag_flags_sql,
)

COST_TYPE = "DECIMAL(38, 10)"
# The summary groups rows by these columns (and the custom x_ ones, and the row
# flags): everything the measures and the team mapping look at, nothing else.
GROUP_KEYS = (
    "BillingPeriodStart",
    "BillingAccountId",
    "BillingCurrency",
    "InvoiceId",
    "ProviderName",
    "SubAccountId",
    "ChargeClass",
    "CommitmentDiscountStatus",
    "Tags",
    "x_CommitmentDiscountSpendEligibility",
)
# Carried along per group: the period's end (latest) and the sub-account's name.
CARRIED = ("BillingPeriodEnd", "SubAccountName")
DIMENSIONS = GROUP_KEYS + CARRIED
# Read from the files only to compute the row flags.
FLAG_INPUTS = (
    "ResourceId",
    "AllocatedMethodId",
    "AllocatedResourceId",
    "AllocatedTags",
)
PROGRESS_INTERVAL_S = 0.5

# Messages (every one names the file or the column).
NOT_NUMBER_MSG = (
    "{name}: {column} holds {what} in {rows} row{s} (for example {example}); "
    "FOCUS costs are numbers."
)
NOT_DATE_MSG = (
    "{column} holds values that are not dates or times (for example {example})."
)
CURRENCY_MIX_MSG = (
    "Billing account {account} mixes currencies ({currencies}); FOCUS bills an "
    "account in one currency. Fix the export, then upload it again."
)
NO_PERIODS_MSG = "The files hold no billing period."


@dataclass
class CubeResult:
    """The summary built from the files: rows read, periods found, time taken."""

    rows: int
    periods: list[dict]
    seconds: float
    missing: set[str]
    custom: list[str]


# --- connection -----------------------------------------------------------------


def connect(
    *, memory_limit: str = "1GB", threads: int = 0, temp_dir: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to ``temp_dir`` beyond ``memory_limit``."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    con.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    con.execute(f"SET threads = {int(threads) or os.cpu_count() or 1}")
    if temp_dir:
        Path(temp_dir).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {sql_string(temp_dir)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def run_with_progress(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    progress: Callable[[float], None] | None,
):
    """Execute ``sql``; meanwhile call ``progress(percent)`` every half second from
    a second thread (DuckDB reports progress across its pipelines; -1 while it
    cannot tell)."""
    if progress is None:
        return con.execute(sql)
    done = threading.Event()

    def poll() -> None:
        while not done.wait(PROGRESS_INTERVAL_S):
            try:
                percent = con.query_progress()
            except duckdb.Error:
                percent = None
            # -1: DuckDB cannot tell (a blocking phase); the caller still hears.
            progress(-1.0 if percent is None or percent < 0 else float(percent))

    thread = threading.Thread(target=poll, name="duckdb-progress", daemon=True)
    thread.start()
    try:
        return con.execute(sql)
    finally:
        done.set()
        thread.join()


# --- the summary ------------------------------------------------------------------


def _text(info: FileInfo, column: str) -> str:
    if column not in info.types:
        return f"NULL::VARCHAR AS {quote_ident(column)}"
    kind = info.types[column]
    if info.format == "parquet" and kind.startswith(("MAP", "STRUCT")):
        return (
            f"CAST(to_json({quote_ident(column)}) AS VARCHAR) AS {quote_ident(column)}"
        )
    if info.format == "parquet":
        return f"CAST({quote_ident(column)} AS VARCHAR) AS {quote_ident(column)}"
    return quote_ident(column)


def _file_select(info: FileInfo, custom: list[str]) -> str:
    provider = [c for c in focus.PROVIDER_COLUMNS if c in info.types]
    provider_sql = (
        "coalesce("
        + ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in provider)
        + ")"
        if provider
        else "NULL::VARCHAR"
    )
    parts = []
    for column in DIMENSIONS:
        if column == "ProviderName":
            parts.append(f"{provider_sql} AS ProviderName")
        else:
            parts.append(_text(info, column))
    parts += [_text(info, c) for c in FLAG_INPUTS]
    parts += [_text(info, c) for c in custom]
    parts += [
        f"TRY_CAST(EffectiveCost AS {COST_TYPE}) AS x_EffectiveCost",
        f"TRY_CAST(BilledCost AS {COST_TYPE}) AS x_BilledCost",
    ]
    return f"SELECT {', '.join(parts)} FROM {relation_of(info)}"


def cube_sql(infos: list[FileInfo], custom: list[str]) -> str:
    """The one pass over the files: group by what the measures and the mapping
    need, sum the costs, count the rows and the costs that are not numbers."""
    union = "\nUNION ALL\n".join(_file_select(info, custom) for info in infos)
    keys = ", ".join(quote_ident(k) for k in (*GROUP_KEYS, *custom))
    flags = ", ".join(f"{sql} AS {name}" for name, sql in ROW_FLAGS.items())
    return f"""
CREATE OR REPLACE TEMP TABLE raw_cube AS
SELECT {keys}, {flags},
  max(BillingPeriodEnd) AS BillingPeriodEnd,
  any_value(SubAccountName) AS SubAccountName,
  SUM(x_EffectiveCost) AS EffectiveCost,
  SUM(x_BilledCost) AS BilledCost,
  count(*) AS x_Rows,
  count(*) FILTER (WHERE x_EffectiveCost IS NULL OR x_BilledCost IS NULL) AS x_BadCostRows
FROM (
{union}
)
GROUP BY ALL
"""


def build_cube(
    con, infos: list[FileInfo], progress: Callable[[float], None] | None = None
) -> CubeResult:
    """Read every file once into the summary (table ``cube``), then check it:
    costs that are not numbers, periods that are not dates, currency mixes."""
    started = time.perf_counter()
    custom = sorted({c for info in infos for c in info.custom})[
        : focus.MAX_CUSTOM_DIMENSIONS
    ]
    try:
        run_with_progress(con, cube_sql(infos, custom), progress)
    except duckdb.Error as error:
        raise FocusInputError([_read_error(infos, error)]) from None
    _check_costs(con, infos)
    con.execute(
        """
CREATE OR REPLACE TEMP TABLE cube AS
SELECT TRY_CAST(BillingPeriodStart AS TIMESTAMPTZ)::DATE AS x_PeriodStart,
       TRY_CAST(BillingPeriodEnd AS TIMESTAMPTZ)::DATE AS x_PeriodEnd,
       * EXCLUDE (x_BadCostRows)
FROM raw_cube
"""
    )
    _check_periods(con)
    _check_currencies(con)
    rows = con.execute("SELECT coalesce(sum(x_Rows), 0) FROM cube").fetchone()[0]
    present = {c for info in infos for c in info.columns}
    missing = {c for c in focus.OPTIONAL_COLUMNS if c not in present}
    periods = period_facts(con, "cube")
    if not periods:
        raise FocusInputError([NO_PERIODS_MSG])
    return CubeResult(
        rows=int(rows),
        periods=periods,
        seconds=time.perf_counter() - started,
        missing=missing,
        custom=custom,
    )


def _read_error(infos: list[FileInfo], error: Exception) -> str:
    detail = duckdb_detail(error)
    names = ", ".join(info.source.name for info in infos)
    if "gzip" in detail.lower():
        return TRUNCATED_GZIP_MSG.format(name=names, detail=detail)
    return BAD_CSV_MSG.format(name=names, detail=detail)


def _check_costs(con, infos: list[FileInfo]) -> None:
    """Costs that are not numbers: counted in the one pass; only when there are
    some, each file is read again to name it and show an example."""
    bad = con.execute(
        "SELECT coalesce(sum(x_BadCostRows), 0) FROM raw_cube"
    ).fetchone()[0]
    if not bad:
        return
    errors = []
    for info in infos:
        for column in focus.COST_COLUMNS:
            count, example = con.execute(
                f"SELECT count(*), max(coalesce(CAST({column} AS VARCHAR), '')) "
                f"FROM {relation_of(info)} "
                f"WHERE TRY_CAST({column} AS {COST_TYPE}) IS NULL"
            ).fetchone()
            if not count:
                continue
            errors.append(
                NOT_NUMBER_MSG.format(
                    name=info.source.name,
                    column=column,
                    what="values that are not numbers" if example else "empty values",
                    rows=f"{count:,}",
                    s="" if count == 1 else "s",
                    example=repr(example) if example else "an empty cell",
                )
            )
    raise FocusInputError(errors)


def _check_periods(con) -> None:
    errors = []
    for column, derived in (
        ("BillingPeriodStart", "x_PeriodStart"),
        ("BillingPeriodEnd", "x_PeriodEnd"),
    ):
        example = con.execute(
            f"SELECT {column} FROM cube WHERE {derived} IS NULL LIMIT 1"
        ).fetchone()
        if example is not None:
            shown = repr(example[0]) if example[0] else "an empty cell"
            errors.append(NOT_DATE_MSG.format(column=column, example=shown))
    if errors:
        raise FocusInputError(errors)


def _check_currencies(con) -> None:
    rows = con.execute(
        """
SELECT BillingAccountId, list(DISTINCT coalesce(BillingCurrency, '(none)') ORDER BY coalesce(BillingCurrency, '(none)'))
FROM cube GROUP BY BillingAccountId HAVING count(DISTINCT coalesce(BillingCurrency, '')) > 1
ORDER BY BillingAccountId LIMIT 10
"""
    ).fetchall()
    if rows:
        raise FocusInputError(
            CURRENCY_MIX_MSG.format(account=account, currencies=", ".join(currencies))
            for account, currencies in rows
        )


def period_facts(con, relation: str) -> list[dict]:
    """Per billing period: its end, providers, currencies, rows and cost totals."""
    rows = con.execute(
        f"""
SELECT x_PeriodStart, max(x_PeriodEnd),
       list(DISTINCT ProviderName ORDER BY ProviderName) FILTER (WHERE ProviderName IS NOT NULL),
       list(DISTINCT BillingCurrency ORDER BY BillingCurrency) FILTER (WHERE BillingCurrency IS NOT NULL),
       sum(x_Rows), coalesce(sum(EffectiveCost), 0), coalesce(sum(BilledCost), 0)
FROM {relation} GROUP BY x_PeriodStart ORDER BY x_PeriodStart
"""
    ).fetchall()
    return [
        {
            "period_start": start,
            "period_end": end or start,
            "providers": list(providers or []),
            "currencies": list(currencies or []),
            "rows": int(n),
            "effective_cost": Decimal(effective),
            "billed_cost": Decimal(billed),
        }
        for start, end, providers, currencies, n, effective, billed in rows
    ]


def write_period_cubes(con, out_dir: str, custom: list[str]) -> dict:
    """Write the summary as one Parquet file per billing period; {date: path}."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    keys = ["x_PeriodStart", *GROUP_KEYS, *custom, *ROW_FLAGS]
    key_sql = ", ".join(quote_ident(k) for k in keys)
    written = {}
    starts = [
        row[0]
        for row in con.execute("SELECT DISTINCT x_PeriodStart FROM cube").fetchall()
    ]
    for start in sorted(starts):
        path = str(Path(out_dir) / f"{start:%Y-%m-%d}.parquet")
        con.execute(
            f"""
COPY (
  SELECT {key_sql},
         max(max(x_PeriodEnd)) OVER () AS x_PeriodEnd,
         max(BillingPeriodEnd) AS BillingPeriodEnd,
         any_value(SubAccountName) AS SubAccountName,
         SUM(EffectiveCost) AS EffectiveCost, SUM(BilledCost) AS BilledCost,
         SUM(x_Rows) AS x_Rows
  FROM cube WHERE x_PeriodStart = DATE '{start:%Y-%m-%d}'
  GROUP BY {key_sql}
) TO {sql_string(path)} (FORMAT parquet)
"""
        )
        written[start] = path
    return written


# --- measures ---------------------------------------------------------------------


def cube_relation(paths: list[str]) -> str:
    """The stored summaries as one relation (their custom columns may differ)."""
    listed = ", ".join(sql_string(p) for p in paths)
    return f"read_parquet([{listed}], union_by_name = true)"


def _columns_of(con, relation: str) -> set[str]:
    return {
        row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    }


def _load_rules(con, rules: list[dict], columns: set[str]) -> list[tuple[str, str]]:
    """The ``rules`` table (position, team_id, kind, key, value); returns the
    (kind, key) pairs to look up. Rules on a column the data lacks catch nothing."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rules (position BIGINT, team_id BIGINT, "
        "kind VARCHAR, key VARCHAR, value VARCHAR)"
    )
    usable = [r for r in rules if r["kind"] != "column" or r["key"] in columns]
    if usable:
        con.executemany(
            "INSERT INTO rules VALUES (?, ?, ?, ?, ?)",
            [
                (r["position"], r["team_id"], r["kind"], r.get("key") or "", r["value"])
                for r in usable
            ],
        )
    return sorted({(r["kind"], r["key"]) for r in usable if r["kind"] != "sub_account"})


def prepare_focus(
    con,
    relation: str,
    *,
    rules: list[dict],
    tree: list[tuple[int, int]],
    required_keys: list[str],
    invoice_totals: dict[str, Decimal] | None = None,
) -> None:
    """Table ``focus``: ``relation`` with x_TeamId, x_HasRequiredTags and
    x_BillingPeriods; tables ``tree`` and ``invoice_totals`` beside it."""
    columns = _columns_of(con, relation)
    rule_keys = _load_rules(con, rules, columns)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tree (node_id BIGINT, ancestor_id BIGINT)"
    )
    if tree:
        con.executemany("INSERT INTO tree VALUES (?, ?)", list(tree))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE invoice_totals (invoice_id VARCHAR, total {COST_TYPE})"
    )
    if invoice_totals:
        con.executemany(
            "INSERT INTO invoice_totals VALUES (?, ?)",
            [(k, str(v)) for k, v in invoice_totals.items()],
        )
    con.execute(
        f"""
CREATE OR REPLACE TEMP TABLE focus AS
SELECT a.* EXCLUDE (x_Row), {tag_flags_sql(required_keys)},
       (SELECT count(DISTINCT x_PeriodStart) FROM {relation}) AS x_BillingPeriods
FROM ({assign_sql(relation, rule_keys)}) a
"""
    )


def compute_measures(
    con,
    relation: str,
    *,
    rules: list[dict],
    tree: list[tuple[int, int]],
    required_keys: list[str],
    invoice_totals: dict[str, Decimal] | None = None,
    missing: frozenset[str] | set[str] = frozenset(),
) -> pd.DataFrame:
    """Every measure for every period and node (node_id NaN: the organisation).

    Columns: period_start, node_id, measure, value (percent or count; NaN when not
    computable), numerator, denominator (Decimal or None), note.
    """
    prepare_focus(
        con,
        relation,
        rules=rules,
        tree=tree,
        required_keys=required_keys,
        invoice_totals=invoice_totals,
    )
    results: dict[tuple, dict] = {}
    computable = [m for m in MEASURES if not set(m.requires) & set(missing)]
    queries = measures_sql(tuple(computable))
    for relation_name, sql in queries.items():
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row, strict=True))
            for measure in computable:
                if measure.relation != relation_name:
                    continue
                if measure.scope == ORGANIZATION and record["node_id"] is not None:
                    continue
                results[(record["x_PeriodStart"], record["node_id"], measure.key)] = (
                    _measure_row(measure, record, invoice_totals)
                )
    periods = sorted({key[0] for key in results}) or [
        row[0]
        for row in con.execute("SELECT DISTINCT x_PeriodStart FROM focus").fetchall()
    ]
    for measure in MEASURES:
        if measure in computable:
            continue
        columns = ", ".join(c for c in measure.requires if c in missing)
        for start in periods:
            results[(start, None, measure.key)] = {
                "value": None,
                "numerator": None,
                "denominator": None,
                "note": NOT_COMPUTABLE_NOTE.format(columns=columns),
            }
    records = [
        {"period_start": start, "node_id": node, "measure": key, **values}
        for (start, node, key), values in results.items()
    ]
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            "period_start",
            "node_id",
            "measure",
            "value",
            "numerator",
            "denominator",
            "note",
        ],
    )
    return frame.sort_values(
        ["period_start", "measure", "node_id"], na_position="first", ignore_index=True
    )


def _measure_row(measure, record: dict, invoice_totals) -> dict:
    numerator = record[f"{measure.key}__num"]
    if measure.denominator is None:
        return {
            "value": float(numerator or 0),
            "numerator": Decimal(numerator or 0),
            "denominator": None,
            "note": "",
        }
    denominator = record[f"{measure.key}__den"]
    numerator = Decimal(numerator or 0)
    if measure.relation == "invoices" and not invoice_totals:
        return {
            "value": None,
            "numerator": None,
            "denominator": None if denominator is None else Decimal(denominator),
            "note": NO_INVOICE_TOTALS_NOTE,
        }
    if denominator is None or Decimal(denominator) == 0:
        return {
            "value": None,
            "numerator": numerator,
            "denominator": None,
            "note": measure.empty_note,
        }
    denominator = Decimal(denominator)
    return {
        "value": float(numerator / denominator * 100),
        "numerator": numerator,
        "denominator": denominator,
        "note": "",
    }


def invoice_sums(con, relation: str) -> list[dict]:
    """``BilledCost`` and corrections summed per (period, InvoiceId, currency)."""
    rows = con.execute(
        f"""
SELECT x_PeriodStart, InvoiceId, any_value(BillingAccountId), coalesce(BillingCurrency, ''),
       SUM(BilledCost), coalesce(SUM(BilledCost) FILTER (WHERE ChargeClass = 'Correction'), 0)
FROM {relation} WHERE InvoiceId IS NOT NULL AND InvoiceId <> ''
GROUP BY x_PeriodStart, InvoiceId, coalesce(BillingCurrency, '')
ORDER BY x_PeriodStart, InvoiceId
"""
    ).fetchall()
    return [
        {
            "period_start": start,
            "invoice_id": invoice,
            "billing_account_id": account or "",
            "currency": currency,
            "billed_cost": Decimal(billed or 0),
            "corrections": Decimal(corrections or 0),
        }
        for start, invoice, account, currency, billed, corrections in rows
    ]


# --- mapping preview and dimensions -----------------------------------------------


def mapping_preview(con, relation: str, rules: list[dict]) -> dict:
    """How much spend each rule catches (alone) and is attributed (after rules of
    lower position took theirs), the total, and what is left unmapped."""
    columns = _columns_of(con, relation)
    rule_keys = _load_rules(con, rules, columns)
    con.execute(
        f"""
CREATE OR REPLACE TEMP TABLE preview AS
WITH src AS (SELECT row_number() OVER () AS x_Row, * FROM {relation}),
dims AS ({dims_sql(rule_keys)}),
hits AS (
    SELECT d.x_Row, r.position FROM dims d JOIN rules r
      ON r.kind = d.kind AND r.key = d.key AND r.value = d.value
)
SELECT src.x_Row, src.EffectiveCost, src.SubAccountId, src.SubAccountName,
       h.position, min(h.position) OVER (PARTITION BY src.x_Row) AS winner
FROM src LEFT JOIN hits h USING (x_Row)
"""
    )
    caught = dict(
        con.execute(
            "SELECT position, coalesce(sum(EffectiveCost), 0) FROM preview "
            "WHERE position IS NOT NULL GROUP BY position"
        ).fetchall()
    )
    attributed = dict(
        con.execute(
            "SELECT position, coalesce(sum(EffectiveCost), 0) FROM preview "
            "WHERE position = winner GROUP BY position"
        ).fetchall()
    )
    total, unmapped = con.execute(
        f"SELECT coalesce(sum(EffectiveCost), 0), "
        f"coalesce(sum(EffectiveCost) FILTER (WHERE x_Row NOT IN "
        f"(SELECT x_Row FROM preview WHERE position IS NOT NULL)), 0) "
        f"FROM (SELECT row_number() OVER () AS x_Row, * FROM {relation})"
    ).fetchone()
    top_unmapped = con.execute(
        "SELECT SubAccountId, any_value(SubAccountName), sum(EffectiveCost) AS spend "
        "FROM preview WHERE winner IS NULL GROUP BY SubAccountId "
        "ORDER BY spend DESC NULLS LAST LIMIT 10"
    ).fetchall()
    return {
        "total": Decimal(total),
        "unmapped": Decimal(unmapped),
        "caught": {int(p): Decimal(v) for p, v in caught.items()},
        "attributed": {int(p): Decimal(v) for p, v in attributed.items()},
        "top_unmapped": [
            {
                "sub_account_id": sid,
                "sub_account_name": sname or "",
                "spend": Decimal(spend or 0),
            }
            for sid, sname, spend in top_unmapped
        ],
    }


def dimensions(con, relation: str, *, limit: int = 50) -> dict:
    """What a mapping can match, with the spend behind each value: sub-accounts,
    tag keys (and their top values), custom x_ columns (and their top values)."""
    columns = _columns_of(con, relation)
    sub_accounts = con.execute(
        f"SELECT SubAccountId, any_value(SubAccountName), sum(EffectiveCost) AS spend "
        f"FROM {relation} WHERE SubAccountId IS NOT NULL GROUP BY SubAccountId "
        f"ORDER BY spend DESC NULLS LAST LIMIT {int(limit) * 4}"
    ).fetchall()
    tags = con.execute(
        f"""
SELECT key, value, sum(EffectiveCost) AS spend FROM (
  SELECT unnest(json_keys(Tags)) AS key, Tags, EffectiveCost FROM {relation}
  WHERE Tags IS NOT NULL AND json_valid(Tags) AND json_type(Tags) = 'OBJECT'
), LATERAL (SELECT json_extract_string(Tags, '$."' || replace(replace(key, '\\', '\\\\'), '"', '\\"') || '"') AS value)
GROUP BY key, value ORDER BY key, spend DESC NULLS LAST
"""
    ).fetchall()
    tag_keys: dict[str, dict] = {}
    for key, value, spend in tags:
        entry = tag_keys.setdefault(
            key, {"key": key, "spend": Decimal(0), "values": []}
        )
        entry["spend"] += Decimal(spend or 0)
        if len(entry["values"]) < limit:
            entry["values"].append({"value": value, "spend": Decimal(spend or 0)})
    custom = []
    for column in sorted(
        c for c in columns if focus.CUSTOM_COLUMN.match(c) and c not in INTERNAL
    ):
        values = con.execute(
            f"SELECT {quote_ident(column)}, sum(EffectiveCost) AS spend FROM {relation} "
            f"WHERE {quote_ident(column)} IS NOT NULL GROUP BY 1 "
            f"ORDER BY spend DESC NULLS LAST LIMIT {int(limit)}"
        ).fetchall()
        custom.append(
            {
                "key": column,
                "values": [{"value": v, "spend": Decimal(s or 0)} for v, s in values],
            }
        )
    return {
        "sub_accounts": [
            {"value": sid, "name": name or "", "spend": Decimal(spend or 0)}
            for sid, name, spend in sub_accounts
        ],
        "tags": sorted(tag_keys.values(), key=lambda e: -e["spend"]),
        "columns": custom,
    }

"""Bulk SQL for frames and plain rows: read a query into a DataFrame, COPY and
upsert many rows, and let derived-data transactions skip the WAL flush.

PostgreSQL gets set-based statements (``string_agg`` reads, ``unnest`` inserts,
COPY); other databases get the ORM's ``bulk_create`` in batches, so every caller
works on the embedded default too.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from django.db import connection
from pandas.api.types import is_numeric_dtype

# Rows per INSERT; bounded so that a 10,000-team cycle never builds one huge query.
BATCH_SIZE = 5000


def fetch_rows(queryset, fields: Sequence[str]) -> list[tuple]:
    """Rows of ``queryset.values_list(*fields)`` as plain tuples, without the ORM's
    per-row conversion or default ordering (the columns read here need neither)."""
    sql, params = queryset.order_by().values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_frame(
    queryset, fields: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    """``queryset.values_list(*fields)`` as a DataFrame, in one query.

    On PostgreSQL the database joins the rows into one CSV text (``string_agg``)
    that ``read_csv`` parses in C: one message instead of a Python tuple per row,
    several times faster at 500,000 rows. Only for numbers, booleans and slugs
    (no commas or newlines). NULL and empty text read as NaN; booleans may read as
    "true"/"false" (see ``as_bool``).
    """
    if connection.vendor != "postgresql":
        return pd.DataFrame.from_records(
            fetch_rows(queryset, fields), columns=list(columns)
        )
    sql, params = queryset.order_by().values_list(*fields).query.sql_with_params()
    aliases = [f"c{i}" for i in range(len(fields))]
    values = ", ".join(f"coalesce(t.{a}::text, '')" for a in aliases)
    statement = (
        f"SELECT string_agg(concat_ws(',', {values}), E'\\n') "
        f"FROM ({sql}) AS t({', '.join(aliases)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        text = cursor.fetchone()[0]
    if not text:
        return pd.DataFrame(columns=list(columns))
    return pd.read_csv(io.StringIO(text), header=None, names=list(columns))


def _log_query(statement: str) -> None:
    """Count a COPY like any other query (COPY bypasses Django's cursor wrapper),
    so that query-count assertions and the debug toolbar see it."""
    if connection.queries_logged:
        connection.queries_log.append({"sql": statement, "time": "0.000"})


def as_bool(series: pd.Series) -> pd.Series:
    """Booleans from a column read by ``fetch_frame`` (bools, or "t"/"f")."""
    if series.dtype == bool:
        return series
    return series.astype(str).str.lower().isin(["t", "true", "1"])


def _array_literal(series: pd.Series) -> str:
    """A PostgreSQL array literal of the column ({1,NULL,2.5} or {"a",""}).

    Built with one ``join`` because psycopg dumps list parameters element by element
    in Python, which costs seconds at 100,000 rows. Text must not hold quotes or
    backslashes (slugs, numbers and timestamps only).
    """
    values = series.astype(object).where(series.notna(), None).tolist()
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
        series.dtype
    ):
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join("NULL" if v is None else f'"{v}"' for v in values) + "}"


def insert_frame(
    model,
    frame: pd.DataFrame,
    json: Mapping[str, Mapping[str, str]] | None = None,
    *,
    unique: Sequence[str] = (),
) -> None:
    """Insert every row of ``frame`` (columns named by attribute; NaN/None = NULL).

    ``json`` maps a JSON field to {key: column}: its value is the object of those
    columns, NULLs left out. PostgreSQL gets one ``INSERT ... SELECT FROM unnest``
    of one array per column (the database builds the JSON); other databases get
    ``bulk_create`` in batches. With ``unique`` (attribute names of a unique
    constraint), rows that exist are updated in place instead, and on PostgreSQL
    only when a value other than a timestamp changed: no delete, no foreign-key
    checks for keys that did not change, nothing written for unchanged rows.
    """
    if frame.empty:
        return
    json = dict(json or {})
    sources = {column for mapping in json.values() for column in mapping.values()}
    names = [c for c in frame.columns if c not in sources]
    meta = model._meta
    fields = [meta.get_field(name.removesuffix("_id")) for name in names]
    if connection.vendor != "postgresql":
        records = frame[names].astype(object).where(frame[names].notna(), None)
        records = records.to_dict("records")
        for attname, mapping in json.items():
            values = frame[list(mapping.values())].to_numpy(
                dtype="float64", na_value=np.nan
            )
            keys = list(mapping)
            for record, row in zip(records, values.tolist(), strict=True):
                record[attname] = {
                    k: v for k, v in zip(keys, row, strict=True) if v == v
                }
        upsert = {}
        if unique:
            upsert = {
                "update_conflicts": True,
                "unique_fields": [f.removesuffix("_id") for f in unique],
                "update_fields": [f.name for f in fields if f.attname not in unique]
                + list(json),
            }
        model.objects.bulk_create(
            (model(**record) for record in records), batch_size=BATCH_SIZE, **upsert
        )
        return
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in fields]
    arrays = [f"%s::text::{f.db_type(connection)}[]" for f in fields]
    params = [_array_literal(frame[name]) for name in names]
    aliases = [f"c{i}" for i in range(len(fields))]
    selects = [f"t.{a}" for a in aliases]
    for attname, mapping in json.items():
        columns.append(quote(meta.get_field(attname).column))
        pairs = []
        for key, source in mapping.items():
            alias = f"c{len(aliases)}"
            aliases.append(alias)
            arrays.append("%s::text::double precision[]")
            params.append(_array_literal(frame[source]))
            pairs.append(f"'{key}', t.{alias}")
        selects.append(f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))")
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} "
        f"FROM unnest({', '.join(arrays)}) AS t({', '.join(aliases)})"
    )
    if unique:
        keys = [quote(meta.get_field(u.removesuffix("_id")).column) for u in unique]
        updates = [c for c in columns if c not in keys]
        # Rows whose values did not change are left alone (no new row version);
        # timestamps alone do not count as a change.
        stamps = {
            quote(f.column) for f in fields if f.get_internal_type() == "DateTimeField"
        }
        compared = [c for c in updates if c not in stamps]
        table = quote(meta.db_table)
        statement += (
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
            + f" WHERE ({', '.join(f'{table}.{c}' for c in compared)})"
            + f" IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in compared)})"
        )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _differs(new: pd.Series, old: pd.Series) -> np.ndarray:
    """Where two aligned columns hold different values (a missing value equals
    another missing value)."""
    missing = (new.isna() & old.isna()).to_numpy()
    if is_numeric_dtype(new) and is_numeric_dtype(old):
        a = new.astype("float64").to_numpy()
        b = old.astype("float64").to_numpy()
        return ~((a == b) | missing)
    return ~((new.astype(object) == old.astype(object)).to_numpy() | missing)


def changed_rows(
    frame: pd.DataFrame, old: pd.DataFrame, keys: Sequence[str], values: Sequence[str]
) -> pd.DataFrame:
    """The rows of ``frame`` that ``old`` lacks (matched on ``keys``, unique in
    ``old``) or holds with another value in one of ``values``: what an upsert of
    ``frame`` over ``old`` has to write."""
    keys, values = list(keys), list(values)
    both = frame[[*keys, *values]].merge(
        old[[*keys, *values]],
        on=keys,
        how="left",
        suffixes=("", "_old"),
        indicator=True,
    )
    changed = np.array(both["_merge"] == "left_only", dtype=bool)
    for value in values:
        changed |= _differs(both[value], both[value + "_old"])
    return frame.iloc[np.flatnonzero(changed)]


def sync_frame(
    model, frame: pd.DataFrame, existing, keys: Sequence[str], values: Sequence[str]
) -> dict[str, int]:
    """Make ``existing`` (a queryset) hold exactly the rows of ``frame``, writing
    only the difference: rows are matched on ``keys`` (nullable allowed), updated
    in place when a value in ``values`` changed, inserted or deleted otherwise.

    Updates keep foreign keys unchanged, so PostgreSQL checks none of them; an
    unchanged snapshot costs one read. Other databases delete and insert all.
    Call inside a transaction. Returns counts of inserted/updated/deleted rows.
    """
    if connection.vendor != "postgresql":
        deleted, _ = existing.delete()
        insert_frame(model, frame)
        return {"inserted": len(frame), "updated": 0, "deleted": deleted}
    keys, values = list(keys), list(values)
    old = fetch_frame(existing, ["id", *keys, *values], ["id", *keys, *values])
    sentinel = -1  # stands for NULL in a key, so that NULL keys match
    left = frame.assign(
        **{k: frame[k].astype("float64").fillna(sentinel) for k in keys}
    )
    right = old.assign(**{k: old[k].astype("float64").fillna(sentinel) for k in keys})
    both = left.merge(
        right, on=keys, how="outer", suffixes=("", "_old"), indicator=True
    )
    new_mask = both["_merge"] == "left_only"
    gone = both.loc[both["_merge"] == "right_only", "id"].astype("int64")
    matched = both.loc[both["_merge"] == "both"]
    changed = np.zeros(len(matched), dtype=bool)
    for v in values:
        a = matched[v].astype("float64").to_numpy()
        b = matched[v + "_old"].astype("float64").to_numpy()
        changed |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
    updates = matched.loc[changed]
    # the outer merge turned integer columns to float where rows were gone: back to
    # the frame's own types
    others = [c for c in frame.columns if c not in keys]
    inserts = both.loc[new_mask, list(frame.columns)].astype(
        {c: frame[c].dtype for c in others}
    )
    for k in keys:  # back from the sentinel
        inserts[k] = inserts[k].where(inserts[k] != sentinel, None)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if len(gone):
            cursor.execute(
                f"DELETE FROM {table} WHERE id = ANY(%s::text::bigint[])",
                [_array_literal(gone)],
            )
        if len(updates):
            fields = [model._meta.get_field(v.removesuffix("_id")) for v in values]
            aliases = [f"c{i}" for i in range(len(values))]
            cursor.execute(
                f"UPDATE {table} SET "
                + ", ".join(
                    f"{quote(f.column)} = u.{a}"
                    for f, a in zip(fields, aliases, strict=True)
                )
                + " FROM unnest(%s::text::bigint[], "
                + ", ".join(f"%s::text::{f.db_type(connection)}[]" for f in fields)
                + f") AS u(id, {', '.join(aliases)}) WHERE {table}.id = u.id",
                [_array_literal(updates["id"].astype("int64"))]
                + [_array_literal(updates[v]) for v in values],
            )
    if len(inserts):
        insert_frame(model, inserts.astype({k: "Int64" for k in keys}))
    return {"inserted": len(inserts), "updated": len(updates), "deleted": len(gone)}


def bulk_insert(model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert plain rows (values in ``fields`` order, by attribute name, foreign keys
    as ids) and return how many were written. ``rows`` may be a generator: it is
    streamed, never held whole.

    PostgreSQL gets one COPY, several times faster than INSERTs at 100,000 rows;
    other databases get ``executemany`` in batches. JSON fields take dicts. Columns
    not named get no Python default: name every column that needs a value.
    """
    meta = model._meta
    model_fields = [meta.get_field(name.removesuffix("_id")) for name in fields]
    quote = connection.ops.quote_name
    count = 0
    if connection.vendor != "postgresql":
        names = ", ".join(quote(f.column) for f in model_fields)
        marks = ", ".join(["%s"] * len(model_fields))
        statement = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({marks})"
        batch: list[tuple] = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(
                    tuple(
                        f.get_db_prep_save(value, connection)
                        for f, value in zip(model_fields, row, strict=True)
                    )
                )
                if len(batch) >= BATCH_SIZE:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(statement, batch)
                count += len(batch)
        return count
    from psycopg import sql

    json_at = [
        i for i, f in enumerate(model_fields) if f.get_internal_type() == "JSONField"
    ]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table),
        sql.SQL(", ").join(sql.Identifier(f.column) for f in model_fields),
    )
    dumps = json.dumps
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        _log_query(copy_sql.as_string(cursor.cursor))
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = dumps(row[i])
            copy.write_row(row)
            count += 1
    return count


def relax_durability() -> None:
    """Let the current transaction commit without waiting for the WAL flush.

    Only for transactions that write nothing but derived data (scores, roll-ups):
    a crash may lose the last few such commits, never half of one, and they are
    recomputed from the answers. No-op outside PostgreSQL.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

"""Stored team scores: one ``CapabilityScore`` row per (assessment, capability).

Answers are read with one query into a DataFrame, scored by ``assessment.scoring``
(the one code path for every reader) and written back whole, so storing twice
gives the same rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from capabilities.models import Lens, MaturityLevel, Question

from . import scoring
from .models import Answer, Assessment, CapabilityScore, Cycle

# Rows per INSERT; bounded so that a 10,000-team cycle never builds one huge query.
BATCH_SIZE = 5000
# Assessments per IN (...) list when reading by id.
ID_CHUNK = 5000

ANSWER_FIELDS = {  # ORM path -> DataFrame column
    "assessment_id": scoring.ASSESSMENT,
    "question_id": scoring.QUESTION,
    "option__score": scoring.SCORE,
    "not_applicable": scoring.NA,
}
QUESTION_FIELDS = {
    "id": scoring.QUESTION,
    "capability_id": scoring.CAPABILITY,
    "lens__key": scoring.LENS,
    "weight": scoring.WEIGHT,
}
SCORE_FIELDS = (
    "assessment_id",
    "capability_id",
    "lens_scores",
    "percent",
    "level_key",
    "answered",
    "total",
    "computed_at",
)


@dataclass(frozen=True)
class CycleRules:
    """What scoring needs to know about a cycle: its questions and weights."""

    cycle_id: int
    questions: pd.DataFrame  # QUESTION, CAPABILITY, LENS, WEIGHT (questions in scope)
    lens_weights: dict[str, float]
    levels: list[tuple[str, float]]

    @property
    def totals(self) -> pd.Series:
        """Questions per capability in scope."""
        return self.questions.groupby(scoring.CAPABILITY).size()


def cycle_rules(*, cycle: Cycle) -> CycleRules:
    """The cycle's questions in scope, lens weights and level bands (4 queries)."""
    scope = list(cycle.capabilities.values_list("id", flat=True))
    questions = Question.objects.filter(capability__framework_id=cycle.framework_id)
    if scope:
        questions = questions.filter(capability_id__in=scope)
    frame = pd.DataFrame.from_records(
        list(questions.values_list(*QUESTION_FIELDS)),
        columns=list(QUESTION_FIELDS.values()),
    )
    frame[scoring.WEIGHT] = frame[scoring.WEIGHT].astype("float64")
    frame[scoring.QUESTION] = frame[scoring.QUESTION].astype("int64")
    frame[scoring.CAPABILITY] = frame[scoring.CAPABILITY].astype("int64")
    lenses = dict(
        Lens.objects.filter(framework_id=cycle.framework_id)
        .order_by("order", "id")
        .values_list("key", "weight")
    )
    levels = [
        (key, float(minimum))
        for key, minimum in MaturityLevel.objects.filter(
            framework_id=cycle.framework_id
        )
        .order_by()
        .values_list("key", "min_percent")
    ]
    return CycleRules(
        cycle_id=cycle.pk,
        questions=frame,
        lens_weights=scoring.lens_weights_for(cycle.lens_weights, lenses),
        levels=levels,
    )


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


def answers_frame(
    *,
    assessment_ids: Iterable[int] | None = None,
    cycle_id: int | None = None,
    questions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The answers of some assessments (or of a whole cycle) as a scoring frame.

    One ``.values()`` query per ``ID_CHUNK`` assessments (one for a cycle). With
    ``questions`` (see ``cycle_rules``), rows gain CAPABILITY, LENS and WEIGHT and
    answers to questions out of scope are dropped.
    """
    answers = Answer.objects.all()
    if cycle_id is not None:
        chunks = [answers.filter(assessment__cycle_id=cycle_id)]
    else:
        ids = sorted(set(assessment_ids or ()))
        chunks = [
            answers.filter(assessment_id__in=ids[i : i + ID_CHUNK])
            for i in range(0, len(ids), ID_CHUNK)
        ]
    columns = list(ANSWER_FIELDS.values())
    frames = [fetch_frame(chunk, list(ANSWER_FIELDS), columns) for chunk in chunks]
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=columns)
    )
    frame[scoring.ASSESSMENT] = frame[scoring.ASSESSMENT].astype("int64")
    frame[scoring.QUESTION] = frame[scoring.QUESTION].astype("int64")
    frame[scoring.SCORE] = pd.to_numeric(frame[scoring.SCORE]).astype("float64")
    frame[scoring.NA] = as_bool(frame[scoring.NA])
    if questions is None:
        return frame
    return frame.merge(questions, on=scoring.QUESTION, how="inner")[
        scoring.ANSWER_COLUMNS
    ]


def score_frame(
    *, rules: CycleRules, answers: pd.DataFrame, assessment_ids
) -> pd.DataFrame:
    """Capability scores of the given assessments under ``rules`` (no queries)."""
    return scoring.capability_scores(
        answers,
        rules.lens_weights,
        rules.levels,
        totals=rules.totals,
        assessments=list(assessment_ids),
    )


def score_table(frame: pd.DataFrame, lens_keys: Sequence[str]) -> pd.DataFrame:
    """``CapabilityScore`` rows for a capability-score frame: the SCORE_FIELDS
    columns, except ``lens_scores``, whose values are the ``lens_<key>`` columns
    (see ``LENS_JSON`` and ``insert_frame``)."""
    table = pd.DataFrame(
        {
            "assessment_id": frame[scoring.ASSESSMENT].astype("int64"),
            "capability_id": frame[scoring.CAPABILITY].astype("int64"),
            "percent": frame[scoring.PERCENT].astype("float64").round(6),
            "level_key": frame[scoring.LEVEL].fillna("").astype(str),
            "answered": frame[scoring.ANSWERED].astype("int64"),
            "total": frame[scoring.TOTAL].astype("int64"),
            "computed_at": timezone.now(),
        },
        index=frame.index,
    )
    for key in lens_keys:
        column = scoring.lens_column(key)
        table[column] = frame[column].astype("float64").round(6)
    return table


def lens_json(lens_keys: Sequence[str]) -> dict[str, dict[str, str]]:
    """``insert_frame``'s ``json`` argument for ``CapabilityScore.lens_scores``."""
    return {"lens_scores": {k: scoring.lens_column(k) for k in lens_keys}}


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
    inserts = both.loc[new_mask, list(frame.columns)]
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


def bulk_insert(model, fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert plain rows (values in ``fields`` order, by attribute name).

    PostgreSQL gets one COPY, which is several times faster than INSERTs at 100,000
    rows; other databases get ``bulk_create`` in batches. JSON fields take dicts.
    """
    if not rows:
        return
    meta = model._meta
    model_fields = [meta.get_field(name.removesuffix("_id")) for name in fields]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**dict(zip(fields, row, strict=True))) for row in rows),
            batch_size=BATCH_SIZE,
        )
        return
    from psycopg import sql

    json_at = [
        i for i, f in enumerate(model_fields) if f.get_internal_type() == "JSONField"
    ]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table),
        sql.SQL(", ").join(sql.Identifier(f.column) for f in model_fields),
    )
    dumps = json.dumps
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        _log_query(statement.as_string(cursor.cursor))
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = dumps(row[i])
            copy.write_row(row)


def relax_durability() -> None:
    """Let the current transaction commit without waiting for the WAL flush.

    Only for transactions that write nothing but derived data (scores, roll-ups):
    a crash may lose the last few such commits, never half of one, and they are
    recomputed from the answers. No-op outside PostgreSQL.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _store_cycle(cycle: Cycle, assessment_ids: Sequence[int] | None) -> int:
    """Replace the scores of ``assessment_ids`` (all of the cycle when None)."""
    owns_transaction = not connection.in_atomic_block
    rules = cycle_rules(cycle=cycle)
    in_scope = [int(c) for c in rules.totals.index]
    if assessment_ids is None:
        ids = list(Assessment.objects.filter(cycle=cycle).values_list("id", flat=True))
        answers = answers_frame(cycle_id=cycle.pk, questions=rules.questions)
        old = [CapabilityScore.objects.filter(assessment__cycle=cycle)]
    else:
        ids = list(assessment_ids)
        answers = answers_frame(assessment_ids=ids, questions=rules.questions)
        old = [
            CapabilityScore.objects.filter(assessment_id__in=ids[i : i + ID_CHUNK])
            for i in range(0, len(ids), ID_CHUNK)
        ]
    # Rows are upserted; only capabilities no longer in scope are deleted.
    old = [queryset.exclude(capability_id__in=in_scope) for queryset in old]
    frame = score_frame(rules=rules, answers=answers, assessment_ids=ids)
    table = score_table(frame, list(rules.lens_weights))
    with transaction.atomic():
        if owns_transaction:
            relax_durability()
        for queryset in old:
            queryset.delete()
        insert_frame(
            CapabilityScore,
            table,
            json=lens_json(list(rules.lens_weights)),
            unique=("assessment_id", "capability_id"),
        )
    return len(table)


def scores_store(*, assessment: Assessment) -> None:
    """Recompute and replace the assessment's capability scores (idempotent)."""
    _store_cycle(assessment.cycle, [assessment.pk])


def scores_store_many(*, assessment_ids: Iterable[int]) -> int:
    """Recompute the scores of many assessments, cycle by cycle; returns rows written."""
    ids = sorted(set(assessment_ids))
    by_cycle: dict[int, list[int]] = {}
    for i in range(0, len(ids), ID_CHUNK):
        for pk, cycle_id in Assessment.objects.filter(
            pk__in=ids[i : i + ID_CHUNK]
        ).values_list("id", "cycle_id"):
            by_cycle.setdefault(cycle_id, []).append(pk)
    written = 0
    for cycle in Cycle.objects.filter(pk__in=by_cycle):
        written += _store_cycle(cycle, by_cycle[cycle.pk])
    return written


def scores_store_cycle(*, cycle: Cycle) -> int:
    """Recompute the scores of every assessment of a cycle; returns rows written."""
    return _store_cycle(cycle, None)

"""Stored team scores: one ``CapabilityScore`` row per (assessment, capability).

Answers are read with one query into a DataFrame, scored by ``assessment.scoring``
(the one code path for every reader) and written back whole, so storing twice
gives the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
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
    per-row conversion (the columns read here need none)."""
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
    rows: list[tuple] = []
    for chunk in chunks:
        rows.extend(fetch_rows(chunk, list(ANSWER_FIELDS)))
    frame = pd.DataFrame.from_records(rows, columns=list(ANSWER_FIELDS.values()))
    frame[scoring.ASSESSMENT] = frame[scoring.ASSESSMENT].astype("int64")
    frame[scoring.QUESTION] = frame[scoring.QUESTION].astype("int64")
    frame[scoring.SCORE] = pd.to_numeric(frame[scoring.SCORE]).astype("float64")
    frame[scoring.NA] = frame[scoring.NA].astype(bool)
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


def score_rows(frame: pd.DataFrame, lens_keys: Sequence[str]) -> list[tuple]:
    """``CapabilityScore`` rows (SCORE_FIELDS order) for a capability-score frame."""
    now = timezone.now()
    columns = [scoring.lens_column(k) for k in lens_keys]
    lens_values = frame[columns].to_numpy(dtype="float64", na_value=np.nan).round(6)
    lens_dicts = [
        {k: v for k, v in zip(lens_keys, row, strict=True) if v == v}
        for row in lens_values.tolist()
    ]
    percents = frame[scoring.PERCENT].to_numpy(dtype="float64").round(6).tolist()
    return list(
        zip(
            frame[scoring.ASSESSMENT].tolist(),
            frame[scoring.CAPABILITY].tolist(),
            lens_dicts,
            [None if p != p else p for p in percents],
            [level or "" for level in frame[scoring.LEVEL].tolist()],
            frame[scoring.ANSWERED].tolist(),
            frame[scoring.TOTAL].tolist(),
            [now] * len(frame),
            strict=True,
        )
    )


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
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = dumps(row[i])
            copy.write_row(row)


def _store_cycle(cycle: Cycle, assessment_ids: Sequence[int] | None) -> int:
    """Replace the scores of ``assessment_ids`` (all of the cycle when None)."""
    rules = cycle_rules(cycle=cycle)
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
    frame = score_frame(rules=rules, answers=answers, assessment_ids=ids)
    rows = score_rows(frame, list(rules.lens_weights))
    with transaction.atomic():
        for queryset in old:
            queryset.delete()
        bulk_insert(CapabilityScore, SCORE_FIELDS, rows)
    return len(rows)


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

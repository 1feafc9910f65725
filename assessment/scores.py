"""Stored team scores: one ``CapabilityScore`` row per (assessment, capability).

Answers are read with one query into a DataFrame, scored by ``assessment.scoring``
(the one code path for every reader) and written back whole, so storing twice
gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from django.db import connection, transaction
from django.db.models import FloatField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from capabilities.models import Question
from capabilities.selectors import (
    framework_lenses,
    framework_levels,
    lens_weights,
    level_bands,
)
from finops_portal.bulk_sql import (
    as_bool,
    changed_rows,
    fetch_frame,
    insert_frame,
    relax_durability,
)

from . import disagreement, scoring
from .models import (
    Answer,
    Assessment,
    CapabilityScore,
    Cycle,
    Organization,
    RespondentAnswer,
)

# Assessments per IN (...) list when reading by id.
ID_CHUNK = 5000

ALLOW_NA = "allow_na"
AUDIENCE = "audience"
CENTRAL = "central"
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
    "allow_na": ALLOW_NA,
    "audience": AUDIENCE,
}
SCORE_KEYS = ("assessment_id", "capability_id")
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
    # QUESTION, CAPABILITY, LENS, WEIGHT, ALLOW_NA, AUDIENCE (questions in scope)
    questions: pd.DataFrame
    lens_weights: dict[str, float]
    levels: list[tuple]
    # Assessments of the organisation's central FinOps team in this cycle: they
    # answer and are scored on every question; other teams leave central ones out.
    central_assessment_ids: frozenset[int] = frozenset()

    @property
    def totals(self) -> pd.Series:
        """Questions per capability in scope (a central assessment's totals)."""
        return self.questions.groupby(scoring.CAPABILITY).size()

    @property
    def has_central(self) -> bool:
        return bool((self.questions[AUDIENCE] == CENTRAL).any())

    @property
    def team_questions(self) -> pd.DataFrame:
        """The questions a team other than the central one answers."""
        return self.questions[self.questions[AUDIENCE] != CENTRAL]

    @property
    def team_totals(self) -> pd.Series:
        """Questions per capability for teams other than the central one (0 where a
        capability asks only central questions)."""
        counts = self.team_questions.groupby(scoring.CAPABILITY).size()
        return counts.reindex(self.totals.index, fill_value=0)


def cycle_rules(*, cycle: Cycle) -> CycleRules:
    """The cycle's questions in scope, lens weights and level bands (4 queries)."""
    scope = list(cycle.capabilities.values_list("id", flat=True))
    return framework_rules(
        framework_id=cycle.framework_id,
        scope=scope,
        cycle_lens_weights=cycle.lens_weights,
        cycle_id=cycle.pk,
        organization_id=cycle.organization_id,
    )


def framework_rules(
    *,
    framework_id: int,
    scope: Sequence[int] = (),
    cycle_lens_weights: dict | None = None,
    cycle_id: int,
    organization_id: int,
) -> CycleRules:
    """Scoring rules of ``framework_id`` for the assessments of cycle ``cycle_id``
    (whose central team's assessment is scored on central questions too): what
    ``cycle_rules`` gives for a cycle, and a dry run for a draft against an old
    cycle's answers."""
    questions = Question.objects.filter(capability__framework_id=framework_id)
    if scope:
        questions = questions.filter(capability_id__in=scope)
    frame = pd.DataFrame.from_records(
        list(questions.values_list(*QUESTION_FIELDS)),
        columns=list(QUESTION_FIELDS.values()),
    )
    frame[scoring.WEIGHT] = frame[scoring.WEIGHT].astype("float64")
    frame[scoring.QUESTION] = frame[scoring.QUESTION].astype("int64")
    frame[scoring.CAPABILITY] = frame[scoring.CAPABILITY].astype("int64")
    frame[ALLOW_NA] = frame[ALLOW_NA].astype(bool)
    frame[AUDIENCE] = frame[AUDIENCE].astype("object")
    lenses = lens_weights(framework_lenses(framework_id=framework_id))
    levels = level_bands(framework_levels(framework_id=framework_id))
    central: frozenset[int] = frozenset()
    if (frame[AUDIENCE] == CENTRAL).any():
        # Only content with central questions pays this query.
        central = frozenset(
            Assessment.objects.filter(
                cycle_id=cycle_id,
                team_id=Organization.objects.filter(pk=organization_id).values(
                    "central_team_id"
                )[:1],
            ).values_list("id", flat=True)
        )
    return CycleRules(
        cycle_id=cycle_id,
        questions=frame,
        lens_weights=scoring.lens_weights_for(cycle_lens_weights or {}, lenses),
        levels=levels,
        central_assessment_ids=central,
    )


def answers_frame(
    *,
    assessment_ids: Iterable[int] | None = None,
    cycle_id: int | None = None,
    questions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The answers of some assessments (or of a whole cycle) as a scoring frame.

    One ``.values()`` query per ``ID_CHUNK`` assessments (one for a cycle). With
    ``questions`` (see ``cycle_rules``), rows gain CAPABILITY, LENS and WEIGHT,
    answers to questions out of scope are dropped, and NA holds only for an N/A on
    a question that allows it (``models.counts_as_answered``, vectorised).
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
    frame = frame.merge(questions, on=scoring.QUESTION, how="inner")
    frame[scoring.NA] = frame[scoring.NA] & frame[ALLOW_NA].astype(bool)
    return frame[scoring.ANSWER_COLUMNS]


def disagreement_by_capability(
    *,
    questions: pd.DataFrame,
    assessment_ids: Sequence[int] | None = None,
    cycle_id: int | None = None,
) -> pd.DataFrame:
    """Per (assessment, capability) the members' disagreement (see
    ``disagreement``) from the individual answers of consensus mode; one query per
    ``ID_CHUNK`` assessments (one for a cycle), no rows for single-mode teams."""
    rows = RespondentAnswer.objects.filter(option__isnull=False)
    if cycle_id is not None:
        chunks = [rows.filter(assessment__cycle_id=cycle_id)]
    else:
        ids = list(assessment_ids or ())
        chunks = [
            rows.filter(assessment_id__in=ids[i : i + ID_CHUNK])
            for i in range(0, len(ids), ID_CHUNK)
        ]
    records = [
        row
        for chunk in chunks
        for row in chunk.order_by().values_list(
            "assessment_id", "question_id", "option__score"
        )
    ]
    frame = pd.DataFrame.from_records(
        records,
        columns=[disagreement.ASSESSMENT, disagreement.QUESTION, disagreement.SCORE],
    )
    frame = frame.merge(
        questions[[scoring.QUESTION, scoring.CAPABILITY]].rename(
            columns={
                scoring.QUESTION: disagreement.QUESTION,
                scoring.CAPABILITY: disagreement.CAPABILITY,
            }
        ),
        on=disagreement.QUESTION,
        how="inner",
    )
    frame[disagreement.SCORE] = frame[disagreement.SCORE].astype("float64")
    return disagreement.capability_disagreement_frame(frame)


def with_disagreement(table: pd.DataFrame, figures: pd.DataFrame) -> pd.DataFrame:
    """``table`` (score rows) with a ``disagreement`` column, NaN where none."""
    if figures.empty:  # no team of these answered in consensus mode
        table["disagreement"] = float("nan")
        return table
    lookup = {
        (int(a), int(c)): float(d)
        for a, c, d in zip(
            figures[disagreement.ASSESSMENT],
            figures[disagreement.CAPABILITY],
            figures[disagreement.DISAGREEMENT],
            strict=True,
        )
    }
    table["disagreement"] = [
        lookup.get((a, c), float("nan"))
        for a, c in zip(table["assessment_id"], table["capability_id"], strict=True)
    ]
    return table


def score_frame(
    *, rules: CycleRules, answers: pd.DataFrame, assessment_ids
) -> pd.DataFrame:
    """Capability scores of the given assessments under ``rules`` (no queries).

    The audience rule: the central team's assessment is scored on every question;
    any other team's leaves the central questions out of its answers and totals
    (those are the central function's, shown to the team read-only).
    """
    ids = list(assessment_ids)
    if not rules.has_central:
        return scoring.capability_scores(
            answers,
            rules.lens_weights,
            rules.levels,
            totals=rules.totals,
            assessments=ids,
        )
    central_ids = [i for i in ids if i in rules.central_assessment_ids]
    team_ids = [i for i in ids if i not in rules.central_assessment_ids]
    team_question_ids = set(rules.team_questions[scoring.QUESTION])
    parts = []
    if team_ids:
        team_answers = answers[
            answers[scoring.ASSESSMENT].isin(team_ids)
            & answers[scoring.QUESTION].isin(team_question_ids)
        ]
        parts.append(
            scoring.capability_scores(
                team_answers,
                rules.lens_weights,
                rules.levels,
                totals=rules.team_totals,
                assessments=team_ids,
            )
        )
    if central_ids or not parts:
        parts.append(
            scoring.capability_scores(
                answers[answers[scoring.ASSESSMENT].isin(central_ids)],
                rules.lens_weights,
                rules.levels,
                totals=rules.totals,
                assessments=central_ids,
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(
        [scoring.ASSESSMENT, scoring.CAPABILITY], ignore_index=True
    )


def score_table(frame: pd.DataFrame, lens_keys: Sequence[str]) -> pd.DataFrame:
    """``CapabilityScore`` rows for a capability-score frame: the SCORE_FIELDS
    columns, except ``lens_scores``, whose values are the ``lens_<key>`` columns
    (see ``LENS_JSON`` and ``insert_frame``)."""
    table = pd.DataFrame(
        {
            "assessment_id": frame[scoring.ASSESSMENT].astype("int64"),
            "capability_id": frame[scoring.CAPABILITY].astype("int64"),
            "percent": frame[scoring.PERCENT].astype("float64"),
            "level_key": frame[scoring.LEVEL].fillna("").astype(str),
            "answered": frame[scoring.ANSWERED].astype("int64"),
            "total": frame[scoring.TOTAL].astype("int64"),
            "computed_at": timezone.now(),
        },
        index=frame.index,
    )
    for key in lens_keys:
        column = scoring.lens_column(key)
        table[column] = frame[column].astype("float64")
    return table


def lens_values(lens_keys: Sequence[str]) -> dict:
    """Annotations reading each lens score out of ``CapabilityScore.lens_scores``
    as a number, named ``lens_<key>`` (``scoring.lens_column``): the database
    extracts them from the JSON."""
    return {
        scoring.lens_column(key): Cast(KT(f"lens_scores__{key}"), FloatField())
        for key in lens_keys
    }


def stored_table(querysets, lens_keys: Sequence[str]) -> pd.DataFrame:
    """The stored ``CapabilityScore`` rows of ``querysets`` with the columns of
    ``score_table`` and ``disagreement`` (no ``computed_at``), one query each."""
    lens_columns = [scoring.lens_column(k) for k in lens_keys]
    fields = [*SCORE_KEYS, "percent", "level_key", "answered", "total"]
    fields += ["disagreement", *lens_columns]
    frames = [
        fetch_frame(queryset.annotate(**lens_values(lens_keys)), fields, fields)
        for queryset in querysets
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame["level_key"] = frame["level_key"].fillna("").astype(str)
    return frame


def lens_json(lens_keys: Sequence[str]) -> dict[str, dict[str, str]]:
    """``insert_frame``'s ``json`` argument for ``CapabilityScore.lens_scores``."""
    return {"lens_scores": {k: scoring.lens_column(k) for k in lens_keys}}


def _store_cycle(cycle: Cycle, assessment_ids: Sequence[int] | None) -> int:
    """Replace the scores of ``assessment_ids`` (all of the cycle when None)."""
    owns_transaction = not connection.in_atomic_block
    rules = cycle_rules(cycle=cycle)
    in_scope = [int(c) for c in rules.totals.index]
    if assessment_ids is None:
        ids = list(Assessment.objects.filter(cycle=cycle).values_list("id", flat=True))
        answers = answers_frame(cycle_id=cycle.pk, questions=rules.questions)
        stored = [CapabilityScore.objects.filter(assessment__cycle=cycle)]
    else:
        ids = list(assessment_ids)
        answers = answers_frame(assessment_ids=ids, questions=rules.questions)
        stored = [
            CapabilityScore.objects.filter(assessment_id__in=ids[i : i + ID_CHUNK])
            for i in range(0, len(ids), ID_CHUNK)
        ]
    # Rows are upserted; only capabilities no longer in scope are deleted.
    old = [queryset.exclude(capability_id__in=in_scope) for queryset in stored]
    frame = score_frame(rules=rules, answers=answers, assessment_ids=ids)
    lens_keys = list(rules.lens_weights)
    table = score_table(frame, lens_keys)
    table = with_disagreement(
        table,
        disagreement_by_capability(
            questions=rules.questions,
            cycle_id=cycle.pk if assessment_ids is None else None,
            assessment_ids=ids,
        ),
    )
    if assessment_ids is None:
        # A whole cycle recomputed mostly finds its scores as stored: comparing
        # them here is several times cheaper than offering every row to the upsert.
        compared = [c for c in table.columns if c not in SCORE_KEYS + ("computed_at",)]
        table = changed_rows(
            table, stored_table(stored, lens_keys), SCORE_KEYS, compared
        )
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

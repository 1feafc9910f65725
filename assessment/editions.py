"""Answers across framework versions: carried forward into a new cycle, and the dry
run of a draft against an organisation's last closed cycle.

Both translate old answers onto the new version's questions the same way
(``translate_answers``), through the mapping of ``capabilities.editions``:

- a question that is the same, renamed or split from an old one takes its answer;
- a merged question takes the rounded mean of its sources' scores (half up); when
  its sources were all N/A, N/A;
- a new question, or one whose sources were not answered, stays unanswered
  ("unmatched").

Versions further apart are mapped step by step along their ``derived_from`` chain;
versions not on one chain are matched by question key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction

from capabilities.editions import version_mapping
from capabilities.models import AnswerOption, Capability, Framework, Question

from . import scoring
from .models import Answer, Assessment, CapabilityScore, Cycle, Organization
from .scores import framework_rules, score_frame

NO_CLOSED_CYCLE_MSG = (
    "{organization} has no closed cycle yet: a dry run scores the answers of the "
    "last closed cycle, so close one first."
)
DRY_RUN_NOT_SAME_SLUG_MSG = (
    "{framework} is not a version of the framework {organization}'s last closed "
    "cycle used ({old}); a dry run compares versions of one framework."
)
MAX_CHAIN = 20
# Assessments scored per step of a dry run (each step reports progress).
DRY_RUN_CHUNK = 250


@dataclass(frozen=True)
class CarriedAnswer:
    score: int | None
    not_applicable: bool
    na_reason: str = ""
    comment: str = ""
    evidence_url: str = ""


def _chain(new: Framework, old: Framework) -> list[Framework] | None:
    """[new, ..., old] along derived_from links, or None when old is not on it."""
    chain = [new]
    current = new
    for _ in range(MAX_CHAIN):
        if current.pk == old.pk:
            return chain
        if not current.derived_from_slug:
            return None
        current = Framework.objects.filter(
            slug=current.derived_from_slug, version=current.derived_from_version
        ).first()
        if current is None:
            return None
        chain.append(current)
    return None


def _by_key(new: Framework, old: Framework, model) -> dict[int, list[int]]:
    lookup = "framework" if model is Capability else "capability__framework"
    old_ids = dict(model.objects.filter(**{lookup: old}).values_list("key", "id"))
    return {
        pk: [old_ids[key]] if key in old_ids else []
        for pk, key in model.objects.filter(**{lookup: new}).values_list("id", "key")
    }


def _sources(new: Framework, old: Framework, attribute: str, model) -> dict:
    chain = _chain(new, old)
    if chain is None:
        return _by_key(new, old, model)
    if len(chain) == 1:
        lookup = "framework" if model is Capability else "capability__framework"
        return {
            pk: [pk]
            for pk in model.objects.filter(**{lookup: new}).values_list("id", flat=True)
        }
    # Compose the mappings step by step: new -> ... -> old.
    result = dict(getattr(version_mapping(chain[0]), attribute))
    for step in chain[1:-1]:
        step_map = getattr(version_mapping(step), attribute)
        result = {
            pk: [o for mid in olds for o in step_map.get(mid, [])]
            for pk, olds in result.items()
        }
    return {pk: list(dict.fromkeys(olds)) for pk, olds in result.items()}


def question_sources(*, new: Framework, old: Framework) -> dict[int, list[int]]:
    """New question id -> the old questions it continues."""
    return _sources(new, old, "questions", Question)


def capability_sources(*, new: Framework, old: Framework) -> dict[int, list[int]]:
    """New capability id -> the old capabilities it continues."""
    return _sources(new, old, "capabilities", Capability)


def translate_answers(
    old: dict[int, CarriedAnswer], sources: dict[int, list[int]]
) -> dict[int, CarriedAnswer]:
    """Old answers (by old question id) as answers to the new questions."""
    out: dict[int, CarriedAnswer] = {}
    for new_id, old_ids in sources.items():
        given = [old[o] for o in old_ids if o in old]
        if not given:
            continue
        scored = [a.score for a in given if a.score is not None]
        comment = "\n".join(a.comment for a in given if a.comment)
        evidence = next((a.evidence_url for a in given if a.evidence_url), "")
        if scored:
            mean = sum(scored) / len(scored)
            out[new_id] = CarriedAnswer(
                score=int(math.floor(mean + 0.5)),
                not_applicable=False,
                comment=comment,
                evidence_url=evidence,
            )
        elif all(a.not_applicable for a in given):
            out[new_id] = CarriedAnswer(
                score=None,
                not_applicable=True,
                na_reason=given[0].na_reason,
                comment=comment,
                evidence_url=evidence,
            )
    return out


def _old_answers(assessment_ids) -> dict[int, dict[int, CarriedAnswer]]:
    """assessment id -> old question id -> answer (one query per call)."""
    found: dict[int, dict[int, CarriedAnswer]] = {}
    rows = Answer.objects.filter(assessment_id__in=list(assessment_ids)).values_list(
        "assessment_id",
        "question_id",
        "option__score",
        "not_applicable",
        "na_reason",
        "comment",
        "evidence_url",
    )
    for assessment_id, question_id, score, na, reason, comment, evidence in rows:
        if score is None and not na:
            continue
        found.setdefault(assessment_id, {})[question_id] = CarriedAnswer(
            score=score,
            not_applicable=bool(na),
            na_reason=reason or "",
            comment=comment or "",
            evidence_url=evidence or "",
        )
    return found


# --- carrying answers forward --------------------------------------------------------


def carry_forward(*, cycle: Cycle) -> dict:
    """Pre-fill every not yet answered question of the cycle's assessments from the
    team's last submitted assessment (of an earlier cycle), through the mapping
    when the framework version changed. Carried answers are marked until a
    respondent confirms or changes them. Idempotent: answered questions are left
    alone. Returns {"assessments": n, "answers": n}."""
    assessments = list(Assessment.objects.filter(cycle=cycle).select_related("team"))
    team_ids = [a.team_id for a in assessments]
    previous: dict[int, Assessment] = {}
    for before in (
        Assessment.objects.filter(
            team_id__in=team_ids,
            status=Assessment.Status.SUBMITTED,
            cycle__organization_id=cycle.organization_id,
        )
        .exclude(cycle=cycle)
        .select_related("cycle__framework")
        .order_by("team_id", "-submitted_at", "-id")
    ):
        previous.setdefault(before.team_id, before)
    if not previous:
        return {"assessments": 0, "answers": 0}
    new_framework = cycle.framework
    options = {
        (question_id, score): pk
        for pk, question_id, score in AnswerOption.objects.filter(
            question__capability__framework=new_framework
        ).values_list("id", "question_id", "score")
    }
    questions = dict(
        Question.objects.filter(capability__framework=new_framework).values_list(
            "id", "allow_na"
        )
    )
    # The audience rule: where the organisation has a central team, a central
    # question is carried to it alone (every other team sees its answer and could
    # not confirm one of its own); without one, it is carried for the record.
    central_questions = set(
        Question.objects.filter(
            capability__framework=new_framework, audience="central"
        ).values_list("id", flat=True)
    )
    central_team_id = (
        Organization.objects.filter(pk=cycle.organization_id)
        .values_list("central_team_id", flat=True)
        .first()
    )
    scope = set(cycle.capabilities.values_list("id", flat=True))
    in_scope = (
        set(
            Question.objects.filter(capability_id__in=scope).values_list(
                "id", flat=True
            )
        )
        if scope
        else set(questions)
    )
    old_answers = _old_answers(a.pk for a in previous.values())
    already = set(
        Answer.objects.filter(assessment__cycle=cycle).values_list(
            "assessment_id", "question_id"
        )
    )
    sources_cache: dict[int, dict[int, list[int]]] = {}
    rows = []
    touched = set()
    for assessment in assessments:
        before = previous.get(assessment.team_id)
        if before is None:
            continue
        old_framework = before.cycle.framework
        if old_framework.pk not in sources_cache:
            sources_cache[old_framework.pk] = question_sources(
                new=new_framework, old=old_framework
            )
        carried = translate_answers(
            old_answers.get(before.pk, {}), sources_cache[old_framework.pk]
        )
        for question_id, answer in carried.items():
            if question_id not in in_scope or (assessment.pk, question_id) in already:
                continue
            if (
                central_team_id is not None
                and question_id in central_questions
                and assessment.team_id != central_team_id
            ):
                continue
            option_id = (
                options.get((question_id, answer.score))
                if answer.score is not None
                else None
            )
            if option_id is None and not (
                answer.not_applicable and questions.get(question_id)
            ):
                continue
            rows.append(
                Answer(
                    assessment=assessment,
                    question_id=question_id,
                    option_id=option_id,
                    not_applicable=option_id is None,
                    na_reason=answer.na_reason if option_id is None else "",
                    comment=answer.comment,
                    evidence_url=answer.evidence_url,
                    carried_forward=True,
                    version=1,
                )
            )
            touched.add(assessment.pk)
    with transaction.atomic():
        Answer.objects.bulk_create(rows, ignore_conflicts=True)
        Assessment.objects.filter(
            pk__in=touched, status=Assessment.Status.NOT_STARTED
        ).update(status=Assessment.Status.IN_PROGRESS)
    return {"assessments": len(touched), "answers": len(rows)}


# --- dry run ---------------------------------------------------------------------------


def last_closed_cycle(*, organization: Organization) -> Cycle:
    """The organisation's most recently closed cycle; ValidationError naming the
    organisation when it has none."""
    cycle = (
        Cycle.objects.filter(organization=organization, status=Cycle.Status.CLOSED)
        .select_related("framework")
        .order_by("-closed_at", "-id")
        .first()
    )
    if cycle is None:
        raise ValidationError(
            {"organization": [NO_CLOSED_CYCLE_MSG.format(organization=organization)]}
        )
    return cycle


def _answers_frame(carried: dict[int, dict[int, CarriedAnswer]]) -> pd.DataFrame:
    rows = [
        (assessment_id, question_id, answer.score, answer.not_applicable)
        for assessment_id, answers in carried.items()
        for question_id, answer in answers.items()
    ]
    frame = pd.DataFrame(
        rows,
        columns=[scoring.ASSESSMENT, scoring.QUESTION, scoring.SCORE, scoring.NA],
    )
    return frame.astype(
        {
            scoring.ASSESSMENT: "int64",
            scoring.QUESTION: "int64",
            scoring.SCORE: "float64",
            scoring.NA: "bool",
        }
    )


def dry_run(
    *,
    framework: Framework,
    organization: Organization,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Score the last closed cycle's submitted answers of ``organization`` against
    ``framework`` (questions matched through the mapping), with the same scoring
    code as a submit, and say per capability and team how scores and levels move.
    Reads only; writes nothing. ``progress(done, total)`` is called per chunk."""
    cycle = last_closed_cycle(organization=organization)
    old = cycle.framework
    if old.slug != framework.slug and _chain(framework, old) is None:
        raise ValidationError(
            {
                "framework": [
                    DRY_RUN_NOT_SAME_SLUG_MSG.format(
                        framework=framework, organization=organization, old=old
                    )
                ]
            }
        )
    sources = question_sources(new=framework, old=old)
    cap_sources = capability_sources(new=framework, old=old)
    assessments = list(
        Assessment.objects.filter(cycle=cycle, status=Assessment.Status.SUBMITTED)
        .select_related("team")
        .order_by("team__name", "id")
    )
    scope = set(cycle.capabilities.values_list("id", flat=True))
    new_scope = (
        [c for c, olds in cap_sources.items() if not olds or set(olds) & scope]
        if scope
        else []
    )
    rules = framework_rules(
        framework_id=framework.pk,
        scope=new_scope,
        cycle_lens_weights=None,
        cycle_id=cycle.pk,
        organization_id=organization.pk,
    )
    total = len(assessments)
    frames = []
    answered_sources: set[int] = set()
    for start in range(0, max(total, 1), DRY_RUN_CHUNK):
        chunk = assessments[start : start + DRY_RUN_CHUNK]
        if not chunk:
            break
        old_answers = _old_answers(a.pk for a in chunk)
        for answers in old_answers.values():
            answered_sources.update(answers)
        carried = {
            a.pk: translate_answers(old_answers.get(a.pk, {}), sources) for a in chunk
        }
        answers = _answers_frame(carried).merge(
            rules.questions, on=scoring.QUESTION, how="inner"
        )
        answers[scoring.NA] = answers[scoring.NA] & answers["allow_na"].astype(bool)
        frames.append(
            score_frame(
                rules=rules,
                answers=answers[scoring.ANSWER_COLUMNS],
                assessment_ids=[a.pk for a in chunk],
            )
        )
        if progress is not None:
            progress(min(start + len(chunk), total), total)
    after = pd.concat(frames, ignore_index=True) if frames else None

    stored = {
        (row["assessment_id"], row["capability_id"]): row
        for row in CapabilityScore.objects.filter(
            assessment__in=[a.pk for a in assessments]
        ).values("assessment_id", "capability_id", "percent", "level_key")
    }
    capabilities = list(
        Capability.objects.filter(framework=framework).order_by("order", "id")
    )
    mapping = version_mapping(framework) if framework.derived_from_slug else None
    kinds = mapping.capability_kinds if mapping else {}
    team_of = {a.pk: a.team.name for a in assessments}
    rows = []
    if after is not None:
        after_by = {
            (int(r[scoring.ASSESSMENT]), int(r[scoring.CAPABILITY])): r
            for r in after.to_dict("records")
        }
    else:
        after_by = {}
    names = {c.pk: c.name for c in capabilities}
    keys = {c.pk: c.key for c in capabilities}
    for capability in capabilities:
        for assessment in assessments:
            new_row = after_by.get((assessment.pk, capability.pk))
            if new_row is None:
                continue
            olds = [
                stored[(assessment.pk, o)]
                for o in cap_sources.get(capability.pk, [])
                if (assessment.pk, o) in stored
            ]
            old_percents = [o["percent"] for o in olds if o["percent"] is not None]
            before_percent = (
                sum(old_percents) / len(old_percents) if old_percents else None
            )
            before_level = olds[0]["level_key"] if len(olds) == 1 else ""
            after_percent = _number(new_row[scoring.PERCENT])
            rows.append(
                {
                    "team": team_of[assessment.pk],
                    "assessment_id": assessment.pk,
                    "capability": keys[capability.pk],
                    "capability_name": names[capability.pk],
                    "before_percent": _round(before_percent),
                    "before_level": before_level or "",
                    "after_percent": _round(after_percent),
                    "after_level": new_row[scoring.LEVEL] or "",
                    "delta": (
                        _round(after_percent - before_percent)
                        if after_percent is not None and before_percent is not None
                        else None
                    ),
                }
            )
    levels = [key for key, *_rest in rules.levels]
    summary = []
    for capability in capabilities:
        mine = [r for r in rows if r["capability"] == capability.key]
        befores = [r["before_percent"] for r in mine if r["before_percent"] is not None]
        afters = [r["after_percent"] for r in mine if r["after_percent"] is not None]

        def rank(key):
            return levels.index(key) if key in levels else -1

        summary.append(
            {
                "capability": capability.key,
                "name": capability.name,
                "kind": kinds.get(capability.pk, "same"),
                "teams": len(mine),
                "before_mean": _round(sum(befores) / len(befores)) if befores else None,
                "after_mean": _round(sum(afters) / len(afters)) if afters else None,
                "level_up": sum(
                    1
                    for r in mine
                    if r["before_level"]
                    and rank(r["after_level"]) > rank(r["before_level"])
                ),
                "level_down": sum(
                    1
                    for r in mine
                    if r["before_level"]
                    and rank(r["after_level"]) < rank(r["before_level"])
                ),
            }
        )
    question_rows = Question.objects.filter(capability__framework=framework).values(
        "id", "key", "prompt", "capability__key"
    )
    unmatched = [
        {"key": q["key"], "capability": q["capability__key"], "prompt": q["prompt"]}
        for q in question_rows
        if not any(o in answered_sources for o in sources.get(q["id"], []))
    ]
    return {
        "organization": organization.name,
        "cycle": cycle.name,
        "cycle_id": cycle.pk,
        "old_framework": str(old),
        "framework": str(framework),
        "teams": len(assessments),
        "capabilities": summary,
        "rows": rows,
        "unmatched_questions": unmatched,
    }


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _round(value) -> float | None:
    return None if value is None else round(float(value), 2)

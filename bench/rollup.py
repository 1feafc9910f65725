"""Benchmark: the full roll-up of one cycle of N teams, against a floor and a baseline.

    .venv/bin/python bench/rollup.py --teams 1000          # 100 and 1000 by default
    DATABASE_URL=postgres://... .venv/bin/python bench/rollup.py --teams 100 1000 10000

Generates (once, then reuses) an organisation "bench-<N>" with N teams under N/50
business units and one submitted cycle of the shipped framework with realistic
answers (COPY on PostgreSQL), then measures:

(a) ours: every team's capability scores (``scores_store_cycle``) plus the roll-up
    (``rollup_recompute``), with the peak resident memory meanwhile;
(b) the floor: one PostgreSQL aggregate query computing the same team capability
    percents (read only, nothing written);
(c) the naive baseline: team by team through the ORM (one query per team, scored
    in Python); for N >= 1000 a sample of 100 teams is timed and extrapolated.

``run(teams)`` returns result rows {name, value, unit, baseline, ratio, note}.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_ready, format_table, measure, row  # noqa: E402

NAIVE_SAMPLE = 100
TEAMS_PER_UNIT = 50
REPEAT = 2
BENCH_CYCLE = "bench"

FLOOR_SQL = """
WITH lens AS (
    SELECT a.assessment_id, q.capability_id, q.lens_id,
           SUM(q.weight * o.score) / SUM(q.weight) AS score
    FROM assessment_answer a
    JOIN assessment_assessment s ON s.id = a.assessment_id
    JOIN capabilities_question q ON q.id = a.question_id
    JOIN capabilities_answeroption o ON o.id = a.option_id
    WHERE s.cycle_id = %s
    GROUP BY a.assessment_id, q.capability_id, q.lens_id
)
SELECT lens.assessment_id, lens.capability_id,
       SUM(l.weight * lens.score) / SUM(l.weight) * 25 AS percent
FROM lens JOIN capabilities_lens l ON l.id = lens.lens_id
GROUP BY lens.assessment_id, lens.capability_id
"""


def _framework():
    """The shipped framework, or a generated one of 8 capabilities."""
    try:
        from capabilities.services import SHIPPED_SLUG, framework_load_shipped

        loaded = framework_load_shipped(versions=[1])
        return next(fw for fw, _ in loaded if fw.slug == SHIPPED_SLUG)
    except (ImportError, StopIteration):
        from capabilities.models import Framework
        from capabilities.tests.factories import make_framework

        existing = Framework.objects.filter(slug="bench-fw").first()
        return existing or make_framework(
            slug="bench-fw", capabilities=8, questions_per_lens=1, publish=True
        )


def _wipe(org) -> None:
    """Delete a benchmark organisation and everything under it, in bulk."""
    from assessment.models import (
        Answer,
        Assessment,
        CapabilityScore,
        Cycle,
        Membership,
        Target,
        Team,
    )
    from benchmarks.models import NodeStat, RollupState, TeamRank

    for queryset in (
        TeamRank.objects.filter(cycle__organization=org),
        NodeStat.objects.filter(cycle__organization=org),
        RollupState.objects.filter(cycle__organization=org),
        CapabilityScore.objects.filter(assessment__cycle__organization=org),
        Answer.objects.filter(assessment__cycle__organization=org),
    ):
        queryset._raw_delete(queryset.db)
    Assessment.objects.filter(cycle__organization=org).delete()
    Cycle.objects.filter(organization=org).delete()
    Membership.objects.filter(organization=org).delete()
    Target.objects.filter(organization=org).delete()
    Team.objects.filter(organization=org).update(parent=None)
    Team.objects.filter(organization=org).delete()
    org.delete()


def bench_cycle(teams: int, *, seed: int = 7):
    """The cycle of organisation "bench-<teams>", generated if missing."""
    import numpy as np
    from django.db import transaction
    from django.utils import timezone

    from assessment.models import Answer, Assessment, Cycle, Organization, Team
    from capabilities.models import AnswerOption, Question
    from finops_portal.bulk_sql import bulk_insert

    slug = f"bench-{teams}"
    org = Organization.objects.filter(slug=slug).first()
    if org is not None:
        cycle = Cycle.objects.filter(organization=org, name=BENCH_CYCLE).first()
        if (
            cycle is not None
            and Assessment.objects.filter(cycle=cycle, status="submitted").count()
            == teams
            and Answer.objects.filter(assessment__cycle=cycle).exists()
        ):
            return cycle
        _wipe(org)

    framework = _framework()
    rng = np.random.default_rng(seed)
    now = timezone.now()
    with transaction.atomic():
        org = Organization.objects.create(name=slug, slug=slug)
        units = Team.objects.bulk_create(
            Team(organization=org, name=f"Unit {u:03d}", kind=Team.Kind.BUSINESS_UNIT)
            for u in range(max(1, teams // TEAMS_PER_UNIT))
        )
        team_rows = Team.objects.bulk_create(
            (
                Team(
                    organization=org, parent=units[t % len(units)], name=f"Team {t:05d}"
                )
                for t in range(teams)
            ),
            batch_size=5000,
        )
        cycle = Cycle.objects.create(
            organization=org, framework=framework, name=BENCH_CYCLE, status="open"
        )
        cycle.teams.through.objects.bulk_create(
            (cycle.teams.through(cycle_id=cycle.pk, team_id=t.pk) for t in team_rows),
            batch_size=5000,
        )
        assessments = Assessment.objects.bulk_create(
            (
                Assessment(cycle=cycle, team=t, status="submitted", submitted_at=now)
                for t in team_rows
            ),
            batch_size=5000,
        )
        questions = list(
            Question.objects.filter(capability__framework=framework)
            .order_by("id")
            .values_list("id", "allow_na")
        )
        option_of = {
            (q, s): o
            for o, q, s in AnswerOption.objects.filter(
                question__capability__framework=framework
            ).values_list("id", "question_id", "score")
        }
        question_ids = np.array([q for q, _ in questions])
        allow_na = np.array([na for _, na in questions])
        options = np.array(
            [[option_of.get((q, s), 0) for s in range(5)] for q in question_ids]
        )
        # A team's answers cluster around its own maturity, plus per-question noise.
        ability = rng.uniform(0.3, 3.7, size=len(assessments))
        noise = rng.normal(0.0, 0.9, size=(len(assessments), len(questions)))
        scores = np.clip(np.rint(ability[:, None] + noise), 0, 4).astype(int)
        na = allow_na[None, :] & (rng.random(scores.shape) < 0.1)
        option_ids = options[np.arange(len(questions))[None, :], scores]
        rows = []
        for i, assessment in enumerate(assessments):
            for j, question in enumerate(question_ids.tolist()):
                is_na = bool(na[i, j])
                rows.append(
                    (
                        assessment.pk,
                        question,
                        None if is_na else int(option_ids[i, j]),
                        is_na,
                        "",
                        "",
                        now,
                        1,
                    )
                )
        bulk_insert(
            Answer,
            [
                "assessment_id",
                "question_id",
                "option_id",
                "not_applicable",
                "comment",
                "evidence_url",
                "updated_at",
                "version",
            ],
            rows,
        )
    return cycle


def _ours(cycle) -> dict:
    from assessment.scores import scores_store_cycle
    from benchmarks.services import rollup_recompute

    scored = measure(lambda: scores_store_cycle(cycle=cycle))
    rolled = measure(lambda: rollup_recompute(cycle_id=cycle.pk, force=True))
    return {"scores": scored.seconds, "rollup": rolled.seconds}


def _incremental(cycle) -> dict:
    """The roll-up after one team's scores changed: take the first team out of the
    submitted ones or back in (a reopen, a submission: every other team's rank
    moves), mark it changed as ``cycle_scores_changed`` does (without the task it
    enqueues: the bench's broker feeds the workers of other benchmarks) and bring
    the roll-up up to date."""
    from django.db.models import F

    from assessment.models import Assessment, Cycle
    from benchmarks.services import rollup_recompute

    changed = Assessment.objects.filter(cycle=cycle).order_by("id").first()
    flipped = "in_progress" if changed.status == "submitted" else "submitted"
    Cycle.objects.filter(pk=cycle.pk).update(
        scores_generation=F("scores_generation") + 1
    )
    generation = Cycle.objects.values_list("scores_generation", flat=True).get(
        pk=cycle.pk
    )
    Assessment.objects.filter(pk=changed.pk).update(
        status=flipped, scores_generation=generation
    )
    return rollup_recompute(cycle_id=cycle.pk)


def _cold_scores(cycle) -> int:
    """Team scores computed with no stored rows to update (the first run)."""
    from assessment.models import CapabilityScore
    from assessment.scores import scores_store_cycle

    CapabilityScore.objects.filter(assessment__cycle=cycle).delete()
    return scores_store_cycle(cycle=cycle)


def _floor(cycle) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [cycle.pk])
        return len(cursor.fetchall())


def _naive(assessment_ids: list[int]) -> None:
    """Score team by team: one ORM query per assessment, the rules in plain Python."""
    from assessment.models import Answer

    for assessment_id in assessment_ids:
        lens_sums: dict[tuple[int, int], list[float]] = {}
        lens_weight: dict[int, float] = {}
        for answer in Answer.objects.filter(assessment_id=assessment_id).select_related(
            "question", "question__lens", "option"
        ):
            if answer.option is None:
                continue
            question = answer.question
            key = (question.capability_id, question.lens_id)
            sums = lens_sums.setdefault(key, [0.0, 0.0])
            sums[0] += float(question.weight) * answer.option.score
            sums[1] += float(question.weight)
            lens_weight[question.lens_id] = float(question.lens.weight)
        percents: dict[int, list[float]] = {}
        for (capability, lens), (total, weight) in lens_sums.items():
            acc = percents.setdefault(capability, [0.0, 0.0])
            acc[0] += lens_weight[lens] * total / weight
            acc[1] += lens_weight[lens]
        {c: v / w * 25 for c, (v, w) in percents.items()}


def run(teams: int) -> list[dict]:
    """Measure (a) ours, (b) the floor and (c) the naive baseline for N teams."""
    django_ready()
    from django.db import connection

    from assessment.models import Answer, Assessment

    cycle = bench_cycle(teams)
    answers = Answer.objects.filter(assessment__cycle=cycle).count()
    label = f"rollup {teams} teams"

    _floor(cycle)  # warm the database's cache for every contender alike
    floor = min(measure(lambda: _floor(cycle)).seconds for _ in range(REPEAT))
    ours_runs = [measure(lambda: _ours(cycle)) for _ in range(REPEAT)]
    best = min(ours_runs, key=lambda m: m.seconds)
    peak = max(m.peak_increase_mb or 0.0 for m in ours_runs)
    peak_abs = max(m.peak_mb or 0.0 for m in ours_runs)

    # out and back in: the cycle ends as it started
    incremental = min(
        (measure(lambda: _incremental(cycle)) for _ in range(2 * REPEAT)),
        key=lambda m: m.seconds,
    )
    assert incremental.result["mode"] == "incremental", incremental.result
    cold = measure(lambda: _cold_scores(cycle)).seconds
    ids = list(
        Assessment.objects.filter(cycle=cycle)
        .order_by("id")
        .values_list("id", flat=True)
    )
    sample = ids if teams < 1000 else random.Random(1).sample(ids, NAIVE_SAMPLE)
    naive_sample = measure(lambda: _naive(sample)).seconds
    naive = naive_sample * len(ids) / len(sample)
    naive_note = (
        f"{len(sample)} teams timed, x{len(ids) / len(sample):.0f}"
        if len(sample) < len(ids)
        else "every team"
    )
    engine = connection.vendor
    return [
        row(f"{label}: answers", answers, "rows", note=engine),
        row(
            f"{label}: full recompute (scores + roll-up)",
            best.seconds,
            "s",
            baseline=floor,
            note="ratio = ours / floor",
        ),
        row(f"{label}: team scores (scores_store_cycle)", best.result["scores"], "s"),
        row(
            f"{label}: team scores, first computation",
            cold,
            "s",
            note="no stored scores: every row inserted",
        ),
        row(f"{label}: roll-up (rollup_recompute)", best.result["rollup"], "s"),
        row(
            f"{label}: roll-up after one submission (incremental)",
            incremental.seconds,
            "s",
            baseline=best.result["rollup"],
            note="ratio = incremental / whole roll-up; one team out or in",
        ),
        row(f"{label}: floor, one aggregate SQL query", floor, "s"),
        row(
            f"{label}: naive, team by team through the ORM",
            naive,
            "s",
            baseline=best.seconds,
            note=f"ratio = naive / ours; {naive_note}",
        ),
        row(
            f"{label}: peak memory of the full recompute",
            peak,
            "MB",
            note=f"above the start; process peak {peak_abs:.0f} MB",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args(argv)
    django_ready()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL (set DATABASE_URL); the floor query may fail")
    rows = []
    for teams in args.teams:
        print(f"--- {teams} teams", file=sys.stderr, flush=True)
        rows.extend(run(teams))
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

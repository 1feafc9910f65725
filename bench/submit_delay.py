"""Submission-to-dashboard delay with a real Celery worker.

    .venv/bin/python bench/submit_delay.py [--teams 1000] [--submissions 20]

Submits assessments one by one through ``assessment_submit`` (which marks the cycle's
roll-up stale and enqueues it after commit) and polls ``RollupState`` until the
worker has committed the new snapshot: from then on every dashboard shows it, since
pages read snapshots only. Baseline: the recompute time itself. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import format_table, row  # noqa: E402

SUBMISSIONS = 20
# Pause between submissions, longer than the worker's minimum interval between two
# roll-ups of a cycle (benchmarks.tasks.MIN_INTERVAL_S), so each submission is
# measured on its own rather than waiting behind the previous one's roll-up.
GAP_SECONDS = 1.5
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 60
WORKER_CONCURRENCY = 2


class Worker:
    """A ``celery worker`` subprocess against the bench database and broker."""

    def __init__(self, concurrency: int = WORKER_CONCURRENCY):
        self.concurrency = concurrency
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in __exit__
            "w+", prefix="finops-bench-worker-", suffix=".log"
        )
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Worker:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "finops_portal",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                "--hostname=bench@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=common.server_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.logs():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"worker did not start: {self.logs()[-2000:]}")
            time.sleep(0.2)
        return self

    def logs(self) -> str:
        return Path(self.log.name).read_text()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def _complete(assessment_ids: list[int], user_id: int) -> None:
    """Answer every unanswered question of these assessments (score 2)."""
    from django.db import transaction
    from django.utils import timezone

    from assessment.demo import ANSWER_COLUMNS
    from assessment.models import Answer, Assessment
    from capabilities.models import AnswerOption
    from finops_portal.bulk_sql import bulk_insert

    framework_id = (
        Assessment.objects.filter(pk=assessment_ids[0])
        .values_list("cycle__framework_id", flat=True)
        .get()
    )
    middle = dict(
        AnswerOption.objects.filter(
            question__capability__framework_id=framework_id, score=2
        ).values_list("question_id", "id")
    )
    answered = set(
        Answer.objects.filter(assessment_id__in=assessment_ids).values_list(
            "assessment_id", "question_id"
        )
    )
    now = timezone.now()
    rows = [
        (a, q, option, False, "", "", user_id, now, 1)
        for a in assessment_ids
        for q, option in middle.items()
        if (a, q) not in answered
    ]
    with transaction.atomic():
        bulk_insert(Answer, ANSWER_COLUMNS, rows)


def _open_ids(org, count: int) -> list[int]:
    """The last ``count`` unsubmitted assessments of the open cycle (the autosave
    benchmark uses the first ones)."""
    from assessment.models import Assessment

    return list(
        Assessment.objects.filter(cycle__organization=org, cycle__status="open")
        .exclude(status="submitted")
        .order_by("-id")
        .values_list("id", flat=True)[:count]
    )


def _quantile(values: list[float], p: int) -> float:
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[p - 1]


def run(
    *, teams: int = 1000, submissions: int = SUBMISSIONS, gap: float = GAP_SECONDS
) -> list[dict]:
    """p50/p95 of submit -> snapshot committed, over ``submissions`` submissions."""
    common.setup_django()
    from django.contrib.auth import get_user_model

    from assessment.models import Assessment, Cycle
    from assessment.services import assessment_submit
    from benchmarks.models import RollupState
    from benchmarks.services import rollup_recompute
    from finops_portal.celery import app

    org, _ = common.bench_org(teams)
    ids = _open_ids(org, submissions)
    if len(ids) < submissions:
        # Earlier runs submitted them: start again from fresh data.
        org, _ = common.bench_org(teams, fresh=True)
        ids = _open_ids(org, submissions)
    cycle = Cycle.objects.get(organization=org, status="open")
    lead = get_user_model().objects.get(username=f"{org.slug}-lead")
    _complete(ids, lead.id)
    rollup_recompute(cycle_id=cycle.id, force=True)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")

    delays: list[float] = []
    recomputes: list[float] = []
    modes: list[str] = []
    with Worker():
        for assessment in Assessment.objects.filter(pk__in=ids).order_by("id"):
            time.sleep(gap)
            started = time.perf_counter()
            assessment_submit(assessment=assessment, user=lead)
            wanted = Cycle.objects.values_list("scores_generation", flat=True).get(
                pk=cycle.pk
            )
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while True:
                state = RollupState.objects.get(cycle=cycle)
                if state.computed_generation >= wanted:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"roll-up not computed after {TIMEOUT_SECONDS} s "
                        f"(last error: {state.last_error or 'none'})"
                    )
                time.sleep(POLL_SECONDS)
            delays.append((time.perf_counter() - started) * 1000)
            recomputes.append(float(state.duration_ms or 0))
            modes.append(state.mode)
    note = (
        f"{teams:,} teams, {submissions} submissions {gap:g} s apart, "
        f"worker x{WORKER_CONCURRENCY}"
    )
    recompute_p50 = statistics.median(recomputes)
    return [
        row(
            "submit -> dashboard p50",
            statistics.median(delays),
            "ms",
            recompute_p50,
            note,
        ),
        row(
            "submit -> dashboard p95",
            _quantile(delays, 95),
            "ms",
            _quantile(recomputes, 95),
            note,
        ),
        row("roll-up recompute in worker p50", recompute_p50, "ms", note=note),
        row(
            "roll-ups that were incremental",
            modes.count("incremental"),
            "runs",
            note=f"of {len(modes)}; the others recomputed the whole snapshot",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=SUBMISSIONS)
    parser.add_argument("--gap", type=float, default=GAP_SECONDS)
    args = parser.parse_args()
    rows = run(teams=args.teams, submissions=args.submissions, gap=args.gap)
    print(format_table(rows))


if __name__ == "__main__":
    main()

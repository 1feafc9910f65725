"""Roll-up workflows: recompute a cycle's snapshot, and find the stale ones.

A cycle is stale when its ``scores_generation`` (bumped by assessment's
``cycle_scores_changed`` on every submit and reopen, which also enqueues
``rollup_cycle`` by name) is ahead of the generation its ``RollupState`` computed.
``rollup_recompute`` is the idempotent job: it locks the cycle's ``RollupState``
row, reads the stored team scores once, computes the snapshot with
``benchmarks.rollups`` and replaces the old one in the same transaction as the
state update, so readers never see half a snapshot. ``rollup_sweep`` (beat,
every minute) enqueues whatever a lost message left stale.

A run after a few submissions is incremental: the assessments changed since the
generation last computed (``Assessment.scores_generation``) name the teams, and
only the statistics of the nodes above them (the organisation and their business
units) are recomputed and replaced, with every team's percentile rank (one team
more or less moves them all). Each node's figures come from every team below it,
exactly as the whole snapshot computes them. The whole recompute stays the
reference: a forced run, a run after many changes, the first one, and the sweeper's
periodic one (``FULL_REFERENCE_S`` after the last, once incremental runs followed it).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from functools import partial

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from assessment import scoring
from assessment.models import Assessment, CapabilityScore, Cycle, Team
from assessment.scores import lens_values
from capabilities.selectors import framework_lenses, framework_levels, level_bands
from finops_portal.bulk_sql import (
    bulk_insert,
    fetch_frame,
    relax_durability,
    sync_frame,
)
from finops_portal.events import event_publish
from finops_portal.queue import enqueue, task_named

from . import report_cache, reports, rollups
from .models import DisagreementStat, NodeStat, RollupState, TeamRank

logger = logging.getLogger(__name__)

ROLLUP_FAILED_MSG = "Roll-up of cycle {cycle_id} failed: {error}"
# Reports built per prebuild task: well under a second of work, so a roll-up queued
# behind it never waits long.
PREBUILD_BATCH = 10
# One batch per snapshot, targets version and position: a second copy of a chain
# (targets saved one capability at a time, a redelivered task) stops at once.
PREBUILD_CLAIM_KEY = "benchmarks:prebuild:{cycle}:{computed}:{targets}:{after}"
PREBUILD_CLAIM_SECONDS = 600
# Seconds to sleep while holding the lock; read at call time, set only by tests
# that need a slow roll-up (a worker killed mid-task).
TEST_DELAY_ENV = "ROLLUP_TEST_DELAY_S"

STATUS_COMPUTED = "computed"
STATUS_LOCKED = "locked"
STATUS_FRESH = "fresh"
STATUS_MISSING = "missing"
STATUS_DEFERRED = "deferred"
STATUS_SUPERSEDED = "superseded"
STATUS_DONE = "done"
STATUS_MORE = "more"
STATUS_DUPLICATE = "duplicate"

MODE_FULL = "full"
MODE_INCREMENTAL = "incremental"
# Beyond this many changed teams a run recomputes the whole snapshot: the nodes
# above them are most of the tree by then.
INCREMENTAL_MAX_TEAMS = 200
# A cycle updated incrementally is recomputed whole by the sweeper once its last
# whole recompute is this old: the reference every incremental run must equal (and
# what picks up a team moved to another business unit meanwhile).
FULL_REFERENCE_S = 3600

SCORE_FIELDS = (
    "assessment_id",
    "assessment__team_id",
    "capability_id",
    "percent",
    "level_key",
)


ROLLUP_TASK = "benchmarks.tasks.rollup_cycle"
PREBUILD_TASK = "benchmarks.tasks.prebuild_team_reports"


def rollup_enqueue(
    cycle_id: int, countdown: float | None = None, *, full: bool = False
) -> bool:
    """Send ``rollup_cycle(cycle_id)`` (a whole recompute with ``full``); False
    (logged) if the broker refused it."""
    return enqueue(
        ROLLUP_TASK,
        cycle_id,
        *([True] if full else []),
        countdown=countdown,
        what=f"the roll-up of cycle {cycle_id}",
    )


def rollup_stale_cycle_ids() -> list[int]:
    """Cycles whose snapshot is older than their latest submit or reopen, the
    longest-waiting first."""
    return list(
        Cycle.objects.filter(scores_generation__gt=0)
        .filter(
            Q(rollup__isnull=True)
            | Q(scores_generation__gt=F("rollup__computed_generation"))
        )
        .order_by("scores_changed_at", "id")
        .values_list("id", flat=True)
    )


def rollup_reference_cycle_ids(now=None) -> list[int]:
    """Cycles updated incrementally since their last whole recompute, when that is
    older than ``FULL_REFERENCE_S``, the longest-waiting first."""
    now = now or timezone.now()
    return list(
        RollupState.objects.filter(
            computed_generation__gt=F("full_generation"),
            full_at__lt=now - timedelta(seconds=FULL_REFERENCE_S),
        )
        .order_by("full_at", "cycle_id")
        .values_list("cycle_id", flat=True)
    )


def rollup_sweep() -> int:
    """Enqueue a recompute for every stale cycle, and a whole one for every cycle
    due its reference run; returns how many were enqueued."""
    stale = rollup_stale_cycle_ids()
    waiting = set(stale)
    reference = [c for c in rollup_reference_cycle_ids() if c not in waiting]
    return sum(rollup_enqueue(cycle_id) for cycle_id in stale) + sum(
        rollup_enqueue(cycle_id, full=True) for cycle_id in reference
    )


def _lock_state(cycle_id: int) -> RollupState | None:
    """The cycle's state row, locked; None if another transaction holds it."""
    rows = RollupState.objects.filter(cycle_id=cycle_id)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return rows.first()


def rollup_scores_frame(*, cycle_id: int, lens_keys: list[str]) -> pd.DataFrame:
    """The stored scores of the cycle's submitted assessments, in one query:
    ASSESSMENT, TEAM, CAPABILITY, PERCENT, LEVEL and ``lens_<key>`` columns (the
    database extracts the lens scores from the JSON)."""
    lens_columns = [scoring.lens_column(k) for k in lens_keys]
    queryset = CapabilityScore.objects.filter(
        assessment__cycle_id=cycle_id,
        assessment__status=Assessment.Status.SUBMITTED,
    ).annotate(**lens_values(lens_keys))
    columns = [
        rollups.ASSESSMENT,
        rollups.TEAM,
        rollups.CAPABILITY,
        rollups.PERCENT,
        rollups.LEVEL,
        *lens_columns,
    ]
    frame = fetch_frame(
        queryset,
        [*SCORE_FIELDS, *lens_columns, "disagreement"],
        [*columns, rollups.DISAGREEMENT],
    )
    frame[rollups.LEVEL] = frame[rollups.LEVEL].fillna("")
    frame[rollups.DISAGREEMENT] = pd.to_numeric(frame[rollups.DISAGREEMENT])
    return frame.astype(
        {
            rollups.ASSESSMENT: "int64",
            rollups.TEAM: "int64",
            rollups.CAPABILITY: "int64",
            rollups.PERCENT: "float64",
            **dict.fromkeys(lens_columns, "float64"),
        }
    )


def rollup_compute(
    *, cycle: Cycle, changed_team_ids: list[int] | None = None
) -> rollups.Rollup:
    """Read the cycle's scores and tree and compute its snapshot (no writes); with
    ``changed_team_ids``, only the part those teams move (``Rollup.nodes``)."""
    lens_keys = [
        lens["key"] for lens in framework_lenses(framework_id=cycle.framework_id)
    ]
    levels = level_bands(framework_levels(framework_id=cycle.framework_id))
    tree = list(
        Team.objects.filter(organization_id=cycle.organization_id)
        .order_by()
        .values_list("id", "parent_id")
    )
    scores = rollup_scores_frame(cycle_id=cycle.pk, lens_keys=lens_keys)
    nodes = (
        None
        if changed_team_ids is None
        else rollups.affected_nodes(changed_team_ids, tree)
    )
    return rollups.rollup(scores, tree, levels, lens_keys, nodes)


def _changed_team_ids(*, cycle_id: int, since: int) -> list[int] | None:
    """Teams whose assessment's scores changed after generation ``since``; None
    when more than ``INCREMENTAL_MAX_TEAMS`` did (recompute the whole snapshot)."""
    teams = list(
        Assessment.objects.filter(cycle_id=cycle_id, scores_generation__gt=since)
        .order_by()
        .values_list("team_id", flat=True)[: INCREMENTAL_MAX_TEAMS + 1]
    )
    return None if len(teams) > INCREMENTAL_MAX_TEAMS else teams


def _of_nodes(queryset, nodes: frozenset[int] | None):
    """``queryset`` (rows with a nullable ``node``) limited to ``nodes`` (ORG for
    the organisation's row); all of it when ``nodes`` is None."""
    if nodes is None:
        return queryset
    ids = [node for node in nodes if node != rollups.ORG]
    where = Q(node_id__in=ids)
    if rollups.ORG in nodes:
        where |= Q(node__isnull=True)
    return queryset.filter(where)


def _none_if_nan(values: np.ndarray) -> list:
    return [None if v != v else v for v in values.tolist()]


def rollup_write(*, cycle_id: int, snapshot: rollups.Rollup) -> tuple[int, int]:
    """Replace the cycle's NodeStat and TeamRank rows (call inside a transaction);
    of a partial snapshot, the statistics of its nodes only."""
    _of_nodes(NodeStat.objects.filter(cycle_id=cycle_id), snapshot.nodes).delete()
    stats = snapshot.node_stats
    stat_rows = list(
        zip(
            [cycle_id] * len(stats),
            stats[rollups.NODE].tolist(),
            stats[rollups.CAPABILITY].tolist(),
            stats["n"].astype("int64").tolist(),
            *(
                _none_if_nan(stats[c].to_numpy(dtype="float64", na_value=np.nan))
                for c in rollups.STAT_COLUMNS[1:]
            ),
            stats["level_counts"].tolist(),
            stats["lens_means"].tolist(),
            strict=True,
        )
    )
    bulk_insert(
        NodeStat,
        ["cycle_id", "node_id", "capability_id", *rollups.STAT_COLUMNS]
        + ["level_counts", "lens_means"],
        stat_rows,
    )
    ranks = snapshot.team_ranks
    table = pd.DataFrame(
        {
            "cycle_id": cycle_id,
            "assessment_id": ranks[rollups.ASSESSMENT].astype("int64"),
            "capability_id": ranks[rollups.CAPABILITY].astype("Int64"),
            "percent": ranks[rollups.PERCENT].astype("float64"),
            "percentile": ranks[rollups.PERCENTILE].astype("float64"),
        }
    )
    # Most ranks survive a recompute unchanged: write only the difference.
    sync_frame(
        TeamRank,
        table,
        TeamRank.objects.filter(cycle_id=cycle_id),
        keys=["assessment_id", "capability_id"],
        values=["percent", "percentile"],
    )
    _of_nodes(
        DisagreementStat.objects.filter(cycle_id=cycle_id), snapshot.nodes
    ).delete()
    spread = snapshot.disagreement_stats
    if not spread.empty:
        DisagreementStat.objects.bulk_create(
            DisagreementStat(
                cycle_id=cycle_id,
                node_id=row[rollups.NODE],
                capability_id=row[rollups.CAPABILITY],
                teams=int(row["teams"]),
                mean=float(row["mean"]),
                max=float(row["max"]),
            )
            for row in spread.to_dict("records")
        )
    return len(stat_rows), len(table)


def _wait_before_next_run(state: RollupState, min_interval_s: float) -> float:
    """Seconds until ``min_interval_s`` has passed since the last run ended."""
    if not min_interval_s or state.computed_at is None:
        return 0.0
    since = (timezone.now() - state.computed_at).total_seconds()
    return max(0.0, min_interval_s - since)


def rollup_recompute(
    *,
    cycle_id: int,
    force: bool = False,
    min_interval_s: float = 0.0,
    full: bool = False,
) -> dict:
    """Recompute the cycle's snapshot if it is stale (always with ``force``).

    Incremental when a few teams changed since the last run (see the module's
    docstring); whole with ``force``, or with ``full`` unless the last whole
    recompute already covered the latest changes.

    Returns {"status": computed | locked | fresh | deferred | missing, ...}.
    Holding the cycle's state row lock, it reads, computes and writes in one
    transaction; a second caller meanwhile returns "locked" at once. If the cycle's
    scores changed again while it ran, one more run is enqueued after commit.
    With ``min_interval_s``, a run less than that long after the previous one is
    deferred (re-enqueued for later) instead.
    """
    # The generation is read before the lock: the scores read after it hold at
    # least that generation's changes, and a later one enqueues another run.
    cycle = Cycle.objects.filter(pk=cycle_id).first()
    if cycle is None:
        return {"status": STATUS_MISSING, "cycle_id": cycle_id}
    generation = cycle.scores_generation
    RollupState.objects.get_or_create(cycle_id=cycle_id)
    started = time.perf_counter()
    owns_transaction = not connection.in_atomic_block
    try:
        with transaction.atomic():
            if owns_transaction:
                relax_durability()
            state = _lock_state(cycle_id)
            if state is None:
                # Another worker holds the lock; it re-checks the generation after
                # it commits, so nothing is lost by leaving now.
                return {"status": STATUS_LOCKED, "cycle_id": cycle_id}
            is_fresh = state.computed_generation >= generation
            wants_reference = full and state.full_generation < state.computed_generation
            if (
                is_fresh
                and state.computed_at is not None
                and not force
                and not wants_reference
            ):
                return {"status": STATUS_FRESH, "cycle_id": cycle_id}
            wait = _wait_before_next_run(state, min_interval_s)
            if wait and not force:
                # Computed moments ago: run once more when the interval is over,
                # so that a burst of submissions costs a few runs, not one each.
                transaction.on_commit(
                    partial(rollup_enqueue, cycle_id, wait), robust=True
                )
                return {"status": STATUS_DEFERRED, "cycle_id": cycle_id, "wait_s": wait}
            started_at = timezone.now()
            delay = float(os.environ.get(TEST_DELAY_ENV) or 0)
            if delay:
                time.sleep(delay)
            changed = (
                None
                if force or full or state.computed_at is None
                else _changed_team_ids(
                    cycle_id=cycle_id, since=state.computed_generation
                )
            )
            snapshot = rollup_compute(cycle=cycle, changed_team_ids=changed)
            stats, ranks = rollup_write(cycle_id=cycle_id, snapshot=snapshot)
            duration_ms = int((time.perf_counter() - started) * 1000)
            computed_at = timezone.now()
            mode = MODE_FULL if changed is None else MODE_INCREMENTAL
            RollupState.objects.filter(pk=state.pk).update(
                computed_generation=generation,
                computed_at=computed_at,
                started_at=started_at,
                duration_ms=duration_ms,
                teams_scored=snapshot.teams,
                runs=F("runs") + 1,
                last_error="",
                mode=mode,
                teams_changed=0 if changed is None else len(changed),
                **(
                    {"full_generation": generation, "full_at": computed_at}
                    if changed is None
                    else {"incremental_runs": F("incremental_runs") + 1}
                ),
            )
            event_publish(
                topic="rollup.computed",
                organization_id=cycle.organization_id,
                payload={"cycle_id": cycle_id, "computed_at": computed_at.isoformat()},
            )
    except Exception as error:
        RollupState.objects.filter(cycle_id=cycle_id).update(
            last_error=ROLLUP_FAILED_MSG.format(cycle_id=cycle_id, error=error)[:2000]
        )
        raise
    if Cycle.objects.filter(pk=cycle_id, scores_generation__gt=generation).exists():
        rollup_enqueue(cycle_id, countdown=min_interval_s or None)
    elif settings.REPORTS_PREBUILD:
        # at once, unless a caller's transaction is still open
        transaction.on_commit(
            partial(prebuild_enqueue, cycle_id, computed_at.isoformat()), robust=True
        )
    return {
        "status": STATUS_COMPUTED,
        "cycle_id": cycle_id,
        "generation": generation,
        "mode": mode,
        "teams_changed": 0 if changed is None else len(changed),
        "teams": snapshot.teams,
        "node_stats": stats,
        "team_ranks": ranks,
        "duration_ms": duration_ms,
    }


# --- team reports built ahead of the first visit ----------------------------------


def prebuild_enqueue(cycle_id: int, computed_at: str, after_id: int = 0) -> bool:
    """Send ``prebuild_team_reports``; log and return False if that fails (the
    reports are then built on their first visit, as without a worker). With tasks
    run in-process, the batches run here one after another: a chain of eager tasks
    would nest one call per batch."""
    if not task_named(PREBUILD_TASK).app.conf.task_always_eager:
        return enqueue(
            PREBUILD_TASK,
            cycle_id,
            computed_at,
            after_id,
            what=f"the report prebuild of cycle {cycle_id}",
        )
    result: dict = {"status": STATUS_MORE, "after_id": after_id}
    while result["status"] == STATUS_MORE:
        result = reports_prebuild_batch(
            cycle_id=cycle_id,
            computed_at=computed_at,
            after_id=result["after_id"],
            chain=False,
        )
    return True


def prebuild_assessments(*, cycle_id: int, after_id: int = 0, limit: int | None = None):
    """The cycle's submitted assessments after ``after_id``, in id order, with what
    a report reads of them (cycle, organisation, framework, team)."""
    rows = (
        report_cache.report_assessments()
        .filter(cycle_id=cycle_id, status=Assessment.Status.SUBMITTED, id__gt=after_id)
        .select_related("cycle__organization", "cycle__framework", "team")
        .order_by("id")
    )
    return rows[:limit] if limit is not None else rows


def reports_prebuild_batch(
    *,
    cycle_id: int,
    computed_at: str,
    after_id: int = 0,
    limit: int | None = None,
    chain: bool = True,
) -> dict:
    """Build the reports of the next ``limit`` submitted assessments of the cycle
    (see ``reports.team_report_prebuild``; ``PREBUILD_BATCH`` by default) and, with
    ``chain``, enqueue the batch after them.

    Stops ("superseded") once the snapshot computed at ``computed_at`` has been
    replaced: the newer roll-up starts its own prebuild. Idempotent: a report
    already in the cache is left as it is."""
    state = (
        RollupState.objects.filter(cycle_id=cycle_id)
        .select_related("cycle__organization")
        .first()
    )
    if state is None or state.computed_at is None:
        return {"status": STATUS_SUPERSEDED, "cycle_id": cycle_id, "built": 0}
    if state.computed_at.isoformat() != computed_at:
        return {"status": STATUS_SUPERSEDED, "cycle_id": cycle_id, "built": 0}
    claim = PREBUILD_CLAIM_KEY.format(
        cycle=cycle_id,
        computed=computed_at,
        targets=state.cycle.organization.targets_version,
        after=after_id,
    )
    if not cache.add(claim, 1, PREBUILD_CLAIM_SECONDS):
        return {"status": STATUS_DUPLICATE, "cycle_id": cycle_id, "built": 0}
    limit = limit or PREBUILD_BATCH
    batch = list(
        prebuild_assessments(cycle_id=cycle_id, after_id=after_id, limit=limit)
    )
    built = sum(reports.team_report_prebuild(assessment=a) for a in batch)
    if len(batch) < limit:
        return {"status": STATUS_DONE, "cycle_id": cycle_id, "built": built}
    if chain:
        prebuild_enqueue(cycle_id, computed_at, batch[-1].pk)
    return {
        "status": STATUS_MORE,
        "cycle_id": cycle_id,
        "built": built,
        "after_id": batch[-1].pk,
    }


def prebuild_organization(*, organization_id: int) -> int:
    """Enqueue the prebuild of every rolled-up cycle of the organisation (its targets
    changed, so every report did); returns how many chains were enqueued (none
    unless ``REPORTS_PREBUILD`` is on)."""
    if not settings.REPORTS_PREBUILD:
        return 0
    states = RollupState.objects.filter(
        cycle__organization_id=organization_id, computed_at__isnull=False
    ).order_by("-computed_at")
    return sum(
        prebuild_enqueue(state.cycle_id, state.computed_at.isoformat())
        for state in states
        if state.computed_at is not None
    )

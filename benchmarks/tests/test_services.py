"""Roll-up services: marking stale, recomputing, sweeping."""

import pytest
from django.db import transaction

from assessment.cycles import cycle_scores_changed
from assessment.models import Assessment, Cycle, Team
from assessment.scores import scores_store
from assessment.tests.test_scores import answer_all
from benchmarks import services
from benchmarks.models import NodeStat, RollupState, TeamRank
from benchmarks.services import (
    rollup_recompute,
    rollup_stale_cycle_ids,
    rollup_sweep,
)
from finops_portal.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org, framework, team_a, team_b):
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="2026 Q1", status="open"
    )
    cycle.teams.set([team_a, team_b])
    return cycle


def submit(cycle, team, score, status=Assessment.Status.SUBMITTED):
    """A team's assessment with every question at ``score``, scored and stored."""
    assessment = Assessment.objects.create(cycle=cycle, team=team, status=status)
    answer_all(assessment, lambda q: score)
    scores_store(assessment=assessment)
    return assessment


def snapshot(cycle):
    """The cycle's roll-up rows, without ids, in a stable order."""
    stats = sorted(
        NodeStat.objects.filter(cycle=cycle).values(
            "node_id",
            "capability_id",
            "n",
            "mean",
            "median",
            "p25",
            "p75",
            "min",
            "max",
            "level_counts",
            "lens_means",
        ),
        key=lambda r: (r["node_id"] or 0, r["capability_id"] or 0),
    )
    ranks = sorted(
        TeamRank.objects.filter(cycle=cycle).values(
            "assessment_id", "capability_id", "percent", "percentile"
        ),
        key=lambda r: (r["assessment_id"], r["capability_id"] or 0),
    )
    return stats, ranks


def test_cycle_scores_changed_bumps_the_generation_and_makes_the_cycle_stale(cycle):
    cycle_scores_changed(cycle_id=cycle.pk)
    cycle.refresh_from_db()
    first = (cycle.scores_generation, cycle.scores_changed_at)
    cycle_scores_changed(cycle_id=cycle.pk)
    cycle.refresh_from_db()

    assert (first[0], cycle.scores_generation) == (1, 2)
    assert first[1] is not None
    assert cycle.scores_changed_at >= first[1]
    assert rollup_stale_cycle_ids() == [cycle.pk]


def test_cycle_scores_changed_enqueues_only_after_commit(
    cycle, team_a, django_capture_on_commit_callbacks
):
    submit(cycle, team_a, 3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cycle_scores_changed(cycle_id=cycle.pk)

    assert len(callbacks) == 1
    assert not RollupState.objects.filter(cycle=cycle).exists()


@pytest.mark.usefixtures("eager_tasks")
def test_the_enqueued_rollup_runs_in_process_without_a_broker(
    cycle, team_a, django_capture_on_commit_callbacks
):
    submit(cycle, team_a, 3)
    with django_capture_on_commit_callbacks(execute=True):
        cycle_scores_changed(cycle_id=cycle.pk)

    state = RollupState.objects.get(cycle=cycle)
    assert (state.cycle.scores_generation, state.computed_generation, state.runs) == (
        1,
        1,
        1,
    )
    assert not state.is_stale
    assert rollup_stale_cycle_ids() == []
    assert NodeStat.objects.filter(cycle=cycle, node=None, capability=None).get().n == 1


def reset_broker_pools():
    """Drop the app's cached pools so the next publish uses broker_url."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def unreachable_broker():
    """The Celery app pointed at a port nothing listens on, not eager."""
    conf = app.conf
    previous = (conf.broker_url, conf.broker_write_url, conf.task_always_eager)
    conf.broker_url = conf.broker_write_url = "redis://127.0.0.1:1/0"
    conf.task_always_eager = False
    reset_broker_pools()
    yield
    conf.broker_url, conf.broker_write_url, conf.task_always_eager = previous
    reset_broker_pools()


def test_a_broker_outage_does_not_fail_the_submission(
    cycle, team_a, unreachable_broker, django_capture_on_commit_callbacks
):
    assessment = submit(cycle, team_a, 3, status=Assessment.Status.IN_PROGRESS)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).update(status="submitted")
        cycle_scores_changed(cycle_id=cycle.pk)

    assert Assessment.objects.get(pk=assessment.pk).is_submitted
    assert Cycle.objects.get(pk=cycle.pk).scores_generation == 1
    assert rollup_stale_cycle_ids() == [cycle.pk]


def test_rollup_enqueue_reports_a_broker_outage(cycle, unreachable_broker):
    assert services.rollup_enqueue(cycle.pk) is False


def test_rollup_recompute_writes_the_expected_rows(
    cycle, framework, business_unit, team_a, team_b
):
    a = submit(cycle, team_a, 4)
    b = submit(cycle, team_b, 1)
    caps = list(framework.capabilities.order_by("order").values_list("id", flat=True))
    cycle_scores_changed(cycle_id=cycle.pk)

    result = rollup_recompute(cycle_id=cycle.pk)

    assert result["status"] == "computed"
    assert (result["teams"], result["node_stats"], result["team_ranks"]) == (2, 6, 6)
    stats, ranks = snapshot(cycle)
    lens = dict.fromkeys(["knowledge", "process", "metrics", "adoption", "automation"])
    group = {
        "n": 2,
        "mean": 62.5,
        "median": 62.5,
        "p25": 43.75,
        "p75": 81.25,
        "min": 25.0,
        "max": 100.0,
        "level_counts": {"crawl": 1, "run": 1},
        "lens_means": {k: 2.5 for k in lens},
    }
    assert stats == [
        {"node_id": node, "capability_id": cap, **group}
        for node in (None, business_unit.pk)
        for cap in (None, *caps)
    ]
    assert ranks == [
        {"assessment_id": x.pk, "capability_id": cap, "percent": p, "percentile": r}
        for x, p, r in ((a, 100.0, 75.0), (b, 25.0, 25.0))
        for cap in (None, *caps)
    ]


def test_rollup_recompute_leaves_out_assessments_not_submitted(cycle, team_a, team_b):
    submit(cycle, team_a, 4)
    submit(cycle, team_b, 0, status=Assessment.Status.IN_PROGRESS)

    rollup_recompute(cycle_id=cycle.pk, force=True)

    overall = NodeStat.objects.get(cycle=cycle, node=None, capability=None)
    assert (overall.n, overall.mean) == (1, 100.0)


def test_rollup_recompute_twice_changes_nothing(cycle, team_a, team_b):
    submit(cycle, team_a, 4)
    submit(cycle, team_b, 2)
    rollup_recompute(cycle_id=cycle.pk, force=True)
    first = snapshot(cycle)

    rollup_recompute(cycle_id=cycle.pk, force=True)

    assert snapshot(cycle) == first
    assert RollupState.objects.get(cycle=cycle).runs == 2


def test_rollup_recompute_does_nothing_when_fresh(cycle, team_a):
    submit(cycle, team_a, 4)
    cycle_scores_changed(cycle_id=cycle.pk)
    rollup_recompute(cycle_id=cycle.pk)

    result = rollup_recompute(cycle_id=cycle.pk)

    assert result == {"status": "fresh", "cycle_id": cycle.pk}
    assert RollupState.objects.get(cycle=cycle).runs == 1


def test_rollup_recompute_of_a_cycle_without_submissions_is_an_empty_snapshot(cycle):
    result = rollup_recompute(cycle_id=cycle.pk)

    assert result["status"] == "computed"
    assert result["teams"] == 0
    assert snapshot(cycle) == ([], [])
    state = RollupState.objects.get(cycle=cycle)
    assert state.computed_at is not None
    assert state.last_error == ""


def test_rollup_recompute_replaces_the_previous_snapshot(cycle, team_a, team_b):
    a = submit(cycle, team_a, 4)
    submit(cycle, team_b, 0)
    rollup_recompute(cycle_id=cycle.pk, force=True)
    Assessment.objects.filter(pk=a.pk).update(status="in_progress")

    rollup_recompute(cycle_id=cycle.pk, force=True)

    overall = NodeStat.objects.get(cycle=cycle, node=None, capability=None)
    assert (overall.n, overall.mean) == (1, 0.0)
    assert not TeamRank.objects.filter(assessment=a).exists()


def test_rollup_recompute_records_what_it_did(cycle, team_a, team_b):
    submit(cycle, team_a, 4)
    submit(cycle, team_b, 2)
    cycle_scores_changed(cycle_id=cycle.pk)
    cycle_scores_changed(cycle_id=cycle.pk)

    rollup_recompute(cycle_id=cycle.pk)

    state = RollupState.objects.get(cycle=cycle)
    assert (state.computed_generation, state.teams_scored, state.runs) == (2, 2, 1)
    assert state.duration_ms is not None
    assert state.started_at <= state.computed_at


def test_rollup_recompute_of_a_missing_cycle_says_so():
    assert rollup_recompute(cycle_id=987654) == {
        "status": "missing",
        "cycle_id": 987654,
    }


def test_rollup_recompute_queries_do_not_grow_with_teams(
    cycle, org, business_unit, team_a, django_assert_max_num_queries
):
    submit(cycle, team_a, 4)
    for i in range(6):
        team = Team.objects.create(organization=org, parent=business_unit, name=f"T{i}")
        submit(cycle, team, i % 5)

    # 18, the rollup.computed event's row (apps subscribe to it: improvement), and
    # 1 to replace the (empty) disagreement rows of the snapshot
    with django_assert_max_num_queries(20):
        rollup_recompute(cycle_id=cycle.pk, force=True)


@pytest.mark.usefixtures("eager_tasks")
def test_rollup_sweep_enqueues_every_stale_cycle(cycle, team_a, org, framework):
    submit(cycle, team_a, 3)
    fresh = Cycle.objects.create(organization=org, framework=framework, name="Fresh")
    rollup_recompute(cycle_id=fresh.pk)
    cycle_scores_changed(cycle_id=cycle.pk)  # its on_commit never fires inside the test

    assert rollup_stale_cycle_ids() == [cycle.pk]
    assert rollup_sweep() == 1
    # Without a broker the task ran in-process.
    assert rollup_stale_cycle_ids() == []


def test_rollup_recompute_defers_a_run_right_after_the_previous_one(
    cycle, team_a, django_capture_on_commit_callbacks
):
    submit(cycle, team_a, 4)
    rollup_recompute(cycle_id=cycle.pk)
    cycle_scores_changed(cycle_id=cycle.pk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = rollup_recompute(cycle_id=cycle.pk, min_interval_s=60)

    assert result["status"] == "deferred"
    assert 0 < result["wait_s"] <= 60
    assert len(callbacks) == 1
    assert RollupState.objects.get(cycle=cycle).runs == 1


def test_recompute_rollups_rescores_from_answers_and_reports(cycle, team_a, team_b):
    import io

    from django.core.management import call_command

    from assessment.models import CapabilityScore

    submit(cycle, team_a, 4)
    submit(cycle, team_b, 0)
    CapabilityScore.objects.all().delete()
    out, err = io.StringIO(), io.StringIO()

    call_command("recompute_rollups", "--cycle", str(cycle.pk), stdout=out, stderr=err)

    assert out.getvalue().startswith(
        "Recomputed 1 cycles: 2 assessments, 4 capability scores, 6 group statistics"
    )
    assert "100.0% 2/2" in err.getvalue()
    overall = NodeStat.objects.get(cycle=cycle, node=None, capability=None)
    assert (overall.n, overall.mean) == (2, 50.0)


def test_recompute_rollups_names_an_unknown_cycle(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="^No cycle with id 999.$"):
        call_command("recompute_rollups", "--cycle", "999")


def test_a_recompute_keeps_unchanged_ranks_and_rewrites_changed_ones(
    cycle, team_a, team_b, org, business_unit
):
    from django.db import connection

    a = submit(cycle, team_a, 4)
    b = submit(cycle, team_b, 0)
    rollup_recompute(cycle_id=cycle.pk, force=True)
    before = dict(
        TeamRank.objects.filter(cycle=cycle, capability=None).values_list(
            "assessment_id", "id"
        )
    )
    third = Team.objects.create(organization=org, parent=business_unit, name="C")
    submit(cycle, third, 2)

    rollup_recompute(cycle_id=cycle.pk, force=True)

    ranks = {
        r.assessment_id: (r.id, r.percentile)
        for r in TeamRank.objects.filter(cycle=cycle, capability=None)
    }
    assert {k: v[1] for k, v in ranks.items()} == {
        a.pk: pytest.approx(500 / 6),
        b.pk: pytest.approx(100 / 6),
        max(ranks): 50.0,
    }
    if connection.vendor == "postgresql":
        # Updated in place, not deleted and inserted again.
        assert ranks[a.pk][0] == before[a.pk]
        assert ranks[b.pk][0] == before[b.pk]

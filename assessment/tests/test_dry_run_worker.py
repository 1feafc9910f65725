"""A large organisation's dry run goes to a real Celery worker, reports progress and
writes nothing of the organisation's (PostgreSQL, Redis, a worker process)."""

import time

import pytest

from assessment import dry_runs
from assessment.models import FrameworkDryRun
from assessment.tests.test_editions_flow import _org_data
from capabilities.services import framework_import
from capabilities.tests.editions import make_v2_document

pytestmark = pytest.mark.services

TIMEOUT = 60


def test_a_large_dry_run_runs_in_a_worker_with_progress(
    start_worker, monkeypatch, org, team_a, team_b, shipped_framework
):

    # Build the closed cycle as the flow tests do.
    from assessment import cycles, services
    from assessment.models import Assessment
    from assessment.tests.factories import make_cycle
    from assessment.tests.test_editions_flow import TEAM_SCORES, _answer_v1

    cycle = make_cycle(
        organization=org, framework=shipped_framework, teams=[team_a, team_b], name="Q1"
    )
    for assessment in Assessment.objects.filter(cycle=cycle).select_related(
        "team", "cycle"
    ):
        default, overrides = TEAM_SCORES[assessment.team.name]
        _answer_v1(assessment, default, overrides)
        services.assessment_submit(assessment=assessment, user=None)
    cycles.cycle_close(cycle=cycle)
    v2 = framework_import(data=make_v2_document())

    # Every organisation counts as large here: the run goes to the worker, one
    # assessment per progress step.
    monkeypatch.setattr(dry_runs, "INLINE_MAX_ASSESSMENTS", 0)
    monkeypatch.setattr("assessment.editions.DRY_RUN_CHUNK", 1)
    worker = start_worker("w1")
    before = _org_data(org)
    run = dry_runs.dry_run_start(framework=v2, organization=org)
    assert run.state == "queued"
    assert run.total == 2
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.state in ("done", "failed"):
            break
        time.sleep(0.2)
    assert run.state == "done", worker.logs()
    assert (run.done, run.total) == (2, 2)
    assert run.result["teams"] == 2
    assert {r["team"] for r in run.result["rows"]} == {"Team A", "Team B"}
    assert _org_data(org) == before
    assert FrameworkDryRun.objects.count() == 1

"""Ingestion end to end with real Celery workers against real Redis and PostgreSQL:
a worker reads a file and the team's suggestions follow; a worker killed in the
middle of an ingestion leaves the previous evidence, and the next run completes."""

import time

import pytest
from django.urls import reverse

from assessment.models import Assessment, Cycle
from evidence import mappings, services
from evidence.models import EvidencePeriod, Ingestion, MeasureValue
from evidence.services import TEST_DELAY_ENV
from evidence.tests.conftest import send_upload
from evidence.tests.factories import make_measured_framework, team_file
from evidence.tests.test_suggestions import fresh

pytestmark = pytest.mark.services
TIMEOUT = 60


def wait_for(check, what, workers, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    logs = "\n".join(w.logs()[-3000:] for w in workers)
    pytest.fail(f"{what} did not happen within {timeout} s\n{logs}")


def finished(ingestion_id):
    ingestion = Ingestion.objects.get(pk=ingestion_id)
    return ingestion if ingestion.is_finished else None


def start_ingestion(org, lead, data, name="export.csv"):
    upload = send_upload(organization=org, user=lead, data=data, name=name)
    # Autocommit (transactional test): the task is sent at once.
    return services.ingestion_start(organization=org, user=lead, uploads=[upload])


def test_a_worker_reads_the_file_and_the_team_gets_suggestions(
    start_worker, evidence_root, org, lead, team_a, respondent_a, generated, client
):
    worker = start_worker("w1", EVIDENCE_ROOT=str(evidence_root))
    framework = make_measured_framework()
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="H2", status="open"
    )
    cycle.teams.set([team_a])
    assessment = Assessment.objects.create(cycle=cycle, team=team_a)
    data = fresh(team_file(generated))
    ingestion = start_ingestion(org, lead, data)
    done = wait_for(lambda: finished(ingestion.pk), "the ingestion", [worker])
    assert done.status == Ingestion.Status.SUCCEEDED, done.errors
    assert done.rows_read == 1500
    assert "Task evidence.tasks.ingestion_run[" in worker.logs()

    mappings.mapping_add(
        organization=org,
        user=lead,
        team=team_a,
        kind="tag",
        key="Owner",
        value="team-payments",
    )
    wait_for(
        lambda: MeasureValue.objects.filter(
            team=team_a, measure="tag_coverage"
        ).exists(),
        "the recomputed measures",
        [worker],
    )
    client.force_login(respondent_a)
    suggestions = client.get(reverse("v1:suggestion-list", args=[assessment.pk])).json()
    assert {s["measure"] for s in suggestions} >= {
        "tag_coverage",
        "chargeback_coverage",
        "focus_providers",
    }
    page = client.get(
        reverse("assessment:questionnaire", args=[assessment.pk])
    ).content.decode()
    assert page.count("data-suggestion ") == 2  # cap-0: tag and chargeback coverage
    assert "Your cost data: tag coverage" in page


def test_a_worker_killed_mid_ingestion_leaves_the_evidence_and_the_next_run_completes(
    start_worker, evidence_root, org, lead, generated, settings
):
    settings.EVIDENCE_STALE_AFTER_S = 2
    # The evidence before: May read in this process.
    first = start_ingestion(org, lead, team_file(generated, blank_share=0.3))
    services.ingestion_run(ingestion_id=first.pk)
    before = list(EvidencePeriod.objects.values_list("pk", "cube"))
    values_before = sorted(MeasureValue.objects.values_list("measure", "value"))
    assert len(before) == 1

    slow = start_worker(
        "slow",
        EVIDENCE_ROOT=str(evidence_root),
        EVIDENCE_STALE_AFTER_S="2",
        **{TEST_DELAY_ENV: "60"},
    )
    second = start_ingestion(org, lead, team_file(generated, blank_share=0.05))
    wait_for(
        lambda: Ingestion.objects.filter(
            pk=second.pk, stage=Ingestion.Stage.READING
        ).exists(),
        "the slow worker reading",
        [slow],
    )
    slow.kill()
    time.sleep(2.5)
    # The previous evidence is untouched while the ingestion is orphaned.
    assert list(EvidencePeriod.objects.values_list("pk", "cube")) == before
    assert sorted(MeasureValue.objects.values_list("measure", "value")) == values_before
    assert Ingestion.objects.get(pk=second.pk).status == Ingestion.Status.RUNNING

    healthy = start_worker(
        "healthy", EVIDENCE_ROOT=str(evidence_root), EVIDENCE_STALE_AFTER_S="2"
    )
    assert services.ingestions_sweep() == 1  # what beat runs every minute
    done = wait_for(lambda: finished(second.pk), "the second run", [healthy])
    assert done.status == Ingestion.Status.SUCCEEDED, done.errors
    assert done.attempts == 2
    [after] = EvidencePeriod.objects.values_list("pk", "cube")
    assert after != before[0]
    coverage = MeasureValue.objects.get(team=None, measure="tag_coverage").value
    assert coverage > 90  # the new file's coverage replaced the old one's (about 65 %)

"""Team reports built ahead of the first visit: after a roll-up, by a worker, or by
the ``prebuild_reports`` command."""

import io
import time

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessment.models import Assessment, Target
from assessment.targets import target_set
from benchmarks import report_cache, reports, services
from benchmarks.anonymity import HIDDEN_GROUP_MSG
from benchmarks.models import RollupState
from benchmarks.report_cache import team_report_key
from benchmarks.reports import team_report_prebuild
from benchmarks.tests.snapshots import build_snapshot, make_teams
from benchmarks.tests.test_services import unreachable_broker  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

# session, user, the assessment with its report state, memberships; and, outside
# the report cache, the measured questions of evidence's section, the scores,
# targets and items of improvement's plan, and on the first visit whether the team
# has an earlier cycle (its movements are cached after) and the framework's next
# steps (once per process)
CACHED_REPORT_QUERIES = 10


@pytest.fixture
def with_targets(org):
    Target.objects.create(organization=org, capability_key="cap-0", percent=60)


def report_url(assessment):
    return reverse("benchmarks:team_report", args=[assessment.pk])


def cached_html(assessment, *, member: bool) -> str:
    key = team_report_key(assessment=assessment, enforce_anonymity=member)
    packed = cache.get(key)
    assert packed is not None, "the report is not in the cache"
    return report_cache.unpack(packed)["report_html"]


def built_on_request_html(assessment, *, member: bool) -> str:
    cache.clear()
    data = reports.team_report_data(assessment=assessment, enforce_anonymity=member)
    return str(data["report_html"])


def computed_at(cycle) -> str:
    return RollupState.objects.get(cycle=cycle).computed_at.isoformat()


def test_a_prebuilt_report_is_what_a_visit_would_build(report_a, with_targets):
    assert team_report_prebuild(assessment=report_a) == 1
    prebuilt = {member: cached_html(report_a, member=member) for member in (1, 0)}
    # leads share the member's report when it reads the same for them
    assert prebuilt[True] == prebuilt[False]
    for member in (True, False):
        assert prebuilt[member] == built_on_request_html(report_a, member=member)


def test_a_visit_reads_the_prebuilt_report(
    client, respondent_a, lead, report_a, with_targets, django_assert_max_num_queries
):
    team_report_prebuild(assessment=report_a)
    for user in (respondent_a, lead):
        client.force_login(user)
        with django_assert_max_num_queries(CACHED_REPORT_QUERIES):
            response = client.get(report_url(report_a))
        assert response.status_code == 200
        assert 'data-chart-source="chart-radar"' in response.content.decode()


def test_without_targets_the_lead_gets_a_report_of_their_own(report_a, org):
    assert team_report_prebuild(assessment=report_a) == 2
    targets_link = reverse("benchmarks:targets", args=[org.slug])
    assert targets_link in cached_html(report_a, member=False)
    assert targets_link not in cached_html(report_a, member=True)


def test_groups_hidden_from_members_stay_hidden_in_their_prebuilt_report(
    client, respondent_a, lead, report_a, org, with_targets
):
    org.anonymity_threshold = 5
    org.save()
    assert team_report_prebuild(assessment=report_a) == 2
    url = reverse("benchmarks:team_benchmark", args=[report_a.pk])
    client.force_login(respondent_a)
    response = client.get(url)
    assert response.context["benchmarks"] == []
    assert HIDDEN_GROUP_MSG.format(k=5, group="Retail") in response.content.decode()
    client.force_login(lead)
    assert [b["group"] for b in client.get(url).context["benchmarks"]] == [
        "Org One",
        "Retail",
    ]


def test_a_new_state_drops_the_reports_of_the_old_one(
    client, respondent_a, report_a, cycle, with_targets
):
    team_report_prebuild(assessment=report_a)
    old = [
        team_report_key(assessment=report_a, enforce_anonymity=member)
        for member in (True, False)
    ]
    services.rollup_recompute(cycle_id=cycle.pk, force=True)
    # a visit stores the member's report of the new snapshot ...
    client.force_login(respondent_a)
    assert client.get(report_url(report_a)).status_code == 200
    new = team_report_key(assessment=report_a, enforce_anonymity=True)
    assert new not in old
    assert cache.get(new) is not None
    # ... and the cache keeps nothing of the old snapshot's reports
    assert cache.get_many(old) == {}
    assert team_report_prebuild(assessment=report_a) == 0  # the lead's is shared


def test_a_report_already_cached_is_not_built_again(report_a, with_targets):
    assert team_report_prebuild(assessment=report_a) == 1
    assert team_report_prebuild(assessment=report_a) == 0


def test_a_report_not_submitted_is_not_prebuilt(org, framework, team_a, team_b):
    cycle = build_snapshot(
        organization=org, framework=framework, teams=[team_a, team_b], submitted=[]
    )
    draft = Assessment.objects.get(cycle=cycle, team=team_a)
    assert team_report_prebuild(assessment=draft) == 0


@pytest.mark.usefixtures("eager_tasks")
def test_a_batch_builds_its_share_and_enqueues_the_next(org, framework, team_a):
    teams = [team_a, *make_teams(org, 4)]
    cycle = build_snapshot(organization=org, framework=framework, teams=teams)
    assessments = list(Assessment.objects.filter(cycle=cycle).order_by("id"))
    # tasks run in-process here: the enqueued batches run before this returns
    result = services.reports_prebuild_batch(
        cycle_id=cycle.pk, computed_at=computed_at(cycle), limit=2
    )
    assert result["status"] == services.STATUS_MORE
    assert result["after_id"] == assessments[1].pk
    for assessment in assessments:
        cached_html(assessment, member=True)
        cached_html(assessment, member=False)


@pytest.mark.usefixtures("eager_tasks")
def test_in_process_the_batches_run_in_a_loop_not_nested(
    org, framework, team_a, monkeypatch
):
    teams = [team_a, *make_teams(org, 5)]
    cycle = build_snapshot(organization=org, framework=framework, teams=teams)
    monkeypatch.setattr(services, "PREBUILD_BATCH", 2)
    depths = []
    batch = services.reports_prebuild_batch

    def counted(**kwargs):
        import inspect

        depths.append(len(inspect.stack(0)))
        return batch(**kwargs)

    monkeypatch.setattr(services, "reports_prebuild_batch", counted)
    assert services.prebuild_enqueue(cycle.pk, computed_at(cycle)) is True
    assert len(depths) == 4  # 6 assessments, 2 a batch, then an empty one
    assert len(set(depths)) == 1  # every batch at the same depth
    for assessment in Assessment.objects.filter(cycle=cycle):
        cached_html(assessment, member=True)


def test_the_last_batch_says_done(report_a, cycle):
    result = services.reports_prebuild_batch(
        cycle_id=cycle.pk, computed_at=computed_at(cycle), limit=10
    )
    assert result == {"status": services.STATUS_DONE, "cycle_id": cycle.pk, "built": 4}


def test_a_second_copy_of_a_batch_stops_at_once(report_a, cycle):
    kwargs = {"cycle_id": cycle.pk, "computed_at": computed_at(cycle), "limit": 10}
    assert services.reports_prebuild_batch(**kwargs)["built"] == 4
    cache.delete(team_report_key(assessment=report_a, enforce_anonymity=True))
    again = services.reports_prebuild_batch(**kwargs)
    assert again == {
        "status": services.STATUS_DUPLICATE,
        "cycle_id": cycle.pk,
        "built": 0,
    }


@pytest.mark.usefixtures("eager_tasks")
def test_a_target_change_prebuilds_the_reports_again(
    settings, org, report_a, cycle, django_capture_on_commit_callbacks
):
    settings.REPORTS_PREBUILD = True
    with django_capture_on_commit_callbacks(execute=True):
        target_set(organization=org, capability_key="cap-0", percent=60)
        target_set(organization=org, capability_key="cap-1", percent=70)
    # the reports under the new targets are ready before anyone asks
    prebuilt = report_cache.unpack(
        cache.get(team_report_key(assessment=report_a, enforce_anonymity=True))
    )
    assert [row["target"] for row in prebuilt["grid"]] == ["60", "70"]


def test_a_newer_snapshot_supersedes_the_prebuild(report_a, cycle):
    old = computed_at(cycle)
    services.rollup_recompute(cycle_id=cycle.pk, force=True)
    assert computed_at(cycle) != old
    result = services.reports_prebuild_batch(cycle_id=cycle.pk, computed_at=old)
    assert result["status"] == services.STATUS_SUPERSEDED
    assert (
        cache.get(team_report_key(assessment=report_a, enforce_anonymity=True)) is None
    )


@pytest.mark.usefixtures("eager_tasks")
def test_a_rollup_prebuilds_the_reports_when_switched_on(
    settings, report_a, cycle, django_capture_on_commit_callbacks
):
    settings.REPORTS_PREBUILD = True
    # enqueued once the roll-up's caller commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.rollup_recompute(cycle_id=cycle.pk, force=True)
        assert (
            cache.get(team_report_key(assessment=report_a, enforce_anonymity=True))
            is None
        )
    # one prebuild (beside the dispatch of the rollup.computed event, when an app
    # subscribes to it)
    prebuilds = [
        c for c in callbacks if getattr(c, "func", None) is services.prebuild_enqueue
    ]
    assert len(prebuilds) == 1
    cached_html(report_a, member=True)
    cached_html(report_a, member=False)


def test_a_rollup_builds_no_report_when_switched_off(
    settings, report_a, cycle, django_capture_on_commit_callbacks
):
    settings.REPORTS_PREBUILD = False
    with django_capture_on_commit_callbacks(execute=True):
        services.rollup_recompute(cycle_id=cycle.pk, force=True)
    assert (
        cache.get(team_report_key(assessment=report_a, enforce_anonymity=True)) is None
    )


def test_a_broker_outage_leaves_the_reports_to_their_first_visit(
    settings,
    client,
    respondent_a,
    report_a,
    cycle,
    unreachable_broker,  # noqa: F811
):
    settings.REPORTS_PREBUILD = True
    result = services.rollup_recompute(cycle_id=cycle.pk, force=True)
    assert result["status"] == services.STATUS_COMPUTED
    assert services.prebuild_enqueue(cycle.pk, computed_at(cycle)) is False
    client.force_login(respondent_a)
    assert client.get(report_url(report_a)).status_code == 200


def test_the_command_prebuilds_every_rolled_up_cycle(cycle, with_targets):
    out, err = io.StringIO(), io.StringIO()
    call_command("prebuild_reports", stdout=out, stderr=err)
    assert "Built 2 reports for 2 submitted assessments" in out.getvalue()
    assert "100.0% 2/2" in err.getvalue()
    for assessment in Assessment.objects.filter(cycle=cycle):
        cached_html(assessment, member=True)
    out = io.StringIO()
    call_command("prebuild_reports", "--cycle", str(cycle.pk), stdout=out, stderr=err)
    assert "Built 0 reports for 2 submitted assessments" in out.getvalue()


def test_the_command_names_a_cycle_without_a_rollup(db):
    with pytest.raises(CommandError, match="No rolled-up cycle with id 999"):
        call_command("prebuild_reports", "--cycle", "999", stderr=io.StringIO())


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_prebuilds_the_reports_after_a_submission(
    start_worker, worker_env, org, framework, team_a, team_b, respondent_a
):
    """Submit, and the worker rolls up the cycle, then builds both teams' reports
    into Redis, where the web process finds them."""
    from django.core.cache.backends.redis import RedisCache

    from assessment.services import assessment_submit
    from assessment.tests.factories import answer_all, make_cycle
    from finops_portal.cache import ResilientRedisCache

    redis_url = worker_env["CELERY_BROKER_URL"]
    shared = ResilientRedisCache(redis_url, {"KEY_PREFIX": "finops"})
    assert isinstance(shared, RedisCache)
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    Target.objects.create(organization=org, capability_key="cap-0", percent=60)
    start_worker("prebuild", REDIS_URL=redis_url)
    assessment = Assessment.objects.get(cycle=cycle, team=team_a)
    answer_all(assessment, score=2)
    assessment_submit(assessment=assessment, user=respondent_a)
    deadline = time.monotonic() + 30
    keys = []
    while time.monotonic() < deadline:
        state = RollupState.objects.filter(cycle=cycle).first()
        if state is not None and state.computed_at is not None and not state.is_stale:
            assessment.refresh_from_db()
            keys = [
                team_report_key(assessment=assessment, enforce_anonymity=member)
                for member in (True, False)
            ]
            if all(shared.has_key(key) for key in keys):
                break
        time.sleep(0.2)
    else:
        pytest.fail("the worker did not prebuild the report within 30 s")
    prebuilt = report_cache.unpack(shared.get(keys[0]))
    assert prebuilt["grid"][0]["target"] == "60"
    assert 'data-chart-source="chart-radar"' in prebuilt["report_html"]
    shared.delete_many(keys)

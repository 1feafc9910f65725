"""The team report of a team in an organisation of 10,000 teams costs the queries
of one in an organisation of ten, built on request and read from the cache."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment.models import Assessment
from benchmarks.tests.snapshots import build_snapshot, make_teams
from benchmarks.tests.test_views import report_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]


def _queries(client, assessment) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(report_url(assessment))
    assert response.status_code == 200
    return len(queries)


def test_a_team_report_costs_the_same_queries_at_10_and_10000_teams(
    client, staff, org, other_org, framework
):
    small = build_snapshot(
        organization=org, framework=framework, teams=make_teams(org, 10)
    )
    units = tuple(f"Business unit {u:03d}" for u in range(400))
    big = build_snapshot(
        organization=other_org,
        framework=framework,
        teams=make_teams(other_org, 10_000, unit_names=units),
    )
    first, second = Assessment.objects.filter(cycle=small).order_by("id")[:2]
    in_big = Assessment.objects.filter(cycle=big).order_by("id").last()
    client.force_login(staff)
    _queries(client, first)  # what a process reads once
    built = [_queries(client, second), _queries(client, in_big)]
    cached = [_queries(client, second), _queries(client, in_big)]
    assert built[0] == built[1]
    assert cached[0] == cached[1]
    assert cached[0] < built[0]

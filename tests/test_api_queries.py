"""Every list endpoint issues the same number of queries for 10 rows as for 50."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment.models import Cycle, Membership, Target, Team
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for

pytestmark = pytest.mark.django_db


def add_teams(org, n, prefix):
    Team.objects.bulk_create(
        Team(organization=org, name=f"{prefix} {i}") for i in range(n)
    )


def add_members(org, n, prefix):
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{prefix}{i}") for i in range(n)
    )
    Membership.objects.bulk_create(
        Membership(user=user, organization=org, role="lead") for user in users
    )


def add_cycles(org, n, prefix, framework):
    cycles = Cycle.objects.bulk_create(
        Cycle(organization=org, framework=framework, name=f"{prefix} {i}")
        for i in range(n)
    )
    teams = list(Team.objects.filter(organization=org)[:3])
    for cycle in cycles:
        cycle.teams.set(teams)


def add_targets(org, n, prefix):
    Target.objects.bulk_create(
        Target(organization=org, capability_key=f"{prefix}-{i}", percent=50)
        for i in range(n)
    )


LISTS = {
    "/api/v1/teams/": lambda org, n, p, fw: add_teams(org, n, p),
    "/api/v1/memberships/": lambda org, n, p, fw: add_members(org, n, p),
    "/api/v1/cycles/": lambda org, n, p, fw: add_cycles(org, n, p, fw),
    "/api/v1/targets/": lambda org, n, p, fw: add_targets(org, n, p),
}


@pytest.mark.parametrize("url", list(LISTS))
def test_a_list_costs_the_same_queries_for_10_or_50_rows(
    url, lead, org, framework, team_a, django_assert_num_queries
):
    client = client_for(lead)
    client.get(url)  # records the token's first use
    LISTS[url](org, 10, "small", framework)
    with CaptureQueriesContext(connection) as ten:
        first = client.get(url).json()["count"]
    LISTS[url](org, 40, "large", framework)
    with django_assert_num_queries(len(ten)):
        second = client.get(url).json()["count"]
    assert second == first + 40

"""Fixtures and helpers shared by the API tests: an open cycle, tokens, clients.

Import the fixtures into a test module with
``from tests.api_support import *  # noqa: F403``.
"""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from assessment.models import Assessment

__all__ = [
    "api_cycle",
    "assessment_a",
    "assessment_b",
    "clear_throttles",
    "client_for",
    "other_assessment",
    "token_for",
]


def token_for(user, name: str | None = None) -> str:
    from finops_portal.models import PersonalToken
    from finops_portal.tokens import token_create

    if name is None:
        name = f"tests {PersonalToken.objects.filter(user=user).count() + 1}"
    _token, key = token_create(user=user, name=name)
    return key


def client_for(user=None) -> APIClient:
    """An API client sending ``user``'s personal token (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture(autouse=True)
def clear_throttles():
    """Throttle counters live in the cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_cycle(org, framework, team_a, team_b):
    """An open cycle of organisation 1 with an assessment for teams A and B."""
    from assessment.tests.factories import make_cycle

    return make_cycle(organization=org, framework=framework, teams=[team_a, team_b])


@pytest.fixture
def assessment_a(api_cycle, team_a):
    return Assessment.objects.get(cycle=api_cycle, team=team_a)


@pytest.fixture
def assessment_b(api_cycle, team_b):
    return Assessment.objects.get(cycle=api_cycle, team=team_b)


@pytest.fixture
def other_assessment(other_org, other_team, framework):
    """An assessment of organisation 2, out of reach of everyone in organisation 1."""
    from assessment.tests.factories import make_assessment

    return make_assessment(team=other_team, framework=framework, name="Other H1")

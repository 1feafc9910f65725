"""Fixtures shared by the benchmark tests: an empty cache, and a rolled-up cycle of
Team A and Team B."""

import pytest
from django.core.cache import cache

from assessment.models import Assessment
from benchmarks import report_cache
from benchmarks.tests.snapshots import build_snapshot


@pytest.fixture
def empty_cache():
    """No cached figure, report or framework frame before and after the test."""
    cache.clear()
    report_cache._framework_frames.clear()
    yield
    cache.clear()


@pytest.fixture
def cycle(org, framework, team_a, team_b):
    return build_snapshot(organization=org, framework=framework, teams=[team_a, team_b])


@pytest.fixture
def report_a(cycle, team_a):
    return Assessment.objects.get(cycle=cycle, team=team_a)

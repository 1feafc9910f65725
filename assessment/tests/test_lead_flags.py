"""The lead sees a cycle past its due date flagged (organisation page, cycles list,
completion board), and the completion board's team names open the team's answers."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment.models import Assessment
from assessment.tests.factories import make_cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_cycle(org, framework, team_a, team_b):
    cycle = make_cycle(
        organization=org,
        framework=framework,
        teams=[team_a, team_b],
        closes_on=timezone.localdate() - datetime.timedelta(days=3),
    )
    Assessment.objects.filter(cycle=cycle, team=team_b).update(
        status=Assessment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    return cycle


def test_an_overdue_cycle_is_flagged_on_the_lead_pages(client, lead, late_cycle, org):
    client.force_login(lead)
    for url in [
        reverse("assessment:lead_org", args=[org.slug]),
        reverse("assessment:lead_cycles", args=[org.slug]),
    ]:
        assert "badge-overdue" in client.get(url).content.decode(), url
    board = client.get(
        reverse("assessment:cycle_detail", args=[late_cycle.pk])
    ).content.decode()
    # the board's reminder toolbar and Team A's row (notifications' columns)
    assert "badge-overdue" in board


def test_a_cycle_not_yet_due_is_not_flagged(client, lead, org, framework, team_a):
    cycle = make_cycle(
        organization=org,
        framework=framework,
        teams=[team_a],
        closes_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    client.force_login(lead)
    board = client.get(reverse("assessment:cycle_detail", args=[cycle.pk]))
    assert "badge-overdue" not in board.content.decode()


def test_completion_board_team_names_link_to_the_team(client, lead, late_cycle, team_a):
    client.force_login(lead)
    board = client.get(
        reverse("assessment:cycle_detail", args=[late_cycle.pk])
    ).content.decode()
    assessment = Assessment.objects.get(cycle=late_cycle, team=team_a)
    summary = reverse("assessment:summary", args=[assessment.pk])
    assert f'<a href="{summary}">{team_a.name}</a>' in board

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


# --- confirmations that spell out the consequence ---------------------------------


def confirm_page(client, cycle, action) -> str:
    url = reverse("assessment:cycle_transition", args=[cycle.pk, action])
    return client.get(url).content.decode()


def test_closing_a_cycle_with_nothing_submitted_says_what_follows(
    client, lead, org, framework, team_a
):
    from assessment.cycles import CLOSE_NOTHING_SUBMITTED_MSG

    cycle = make_cycle(organization=org, framework=framework, teams=[team_a])
    client.force_login(lead)
    assert CLOSE_NOTHING_SUBMITTED_MSG in confirm_page(client, cycle, "close")


def test_closing_a_cycle_with_submissions_asks_plainly(client, lead, late_cycle):
    from assessment.cycles import CLOSE_NOTHING_SUBMITTED_MSG

    client.force_login(lead)
    page = confirm_page(client, late_cycle, "close")
    assert "Close cycle" in page
    assert CLOSE_NOTHING_SUBMITTED_MSG not in page


def test_opening_a_cycle_that_overlaps_an_open_one_warns(
    client, lead, org, framework, team_a
):
    open_one = make_cycle(
        organization=org,
        framework=framework,
        teams=[team_a],
        name="2026 Q3",
        closes_on=timezone.localdate() + datetime.timedelta(days=20),
    )
    planned = make_cycle(
        organization=org, framework=framework, name="2026 Q4", status="planned"
    )
    client.force_login(lead)
    page = confirm_page(client, planned, "open")
    assert "data-warning" in page
    assert f"“{open_one.name}” is still open (due " in page
    assert "two assessments to answer at the same time" in page


def test_opening_after_the_open_cycle_ends_does_not_warn(
    client, lead, org, framework, team_a
):
    make_cycle(
        organization=org,
        framework=framework,
        teams=[team_a],
        name="2026 Q3",
        closes_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    later = make_cycle(
        organization=org, framework=framework, name="2026 Q4", status="planned"
    )
    later.opens_on = timezone.localdate() + datetime.timedelta(days=30)
    later.save(update_fields=["opens_on"])
    client.force_login(lead)
    assert "data-warning" not in confirm_page(client, later, "open")


# --- the audit log -----------------------------------------------------------------


def test_the_audit_log_names_capabilities_shows_reasons_and_submissions(
    client, lead, respondent_a, org, framework, team_a
):
    from assessment import services
    from assessment.targets import target_set
    from assessment.tests.factories import answer_all
    from capabilities.models import Capability

    capability = Capability.objects.filter(framework=framework).first()
    target_set(organization=org, capability_key=capability.key, percent=60, user=lead)
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a])
    assessment = cycle.assessments.get()
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=respondent_a)
    services.assessment_reopen(
        assessment=assessment, user=lead, reason="Check the Metrics lens again."
    )
    client.force_login(lead)
    html = client.get(reverse("assessment:lead_audit", args=[org.slug])).content
    html = html.decode()
    assert f"Target for {capability.name} (organisation default) set to 60" in html
    assert f"Submitted {team_a.name} in {cycle.name}" in html
    assert "Reason: Check the Metrics lens again." in html

"""Roll-ups of generated organisations: the demo's, and load for benchmarks."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessment.demo import DEMO_ORG_SLUG
from assessment.models import (
    Answer,
    CapabilityScore,
    Cycle,
    Membership,
    Organization,
    Team,
)
from benchmarks.models import NodeStat, RollupState

pytestmark = pytest.mark.django_db


def test_the_demo_rollups_are_computed_for_every_cycle(shipped_framework_v2):
    call_command("seed_demo", "--password", "demo-pass-1", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo_rollups", stdout=out)

    organization = Organization.objects.get(slug=DEMO_ORG_SLUG)
    for cycle in Cycle.objects.filter(organization=organization, status="closed"):
        assert CapabilityScore.objects.filter(assessment__cycle=cycle).count() == 240
        assert NodeStat.objects.filter(cycle=cycle).exists()
        assert RollupState.objects.get(cycle=cycle).computed_at is not None
    assert out.getvalue() == "Demo roll-ups: 3 computed.\n"


def test_the_demo_rollups_twice_compute_nothing_more(shipped_framework_v2):
    call_command("seed_demo", "--password", "demo-pass-1", stdout=StringIO())
    call_command("seed_demo_rollups", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo_rollups", stdout=out)
    assert out.getvalue() == "Demo roll-ups: 0 computed.\n"


def test_setup_portal_runs_every_apps_demo_step(shipped_framework_v2):
    out = StringIO()
    call_command("setup_portal", stdout=out)
    assert "Setting up the demo rollups..." in out.getvalue()
    organization = Organization.objects.get(slug=DEMO_ORG_SLUG)
    assert RollupState.objects.filter(cycle__organization=organization).count() == 3


def test_the_demo_trend_crosses_editions_on_the_report_and_dashboard(
    shipped_framework_v2, client
):
    from django.contrib.auth import get_user_model

    from assessment.models import Assessment

    call_command("seed_demo", "--password", "demo-pass-1", stdout=StringIO())
    call_command("seed_demo_rollups", stdout=StringIO())
    organization = Organization.objects.get(slug=DEMO_ORG_SLUG)
    q3 = Cycle.objects.get(organization=organization, status="open")
    crossing = (
        "Between 2026 Q2 and 2026 Q3 the lines cross from v1 (Microsoft Learn 2024 "
        "seed) to v2 (FinOps Foundation 2026)"
    )
    added = "is new in this edition: its line starts at 2026 Q3."
    submitted = (
        Assessment.objects.filter(cycle=q3, status="submitted")
        .exclude(team=organization.central_team)
        .select_related("team")
        .first()
    )
    member = Membership.objects.filter(team=submitted.team).first()
    user = member.user if member else get_user_model().objects.get(username="lead")
    client.force_login(user)
    page = client.get(f"/assessments/{submitted.pk}/report/")
    assert page.status_code == 200
    html = page.content.decode().replace("&#x27;", "'")
    assert crossing in html
    assert added in html

    client.force_login(get_user_model().objects.get(username="lead"))
    page = client.get(f"/org/{organization.slug}/dashboard/?cycle={q3.pk}")
    assert page.status_code == 200
    html = page.content.decode().replace("&#x27;", "'")
    assert crossing in html
    assert added in html


def test_generate_load_creates_the_right_counts(shipped_framework):
    out = StringIO()
    call_command(
        "generate_load", "--teams", "50", "--cycles", "2", "--org", "Big Co", stdout=out
    )
    org = Organization.objects.get(slug="big-co")
    assert Team.objects.filter(organization=org, kind="business_unit").count() == 2
    assert Team.objects.filter(organization=org, kind="team").count() == 50
    first, last = Cycle.objects.filter(organization=org).order_by("opens_on")
    assert (first.status, last.status) == ("closed", "open")
    assert first.assessments.filter(status="submitted").count() == 50
    assert last.assessments.filter(status="submitted").count() == 30
    assert Answer.objects.filter(assessment__cycle=first).count() == 50 * 52
    assert CapabilityScore.objects.filter(assessment__cycle=first).count() == 400
    assert CapabilityScore.objects.filter(assessment__cycle=last).count() == 240
    assert Membership.objects.filter(organization=org, role="respondent").count() == 50
    assert "Big Co (big-co): 50 teams, 100 assessments" in out.getvalue()
    assert "answers/s" in out.getvalue()


def test_generate_load_refuses_an_existing_org_without_replace(shipped_framework):
    call_command("generate_load", "--teams", "3", "--cycles", "1", stdout=StringIO())
    with pytest.raises(CommandError, match="Organisation load-3-teams already exists"):
        call_command("generate_load", "--teams", "3", "--cycles", "1")
    call_command(
        "generate_load", "--teams", "3", "--cycles", "1", "--replace", stdout=StringIO()
    )
    assert Organization.objects.filter(slug="load-3-teams").count() == 1
    assert Team.objects.filter(organization__slug="load-3-teams").count() == 4

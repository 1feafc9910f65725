"""The lead's pages: who may see them, what they do, and how many queries they cost."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment import cycles, organizations, selectors
from assessment.models import (
    Affiliation,
    Assessment,
    AssessmentReopen,
    Cycle,
    Membership,
    Team,
)
from capabilities.tests.factories import make_framework
from finops_portal.audit import AuditEvent
from finops_portal.formats import time_ago

pytestmark = pytest.mark.django_db

PERSONAS = ["respondent_a", "respondent_b", "outsider_lead"]


@pytest.fixture
def world(org, team_a, team_b, respondent_a, respondent_b, lead, outsider_lead, staff):
    """Everything a lead page can show: teams, members, an open cycle."""
    framework = make_framework(publish=True)
    cycle = cycles.cycle_create(organization=org, framework=framework, name="Q1")
    cycles.cycle_open(cycle=cycle, user=lead)
    spare = Team.objects.create(organization=org, name="Spare")
    # stella belongs to Org One without a role yet, so a lead may add her.
    Affiliation.objects.create(organization=org, user=staff, source="created")
    return {
        "spare": spare,
        "org": org,
        "cycle": cycle,
        "framework": framework,
        "assessment": cycle.assessments.get(team=team_a),
        "membership": respondent_a.memberships.get(),
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page_urls(world) -> list[str]:
    org, cycle = world["org"], world["cycle"]
    team_id = world["assessment"].team_id
    m_id = world["membership"].pk
    return [
        reverse("assessment:lead_org", args=[org.slug]),
        reverse("assessment:lead_teams", args=[org.slug]),
        reverse("assessment:lead_team_edit", args=[org.slug, team_id]),
        reverse("assessment:lead_team_delete", args=[org.slug, team_id]),
        reverse("assessment:lead_members", args=[org.slug]),
        reverse("assessment:lead_member_remove", args=[org.slug, m_id]),
        reverse("assessment:lead_cycles", args=[org.slug]),
        reverse("assessment:cycle_detail", args=[cycle.pk]),
        reverse("assessment:cycle_transition", args=[cycle.pk, "close"]),
        reverse("assessment:cycle_edit", args=[cycle.pk]),
        reverse("assessment:cycle_completion_csv", args=[cycle.pk]),
        reverse("assessment:lead_assessment_reopen", args=[world["assessment"].pk]),
        reverse("assessment:lead_audit", args=[org.slug]),
    ]


# --- who sees what ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "staff"])
def test_it_shows_every_lead_page_to_leads_and_staff(world, request, who):
    client = client_for(request.getfixturevalue(who))

    for url in page_urls(world):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", PERSONAS)
def test_it_hides_every_lead_page_from_others(world, request, who):
    client = client_for(request.getfixturevalue(who))

    for url in page_urls(world):
        assert client.get(url).status_code == 404, url


def test_it_sends_anonymous_visitors_to_login(world):
    client = Client()

    for url in [reverse("assessment:lead_home"), *page_urls(world)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_lead_home_goes_straight_to_the_only_organisation(world, lead):
    response = client_for(lead).get(reverse("assessment:lead_home"))

    assert response["Location"] == "/lead/org-one/"


def test_lead_home_follows_the_navigation_target(world, lead):
    response = client_for(lead).get(reverse("assessment:lead_home") + "?go=cycles")

    assert response["Location"] == "/lead/org-one/cycles/"


def test_lead_home_lists_every_organisation_for_staff(world, staff):
    response = client_for(staff).get(reverse("assessment:lead_home"))

    assert response.status_code == 200
    assert [o.slug for o in response.context["organizations"]] == [
        "org-one",
        "org-two",
    ]


def test_lead_home_flags_each_organisations_overdue_cycles(world, staff):
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessment.models import Cycle

    def home():
        with CaptureQueriesContext(connection) as queries:
            response = client_for(staff).get(reverse("assessment:lead_home"))
        return response, len(queries)

    _response, before = home()
    late = Cycle.objects.filter(status=Cycle.Status.OPEN).first()
    assert late is not None
    late.closes_on = dt.date.today() - dt.timedelta(days=3)
    late.save(update_fields=["closes_on"])
    response, after = home()
    flagged = {
        o.slug: [c.pk for c in o.overdue_cycles]
        for o in response.context["organizations"]
    }
    assert flagged[late.organization.slug] == [late.pk]
    assert all(
        not pks for slug, pks in flagged.items() if slug != late.organization.slug
    )
    assert "Overdue" in response.content.decode()
    # the flags cost one query for every organisation together
    assert after == before


def test_lead_home_is_not_found_for_respondents(world, respondent_a):
    assert client_for(respondent_a).get("/lead/").status_code == 404


def test_it_shows_the_lead_links_in_the_navigation_of_leads_only(world, lead):
    lead_page = client_for(lead).get("/lead/org-one/").content.decode()
    respondent_page = client_for(world["membership"].user).get("/").content.decode()

    assert 'href="/lead/">Lead home' in lead_page
    assert 'href="/lead/">Lead home' not in respondent_page


def test_the_lead_navigation_has_no_duplicates_and_offers_targets(world, lead):
    page = client_for(lead).get("/lead/org-one/").content.decode()
    links = re.findall(r"<a [^>]*>([^<]+)</a>", page)
    for name in ["Teams", "Cycles", "Dashboard", "Lead home"]:
        assert links.count(name) <= 1, name
    assert 'href="/org/org-one/targets/">Targets' in page
    dashboard = client_for(lead).get("/org/org-one/dashboard/").content.decode()
    assert 'href="/org/org-one/targets/">Targets' in dashboard
    assert re.findall(r"<a [^>]*>([^<]+)</a>", dashboard).count("Dashboard") == 1


def test_lead_org_summarises_open_cycles(world, lead):
    Assessment.objects.filter(pk=world["assessment"].pk).update(
        status=Assessment.Status.SUBMITTED
    )

    response = client_for(lead).get("/lead/org-one/")

    body = response.content.decode()
    assert "1 / 2" in body
    assert 'aria-valuenow="50"' in body


# --- POSTs: who may, and CSRF -----------------------------------------------------


def post_cases(world, team_b) -> list[tuple[str, dict]]:
    org, cycle = world["org"], world["cycle"]
    return [
        (
            reverse("assessment:lead_teams", args=[org.slug]),
            {"kind": "team", "name": "Posted"},
        ),
        (
            reverse("assessment:lead_team_edit", args=[org.slug, team_b.pk]),
            {"name": "Renamed"},
        ),
        (
            reverse("assessment:lead_members", args=[org.slug]),
            {"identifier": "stella", "role": "lead"},
        ),
        (
            reverse(
                "assessment:lead_member_role", args=[org.slug, world["membership"].pk]
            ),
            {"role": "lead"},
        ),
        (
            reverse("assessment:lead_cycles", args=[org.slug]),
            {
                "name": "Q2",
                "framework": world["framework"].pk,
                "team_ids": [team_b.pk],
                "lens_weights": "default",
            },
        ),
        (
            reverse("assessment:lead_assessment_reopen", args=[world["assessment"].pk]),
            {"reason": "Missed a question"},
        ),
        (
            reverse("assessment:cycle_edit", args=[cycle.pk]),
            {"name": "Q1 renamed", "closes_on": "2026-12-31"},
        ),
        (
            reverse("assessment:cycle_transition", args=[cycle.pk, "close"]),
            {},
        ),
        (
            reverse(
                "assessment:lead_member_remove",
                args=[org.slug, world["membership"].pk],
            ),
            {},
        ),
        (
            reverse("assessment:lead_team_delete", args=[org.slug, world["spare"].pk]),
            {},
        ),
    ]


@pytest.mark.parametrize("who", PERSONAS)
def test_it_refuses_every_lead_post_from_others(world, team_b, request, who):
    client = client_for(request.getfixturevalue(who))
    _submit(world["assessment"])
    before = AuditEvent.objects.count()

    for url, data in post_cases(world, team_b):
        assert client.post(url, data).status_code == 404, url

    assert AuditEvent.objects.count() == before


def test_it_refuses_lead_posts_from_anonymous_visitors(world, team_b):
    for url, data in post_cases(world, team_b):
        response = Client().post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


@pytest.mark.parametrize("who", ["lead", "staff"])
def test_every_lead_post_works_for_leads_and_staff(world, team_b, request, who):
    user = request.getfixturevalue(who)
    client = client_for(user)
    last_before = AuditEvent.objects.order_by("-id").values_list("id", flat=True)[0]
    _submit(world["assessment"])

    for url, data in post_cases(world, team_b):
        assert client.post(url, data).status_code == 302, url

    new_events = AuditEvent.objects.filter(actor=user, id__gt=last_before)
    assert list(new_events.values_list("action", flat=True)) == [
        "team.delete",
        "membership.remove",
        "cycle.close",
        "cycle.update",
        "assessment.reopen",
        "cycle.create",
        "membership.update_role",
        "membership.add",
        "team.update",
        "team.create",
    ]


def test_it_enforces_csrf_on_lead_posts(world, team_b, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)

    for url, data in post_cases(world, team_b):
        assert client.post(url, data).status_code == 403, url


# --- teams ------------------------------------------------------------------------


def test_teams_page_shows_the_tree_with_units_in_bold(world, lead):
    body = client_for(lead).get("/lead/org-one/teams/").content.decode()

    assert 'class="tree-node tree-unit" style="--depth: 0"' in body
    assert body.index("Retail") < body.index("Team A") < body.index("Team B")


def test_teams_page_shows_service_errors_next_to_the_field(world, lead, team_a):
    response = client_for(lead).post(
        "/lead/org-one/teams/", {"kind": "team", "name": "Team A"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "The organisation already has a team or unit named “Team A”."
    ]


def test_teams_page_refuses_a_parent_of_another_org(world, lead, other_org):
    far = Team.objects.create(
        organization=other_org, name="Far", kind=Team.Kind.BUSINESS_UNIT
    )

    response = client_for(lead).post(
        "/lead/org-one/teams/", {"kind": "team", "name": "X", "parent": far.pk}
    )

    assert response.status_code == 400
    assert "parent" in response.context["form"].errors
    assert not Team.objects.filter(name="X").exists()


def test_teams_page_preselects_the_unit_of_an_add_here_link(world, lead, business_unit):
    response = client_for(lead).get(f"/lead/org-one/teams/?parent={business_unit.pk}")

    assert f'<option value="{business_unit.pk}" selected>' in response.content.decode()


def test_team_edit_moves_a_team_to_the_top_level(world, lead, team_b):
    client_for(lead).post(
        f"/lead/org-one/teams/{team_b.pk}/edit/", {"name": "Team B", "parent": ""}
    )

    team_b.refresh_from_db()
    assert team_b.parent is None


def test_team_edit_refuses_a_team_of_another_org(world, lead, other_team):
    response = client_for(lead).get(f"/lead/org-one/teams/{other_team.pk}/edit/")

    assert response.status_code == 404


def test_team_delete_reports_why_it_is_refused(world, lead, team_a):
    response = client_for(lead).post(
        f"/lead/org-one/teams/{team_a.pk}/delete/", follow=True
    )

    assert "“Team A” has assessments in 1 cycle(s), so it cannot be deleted." in [
        str(m) for m in response.context["messages"]
    ]
    assert Team.objects.filter(pk=team_a.pk).exists()


def test_team_delete_asks_for_confirmation_first(world, lead, team_a):
    response = client_for(lead).get(f"/lead/org-one/teams/{team_a.pk}/delete/")

    assert "Delete “Team A”?" in response.content.decode()
    assert Team.objects.filter(pk=team_a.pk).exists()


# --- members ----------------------------------------------------------------------


def test_members_page_lists_roles_and_teams(world, lead):
    body = client_for(lead).get("/lead/org-one/members/").content.decode()

    assert "alice@example.com" in body
    assert "Whole organisation" in body


def test_members_page_reports_an_unknown_user_next_to_the_field(world, lead, team_a):
    response = client_for(lead).post(
        "/lead/org-one/members/",
        {"identifier": "nobody", "role": "respondent", "team": team_a.pk},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["identifier"] == [
        organizations.NOT_IN_ORG_MSG.format(org="Org One")
    ]
    assert 'class="field-error"' in response.content.decode()


def test_members_page_refuses_removing_the_last_lead(world, lead):
    membership = lead.memberships.get()

    response = client_for(lead).post(
        f"/lead/org-one/members/{membership.pk}/remove/", follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        organizations.LAST_LEAD_MSG
    ]
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_member_role_refuses_a_membership_of_another_org(world, lead, outsider_lead):
    theirs = outsider_lead.memberships.get()

    response = client_for(lead).post(
        f"/lead/org-one/members/{theirs.pk}/role/", {"role": "respondent"}
    )

    assert response.status_code == 404


# --- cycles -----------------------------------------------------------------------


def test_cycles_page_shows_an_empty_state(org, team_a, lead):
    body = client_for(lead).get("/lead/org-one/cycles/").content.decode()

    assert "No cycles yet — create the first one." in body


def test_cycles_page_offers_published_frameworks_only(world, lead):
    draft = make_framework(slug="draft-only")

    response = client_for(lead).get("/lead/org-one/cycles/")

    offered = list(response.context["form"].fields["framework"].queryset)
    assert world["framework"] in offered
    assert draft not in offered


def test_cycles_page_checks_every_team_by_default(world, lead, team_a, team_b):
    response = client_for(lead).get("/lead/org-one/cycles/")

    spare = world["spare"].pk
    assert response.context["chosen_teams"] == {team_a.pk, team_b.pk, spare}
    assert response.content.decode().count('name="team_ids"') == 3


def test_cycle_create_with_the_foundation_preset(world, lead, team_a):
    response = client_for(lead).post(
        "/lead/org-one/cycles/",
        {
            "name": "Weighted",
            "framework": world["framework"].pk,
            "team_ids": [team_a.pk],
            "lens_weights": "foundation",
        },
    )

    cycle = Cycle.objects.get(name="Weighted")
    assert response["Location"] == f"/lead/cycles/{cycle.pk}/"
    assert cycle.lens_weights == cycles.FOUNDATION_LENS_WEIGHTS
    assert list(cycle.teams.all()) == [team_a]


def test_cycle_create_with_custom_weights(world, lead, team_a):
    weights = {"knowledge": 40, "process": 30, "metrics": 10, "adoption": 10}
    client_for(lead).post(
        "/lead/org-one/cycles/",
        {
            "name": "Custom",
            "framework": world["framework"].pk,
            "team_ids": [team_a.pk],
            "lens_weights": "custom",
            **{f"weight_{k}": v for k, v in weights.items()},
            "weight_automation": "10",
        },
    )

    assert Cycle.objects.get(name="Custom").lens_weights == {
        **weights,
        "automation": 10,
    }


def test_cycle_create_reports_missing_custom_weights(world, lead, team_a):
    response = client_for(lead).post(
        "/lead/org-one/cycles/",
        {
            "name": "Custom",
            "framework": world["framework"].pk,
            "team_ids": [team_a.pk],
            "lens_weights": "custom",
            "weight_knowledge": "50",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["lens_weights"] == [
        "Give a weight for every lens; missing: process, metrics, adoption, automation."
    ]


def test_cycle_create_refuses_no_team_at_all(world, lead):
    response = client_for(lead).post(
        "/lead/org-one/cycles/",
        {
            "name": "Empty",
            "framework": world["framework"].pk,
            "lens_weights": "default",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["team_ids"] == [cycles.NO_TEAMS_MSG]


def test_cycle_create_refuses_a_team_of_another_org(world, lead, other_team):
    response = client_for(lead).post(
        "/lead/org-one/cycles/",
        {
            "name": "Sneaky",
            "framework": world["framework"].pk,
            "team_ids": [other_team.pk],
            "lens_weights": "default",
        },
    )

    assert response.status_code == 400
    assert not Cycle.objects.filter(name="Sneaky").exists()


def test_cycle_open_asks_for_confirmation_then_opens(org, team_a, lead, framework):
    cycle = cycles.cycle_create(organization=org, framework=framework, name="Q9")
    client = client_for(lead)
    url = f"/lead/cycles/{cycle.pk}/open/"

    assert "Open “Q9”?" in client.get(url).content.decode()
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.PLANNED

    response = client.post(url, follow=True)

    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.OPEN
    assert [str(m) for m in response.context["messages"]] == [
        "Opened “Q9”: every team in scope can now answer."
    ]


def test_cycle_close_refused_for_a_planned_cycle_shows_why(
    org, team_a, lead, framework
):
    cycle = cycles.cycle_create(organization=org, framework=framework, name="Q9")

    response = client_for(lead).post(f"/lead/cycles/{cycle.pk}/close/", follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Only an open cycle can be closed."
    ]


def test_cycle_edit_changes_the_scope_of_a_planned_cycle(org, team_a, team_b, lead):
    framework = make_framework(publish=True)
    cycle = cycles.cycle_create(organization=org, framework=framework, name="Q9")
    client = client_for(lead)

    form = client.get(f"/lead/cycles/{cycle.pk}/edit/").context["form"]
    assert form.initial["lens_weights"] == "default"
    assert "framework" not in form.fields

    response = client.post(
        f"/lead/cycles/{cycle.pk}/edit/",
        {"name": "Q9", "team_ids": [team_b.pk], "lens_weights": "foundation"},
    )

    assert response["Location"] == f"/lead/cycles/{cycle.pk}/"
    cycle.refresh_from_db()
    assert list(cycle.teams.all()) == [team_b]
    assert cycle.lens_weights == cycles.FOUNDATION_LENS_WEIGHTS


def test_cycle_edit_of_an_open_cycle_offers_name_and_dates_only(world, lead, team_a):
    url = f"/lead/cycles/{world['cycle'].pk}/edit/"
    client = client_for(lead)

    form = client.get(url).context["form"]
    assert sorted(form.fields) == ["closes_on", "name", "opens_on"]

    client.post(url, {"name": "Q1", "closes_on": "2026-06-30", "team_ids": [team_a.pk]})

    world["cycle"].refresh_from_db()
    assert str(world["cycle"].closes_on) == "2026-06-30"
    assert world["cycle"].teams.count() == 2


def test_cycle_edit_shows_a_bad_due_date_next_to_the_field(world, lead):
    response = client_for(lead).post(
        f"/lead/cycles/{world['cycle'].pk}/edit/",
        {"name": "Q1", "opens_on": "2026-06-30", "closes_on": "2026-06-01"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["closes_on"] == [
        cycles.CLOSES_BEFORE_OPENS_MSG
    ]


def test_cycle_edit_of_a_closed_cycle_says_why_not(world, lead):
    cycles.cycle_close(cycle=world["cycle"])

    response = client_for(lead).get(
        f"/lead/cycles/{world['cycle'].pk}/edit/", follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [cycles.CYCLE_CLOSED_MSG]


def test_cycle_transition_with_an_unknown_action_is_not_found(world, lead):
    url = f"/lead/cycles/{world['cycle'].pk}/explode/"

    assert client_for(lead).post(url).status_code == 404


# --- completion board -------------------------------------------------------------


def test_cycle_detail_shows_the_board_and_summary(world, lead):
    Assessment.objects.filter(pk=world["assessment"].pk).update(
        status=Assessment.Status.SUBMITTED
    )

    response = client_for(lead).get(f"/lead/cycles/{world['cycle'].pk}/")

    body = response.content.decode()
    assert "1 of 2 submitted" in body
    assert body.count('class="badge badge-submitted"') == 1
    assert body.count('class="badge badge-not_started"') == 1
    assert f"/lead/assessments/{world['assessment'].pk}/reopen/" in body


def test_cycle_detail_escapes_team_names(world, lead, team_b):
    Team.objects.filter(pk=team_b.pk).update(name="<script>x</script>")

    body = client_for(lead).get(f"/lead/cycles/{world['cycle'].pk}/").content.decode()

    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "text"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(hours=3, minutes=59), "3 h ago"),
        (timedelta(days=2, hours=1), "2 d ago"),
        (timedelta(seconds=-30), "just now"),
    ],
)
def test_time_ago_is_short(before, text):
    assert time_ago(NOW - before, NOW) == text


def test_cycle_detail_shows_last_activity_as_time_ago(world, lead):
    Assessment.objects.filter(pk=world["assessment"].pk).update(
        last_activity_at=NOW - timedelta(hours=3)
    )

    with time_machine.travel(NOW, tick=False):
        body = client_for(lead).get(f"/lead/cycles/{world['cycle'].pk}/").content
    assert "3 h ago" in body.decode()


def _add_teams(org, cycle, n: int) -> None:
    unit = Team.objects.create(
        organization=org, name=f"Unit {n}", kind=Team.Kind.BUSINESS_UNIT
    )
    teams = Team.objects.bulk_create(
        Team(organization=org, parent=unit, name=f"T{n}-{i}") for i in range(n)
    )
    Assessment.objects.bulk_create(Assessment(cycle=cycle, team=t) for t in teams)


def test_cycle_detail_queries_do_not_grow_with_teams(world, lead):
    client = client_for(lead)
    url = f"/lead/cycles/{world['cycle'].pk}/"
    _add_teams(world["org"], world["cycle"], 10)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    _add_teams(world["org"], world["cycle"], 40)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200

    assert len(large) == len(small)
    assert len(small) <= 12


def _grow(org, n: int) -> None:
    """n more teams under a new unit, each with a respondent, in one cycle."""
    from django.contrib.auth import get_user_model

    unit = Team.objects.create(
        organization=org, name=f"Grown {n}", kind=Team.Kind.BUSINESS_UNIT
    )
    teams = Team.objects.bulk_create(
        Team(organization=org, parent=unit, name=f"G{n}-{i}") for i in range(n)
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"g{n}-{i}", email=f"g{n}-{i}@example.com")
        for i in range(n)
    )
    Membership.objects.bulk_create(
        Membership(user=u, organization=org, team=t, role="respondent")
        for u, t in zip(users, teams, strict=True)
    )
    framework = make_framework(slug=f"grow-{n}", publish=True)
    cycle = cycles.cycle_create(
        organization=org,
        framework=framework,
        name=f"Grown {n}",
        team_ids=[t.pk for t in teams],
    )
    cycles.cycle_open(cycle=cycle)
    for i in range(n):
        organizations.team_create(organization=org, name=f"Audit {n}-{i}")


@pytest.mark.parametrize(
    "path", ["", "teams/", "members/", "cycles/", "audit/"], ids=lambda p: p or "org"
)
def test_org_pages_queries_do_not_grow_with_the_organisation(world, lead, path):
    client = client_for(lead)
    url = f"/lead/org-one/{path}"
    _grow(world["org"], 3)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    _grow(world["org"], 30)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200

    assert len(large) == len(small)


def test_lead_pages_issue_a_bounded_number_of_queries(
    world, lead, django_assert_max_num_queries
):
    client = client_for(lead)
    client.get("/lead/org-one/")
    for url in page_urls(world):
        with django_assert_max_num_queries(14):
            client.get(url)


def test_completion_csv_defuses_formulas(world, lead, team_b):
    Team.objects.filter(pk=team_b.pk).update(name="=cmd|' /C calc'!A0")

    response = client_for(lead).get(f"/lead/cycles/{world['cycle'].pk}/completion.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="completion-org-one-{world["cycle"].pk}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == selectors.COMPLETION_CSV_HEADER
    assert [r[1] for r in rows[1:]] == ["'=cmd|' /C calc'!A0", "Team A"]


# --- reopen -----------------------------------------------------------------------


def _submit(assessment) -> None:
    Assessment.objects.filter(pk=assessment.pk).update(
        status=Assessment.Status.SUBMITTED
    )


def test_reopen_requires_a_reason(world, lead):
    _submit(world["assessment"])

    response = client_for(lead).post(
        f"/lead/assessments/{world['assessment'].pk}/reopen/", {"reason": "  "}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert not AssessmentReopen.objects.exists()


def test_reopen_reopens_and_the_reason_shows_on_the_board(world, lead):
    _submit(world["assessment"])
    client = client_for(lead)

    response = client.post(
        f"/lead/assessments/{world['assessment'].pk}/reopen/",
        {"reason": "Missed the <b>metrics</b> questions"},
    )

    assert response["Location"] == f"/lead/cycles/{world['cycle'].pk}/"
    world["assessment"].refresh_from_db()
    assert world["assessment"].status == Assessment.Status.IN_PROGRESS
    body = client.get(response["Location"]).content.decode()
    assert "Missed the &lt;b&gt;metrics&lt;/b&gt; questions" in body


def test_reopen_of_an_unsubmitted_assessment_shows_why(world, lead):
    response = client_for(lead).post(
        f"/lead/assessments/{world['assessment'].pk}/reopen/", {"reason": "Why not"}
    )

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Only a submitted assessment can be reopened."
    ]


def test_reopen_is_not_found_for_the_teams_respondent(world, respondent_a):
    _submit(world["assessment"])

    response = client_for(respondent_a).post(
        f"/lead/assessments/{world['assessment'].pk}/reopen/", {"reason": "Me"}
    )

    assert response.status_code == 404
    assert not AssessmentReopen.objects.exists()


# --- audit log --------------------------------------------------------------------


def test_audit_log_is_newest_first_and_paginated(world, lead):
    for i in range(55):
        organizations.team_create(
            organization=world["org"], name=f"Bulk {i}", user=lead
        )
    client = client_for(lead)

    first = client.get("/lead/org-one/audit/")
    second = client.get("/lead/org-one/audit/?page=2")

    assert first.context["page"].object_list[0].summary == "Added team Bulk 54"
    assert len(first.context["page"].object_list) == 50
    assert second.context["page"].number == 2
    assert "Opened cycle Q1 for 2 teams" in second.content.decode()


def test_audit_log_shows_only_this_organisation(world, lead, other_org):
    organizations.team_create(organization=other_org, name="Secret unit")

    body = client_for(lead).get("/lead/org-one/audit/").content.decode()

    assert "Secret unit" not in body
    assert "Opened cycle Q1 for 2 teams" in body

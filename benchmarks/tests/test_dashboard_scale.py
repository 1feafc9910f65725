"""The lead dashboard of a large organisation: business units stand for their teams
above ``HEATMAP_TEAM_LIMIT``, a unit opens its own dashboard, teams come a page at
a time, and neither the queries nor the page grow with the teams."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment.models import Team
from benchmarks.reports import HEATMAP_TEAM_LIMIT, TEAMS_PER_PAGE, UNITS_PER_PAGE
from benchmarks.services import rollup_recompute
from benchmarks.tests.snapshots import build_snapshot, make_teams
from benchmarks.tests.test_views import chart_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

PAGE_LIMIT_BYTES = 500 * 1024


def dashboard_url(org):
    return reverse("benchmarks:org_dashboard", args=[org.slug])


def heatmap(response, chart_id="chart-heatmap"):
    trace = chart_payload(response, chart_id)["data"][0]
    return trace["y"], trace["meta"]["row_urls"]


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def large_org(org, framework):
    """60 teams over two units, and two teams directly in the organisation."""
    teams = make_teams(org, 60)
    teams += Team.objects.bulk_create(
        Team(organization=org, name=f"Lone {i}") for i in range(2)
    )
    return build_snapshot(organization=org, framework=framework, teams=teams)


def test_a_large_organisation_shows_one_row_per_business_unit(
    client, lead, org, large_org
):
    assert HEATMAP_TEAM_LIMIT < 62
    client.force_login(lead)
    response = client.get(dashboard_url(org), {"cycle": large_org.pk, "sort": "cap-1"})
    assert response.context["data"]["aggregated"]
    labels, urls = heatmap(response)
    retail = Team.objects.get(organization=org, name="Retail")
    wholesale = Team.objects.get(organization=org, name="Wholesale")
    # best mean first (sort by cap-1): Wholesale holds the odd, higher-scoring teams
    assert labels == ["Wholesale (30 teams)", "Retail (30 teams)"]
    assert [query_of(url) for url in urls] == [
        {"cycle": str(large_org.pk), "unit": str(unit.pk), "sort": "cap-1"}
        for unit in (wholesale, retail)
    ]
    assert all(url.startswith(dashboard_url(org) + "?") for url in urls)
    html = response.content.decode()
    # the table alternative links each unit's name to its dashboard
    assert f'<td><a href="{urls[0].replace("&", "&amp;")}">Wholesale</a></td>' in html
    # the teams with no unit below the organisation are listed on their own
    teams, team_urls = heatmap(response, "chart-teams")
    assert teams == ["No business unit · Lone 0", "No business unit · Lone 1"]
    assert all("/report/" in url for url in team_urls)
    assert "Teams directly in Org One" in html
    # no team of a unit is named on the page
    assert "Squad 00" not in html


def test_a_unit_opens_its_teams_with_a_way_back_up(client, lead, org, large_org):
    retail = Team.objects.get(organization=org, name="Retail")
    client.force_login(lead)
    response = client.get(dashboard_url(org), {"unit": retail.pk, "sort": "overall"})
    assert not response.context["data"]["aggregated"]
    labels, urls = heatmap(response)
    assert len(labels) == 30
    assert all(label.startswith("Retail · Squad ") for label in labels)
    assert all("/report/" in url for url in urls)
    html = response.content.decode()
    assert 'aria-label="Breadcrumb"' in html
    back = response.context["data"]["breadcrumb"][0]
    assert back["name"] == "Org One"
    assert query_of(back["url"]) == {"cycle": str(large_org.pk), "sort": "overall"}
    assert '<span aria-current="page">Retail</span>' in html
    assert "Lone 0" not in html


def test_sub_units_nest_in_the_breadcrumb(client, lead, org, framework):
    top = Team.objects.create(organization=org, name="Group", kind="business_unit")
    middle = Team.objects.create(
        organization=org, name="Division", kind="business_unit", parent=top
    )
    teams = make_teams(org, 60, unit_names=("East", "West"))
    Team.objects.filter(kind="business_unit", name__in=["East", "West"]).update(
        parent=middle
    )
    cycle = build_snapshot(organization=org, framework=framework, teams=teams)
    # the roll-up's statistics of every unit at every depth
    rollup_recompute(cycle_id=cycle.pk, force=True)
    client.force_login(lead)
    # the whole organisation: one row for the only unit at the top
    labels, _urls = heatmap(client.get(dashboard_url(org)))
    assert labels == ["Group (60 teams)"]
    response = client.get(dashboard_url(org), {"unit": middle.pk})
    labels, _urls = heatmap(response)
    assert labels == ["East (30 teams)", "West (30 teams)"]
    steps = [step["name"] for step in response.context["data"]["breadcrumb"]]
    assert steps == ["Org One", "Group", "Division"]


def test_teams_come_a_page_at_a_time(client, lead, org, framework):
    teams = make_teams(org, 120, unit_names=("Retail",))
    cycle = build_snapshot(organization=org, framework=framework, teams=teams)
    retail = teams[0].parent
    client.force_login(lead)
    first = client.get(dashboard_url(org), {"unit": retail.pk})
    labels, _urls = heatmap(first)
    assert labels == [f"Retail · Squad {i:04d}" for i in range(TEAMS_PER_PAGE)]
    html = first.content.decode()
    assert "Teams 1–50 of 120" in html
    assert 'aria-label="Pages of teams"' in html
    pager = first.context["data"]["pager"]
    assert pager["previous_url"] is None
    assert query_of(pager["next_url"]) == {
        "cycle": str(cycle.pk),
        "unit": str(retail.pk),
        "sort": "name",
        "page": "2",
    }
    last = client.get(dashboard_url(org), {"unit": retail.pk, "page": 3})
    labels, _urls = heatmap(last)
    assert labels == [f"Retail · Squad {i:04d}" for i in range(100, 120)]
    assert "Teams 101–120 of 120" in last.content.decode()
    assert last.context["data"]["pager"]["next_url"] is None


def test_units_and_the_teams_beside_them_page_apart(client, lead, org, framework):
    units = tuple(f"Unit {u:02d}" for u in range(60))
    teams = make_teams(org, 120, unit_names=units)
    teams += Team.objects.bulk_create(
        Team(organization=org, name=f"Lone {i:03d}") for i in range(55)
    )
    cycle = build_snapshot(organization=org, framework=framework, teams=teams)
    client.force_login(lead)
    response = client.get(dashboard_url(org), {"units_page": 2, "page": 2})
    labels, _urls = heatmap(response)
    assert labels == [f"Unit {u:02d} (2 teams)" for u in range(50, 60)]
    teams_shown, _urls = heatmap(response, "chart-teams")
    assert teams_shown == [f"No business unit · Lone {i:03d}" for i in range(50, 55)]
    data = response.context["data"]
    # each pager keeps the other list's page
    assert query_of(data["units_pager"]["previous_url"]) == {
        "cycle": str(cycle.pk),
        "sort": "name",
        "page": "2",
    }
    assert query_of(data["pager"]["previous_url"]) == {
        "cycle": str(cycle.pk),
        "sort": "name",
        "units_page": "2",
    }
    html = response.content.decode()
    assert 'aria-label="Pages of business units"' in html
    assert "Business units 51–60 of 60" in html
    assert "Teams 51–55 of 55" in html


@pytest.mark.parametrize(
    ("page", "shown"), [("99", 3), ("0", 1), ("-4", 1), ("two", 1), ("", 1)]
)
def test_a_page_out_of_range_shows_the_nearest(
    client, lead, org, framework, page, shown
):
    teams = make_teams(org, 120, unit_names=("Retail",))
    build_snapshot(organization=org, framework=framework, teams=teams)
    client.force_login(lead)
    response = client.get(
        dashboard_url(org), {"unit": teams[0].parent_id, "page": page}
    )
    assert response.status_code == 200
    assert response.context["data"]["pager"]["page"] == shown


def test_pages_follow_the_sort(client, lead, org, framework):
    teams = make_teams(org, 60, unit_names=("Retail",))
    build_snapshot(organization=org, framework=framework, teams=teams)
    client.force_login(lead)
    response = client.get(
        dashboard_url(org), {"unit": teams[0].parent_id, "sort": "cap-0", "page": 2}
    )
    labels, _urls = heatmap(response)
    # best first: Squad 0008 to 0059 score 100 (by name), then 0007 (90) down to 0000
    assert labels == [
        f"Retail · Squad {i:04d}" for i in (58, 59, 7, 6, 5, 4, 3, 2, 1, 0)
    ]


def test_a_unit_of_another_organisation_shows_nothing_of_it(
    client, lead, org, large_org, other_org, framework
):
    foreign = make_teams(other_org, 3, unit_names=("Secret unit",))
    build_snapshot(organization=other_org, framework=framework, teams=foreign)
    client.force_login(lead)
    response = client.get(dashboard_url(org), {"unit": foreign[0].parent_id})
    assert response.status_code == 200
    assert response.context["unit_id"] is None
    html = response.content.decode()
    assert "Secret unit" not in html
    assert "Squad 0000" not in html  # neither theirs nor ours: org level
    labels, _urls = heatmap(response)
    assert labels == ["Retail (30 teams)", "Wholesale (30 teams)"]


# --- at 10,000 teams ---------------------------------------------------------------


def _page(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, len(queries)


def test_ten_thousand_teams_cost_the_queries_of_ten_and_stay_small(
    client, staff, org, other_org, framework
):
    small_teams = make_teams(org, 10)
    build_snapshot(organization=org, framework=framework, teams=small_teams)
    # 400 units of 25 teams, as the load generator lays out 10,000 teams
    units = tuple(f"Business unit {u:03d}" for u in range(400))
    big_teams = make_teams(other_org, 10_000, unit_names=units)
    build_snapshot(organization=other_org, framework=framework, teams=big_teams)
    client.force_login(staff)

    small, small_queries = _page(client, dashboard_url(org), {})
    big, big_queries = _page(client, dashboard_url(other_org), {})
    assert not small.context["data"]["aggregated"]
    assert big.context["data"]["aggregated"]
    assert big_queries == small_queries
    assert len(big.content) < PAGE_LIMIT_BYTES
    labels, _urls = heatmap(big)
    # the units too come a page at a time
    assert labels == [
        f"Business unit {u:03d} (25 teams)" for u in range(UNITS_PER_PAGE)
    ]
    assert "Business units 1–50 of 400" in big.content.decode()
    _next, next_queries = _page(client, dashboard_url(other_org), {"units_page": 8})
    assert next_queries == small_queries
    labels, _urls = heatmap(_next)
    assert labels == [f"Business unit {u:03d} (25 teams)" for u in range(350, 400)]

    unit = big_teams[0].parent_id
    small_unit, small_unit_queries = _page(
        client, dashboard_url(org), {"unit": small_teams[0].parent_id}
    )
    drilled, drilled_queries = _page(client, dashboard_url(other_org), {"unit": unit})
    # one more than the organisation's: the unit is checked to be this one's
    assert drilled_queries == small_unit_queries == small_queries + 1
    assert len(drilled.content) < PAGE_LIMIT_BYTES
    labels, _urls = heatmap(drilled)
    assert len(labels) == 25

    # cached: the second visit reads no snapshot row, at any size
    _again, small_cached = _page(client, dashboard_url(org), {})
    _again, big_cached = _page(client, dashboard_url(other_org), {})
    assert big_cached == small_cached < small_queries

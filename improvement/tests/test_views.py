"""Improvement pages: the plan on the team report, action items from a next step
or a gap, initiatives, the executive summary, webhooks, exports; 404 outside."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from capabilities.models import Recommendation
from improvement import services
from improvement.models import ActionItem, Initiative, Webhook

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def test_the_team_report_shows_the_plan_and_why_scores_moved(
    client, two_cycles, team_a, respondent_a
):
    (_c1, _a1), (_c2, second) = two_cycles
    assessment = second[team_a.pk]
    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="Write the runbook",
        owner_id=respondent_a.pk,
        due_on=dt.date(2030, 1, 1),
    )
    page = _login(client, respondent_a).get(
        reverse("benchmarks:team_report", args=[assessment.pk])
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert "Improvement plan" in body
    assert "Write the runbook" in body
    assert (
        "+10: Process 1 -&gt; 3 on How is process 0 for capability 0?, weights unchanged"
        in body
    )
    assert "Plan this" in body


def test_an_action_from_a_next_step_is_prefilled_and_saved(
    client, two_cycles, team_a, respondent_a
):
    (_c1, _a1), (_c2, second) = two_cycles
    assessment = second[team_a.pk]
    rec = Recommendation.objects.filter(capability__key="cap-0").first()
    url = reverse("improvement:action_new", args=[assessment.pk])
    _login(client, respondent_a)
    form = client.get(url, {"recommendation": rec.pk})
    assert rec.title in form.content.decode()
    response = client.post(
        url,
        {
            "title": rec.title,
            "capability_key": "cap-0",
            "lens_key": "",
            "owner": respondent_a.pk,
            "due_on": "2020-02-01",
            "status": "planned",
            "source": "next_step",
            "recommendation_id": rec.pk,
        },
    )
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert (item.source, item.recommendation_id) == ("next_step", rec.pk)
    follow = client.get(response["Location"])
    assert "is in the past; the item was saved anyway" in follow.content.decode()


def test_an_owner_outside_the_team_is_an_error_beside_the_field(
    client, two_cycles, team_a, respondent_a, respondent_b
):
    (_c1, _a1), (_c2, second) = two_cycles
    url = reverse("improvement:action_new", args=[second[team_a.pk].pk])
    response = _login(client, respondent_a).post(
        url,
        {
            "title": "x",
            "capability_key": "cap-0",
            "owner": respondent_b.pk,
            "status": "planned",
        },
    )
    assert response.status_code == 200
    # bob is no possible owner: the choice itself is refused
    assert "field-error" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_other_teams_and_orgs_see_404(
    client, two_cycles, team_a, respondent_a, respondent_b, outsider_lead
):
    (_c1, _a1), (_c2, second) = two_cycles
    item = services.action_create(
        team=team_a, user=respondent_a, capability_key="cap-0", title="Mine"
    ).item
    for user in (respondent_b, outsider_lead):
        _login(client, user)
        assert (
            client.get(reverse("improvement:action", args=[item.pk])).status_code == 404
        )
        assert (
            client.get(
                reverse("improvement:action_new", args=[second[team_a.pk].pk])
            ).status_code
            == 404
        )
        assert (
            client.post(
                reverse("improvement:action_status", args=[item.pk]), {"status": "done"}
            ).status_code
            == 404
        )
    item.refresh_from_db()
    assert item.status == "planned"


def test_closing_an_item_from_the_report(
    client, two_cycles, team_a, lead, respondent_a
):
    (_c1, _a1), (_c2, second) = two_cycles
    item = services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="Close me",
        assessment_id=second[team_a.pk].pk,
    ).item
    response = _login(client, lead).post(
        reverse("improvement:action_status", args=[item.pk]), {"status": "done"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "done"
    page = client.get(reverse("improvement:action", args=[item.pk]))
    assert "planned → done" in page.content.decode()


def test_initiative_pages(client, two_cycles, org, business_unit, lead, other_team):
    from benchmarks.services import rollup_recompute

    (c1, _a1), (c2, _a2) = two_cycles
    for cycle in (c1, c2):
        rollup_recompute(cycle_id=cycle.pk, force=True)
    _login(client, lead)
    url = reverse("improvement:initiatives", args=[org.slug])
    data = {
        "name": "Retail at 50",
        "capability_key": "cap-0",
        "target_percent": "50",
        "due_on": "2027-06-30",
        "scope": [business_unit.pk],
    }
    response = client.post(url, data)
    assert response.status_code == 302
    initiative = Initiative.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "1 of 2</strong> teams at target" in page
    assert 'data-chart-source="chart-burndown"' in page
    # another organisation's team in the scope: 404, nothing written
    sneaky = client.post(url, {**data, "name": "Sneaky", "scope": [other_team.pk]})
    assert sneaky.status_code == 404
    assert Initiative.objects.count() == 1
    assert initiative.name == "Retail at 50"


def test_lead_pages_are_lead_only(client, org, respondent_a, outsider_lead, framework):
    pages = [
        reverse("improvement:initiatives", args=[org.slug]),
        reverse("improvement:summary", args=[org.slug]),
        reverse("improvement:webhooks", args=[org.slug]),
        reverse("improvement:export", args=[org.slug]) + "?format=jira",
    ]
    for user in (respondent_a, outsider_lead):
        _login(client, user)
        for url in pages:
            assert client.get(url).status_code == 404, url


def test_executive_summary(client, two_cycles, org, team_a, lead, respondent_a):
    from assessment.targets import target_set

    (_c1, _a1), (c2, _a2) = two_cycles
    target_set(
        organization=org, capability_key="cap-0", percent=80, team=None, user=lead
    )
    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="Automate tagging",
        owner_id=respondent_a.pk,
    )
    page = _login(client, lead).get(
        reverse("improvement:summary", args=[org.slug]), {"cycle": c2.pk}
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert "Maturity per capability" in body
    assert "Automate tagging (alice" in body
    assert "+5.0" in body  # mean of cap-0 moved from 45 to 50
    assert "Capability 0: answers 1 up, 0 down in Process" in body
    assert "Lens weights unchanged" in body


def test_executive_summary_queries_do_not_grow_with_teams(
    client,
    django_assert_max_num_queries,
    org,
    business_unit,
    lead,
    respondent_a,
    framework,
):
    from assessment.models import Team
    from improvement.tests.conftest import submitted_cycle

    teams = [
        Team.objects.create(organization=org, parent=business_unit, name=f"T{n}")
        for n in range(12)
    ]
    for year in (2025, 2026):
        submitted_cycle(
            org=org,
            framework=framework,
            teams=teams,
            name=str(year),
            opens_on=dt.date(year, 1, 1),
            user=respondent_a,
            score_of=lambda t, q, y=year: (t.pk + q.pk + y) % 5,
        )
    _login(client, lead)
    with django_assert_max_num_queries(25):
        assert (
            client.get(reverse("improvement:summary", args=[org.slug])).status_code
            == 200
        )


def test_webhook_secret_is_shown_once(client, org, lead):
    _login(client, lead)
    url = reverse("improvement:webhooks", args=[org.slug])
    response = client.post(
        url, {"url": "https://hooks.example.com/x", "topics": ["action_item.done"]}
    )
    assert response.status_code == 302
    webhook = Webhook.objects.get()
    assert webhook.secret in client.get(url).content.decode()
    assert webhook.secret not in client.get(url).content.decode()


def test_csv_exports_use_the_trackers_columns(
    client, org, team_a, lead, respondent_a, framework
):
    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="=HYPERLINK()",
        owner_id=respondent_a.pk,
        due_on=dt.date(2027, 3, 5),
    )
    _login(client, lead)
    url = reverse("improvement:export", args=[org.slug])
    jira = client.get(url, {"format": "jira"}).content.decode().splitlines()
    assert (
        jira[0]
        == "Summary,Issue Type,Description,Assignee,Due Date,Priority,Labels,Status"
    )
    assert jira[1].startswith("'=HYPERLINK(),Task,")
    assert "05/Mar/27" in jira[1]
    assert jira[1].endswith(",To Do")
    azure = client.get(url, {"format": "azure"}).content.decode().splitlines()
    assert (
        azure[0]
        == "ID,Work Item Type,Title,Description,Assigned To,State,Tags,Due Date"
    )
    assert azure[1].endswith(",New,FinOps; Capability 0; Team A,2027-03-05")


def test_the_report_section_costs_the_same_with_more_items(
    rf, two_cycles, team_a, respondent_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from improvement.integration import team_report_section

    (_c1, _a1), (_c2, second) = two_cycles
    assessment = second[team_a.pk]
    request = rf.get("/")
    request.user = respondent_a

    def cost():
        with CaptureQueriesContext(connection) as queries:
            team_report_section(request, assessment=assessment, is_lead=False)
        return len(queries)

    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="One",
        owner_id=respondent_a.pk,
    )
    cost()  # the cycles keep their scope for the rest of the request
    one = cost()
    for n in range(6):
        services.action_create(
            team=team_a,
            user=respondent_a,
            capability_key=f"cap-{n % 2}",
            title=f"More {n}",
            owner_id=respondent_a.pk,
        )
    assert cost() == one
    assert one <= 20


def _markup(html: str) -> str:
    """HTML as a browser lays it out: whitespace runs collapsed, none around block
    elements, the CSRF token (new on every render) left out."""
    import re

    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    html = re.sub(r"\s+", " ", html)
    block = r"</?(?:section|h2|h3|p|ul|li|details|summary|link)\b[^>]*>"
    return re.sub(rf"\s*({block})\s*", r"\1", html).strip()


@pytest.mark.parametrize("with_previous", [True, False])
def test_the_report_section_built_in_python_is_the_templates_markup(
    rf, two_cycles, team_a, respondent_a, with_previous
):
    """Every branch of ``_team_report_section.html``: items open and done, with
    and without owner, due date and expected effect, a planned next step, gaps
    with and without a plan, movements with several causes (and none at all)."""
    from django.middleware.csrf import get_token
    from django.template.loader import render_to_string

    from improvement.integration import section_html, section_rows

    (_c1, first), (_c2, second) = two_cycles
    assessment = (second if with_previous else first)[team_a.pk]
    rec = Recommendation.objects.filter(capability__key="cap-0").first()
    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="Write the <runbook> & more",
        owner_id=respondent_a.pk,
        due_on=dt.date(2030, 1, 1),
        expected_effect="+1 on process",
        source=ActionItem.Source.NEXT_STEP,
        recommendation_id=rec.pk,
    )
    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="Done already",
        status=ActionItem.Status.DONE,
    )
    request = rf.get("/")
    request.user = respondent_a
    get_token(request)
    rows, previous = section_rows(assessment)
    assert rows
    template = render_to_string(
        "improvement/_team_report_section.html",
        {"assessment": assessment, "rows": rows, "previous": previous},
        request=request,
    )
    built = section_html(request, assessment=assessment, rows=rows, previous=previous)
    assert _markup(built) == _markup(template)
    assert "Write the &lt;runbook&gt; &amp; more" in built
    # The branches the fixture does not reach, in rows made by hand.
    items = next(row["items"] for row in rows if row["items"])
    causes = [
        {"delta": 10.0, "text": "Process 1 -> 3", "by": "Ann <A>"},
        {"delta": -2.5, "text": "weights changed", "by": ""},
    ]
    made = [
        {
            "key": "cap-0",
            "name": "Capability <0>",
            "percent": 42.5,
            "target": 60.0,
            "gap": 17.5,
            "items": [],
            "movement": {"summary": "Up 10 & more", "causes": causes},
            "next_steps": [
                {"pk": 7, "title": "Step <one>", "planned": True},
                {"pk": 8, "title": "Step two", "planned": False},
            ],
        },
        {
            "key": "cap 1/x",
            "name": "Capability 1",
            "percent": 70.25,
            "target": 60.0,
            "gap": -10.2,
            "items": items,
            "movement": {"summary": "Same", "causes": causes[:1]},
            "next_steps": [],
        },
        {
            "key": "cap-2",
            "name": "Capability 2",
            "percent": None,
            "target": None,
            "gap": None,
            "items": [],
            "movement": None,
            "next_steps": [],
        },
    ]
    context = {"assessment": assessment, "rows": made, "previous": previous}
    template = render_to_string(
        "improvement/_team_report_section.html", context, request=request
    )
    built = section_html(request, assessment=assessment, rows=made, previous=previous)
    assert _markup(built) == _markup(template)
    for part in ("All causes", "No action planned", "in the plan", "at target"):
        assert part in built
    empty = section_html(request, assessment=assessment, rows=[], previous=None)
    assert _markup(empty) == _markup(
        render_to_string(
            "improvement/_team_report_section.html",
            {"assessment": assessment, "rows": [], "previous": None},
            request=request,
        )
    )


def test_the_cached_report_section_follows_targets_and_new_items(
    client, two_cycles, org, team_a, respondent_a, django_capture_on_commit_callbacks
):
    from assessment.targets import target_set

    (_c1, _a1), (_c2, second) = two_cycles
    url = reverse("benchmarks:team_report", args=[second[team_a.pk].pk])
    _login(client, respondent_a)
    first = client.get(url).content.decode()
    assert "Write the runbook" not in first
    assert "target 100%" not in first
    # a new target: the gaps beside the plan are read again
    with django_capture_on_commit_callbacks(execute=True):
        target_set(organization=org, capability_key="cap-0", percent=100)
    assert "target 100%" in client.get(url).content.decode()
    # a new item, and a next step planned: shown at once (items are read per visit)
    step = re.search(r'data-next-step="(\d+)"', first)
    assert step is not None
    rec = Recommendation.objects.select_related("capability").get(pk=step[1])
    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key=rec.capability.key,
        title="Write the runbook",
        recommendation_id=rec.pk,
    )
    body = client.get(url).content.decode()
    assert "Write the runbook" in body
    assert f'data-next-step="{rec.pk}"' not in body  # now "in the plan"

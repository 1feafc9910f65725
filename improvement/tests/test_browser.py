"""In Chromium: an action item created from a next step on the team report,
seen there, then closed; the initiative's burn-down draws; every improvement page
axe-clean at desktop and phone width."""

import pytest

from conftest import axe_violations, browser_login
from improvement import services, webhooks
from improvement.models import ActionItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _axe_both_widths(page, exclude=()):
    assert axe_violations(page, exclude=exclude) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page, exclude=exclude) == []
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_action_from_a_next_step_is_seen_on_the_report_and_closed(
    page, two_cycles, team_a, respondent_a
):
    (_c1, _a1), (_c2, second) = two_cycles
    assessment = second[team_a.pk]
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/report/")
    plan = page.locator("#improvement-plan")
    assert "+10: Process 1 -> 3" in plan.inner_text()
    # the plan this app adds (the report's own grid and charts are the report's)
    _axe_both_widths(
        page, exclude=(".chart", "section[aria-labelledby='grid-heading']")
    )
    plan.locator("a[data-next-step]").first.click()
    title = page.input_value("#id_title")
    assert title.startswith("Improve cap-")
    page.select_option("#id_owner", label="alice")
    page.fill("#id_due_on", "2030-06-30")
    page.fill("#id_expected_effect", "Process 1 -> 3")
    _axe_both_widths(page)
    page.click("button:has-text('Add to the plan')")
    assert "Action item added to the plan." in page.locator(".messages").inner_text()
    item = page.locator("#improvement-plan .action-item", has_text=title)
    assert "Planned" in item.inner_text()
    assert "due 30 Jun 2030" in item.inner_text()
    item.locator("button:has-text('Mark done')").click()
    item = page.locator("#improvement-plan .action-item", has_text=title)
    assert "Done" in item.inner_text()
    saved = ActionItem.objects.get()
    assert (saved.status, saved.source, saved.owner) == (
        "done",
        "next_step",
        respondent_a,
    )
    page.locator("#improvement-plan .action-item a", has_text=title).click()
    assert "planned → done" in page.locator("#history-heading + ol").inner_text()
    _axe_both_widths(page)


def test_the_burn_down_draws_and_the_lead_pages_are_axe_clean(
    page, two_cycles, org, business_unit, team_a, lead, respondent_a
):
    from benchmarks.services import rollup_recompute

    (c1, _a1), (c2, _a2) = two_cycles
    for cycle in (c1, c2):
        rollup_recompute(cycle_id=cycle.pk, force=True)
    initiative = services.initiative_create(
        organization=org,
        user=lead,
        name="Retail at 50",
        capability_key="cap-0",
        target_percent=50,
        due_on="2027-06-30",
        scope_ids=[business_unit.pk],
    )
    services.action_create(
        team=team_a,
        user=respondent_a,
        capability_key="cap-0",
        title="Tag accounts",
        owner_id=respondent_a.pk,
    )
    hook = webhooks.webhook_create(
        organization=org, user=lead, url="https://hooks.example.com/a", topics=[]
    )
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/improvement/{org.slug}/initiatives/{initiative.pk}/")
    page.wait_for_selector("#chart-burndown-chart .main-svg")
    bars = page.locator("#chart-burndown-chart .bars .point")
    assert bars.count() == 2  # one bar per cycle
    assert "1 of 2" in page.locator(".initiative-progress").inner_text()
    # the chart is benchmarks' include (role=img over plotly's controls, with a
    # table beside it), checked as the report's charts are
    _axe_both_widths(page, exclude=(".chart",))
    for path in (
        f"/improvement/{org.slug}/initiatives/",
        f"/improvement/{org.slug}/summary/?cycle={c2.pk}",
        f"/improvement/{org.slug}/webhooks/",
        f"/improvement/{org.slug}/webhooks/{hook.pk}/",
        f"/lead/{org.slug}/",
    ):
        page.goto(page.base_url + path)
        _axe_both_widths(page)
    assert not page.console_errors


def test_the_demo_executive_summary_prints_on_two_pages_at_most(
    page, shipped_framework
):
    import re

    from assessment.demo import demo_seed
    from assessment.models import Cycle
    from benchmarks.services import rollup_recompute
    from improvement.demo import demo_improvement_seed

    org = demo_seed(password="pw").organization
    for cycle in Cycle.objects.filter(organization=org):
        rollup_recompute(cycle_id=cycle.pk, force=True)
    demo_improvement_seed()
    browser_login(page, "lead", "pw")
    page.goto(f"{page.base_url}/improvement/{org.slug}/summary/")
    body = page.locator(".exec-summary").inner_text()
    assert "Commerce invoicing at 60 % by mid-2027" in body
    assert "Main causes of movement" in body
    _axe_both_widths(page)
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2

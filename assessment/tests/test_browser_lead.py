"""A lead plans and opens a cycle in Chromium, then watches the completion board."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def board_row(page, team: str):
    return page.locator(f'table.completion-board tr[data-team="{team}"]')


def test_a_lead_creates_and_opens_a_cycle_and_follows_completion(
    page, lead, team_a, team_b, respondent_a, framework
):
    from assessment.models import Assessment, Cycle
    from capabilities.models import Question

    browser_login(page, "lena")
    page.goto(page.base_url + "/lead/")
    assert page.url.endswith("/lead/org-one/")
    page.locator(".lead-subnav").get_by_role("link", name="Cycles").click()
    page.wait_for_url("**/lead/org-one/cycles/")
    expect(page.get_by_text("No cycles yet — create the first one.")).to_be_visible()

    page.fill("#id_name", "2026 Q1")
    page.select_option("#id_framework", str(framework.pk))
    page.fill("#id_closes_on", "2026-12-31")
    assert page.is_checked(f'input[name="team_ids"][value="{team_a.pk}"]')
    assert page.is_checked(f'input[name="team_ids"][value="{team_b.pk}"]')
    page.check('input[name="lens_weights"][value="foundation"]')
    page.get_by_role("button", name="Create cycle").click()
    page.wait_for_url(re.compile(r"/lead/cycles/\d+/$"))

    cycle = Cycle.objects.get(name="2026 Q1")
    assert page.url.endswith(f"/lead/cycles/{cycle.pk}/")
    assert cycle.lens_weights["knowledge"] == 30
    assert "The cycle is planned." in page.content()

    page.get_by_role("link", name="Open cycle").click()
    page.wait_for_url(f"**/lead/cycles/{cycle.pk}/open/")
    page.get_by_role("button", name="Open cycle").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lead/cycles/{cycle.pk}/")

    expect(page.get_by_text("Opened “2026 Q1”")).to_be_visible()
    for team in ("Team A", "Team B"):
        row = board_row(page, team)
        assert row.locator(".badge").inner_text() == "Not started"
        assert "0% · 0 / 10" in row.inner_text()
    assert "0 of 2 submitted" in page.locator(".completion-summary").inner_text()

    # Team A answers one question; team B submits.
    a = Assessment.objects.get(cycle=cycle, team=team_a)
    question = Question.objects.filter(capability__framework=framework).first()
    from assessment.services import answer_record

    answer_record(
        assessment=a,
        question=question,
        user=respondent_a,
        option=question.options.get(score=3),
        expected_version=0,
    )
    Assessment.objects.filter(cycle=cycle, team=team_b).update(
        status=Assessment.Status.SUBMITTED, submitted_at=timezone.now()
    )

    page.reload()
    row_a, row_b = board_row(page, "Team A"), board_row(page, "Team B")
    assert row_a.locator(".badge").inner_text() == "In progress"
    assert "10% · 1 / 10" in row_a.inner_text()
    assert "just now" in row_a.inner_text()
    assert row_b.locator(".badge").inner_text() == "Submitted"
    assert row_b.get_by_role("link", name="Reopen Team B").is_visible()
    assert "1 of 2 submitted" in page.locator(".completion-summary").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "completion-board.png"), full_page=True)

    # At phone width the page itself does not scroll sideways; the table does.
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "completion-board-phone.png"), full_page=True)
    assert page.console_errors == []

"""The schedule form, "remind now" on the completion board and the in-app list in
Chromium, each axe-clean (no serious or critical violation) at desktop and phone
width."""

import pytest

from conftest import axe_violations, browser_login
from notifications.models import CycleSchedule, Delivery, Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_schedule_form_refuses_then_saves(page, cycle, lead):
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/notifications/cycles/{cycle.pk}/schedule/")
    assert axe_violations(page) == []
    page.fill("#id_days_before", "7, soon")
    page.click("button:has-text('Save schedule')")
    assert (
        page.locator(".field-error")
        .first.inner_text()
        .startswith("Enter whole numbers of days")
    )
    assert page.input_value("#id_days_before") == "7, soon"  # nothing lost
    page.fill("#id_days_before", "10, 2")
    page.check("#id_auto_close")
    page.fill("#id_grace_days", "5")
    page.click("button:has-text('Save schedule')")
    assert "Saved the schedule" in page.locator(".messages").inner_text()
    assert "cycle closes by itself" in page.locator(".timeline").inner_text()
    row = CycleSchedule.objects.get(cycle=cycle)
    assert (row.days_before, row.grace_days) == ([10, 2], 5)
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []


def test_remind_now_on_the_completion_board(page, cycle, lead, respondent_a):
    respondent_a.email = ""
    respondent_a.save()
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/lead/cycles/{cycle.pk}/")
    assert "No email: alice" in page.locator("tr[data-team='Team A']").inner_text()
    assert axe_violations(page) == []
    page.locator("tr[data-team='Team B'] button:has-text('Remind now')").click()
    assert "Reminder queued for 1 person." in page.locator(".messages").inner_text()
    assert Delivery.objects.filter(
        kind="reminder", to_address="bob@example.com"
    ).exists()
    page.click("button:has-text('Remind all 2 late teams')")
    messages = page.locator(".messages").inner_text()
    assert "1 person had been reminded today already." in messages
    assert "No email address, so not reminded: alice" in messages
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []


def test_the_in_app_list_shows_the_reopen_notice_and_marks_it_read(page, respondent_a):
    Notification.objects.create(
        user=respondent_a,
        key="reopen:1",
        category="reopen",
        title="Team A: 2026 Q4 reopened by Lena Lead",
        body="Reason: Add evidence for the chargeback answers.",
        url="/notifications/preferences/",
    )
    browser_login(page, "alice")
    page.goto(page.base_url + "/")
    page.click("a:has-text('Notifications (1)')")
    notice = page.locator(".notice").first
    assert "Reason: Add evidence for the chargeback answers." in notice.inner_text()
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    notice.locator("button:has-text('Mark read')").click()
    assert page.locator("[data-testid=unread-count]").count() == 0
    assert Notification.objects.get(key="reopen:1").read_at is not None

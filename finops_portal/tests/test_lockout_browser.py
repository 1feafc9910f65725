"""In Chromium: the lockout page says what happened and passes the accessibility
check."""

import pytest

from conftest import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_lockout_page_is_clear_and_accessible(page, settings, respondent_a):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        page.goto(page.base_url + "/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", "wrong")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    assert page.is_visible("h1:has-text('Too many failed sign-ins')")
    assert "Wait 15 minutes and try again." in page.content()
    assert axe_violations(page) == []

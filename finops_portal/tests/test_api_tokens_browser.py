"""The token page in Chromium at phone width: create with the keyboard, see the key
once, revoke; no console errors."""

import pytest

from conftest import browser_login
from finops_portal.models import PersonalToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_token_is_created_and_revoked_at_phone_width(page, respondent_a):
    page.set_viewport_size({"width": 375, "height": 800})
    browser_login(page, "alice")
    page.goto(page.base_url + "/account/tokens/")
    assert page.get_by_text("You have no API tokens yet.").is_visible()
    page.get_by_label("Name").fill("nightly export")
    page.get_by_label("Name").press("Enter")
    page.wait_for_selector("#new-token-key")
    key = page.input_value("#new-token-key")
    assert PersonalToken.objects.get().prefix == key[:8]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("button", name="Revoke token nightly export").click()
    page.wait_for_selector("text=revoked")
    assert not PersonalToken.objects.exists()
    assert page.console_errors == []

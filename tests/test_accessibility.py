"""axe-core finds no serious or critical accessibility violation on the portal's
pages (Debian's Chromium, axe-core from npm; see ``conftest.axe_violations``)."""

import pytest

from conftest import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sign_in_page_has_no_serious_violation(page):
    page.goto(page.base_url + "/accounts/login/")
    assert axe_violations(page) == []


def test_the_check_finds_a_serious_violation(page):
    """The check itself can fail: an image link without a name is serious."""
    page.goto(page.base_url + "/accounts/login/")
    page.evaluate(
        """document.querySelector("main").insertAdjacentHTML(
            "beforeend", '<a href="/x"><img src="/static/img/favicon.svg"></a>')"""
    )
    assert {v["id"] for v in axe_violations(page)} & {"link-name", "image-alt"}

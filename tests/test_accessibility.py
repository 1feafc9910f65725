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


# Notifications' pages (the schedule form, the board with "remind now" and the
# in-app list are driven in notifications/tests/test_browser.py, axe-checked too).
NOTIFICATION_PAGES = [
    "/notifications/",
    "/notifications/preferences/",
    "/notifications/cycles/{cycle}/schedule/",
    "/notifications/cycles/{cycle}/preview/reminder/",
    "/notifications/org/{org}/deliveries/",
    "/notifications/org/{org}/",
    "/lead/cycles/{cycle}/",
    "/lead/{org}/",
]


@pytest.mark.parametrize("path", NOTIFICATION_PAGES)
def test_the_notification_pages_have_no_serious_violation(page, lead, framework, path):
    from assessment.models import Cycle
    from conftest import browser_login

    cycle = Cycle.objects.create(
        organization=lead.memberships.get().organization,
        framework=framework,
        name="Q1",
        status="open",
    )
    browser_login(page, "lena")
    page.goto(page.base_url + path.format(cycle=cycle.pk, org=cycle.organization.slug))
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []


# Improvement's lead pages in their empty states (with data, and the team report's
# plan, in improvement/tests/test_browser.py).
IMPROVEMENT_PAGES = [
    "/improvement/{org}/initiatives/",
    "/improvement/{org}/summary/",
    "/improvement/{org}/webhooks/",
]


@pytest.mark.parametrize("path", IMPROVEMENT_PAGES)
def test_the_improvement_pages_have_no_serious_violation(page, lead, framework, path):
    from conftest import browser_login

    browser_login(page, "lena")
    page.goto(page.base_url + path.format(org=lead.memberships.get().organization.slug))
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == []

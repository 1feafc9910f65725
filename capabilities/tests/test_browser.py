"""Staff edit and publish a draft in the admin; a respondent reads it on a phone."""

import pytest
from playwright.sync_api import expect

from conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_edit_a_draft_in_the_admin_and_publish_it(page, staff):
    from capabilities.models import Capability, Framework
    from capabilities.tests.factories import make_framework

    draft = make_framework(slug="draft", capabilities=2)
    capability = Capability.objects.get(framework=draft, key="cap-0")

    browser_login(page, "stella")
    page.goto(f"{page.base_url}/admin/capabilities/capability/{capability.pk}/change/")
    page.fill("#id_name", "Education, revised")
    page.fill("#id_questions-0-prompt", "How well do people know the basics?")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(f"{page.base_url}/admin/capabilities/framework/")
    page.check(f"input[name=_selected_action][value='{draft.pk}']")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    expect(page.locator(".publish-consequences")).to_contain_text(
        "becomes the current version"
    )
    page.click("input[value='Yes, publish']")
    expect(page.locator(".messagelist")).to_contain_text("Published Test draft v1.")

    draft.refresh_from_db()
    assert draft.status == Framework.Status.PUBLISHED
    page.goto(f"{page.base_url}/admin/capabilities/capability/{capability.pk}/change/")
    expect(page.locator(".messagelist")).to_contain_text(
        "Framework Test draft v1 is published and cannot be changed."
    )
    expect(page.locator("input[name=_save]")).to_have_count(0)


def test_a_respondent_reads_the_framework_on_a_phone(page, respondent_a):
    from capabilities.services import framework_load_shipped

    framework_load_shipped(versions=[1])
    page.set_viewport_size({"width": 375, "height": 800})
    browser_login(page, "alice")
    page.goto(page.base_url + "/framework/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Manage the FinOps practice"
    )
    page.get_by_role("link", name="FinOps education and enablement").first.click()
    expect(page.locator("#cap-education")).to_be_in_viewport()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "framework-phone.png")
    assert page.console_errors == []

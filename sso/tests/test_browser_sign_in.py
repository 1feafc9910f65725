"""In Chromium: sign in through the local OpenID Connect provider, land on the
team's questionnaire with the mapped role, sign out of the portal and of the
provider."""

import pytest

from assessment.models import Assessment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_assessment(sso_org, framework, team_a, team_b):
    from assessment.tests.factories import make_cycle

    cycle = make_cycle(
        organization=sso_org, framework=framework, teams=[team_a, team_b]
    )
    return Assessment.objects.get(cycle=cycle, team=team_a)


def _sign_in_at_the_provider(page, username: str) -> None:
    page.fill("#idp-username", username)
    page.fill("#idp-password", "idp-password")
    page.click("text=Sign in to the identity provider")
    page.wait_for_load_state()


def test_signing_in_with_the_provider_lands_on_the_teams_questionnaire_and_signs_out(
    page, idp, open_assessment
):
    page.goto(page.base_url + "/accounts/login/")
    page.click("text=Sign in with Org One (local)")
    page.wait_for_url(f"{idp.issuer.rsplit('/o', 1)[0]}/login/**")
    _sign_in_at_the_provider(page, "rosa")

    page.wait_for_url(f"**/assessments/{open_assessment.pk}/**")
    assert "Team A" in page.content()
    assert page.locator(".nav-user").inner_text().startswith("rosa@org-one.example")

    page.click("text=Sign out")
    page.wait_for_url("**/accounts/login/")
    assert page.console_errors == []

    # The provider's session ended too: signing in asks for the password again.
    page.click("text=Sign in with Org One (local)")
    page.wait_for_url(f"{idp.issuer.rsplit('/o', 1)[0]}/login/**")
    assert page.is_visible("#idp-password")


def test_a_refused_sign_in_shows_why_in_the_browser(page, idp, sso_org):
    page.goto(page.base_url + "/accounts/login/")
    page.click("text=Sign in with Org One (local)")
    _sign_in_at_the_provider(page, "max")
    assert page.is_visible("h1:has-text('Sign-in refused')")
    assert "none of your groups (all-staff, marketing)" in page.content()
    page.click("text=Back to sign in")
    page.wait_for_url("**/accounts/login/")


def test_the_sign_in_and_refusal_pages_pass_the_accessibility_check(page, idp, sso_org):
    from conftest import axe_violations

    page.goto(page.base_url + "/accounts/login/")
    assert page.is_visible("text=Sign in with Org One (local)")
    assert axe_violations(page) == []
    page.click("text=Sign in with Org One (local)")
    _sign_in_at_the_provider(page, "gina")
    assert page.is_visible("h1:has-text('Sign-in refused')")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

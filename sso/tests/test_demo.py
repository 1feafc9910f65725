"""The single sign-on demo (make oidc-demo): the demo organisation, its
connection from seed_demo_sso and the local provider with devidp/demo.json; in
Chromium, Rosa signs in at the provider and lands on Payments API's questionnaire."""

import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from assessment.models import Assessment
from conftest import ROOT

from .idp import LocalIdP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_CONFIG = json.loads((ROOT / "devidp" / "demo.json").read_text())


@pytest.fixture
def demo_idp(live_server, tmp_path, settings, shipped_framework_v2):
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo_sso", stdout=out)
    assert "3 group mappings" in out.getvalue()
    call_command("seed_demo_sso", stdout=StringIO())  # safe to run again
    idp = LocalIdP(
        tmp_path, live_server.url, DEMO_CONFIG["users"], DEMO_CONFIG["clients"]
    ).start()
    client = DEMO_CONFIG["clients"][0]
    settings.SSO_PROVIDERS = {
        "local": {
            "key": "local",
            "name": "Northwind (local identity provider)",
            "issuer": idp.issuer,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "scopes": "openid email profile groups",
            "algorithms": ["RS256"],
        }
    }
    cache.clear()
    yield idp
    idp.stop()
    cache.clear()


def test_rosa_signs_in_to_the_demo_and_lands_on_her_teams_questionnaire(page, demo_idp):
    open_one = Assessment.objects.get(
        team__name="Payments API",
        cycle__status="open",
        team__organization__slug="northwind",
    )
    page.goto(page.base_url + "/accounts/login/")
    page.click("text=Sign in with Northwind (local identity provider)")
    page.fill("#idp-username", "rosa")
    page.fill("#idp-password", "finops-demo")
    page.click("text=Sign in to the identity provider")
    page.wait_for_url(f"**/assessments/{open_one.pk}/**")
    assert "Payments API" in page.content()
    assert (
        page.locator(".nav-user").inner_text().startswith("rosa.sso@northwind.example")
    )
    assert page.console_errors == []

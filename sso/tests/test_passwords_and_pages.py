"""An organisation can switch password sign-in off; the pages of a single sign-on
session let their sign-out form reach the provider."""

import pytest
from rest_framework.test import APIClient

from finops_portal.middleware import CONTENT_SECURITY_POLICY
from sso.models import SsoConnection
from sso.views import SESSION_LOGOUT_ORIGIN

from .test_services import PROVIDER

pytestmark = pytest.mark.django_db

SSO_ONLY = (
    "Org One signs in with single sign-on: use “Sign in with Contoso Entra ID” below."
)


@pytest.fixture
def sso_only(settings, org):
    settings.SSO_PROVIDERS = {
        "entra": {**PROVIDER.__dict__, "algorithms": list(PROVIDER.algorithms)}
    }
    return SsoConnection.objects.create(
        organization=org,
        provider="entra",
        email_domains="org-one.example",
        password_sign_in=False,
    )


def _sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_member_of_an_sso_only_organisation_cannot_use_a_password(
    client, sso_only, respondent_a
):
    response = _sign_in(client, "alice", "pw-alice")
    assert response.status_code == 200
    assert SSO_ONLY in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The page offers the provider.
    assert 'href="/accounts/sso/entra/"' in response.content.decode()


def test_a_wrong_password_says_nothing_about_single_sign_on(
    client, sso_only, respondent_a
):
    page = _sign_in(client, "alice", "wrong").content.decode()
    assert "single sign-on" not in page
    assert "Please enter a correct username and password." in page


def test_the_token_api_gives_the_same_reason(sso_only, respondent_a):
    response = APIClient().post(
        "/api/v1/tokens/",
        {"username": "alice", "password": "pw-alice", "name": "script"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": SSO_ONLY}


def test_administrators_and_other_organisations_keep_their_passwords(
    client, sso_only, staff, outsider_lead, org
):
    from assessment.models import Membership

    Membership.objects.create(user=staff, organization=org, role="lead")
    assert _sign_in(client, "stella", "pw-stella").status_code == 302
    client.logout()
    assert _sign_in(client, "oscar", "pw-oscar").status_code == 302


def test_passwords_work_again_when_the_organisation_allows_them(
    client, sso_only, respondent_a
):
    sso_only.password_sign_in = True
    sso_only.save()
    assert _sign_in(client, "alice", "pw-alice").status_code == 302


def test_a_single_sign_on_session_may_post_its_sign_out_to_the_provider(
    client, respondent_a
):
    client.force_login(respondent_a)
    assert client.get("/").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    session = client.session
    session[SESSION_LOGOUT_ORIGIN] = "https://login.example"
    session.save()
    policy = client.get("/assessments/").headers["Content-Security-Policy"]
    assert "form-action 'self' https://login.example;" in policy
    assert policy.replace(" https://login.example", "") == CONTENT_SECURITY_POLICY


def test_sign_out_without_single_sign_on_returns_to_the_sign_in_page(
    client, respondent_a
):
    client.force_login(respondent_a)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/logout/").status_code == 405


def test_administrators_edit_connections_and_mappings_in_the_admin(
    client, sso_only, staff, lead, team_a
):
    client.force_login(lead)
    assert client.get("/admin/sso/ssoconnection/").status_code == 302
    client.force_login(staff)
    assert client.get("/admin/sso/ssoconnection/").status_code == 200
    page = client.get(f"/admin/sso/ssoconnection/{sso_only.pk}/change/")
    assert page.status_code == 200
    assert "Role mappings" in page.content.decode()
    response = client.post(
        f"/admin/sso/ssoconnection/{sso_only.pk}/change/",
        {
            "organization": sso_only.organization_id,
            "provider": "entra",
            "email_domains": "org-one.example",
            "groups_claim": "roles",
            "enabled": "on",
            "role_mappings-TOTAL_FORMS": "1",
            "role_mappings-INITIAL_FORMS": "0",
            "role_mappings-MIN_NUM_FORMS": "0",
            "role_mappings-MAX_NUM_FORMS": "1000",
            "role_mappings-0-group": "FinOps.Respondent.TeamA",
            "role_mappings-0-role": "respondent",
            "role_mappings-0-team": team_a.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    sso_only.refresh_from_db()
    assert sso_only.groups_claim == "roles"
    assert sso_only.password_sign_in is False  # left unticked
    assert sso_only.role_mappings.get().team == team_a

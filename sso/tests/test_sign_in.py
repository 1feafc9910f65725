"""Single sign-on against a real OpenID Connect provider (django-oauth-toolkit in
a process of its own), driven over HTTP as a browser would: who gets in, with
which roles, and every refusal with its page."""

import httpx
import pytest
from django.contrib.auth import get_user_model

from assessment.models import Membership

from .idp import sign_in_over_http

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def http():
    with httpx.Client(timeout=20) as client:
        yield client


def _portal_user(http, portal):
    """Who the portal thinks the client is (from the home page's navigation)."""
    return http.get(f"{portal}/", follow_redirects=True)


def test_a_new_user_is_created_and_mapped_to_a_respondent_of_their_team(
    http, live_server, sso_org, team_a
):
    response = sign_in_over_http(http, live_server.url, "local", "rosa")
    assert response.status_code == 200, response.text[:2000]
    user = get_user_model().objects.get(email="rosa@org-one.example")
    assert user.username == "rosa@org-one.example"
    assert (user.first_name, user.last_name) == ("Rosa", "Ruiz")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organization, membership.team, membership.role) == (
        sso_org,
        team_a,
        "respondent",
    )
    assert "rosa@org-one.example" in response.text  # signed in, in the navigation


def test_a_group_name_maps_case_insensitively_to_a_lead(http, live_server, sso_org):
    response = sign_in_over_http(http, live_server.url, "local", "lara")
    assert response.status_code == 200
    assert response.url.path == f"/lead/{sso_org.slug}/"
    user = get_user_model().objects.get(email="lara@org-one.example")
    assert Membership.objects.get(user=user).role == "lead"


@pytest.mark.parametrize(
    ("provider_key", "message"),
    [
        (
            "wrongiss",
            "The sign-in answer did not come from Org One (wrongiss): its issuer is "
            "not the one configured.",
        ),
        ("expired", "The sign-in answer from Org One (expired) has expired."),
        (
            "forged",
            "The sign-in answer claiming to come from Org One (forged) is not signed "
            "by it, so it was refused.",
        ),
    ],
)
def test_a_bad_id_token_is_refused_with_a_page_that_says_why(
    http, live_server, sso_org, provider_key, message
):
    response = sign_in_over_http(http, live_server.url, provider_key, "rosa")
    assert response.status_code == 403
    assert "Sign-in refused" in response.text
    assert message in response.text
    assert not get_user_model().objects.filter(email="rosa@org-one.example").exists()
    assert _portal_user(http, live_server.url).url.path == "/accounts/login/"


def test_a_group_that_maps_to_nothing_is_refused(http, live_server, sso_org):
    response = sign_in_over_http(http, live_server.url, "local", "max")
    assert response.status_code == 403
    assert (
        "You signed in as max@org-one.example, but none of your groups (all-staff, "
        "marketing) gives you a role in Org One."
    ) in response.text
    assert not get_user_model().objects.filter(email="max@org-one.example").exists()


def test_an_email_outside_the_organisations_domains_is_refused(
    http, live_server, sso_org
):
    response = sign_in_over_http(http, live_server.url, "local", "gina")
    assert response.status_code == 403
    assert (
        "Your email address gina@elsewhere.example is not in a domain of an "
        "organisation that signs in with Org One (local)."
    ) in response.text
    assert not get_user_model().objects.filter(email="gina@elsewhere.example").exists()


def test_a_discovery_document_naming_another_issuer_is_refused_before_redirecting(
    http, live_server, sso_org, sso_providers, idp
):
    sso_providers["local"]["issuer"] = idp.issuer + "/"
    response = http.get(f"{live_server.url}/accounts/sso/local/")
    assert response.status_code == 503
    assert "is not configured correctly for single sign-on" in response.text
    assert f"names the issuer {idp.issuer}, not {idp.issuer}/" in response.text


def test_an_existing_account_with_the_email_is_linked_and_keeps_its_memberships(
    http, live_server, sso_org, respondent_a
):
    response = sign_in_over_http(http, live_server.url, "local", "alice-idp")
    # alice@example.com is outside org-one.example: refused, nothing linked.
    assert response.status_code == 403
    from sso.models import SsoConnection, SsoIdentity

    SsoConnection.objects.filter(provider="local").update(
        email_domains="org-one.example\nexample.com"
    )
    response = sign_in_over_http(http, live_server.url, "local", "alice-idp")
    assert response.status_code == 200
    identity = SsoIdentity.objects.get()
    assert identity.user == respondent_a
    assert list(
        Membership.objects.filter(user=respondent_a).values_list("role", flat=True)
    ) == ["respondent"]


def test_an_unknown_state_is_refused(http, live_server, sso_org):
    response = http.get(f"{live_server.url}/accounts/sso/callback/?code=x&state=nope")
    assert response.status_code == 400
    assert "This sign-in was started too long ago" in response.text


def test_a_provider_no_organisation_uses_is_not_offered(
    http, live_server, sso_providers
):
    assert http.get(f"{live_server.url}/accounts/sso/local/").status_code == 404
    page = http.get(f"{live_server.url}/accounts/login/")
    assert "Sign in with" not in page.text


def test_the_sign_in_page_offers_the_organisations_provider(http, live_server, sso_org):
    page = http.get(f"{live_server.url}/accounts/login/")
    assert 'href="/accounts/sso/local/"' in page.text
    assert "Sign in with Org One (local)" in page.text


def test_single_sign_on_works_with_sign_in_throttling_on(
    http, live_server, sso_org, settings
):
    settings.AXES_ENABLED = True
    response = sign_in_over_http(http, live_server.url, "local", "rosa")
    assert response.status_code == 200
    refused = sign_in_over_http(
        httpx.Client(timeout=20), live_server.url, "local", "max"
    )
    assert refused.status_code == 403
    from axes.models import AccessAttempt

    # The refusal counts as a failed sign-in of the address, with no username.
    assert AccessAttempt.objects.get().username is None


def test_an_invited_person_signs_in_with_the_provider_and_accepts(
    http, live_server, sso_org, team_b, lead, django_capture_on_commit_callbacks
):
    """max's groups give no role; a lead's invitation lets him in to accept it."""
    import re

    from django.core import mail

    from assessment.invitations import invitation_create

    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            organization=sso_org,
            email="max@org-one.example",
            role="respondent",
            team=team_b,
            by=lead,
            site_url=live_server.url,
        )
    link = re.search(r"(/invitations/[^/\s]+/)", mail.outbox[-1].body)[1]
    page = http.get(live_server.url + link)
    assert "Sign in to accept" in page.text
    response = sign_in_over_http(http, live_server.url, "local", "max", next_url=link)
    assert response.url.path == link
    assert "Accept and join" in response.text
    accepted = http.post(
        live_server.url + link,
        data={"csrfmiddlewaretoken": http.cookies["csrftoken"], "accept": "1"},
        headers={"Referer": live_server.url + link},
        follow_redirects=True,
    )
    assert accepted.status_code == 200
    assert "You joined Org One as Respondent of Team B." in accepted.text
    user = get_user_model().objects.get(email="max@org-one.example")
    assert Membership.objects.get(user=user).team == team_b

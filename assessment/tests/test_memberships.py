"""A lead gives roles only to the organisation's people; anyone else is invited,
and nothing says whether an address or username has an account elsewhere."""

import pytest
from django.core import mail
from django.test import Client

from assessment import organizations
from assessment.models import Affiliation, Invitation, Membership
from tests.api_support import client_for

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/memberships/"


@pytest.fixture
def elsewhere(outsider_lead):
    """oscar leads Org Two: an account on the installation, outside Org One."""
    return outsider_lead


def _post(lead, org, team, user):
    return client_for(lead).post(
        MEMBERS,
        {"organization": org.slug, "user": user, "role": "respondent", "team": team.pk},
        format="json",
    )


def _comparable(body: dict) -> dict:
    return {
        k: v
        for k, v in body.items()
        if k not in {"id", "email", "created_at", "expires_at"}
    }


def test_an_outside_username_gets_the_answer_of_an_unknown_one(
    lead, org, team_a, elsewhere, django_capture_on_commit_callbacks
):
    outside = _post(lead, org, team_a, "oscar")
    unknown = _post(lead, org, team_a, "nobody-at-all")
    assert outside.status_code == unknown.status_code == 400
    assert (
        outside.json()
        == unknown.json()
        == {"user": [organizations.NOT_IN_ORG_MSG.format(org="Org One")]}
    )
    assert not Membership.objects.filter(user=elsewhere, organization=org).exists()


def test_an_outside_address_gets_the_answer_of_an_unknown_one(
    lead, org, team_a, elsewhere, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outside = _post(lead, org, team_a, "Oscar@Example.com")
        unknown = _post(lead, org, team_a, "nobody@example.com")
    assert outside.status_code == unknown.status_code == 202
    assert _comparable(outside.json()) == _comparable(unknown.json())
    assert outside.json()["email"] == "oscar@example.com"
    assert "oscar" not in str(outside.json()).replace("oscar@example.com", "")
    # Nobody was enrolled: each address got an invitation to accept.
    assert not Membership.objects.filter(user=elsewhere, organization=org).exists()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "nobody@example.com",
        "oscar@example.com",
    ]
    bodies = [m.body.split("/invitations/")[0] for m in mail.outbox]
    assert bodies[0] == bodies[1]


def test_the_members_page_answers_the_same_for_outside_and_unknown_people(
    lead, org, team_a, elsewhere, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(lead)
    url = f"/lead/{org.slug}/members/"
    refused = {}
    for name in ["oscar", "nobody-at-all"]:
        response = client.post(
            url, {"identifier": name, "role": "respondent", "team": team_a.pk}
        )
        refused[name] = (response.status_code, response.context["form"].errors)
    assert refused["oscar"] == refused["nobody-at-all"]
    invited = {}
    for email in ["oscar@example.com", "nobody@example.com"]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url,
                {"identifier": email, "role": "respondent", "team": team_a.pk},
                follow=True,
            )
        invited[email] = [str(m) for m in response.context["messages"]]
    assert invited["oscar@example.com"] == [
        "Invitation sent to oscar@example.com: they join when they accept it (the link "
        "works for 14 days)."
    ]
    assert invited["nobody@example.com"] == [
        invited["oscar@example.com"][0].replace(
            "oscar@example.com", "nobody@example.com"
        )
    ]
    page = client.get(url).content.decode()
    assert "Invitations waiting" in page
    assert "oscar@example.com" in page
    assert not Membership.objects.filter(user=elsewhere, organization=org).exists()


def test_the_organisations_people_are_added_at_once(
    lead, org, team_a, team_b, respondent_a
):
    # A member, by email: another role at once.
    response = _post(lead, org, team_b, "ALICE@example.com")
    assert response.status_code == 201
    assert response.json()["user"] == "alice"
    # Someone who signed in through the organisation's single sign-on, by username.
    from django.contrib.auth import get_user_model

    dana = get_user_model().objects.create_user("dana", email="dana@org-one.example")
    Affiliation.objects.create(organization=org, user=dana, source="sso")
    assert _post(lead, org, team_a, "dana").status_code == 201
    assert not Invitation.objects.exists()


def test_someone_whose_role_was_removed_can_be_given_one_again(
    lead, org, team_a, respondent_a
):
    organizations.membership_remove(membership=respondent_a.memberships.get(), by=lead)
    assert Affiliation.objects.get(user=respondent_a).source == "membership"
    assert _post(lead, org, team_a, "alice").status_code == 201


# --- the invitations endpoint ---------------------------------------------------------


@pytest.fixture
def waiting(org, team_a, lead):
    return organizations.membership_add(
        organization=org,
        identifier="new@org-one.example",
        role="respondent",
        team=team_a,
        by=lead,
        site_url="https://finops.example.com",
    )


def test_a_lead_lists_and_withdraws_the_organisations_invitations(lead, waiting):
    client = client_for(lead)
    body = client.get("/api/v1/invitations/").json()
    assert [i["email"] for i in body["results"]] == ["new@org-one.example"]
    assert body["results"][0]["invited_by"] == "lena"
    assert (
        client.get("/api/v1/invitations/", {"organization": "org-two"}).json()["count"]
        == 0
    )
    assert client.delete(f"/api/v1/invitations/{waiting.pk}/").status_code == 204
    assert not Invitation.objects.exists()


def test_nobody_else_sees_an_organisations_invitations(
    respondent_a, outsider_lead, waiting
):
    for user in [respondent_a, outsider_lead]:
        client = client_for(user)
        assert client.get("/api/v1/invitations/").json()["count"] == 0
        assert client.get(f"/api/v1/invitations/{waiting.pk}/").status_code == 404
        assert client.delete(f"/api/v1/invitations/{waiting.pk}/").status_code == 404
    assert Invitation.objects.exists()


def test_a_lead_withdraws_an_invitation_on_the_members_page(lead, org, waiting):
    client = Client()
    client.force_login(lead)
    response = client.post(
        f"/lead/{org.slug}/invitations/{waiting.pk}/revoke/", follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Withdrew the invitation of new@org-one.example: its link no longer works."
    ]
    assert not Invitation.objects.exists()

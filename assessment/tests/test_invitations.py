"""Invitations: the email with its link, the page that accepts it (signed in, or
with a new account for the invited address), expiry, renewal and withdrawal."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from assessment.invitations import (
    INVITATION_DAYS,
    invitation_create,
    invitation_for_key,
    invitation_revoke,
    organization_people,
    pending_invitations,
)
from assessment.models import Affiliation, Invitation, Membership
from finops_portal.audit import AuditEvent

pytestmark = pytest.mark.django_db

SITE = "https://finops.example.com"
LINK_RE = re.compile(r"https://finops\.example\.com/invitations/([A-Za-z0-9_\-]+)/")


def invite(org, team, lead, email="new.person@org-one.example", role="respondent"):
    return invitation_create(
        organization=org, email=email, role=role, team=team, by=lead, site_url=SITE
    )


def sent_key(index=-1) -> str:
    return LINK_RE.search(mail.outbox[index].body)[1]


def test_an_invitation_is_emailed_with_a_link_whose_key_is_not_stored(
    org, team_a, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(org, team_a, lead, email=" New.Person@Org-One.example ")
    assert invitation.email == "new.person@org-one.example"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@org-one.example"]
    assert message.subject == "You are invited to Org One on the FinOps maturity portal"
    assert "lena invites you" in message.body
    assert "as Respondent of Team A" in message.body
    key = sent_key()
    assert key not in invitation.key_hash
    assert invitation_for_key(key) == invitation
    assert invitation.expires_at > timezone.now() + timedelta(days=INVITATION_DAYS - 1)
    assert AuditEvent.objects.filter(action="invitation.send").count() == 1


def test_inviting_again_renews_the_invitation_and_retires_the_old_link(
    org, team_a, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = invite(org, team_a, lead)
    old_key = sent_key()
    with django_capture_on_commit_callbacks(execute=True):
        second = invite(org, team_a, lead, role="lead")
    assert second.pk == first.pk
    assert second.role == "lead"
    assert invitation_for_key(old_key) is None
    assert invitation_for_key(sent_key()) == second
    assert pending_invitations(organization=org).count() == 1


def test_an_expired_invitation_no_longer_opens(
    client, org, team_a, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(org, team_a, lead)
    key = sent_key()
    with time_machine.travel(timezone.now() + timedelta(days=INVITATION_DAYS, hours=1)):
        assert invitation_for_key(key) is None
        response = client.get(f"/invitations/{key}/")
    assert response.status_code == 404
    assert "This invitation is not valid" in response.content.decode()


def test_an_unknown_key_answers_404(client, db):
    assert client.get("/invitations/not-a-key/").status_code == 404


@pytest.fixture
def link(org, team_a, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(org, team_a, lead)
    return f"/invitations/{sent_key()}/"


def test_a_new_person_creates_an_account_and_joins(client, link, org, team_a):
    page = client.get(link).content.decode()
    assert "Join Org One" in page
    assert "Create your account" in page
    response = client.post(
        link,
        {
            "username": "newperson",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newperson")
    assert user.email == "new.person@org-one.example"
    assert client.session["_auth_user_id"] == str(user.pk)
    membership = Membership.objects.get(user=user)
    assert (membership.organization, membership.team, membership.role) == (
        org,
        team_a,
        "respondent",
    )
    assert Affiliation.objects.get(user=user).source == "invitation"
    assert list(organization_people(organization=org).filter(pk=user.pk)) == [user]
    # The link works once.
    client.logout()
    assert client.get(link).status_code == 404


def test_a_weak_password_is_refused_next_to_the_field(client, link):
    response = client.post(
        link,
        {"username": "newperson", "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 400
    assert "This password is too common." in response.content.decode()
    assert not get_user_model().objects.filter(username="newperson").exists()


def test_someone_with_an_account_signs_in_then_accepts(client, link, org):
    user = get_user_model().objects.create_user(
        "np", email="New.Person@org-one.example", password="pw-np-12345"
    )
    page = client.get(link).content.decode()
    assert "Sign in to accept" in page
    assert "Create your account" not in page
    client.force_login(user)
    assert "Accept and join" in client.get(link).content.decode()
    response = client.post(link, {"accept": "1"})
    assert response.status_code == 302
    assert Membership.objects.filter(user=user, organization=org).exists()
    assert Invitation.objects.get().accepted_by == user


def test_another_signed_in_user_cannot_accept_it(client, link, respondent_b, org):
    client.force_login(respondent_b)
    page = client.get(link).content.decode()
    assert (
        "This invitation is for new.person@org-one.example, and you are signed in as bob."
        in page
    )
    client.post(link, {"accept": "1"})
    assert not Invitation.objects.get().accepted_at
    assert Membership.objects.filter(user=respondent_b).count() == 1


def test_a_withdrawn_invitation_no_longer_opens(client, link, lead):
    invitation_revoke(invitation=Invitation.objects.get(), by=lead)
    assert client.get(link).status_code == 404
    assert AuditEvent.objects.filter(action="invitation.revoke").count() == 1

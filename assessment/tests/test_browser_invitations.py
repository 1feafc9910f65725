"""In Chromium: a lead invites someone new from the members page; the person
opens the emailed link, creates an account and joins. Every page of the way
passes the accessibility check."""

import re

import pytest
from django.core import mail

from assessment.models import Membership
from conftest import axe_violations, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_invites_someone_new_who_creates_an_account_and_joins(
    page, browser, lead, org, team_a
):
    browser_login(page, "lena")
    page.goto(page.base_url + f"/lead/{org.slug}/members/")
    page.fill("#id_identifier", "Priya@Org-One.example")
    page.select_option("#id_team", label="Team A")
    page.click("button:has-text('Add or invite')")
    page.wait_for_load_state()
    assert "Invitation sent to priya@org-one.example" in page.content()
    assert page.is_visible("text=Invitations waiting")
    assert axe_violations(page) == []

    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body)[0]
    context = browser.new_context()
    invitee = context.new_page()
    invitee.goto(link)
    assert invitee.is_visible("h1:has-text('Join Org One')")
    assert axe_violations(invitee) == []
    invitee.fill("#id_username", "priya")
    invitee.fill("#id_password1", "a-long-passphrase-42")
    invitee.fill("#id_password2", "a-long-passphrase-42")
    invitee.click("button:has-text('Create account and join')")
    invitee.wait_for_load_state()
    assert "You joined Org One as Respondent of Team A." in invitee.content()
    membership = Membership.objects.get(user__username="priya")
    assert membership.team == team_a
    invitee.goto(link)
    assert invitee.is_visible("h1:has-text('This invitation is not valid')")
    assert axe_violations(invitee) == []
    context.close()

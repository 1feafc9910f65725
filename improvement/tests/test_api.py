"""The improvement API: field errors, warnings, movements that sum, payloads."""

import pytest
from django.urls import reverse

from improvement.models import ActionItem
from tests.api_support import client_for

pytestmark = pytest.mark.django_db


def test_an_owner_outside_the_team_is_a_400_naming_the_field(
    team_a, respondent_a, respondent_b, framework
):
    response = client_for(respondent_a).post(
        reverse("v1:action-item-list"),
        {"team": team_a.pk, "capability_key": "cap-0", "title": "x", "owner": "bob"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "owner": ["bob is not a member of Team A: choose one of its members."]
    }
    assert not ActionItem.objects.exists()


def test_a_past_due_date_is_saved_with_a_warning(team_a, respondent_a, framework):
    response = client_for(respondent_a).post(
        reverse("v1:action-item-list"),
        {
            "team": team_a.pk,
            "capability_key": "cap-0",
            "title": "x",
            "owner": "alice",
            "due_on": "2021-05-01",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "The due date 2021-05-01 is in the past; the item was saved anyway."
    ]


def test_a_stale_version_is_a_409(team_a, respondent_a, framework):
    client = client_for(respondent_a)
    created = client.post(
        reverse("v1:action-item-list"),
        {"team": team_a.pk, "capability_key": "cap-0", "title": "x"},
        format="json",
    ).json()["item"]
    url = reverse("v1:action-item-detail", args=[created["id"]])
    assert (
        client.patch(url, {"status": "done", "version": 1}, format="json").status_code
        == 200
    )
    assert (
        client.patch(url, {"title": "y", "version": 1}, format="json").status_code
        == 409
    )


def test_movements_sum_to_the_change(two_cycles, team_a, respondent_a):
    (_c1, _a1), (_c2, second) = two_cycles
    response = client_for(respondent_a).get(
        reverse("v1:assessment-movements", args=[second[team_a.pk].pk])
    )
    assert response.status_code == 200
    body = response.json()
    rows = {row["capability_key"]: row for row in body["capabilities"]}
    assert rows["cap-0"]["change"] == 10.0
    assert sum(c["delta"] for c in rows["cap-0"]["causes"]) == pytest.approx(10.0)
    assert rows["cap-0"]["causes"][0]["kind"] == "answer"
    assert rows["cap-0"]["summary"].endswith("weights unchanged")


def test_initiative_over_another_orgs_team_is_a_404(org, other_team, lead, framework):
    response = client_for(lead).post(
        reverse("v1:initiative-list"),
        {
            "organization": org.slug,
            "name": "Sneaky",
            "capability_key": "cap-0",
            "target_percent": "50",
            "due_on": "2027-01-01",
            "scope": [other_team.pk],
        },
        format="json",
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_webhook_secret_is_returned_at_creation_only(org, lead, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    client = client_for(lead)
    refused = client.post(
        reverse("v1:webhook-list"),
        {"organization": org.slug, "url": "http://hooks.example.com/x"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == {"url": ["Enter an https:// address."]}
    created = client.post(
        reverse("v1:webhook-list"),
        {"organization": org.slug, "url": "https://hooks.example.com/x"},
        format="json",
    )
    assert created.status_code == 201
    assert len(created.json()["secret"]) > 30
    listed = client.get(reverse("v1:webhook-list"), {"organization": org.slug}).json()
    assert "secret" not in listed[0]

"""A team report reads right for whoever opens it: a lead sees "this team", never
"your team" (one cached body serves both kinds of viewer)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["lead", "respondent_a"])
def test_the_team_report_never_says_your_team(
    client, request, empty_cache, report_a, persona
):
    client.force_login(request.getfixturevalue(persona))
    html = client.get(reverse("benchmarks:team_report", args=[report_a.pk])).content
    text = html.decode().lower()
    assert "this team" in text
    assert "your team" not in text

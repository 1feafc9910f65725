import pytest

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_user_signs_in_and_out(client, respondent_a):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code in (200, 302)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client, respondent_a):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "nope"}
    )
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_login_ignores_an_off_site_next(client, respondent_a):
    response = client.post(
        "/accounts/login/?next=https://evil.example.com/",
        {
            "username": "alice",
            "password": "pw-alice",
            "next": "https://evil.example.com/",
        },
    )
    assert response.status_code == 302
    assert "evil.example.com" not in response.url


def test_pages_send_security_headers(client):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_plotly_is_served_from_static_files(client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/plotly.min.js").endswith("plotly.min.js")


@pytest.mark.parametrize(
    ("user_fixture", "team_member", "shown"),
    [("respondent_a", False, True), ("lead", False, False), ("lead", True, True)],
)
def test_my_assessments_is_in_the_navigation_only_for_team_members(
    request, client, user_fixture, team_member, shown
):
    from django.urls import reverse

    from assessment.access import access_for
    from assessment.models import Membership

    user = request.getfixturevalue(user_fixture)
    if team_member:
        team = request.getfixturevalue("team_a")
        Membership.objects.create(
            user=user, organization=team.organization, team=team, role="respondent"
        )
    client.force_login(user)
    response = client.get(reverse("capabilities:index"))
    assert response.status_code == 200
    assert response.context["nav_has_team"] is shown
    assert bool(access_for(user).team_ids) is shown
    link = f'href="{reverse("assessment:my_assessments")}"'
    assert (link in response.content.decode()) is shown

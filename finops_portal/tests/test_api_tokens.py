"""Personal tokens: created on /account/tokens/ (key shown once), stored hashed,
accepted as ``Authorization: Token <key>``, revocable; throttles and sessions."""

import re

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from finops_portal.api import INVALID_TOKEN_MSG, MALFORMED_TOKEN_MSG
from finops_portal.models import PersonalToken, hash_token_key
from finops_portal.tokens import (
    BAD_CREDENTIALS_MSG,
    TOKEN_NAME_TAKEN_MSG,
    TOKEN_REVOKED_MSG,
    token_create,
)
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for, token_for

pytestmark = pytest.mark.django_db

ASSESSMENTS = "/api/v1/assessments/"


def _key_on_page(html: str) -> str:
    match = re.search(r'id="new-token-key"[^>]*value="([^"]+)"', html)
    assert match, "the new key is shown"
    return match.group(1)


def test_the_tokens_page_needs_a_sign_in(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_it_shows_an_empty_state_without_tokens(client, respondent_a):
    client.force_login(respondent_a)
    response = client.get("/account/tokens/")
    assert response.status_code == 200
    assert "You have no API tokens yet." in response.content.decode()


def test_it_creates_a_token_and_shows_the_key_once(client, respondent_a):
    client.force_login(respondent_a)
    response = client.post("/account/tokens/", {"name": "nightly export"})
    assert response.status_code == 200
    key = _key_on_page(response.content.decode())
    token = PersonalToken.objects.get(user=respondent_a)
    assert token.name == "nightly export"
    assert token.key_hash == hash_token_key(key)
    assert key not in token.key_hash
    again = client.get("/account/tokens/").content.decode()
    assert key not in again
    assert token.prefix in again


def test_it_refuses_a_second_token_with_the_same_name(client, respondent_a):
    token_create(user=respondent_a, name="ci")
    client.force_login(respondent_a)
    response = client.post("/account/tokens/", {"name": "ci"})
    assert TOKEN_NAME_TAKEN_MSG.format(name="ci") in response.content.decode()
    assert PersonalToken.objects.filter(user=respondent_a).count() == 1


def test_a_token_authenticates_api_requests_and_records_its_use(respondent_a):
    key = token_for(respondent_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(ASSESSMENTS).status_code == 200
    assert PersonalToken.objects.get(user=respondent_a).last_used_at is not None


def test_a_revoked_token_is_refused(client, respondent_a):
    key = token_for(respondent_a, name="old")
    token = PersonalToken.objects.get(user=respondent_a)
    client.force_login(respondent_a)
    response = client.post(f"/account/tokens/{token.pk}/revoke/", follow=True)
    assert TOKEN_REVOKED_MSG.format(name="old") in response.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get(ASSESSMENTS)
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_TOKEN_MSG}


def test_nobody_revokes_another_users_token(client, respondent_a, respondent_b):
    token_for(respondent_a)
    token = PersonalToken.objects.get(user=respondent_a)
    client.force_login(respondent_b)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert PersonalToken.objects.filter(pk=token.pk).exists()


def test_a_wrong_token_answers_401_with_the_scheme(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = client.get(ASSESSMENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": INVALID_TOKEN_MSG}


def test_a_malformed_authorization_header_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two parts")
    response = client.get(ASSESSMENTS)
    assert response.status_code == 401
    assert response.json() == {"detail": MALFORMED_TOKEN_MSG}


def test_anonymous_requests_answer_401(db):
    response = APIClient().get(ASSESSMENTS)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided."
    }


def test_the_browser_session_works_for_the_api(client, respondent_a):
    client.force_login(respondent_a)
    assert client.get(ASSESSMENTS).status_code == 200


def test_session_writes_need_the_csrf_token(respondent_a, assessment_a):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(respondent_a)
    response = client.put(
        f"/api/v1/assessments/{assessment_a.pk}/answers/cap-0-knowledge-0/",
        {"option_score": 1, "version": 0},
        format="json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


RATES = {"token": "3/min", "anon": "2/min"}


def _with_rates(rates):
    from django.conf import settings

    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    )


def test_token_clients_are_throttled(respondent_a):
    client = client_for(respondent_a)
    with _with_rates(RATES):
        codes = [client.get(ASSESSMENTS).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_anonymous_clients_of_the_open_endpoints_are_throttled(db):
    client = APIClient()
    with _with_rates(RATES):
        codes = [client.get("/api/schema/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_browser_sessions_are_not_throttled(client, respondent_a):
    client.force_login(respondent_a)
    with _with_rates(RATES):
        codes = {client.get(ASSESSMENTS).status_code for _ in range(5)}
    assert codes == {200}


def test_a_script_creates_a_token_with_its_password(respondent_a):
    response = APIClient().post(
        "/api/v1/tokens/",
        {"username": "alice", "password": "pw-alice", "name": "ci"},
        format="json",
    )
    assert response.status_code == 201
    key = response.json()["key"]
    assert PersonalToken.objects.get(user=respondent_a).key_hash == hash_token_key(key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(ASSESSMENTS).status_code == 200


def test_a_wrong_password_creates_no_token(respondent_a):
    response = APIClient().post(
        "/api/v1/tokens/",
        {"username": "alice", "password": "guess", "name": "ci"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": BAD_CREDENTIALS_MSG}
    assert not PersonalToken.objects.exists()


def test_staff_see_tokens_in_the_admin_without_their_keys(client, staff, respondent_a):
    key = token_for(respondent_a, name="ci")
    client.force_login(staff)
    token = PersonalToken.objects.get(user=respondent_a)
    response = client.get(f"/admin/finops_portal/personaltoken/{token.pk}/change/")
    assert response.status_code == 200
    assert token.key_hash not in response.content.decode()
    assert key not in response.content.decode()

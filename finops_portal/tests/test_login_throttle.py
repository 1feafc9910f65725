import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_account(client, respondent_a):
    for _ in range(3):
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": "wrong"}
        )
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    # Even the right password is refused while locked out.
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_a_lockout_of_one_user_leaves_others_alone(client, respondent_a, respondent_b):
    for _ in range(3):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "bob", "password": "pw-bob"}
    )
    assert response.status_code == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_a_successful_sign_in_resets_the_count(client, respondent_a):
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert (
        client.post(
            "/accounts/login/", {"username": "alice", "password": "pw-alice"}
        ).status_code
        == 302
    )
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert (
        client.post(
            "/accounts/login/", {"username": "alice", "password": "pw-alice"}
        ).status_code
        == 302
    )


def test_weak_passwords_are_refused_by_the_validators():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        validate_password("12345678")
    assert "This password is too common." in err.value.messages

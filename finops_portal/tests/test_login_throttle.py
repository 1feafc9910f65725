"""Sign-in throttling: a username is locked only from the address that failed, an
address that sprays many usernames is locked too, proxy headers count only from
trusted proxies, and the answer never tells whether a username exists."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from finops_portal.client_ip import client_address, parse_networks
from finops_portal.lockout import LOCKOUT_MSG

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKENS = "/api/v1/tokens/"
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"
PROXY = "10.0.0.2"
LOCKED_MSG = LOCKOUT_MSG.format(wait="15 minutes")

throttled = override_settings(
    AXES_ENABLED=True, AXES_FAILURE_LIMIT=3, AXES_ADDRESS_FAILURE_LIMIT=6
)


def sign_in(client, username, password, address, **headers):
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def signed_in(response) -> bool:
    return response.status_code == 302


@throttled
def test_repeated_wrong_passwords_lock_the_username_from_that_address(
    client, respondent_a
):
    for _ in range(3):
        response = sign_in(client, "alice", "wrong", ATTACKER)
    assert response.status_code == 429
    assert LOCKED_MSG in response.content.decode()
    assert response["Retry-After"] == "900"
    # From that address even the right password is refused while locked out.
    assert sign_in(client, "alice", "pw-alice", ATTACKER).status_code == 429
    assert "_auth_user_id" not in client.session


@throttled
def test_an_attacker_elsewhere_cannot_lock_the_user_out(client, respondent_a):
    for _ in range(10):
        sign_in(client, "alice", "wrong", ATTACKER)
    assert signed_in(sign_in(client, "alice", "pw-alice", VICTIM))


@throttled
def test_the_username_is_counted_case_insensitively(client, respondent_a):
    for name in ["Alice", "ALICE", " alice "]:
        response = sign_in(client, name, "wrong", ATTACKER)
    assert response.status_code == 429


@throttled
def test_spraying_many_usernames_from_one_address_is_throttled(
    client, respondent_a, respondent_b
):
    statuses = [
        sign_in(client, f"user{n}", "Winter2026!", ATTACKER).status_code
        for n in range(25)
    ]
    # One failure per username: the per-username limit (3) is never reached, the
    # per-address limit (6) is.
    assert statuses[:5] == [200] * 5
    assert set(statuses[5:]) == {429}
    # The address is locked for every username, right password or not...
    assert sign_in(client, "bob", "pw-bob", ATTACKER).status_code == 429
    # ...and nowhere else.
    assert signed_in(sign_in(client, "bob", "pw-bob", VICTIM))


@throttled
def test_signing_in_to_ones_own_account_does_not_reset_the_address_count(
    client, respondent_a
):
    for n in range(5):
        sign_in(client, f"user{n}", "guess", ATTACKER)
    assert signed_in(sign_in(client, "alice", "pw-alice", ATTACKER))
    client.logout()
    assert sign_in(client, "user9", "guess", ATTACKER).status_code == 429


@throttled
def test_the_answer_is_the_same_for_an_existing_and_an_unknown_username(
    client, respondent_a
):
    pages = {}
    for username, address in [("alice", ATTACKER), ("nobody", VICTIM)]:
        for _ in range(3):
            response = sign_in(client, username, "wrong", address)
        pages[username] = (response.status_code, response.content.decode())
    assert pages["alice"] == pages["nobody"]
    assert pages["alice"][0] == 429


@throttled
def test_a_lockout_of_one_user_leaves_others_alone(client, respondent_a, respondent_b):
    for _ in range(3):
        sign_in(client, "alice", "wrong", ATTACKER)
    assert signed_in(sign_in(client, "bob", "pw-bob", ATTACKER))


@throttled
def test_a_successful_sign_in_resets_the_count(client, respondent_a):
    sign_in(client, "alice", "wrong", VICTIM)
    sign_in(client, "alice", "wrong", VICTIM)
    assert signed_in(sign_in(client, "alice", "pw-alice", VICTIM))
    client.post("/accounts/logout/")
    sign_in(client, "alice", "wrong", VICTIM)
    assert signed_in(sign_in(client, "alice", "pw-alice", VICTIM))


# --- behind a reverse proxy --------------------------------------------------------


@throttled
@override_settings(TRUSTED_PROXIES=[PROXY])
def test_behind_a_trusted_proxy_the_forwarded_client_address_is_used(
    client, respondent_a
):
    for _ in range(3):
        response = sign_in(
            client, "alice", "wrong", PROXY, HTTP_X_FORWARDED_FOR=ATTACKER
        )
    assert response.status_code == 429
    # The victim comes through the same proxy, from another address: not locked.
    assert signed_in(
        sign_in(client, "alice", "pw-alice", PROXY, HTTP_X_FORWARDED_FOR=VICTIM)
    )
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


@throttled
@override_settings(TRUSTED_PROXIES=[PROXY])
def test_a_client_cannot_escape_the_count_by_inventing_forwarded_addresses(
    client, respondent_a
):
    """The proxy appends the real peer; what the client wrote to its left is ignored."""
    for n in range(3):
        response = sign_in(
            client,
            "alice",
            "wrong",
            PROXY,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}",
        )
    assert response.status_code == 429


@throttled
def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(client, respondent_a):
    for n in range(3):
        response = sign_in(
            client, "alice", "wrong", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
    assert response.status_code == 429
    # Nor can the attacker frame the victim's address with the header.
    assert signed_in(sign_in(client, "alice", "pw-alice", VICTIM))


@throttled
@override_settings(TRUSTED_PROXIES=[PROXY], TRUSTED_PROXY_HEADER="HTTP_X_REAL_IP")
def test_the_trusted_header_can_be_another_one(client, respondent_a):
    for _ in range(3):
        sign_in(client, "alice", "wrong", PROXY, HTTP_X_REAL_IP=ATTACKER)
    assert signed_in(sign_in(client, "alice", "pw-alice", PROXY, HTTP_X_REAL_IP=VICTIM))


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.7", "203.0.113.5"),  # untrusted peer
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "198.51.100.7, 10.0.0.9", "198.51.100.7"),  # two proxies
        ("10.0.0.2", "10.0.0.3", "10.0.0.3"),  # only proxies: the left-most one
        ("10.0.0.2", "garbage", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.7, garbage", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.7:5123", "198.51.100.7"),
        ("10.0.0.2", "[2001:db8::7]:443", "2001:db8::7"),
        ("::ffff:10.0.0.2", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_client_address_reads_the_header_from_the_right(peer, header, expected):
    trusted = parse_networks(["10.0.0.0/24"])
    assert client_address(peer, header, trusted) == expected


def test_a_bad_trusted_proxy_stops_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from finops_portal.env import env_networks

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES: 'proxy.internal'"):
        env_networks("TRUSTED_PROXIES")


# --- the API -------------------------------------------------------------------------


@throttled
def test_a_lockout_on_the_token_endpoint_answers_json(respondent_a):
    client = APIClient()
    body = {"username": "alice", "password": "wrong", "name": "script"}
    for _ in range(3):
        response = client.post(TOKENS, body, format="json", REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": LOCKED_MSG}
    assert response["Retry-After"] == "900"
    # The page and the API share the count, and another address is not locked.
    ok = client.post(
        TOKENS, {**body, "password": "pw-alice"}, format="json", REMOTE_ADDR=VICTIM
    )
    assert ok.status_code == 201


def test_the_anonymous_api_throttle_ignores_invented_forwarded_addresses(db):
    rates = {"anon": "2/min", "token": "1000/min"}
    client = APIClient()
    cache.clear()
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        statuses = [
            client.post(
                TOKENS,
                {},
                format="json",
                REMOTE_ADDR=ATTACKER,
                HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
            ).status_code
            for n in range(4)
        ]
    cache.clear()
    assert statuses == [400, 400, 429, 429]


def test_weak_passwords_are_refused_by_the_validators():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        validate_password("12345678")
    assert "This password is too common." in err.value.messages

"""The pure rules and the configuration: claims, grants, provider variables, the
connection and mapping checks an administrator meets in the admin."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from sso import claims as rules
from sso.config import oidc_providers_from_env


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("Rosa@Northwind.Example", "northwind.example"),
        (" rosa@a.b.example ", "a.b.example"),
        ("rosa", ""),
        ("@northwind.example", ""),
        (None, ""),
    ],
)
def test_email_domain(email, domain):
    assert rules.email_domain(email) == domain


@pytest.mark.parametrize(
    ("value", "groups"),
    [
        (["b", "a", "a"], ["a", "b"]),
        ("finops-leads, finops-team-a", ["finops-leads", "finops-team-a"]),
        ("one two", ["one", "two"]),
        ([1234, "x", {"nested": 1}], ["1234", "x"]),
        (None, []),
        ({"a": 1}, []),
    ],
)
def test_groups_from_accepts_lists_and_strings(value, groups):
    assert rules.groups_from({"groups": value}, "groups") == groups


def test_email_verified_is_false_only_when_the_provider_says_so():
    assert rules.email_verified({})
    assert rules.email_verified({"email_verified": True})
    assert not rules.email_verified({"email_verified": False})
    assert not rules.email_verified({"email_verified": "false"})


def test_grants_for_maps_groups_case_insensitively():
    mappings = [
        ("FinOps-Leads", "lead", None),
        ("team-a", "respondent", 7),
        ("team-b", "respondent", 8),
    ]
    assert rules.grants_for(["finops-leads", "team-a"], mappings) == {
        None: "lead",
        7: "respondent",
    }
    assert rules.grants_for(["marketing"], mappings) == {}


# --- provider variables ----------------------------------------------------------


def _env(monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_providers_are_read_from_the_environment(monkeypatch):
    _env(
        monkeypatch,
        OIDC_PROVIDERS="entra, okta-eu",
        OIDC_ENTRA_ISSUER="https://login.microsoftonline.com/t/v2.0",
        OIDC_ENTRA_CLIENT_ID="id-1",
        OIDC_ENTRA_CLIENT_SECRET="s-1",
        OIDC_ENTRA_NAME="Contoso Entra ID",
        OIDC_OKTA_EU_ISSUER="https://contoso.okta.com",
        OIDC_OKTA_EU_CLIENT_ID="id-2",
        OIDC_OKTA_EU_CLIENT_SECRET="s-2",
        OIDC_OKTA_EU_SCOPES="openid email  groups",
    )
    providers = oidc_providers_from_env()
    assert list(providers) == ["entra", "okta-eu"]
    assert providers["entra"]["name"] == "Contoso Entra ID"
    assert providers["entra"]["scopes"] == "openid email profile"
    assert providers["okta-eu"]["scopes"] == "openid email groups"
    assert providers["okta-eu"]["algorithms"] == ["RS256"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"OIDC_PROVIDERS": "Entra!"},
            "OIDC_PROVIDERS: 'entra!' is not a provider key",
        ),
        (
            {"OIDC_PROVIDERS": "entra", "OIDC_ENTRA_ISSUER": "https://x.example"},
            "OIDC_PROVIDERS names 'entra', so OIDC_ENTRA_CLIENT_ID and "
            "OIDC_ENTRA_CLIENT_SECRET must be set in the environment.",
        ),
        (
            {
                "OIDC_PROVIDERS": "entra",
                "OIDC_ENTRA_ISSUER": "http://idp.example",
                "OIDC_ENTRA_CLIENT_ID": "a",
                "OIDC_ENTRA_CLIENT_SECRET": "b",
            },
            "OIDC_ENTRA_ISSUER must be the issuer's https:// URL",
        ),
        (
            {
                "OIDC_PROVIDERS": "entra",
                "OIDC_ENTRA_ISSUER": "https://idp.example",
                "OIDC_ENTRA_CLIENT_ID": "a",
                "OIDC_ENTRA_CLIENT_SECRET": "b",
                "OIDC_ENTRA_SCOPES": "email profile",
            },
            "OIDC_ENTRA_SCOPES must include openid.",
        ),
        (
            {
                "OIDC_PROVIDERS": "entra",
                "OIDC_ENTRA_ISSUER": "https://idp.example",
                "OIDC_ENTRA_CLIENT_ID": "a",
                "OIDC_ENTRA_CLIENT_SECRET": "b",
                "OIDC_ENTRA_SIGN_ALGS": "RS256,HS256",
            },
            "OIDC_ENTRA_SIGN_ALGS: unsupported HS256",
        ),
    ],
)
def test_a_bad_provider_variable_stops_start_up_naming_it(monkeypatch, values, message):
    _env(monkeypatch, **values)
    with pytest.raises(ImproperlyConfigured) as error:
        oidc_providers_from_env()
    assert message in str(error.value)


def test_a_provider_on_this_machine_may_use_http(monkeypatch):
    _env(
        monkeypatch,
        OIDC_PROVIDERS="local",
        OIDC_LOCAL_ISSUER="http://127.0.0.1:8001/o",
        OIDC_LOCAL_CLIENT_ID="a",
        OIDC_LOCAL_CLIENT_SECRET="b",
    )
    assert oidc_providers_from_env()["local"]["issuer"] == "http://127.0.0.1:8001/o"


# --- connections and mappings ------------------------------------------------------

PROVIDERS = {
    "entra": {
        "key": "entra",
        "name": "Contoso Entra ID",
        "issuer": "https://login.example/t/v2.0",
        "client_id": "portal",
        "client_secret": "secret",
        "scopes": "openid email profile",
        "algorithms": ["RS256"],
    }
}


@pytest.fixture
def configured(settings):
    settings.SSO_PROVIDERS = PROVIDERS


@pytest.mark.django_db
def test_a_connection_names_a_configured_provider_and_real_domains(
    configured, org, other_org
):
    from sso.models import SsoConnection

    connection = SsoConnection(
        organization=org, provider="okta", email_domains="not a domain"
    )
    with pytest.raises(ValidationError) as error:
        connection.full_clean()
    assert error.value.message_dict == {
        "provider": ["No provider 'okta' is configured (OIDC_PROVIDERS: entra)."],
        "email_domains": ["'not' is not an email domain such as northwind.example."],
    }
    connection = SsoConnection(
        organization=org,
        provider="entra",
        email_domains="Org-One.example, org-one.example\nsub.org-one.example",
    )
    connection.full_clean()
    assert connection.domains == ["org-one.example", "sub.org-one.example"]
    connection.save()
    other = SsoConnection(
        organization=other_org, provider="entra", email_domains="sub.org-one.example"
    )
    with pytest.raises(ValidationError) as error:
        other.full_clean()
    assert error.value.message_dict == {
        "email_domains": [
            "sub.org-one.example already signs in to Org One through this provider."
        ]
    }


@pytest.mark.django_db
def test_a_mapping_gives_a_lead_no_team_and_a_respondent_a_team_of_the_org(
    configured, org, team_a, other_team
):
    from sso.models import RoleMapping, SsoConnection

    connection = SsoConnection.objects.create(
        organization=org, provider="entra", email_domains="org-one.example"
    )
    cases = [
        (
            RoleMapping(connection=connection, group="g", role="lead", team=team_a),
            {"team": ["A lead leads the whole organisation: leave the team empty."]},
        ),
        (
            RoleMapping(connection=connection, group="g", role="respondent"),
            {"team": ["A respondent needs a team."]},
        ),
        (
            RoleMapping(
                connection=connection, group="g", role="respondent", team=other_team
            ),
            {"team": ["The team belongs to another organisation."]},
        ),
    ]
    for mapping, errors in cases:
        with pytest.raises(ValidationError) as error:
            mapping.full_clean()
        assert error.value.message_dict == errors
    RoleMapping(
        connection=connection, group="g", role="respondent", team=team_a
    ).full_clean()

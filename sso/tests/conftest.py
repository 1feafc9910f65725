"""A local OpenID Connect provider per test session, and an organisation that
signs in through it (Org One: email domain org-one.example; the group
finops-team-a makes a respondent of Team A, finops-leads a lead)."""

import pytest
from django.core.cache import cache

from .idp import LocalIdP, client, user

DOMAIN = "org-one.example"
# provider key -> the provider's client (and the fault built into its ID tokens)
CLIENTS = {
    "local": ("portal", None),
    "expired": ("portal-expired", "expired"),
    "forged": ("portal-forged", "forged"),
    "wrongiss": ("portal-wrong-issuer", "wrong-issuer"),
}
IDP_USERS = [
    user(
        "rosa", f"rosa@{DOMAIN}", ["finops-team-a"], first_name="Rosa", last_name="Ruiz"
    ),
    user("lara", f"lara@{DOMAIN}", ["FinOps-Leads", "all-staff"]),
    user("max", f"max@{DOMAIN}", ["marketing", "all-staff"]),
    user("gina", "gina@elsewhere.example", ["finops-team-a"]),
    user("alice-idp", "alice@example.com", ["finops-team-a"]),
]


@pytest.fixture(scope="session")
def idp(live_server, tmp_path_factory):
    provider = LocalIdP(
        tmp_path_factory.mktemp("devidp"),
        live_server.url,
        IDP_USERS,
        [client(client_id, fault) for client_id, fault in CLIENTS.values()],
    ).start()
    yield provider
    provider.stop()


@pytest.fixture
def sso_providers(idp, settings):
    settings.SSO_PROVIDERS = {
        key: idp.provider(key, client_id) for key, (client_id, _f) in CLIENTS.items()
    }
    cache.clear()  # discovery documents of an earlier session's provider
    yield settings.SSO_PROVIDERS
    cache.clear()


@pytest.fixture
def sso_org(org, team_a, team_b, lead, sso_providers):
    """Org One signs in through every provider key; mappings on each."""
    from sso.models import RoleMapping, SsoConnection

    for key in sso_providers:
        connection = SsoConnection.objects.create(
            organization=org, provider=key, email_domains=DOMAIN
        )
        RoleMapping.objects.create(
            connection=connection, group="finops-team-a", role="respondent", team=team_a
        )
        RoleMapping.objects.create(
            connection=connection, group="finops-leads", role="lead"
        )
    return org

"""sso_sign_in with verified claims (no provider needed): accounts, links, and the
roles the groups grant at each sign-in; the ID-token checks of the backend."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from assessment.models import Affiliation, Membership
from finops_portal.audit import AuditEvent
from sso.backends import OidcBackend
from sso.models import ManagedMembership, RoleMapping, SsoConnection, SsoIdentity
from sso.providers import Provider
from sso.services import SignInRefused, sso_sign_in

pytestmark = pytest.mark.django_db

PROVIDER = Provider(
    key="entra",
    name="Contoso Entra ID",
    issuer="https://login.example/t/v2.0",
    client_id="portal",
    client_secret="secret",
    scopes="openid email profile",
    algorithms=("RS256",),
)


@pytest.fixture
def connection(settings, org, team_a, team_b):
    settings.SSO_PROVIDERS = {
        "entra": {**PROVIDER.__dict__, "algorithms": list(PROVIDER.algorithms)}
    }
    connection = SsoConnection.objects.create(
        organization=org, provider="entra", email_domains="org-one.example"
    )
    RoleMapping.objects.create(
        connection=connection, group="team-a", role="respondent", team=team_a
    )
    RoleMapping.objects.create(
        connection=connection, group="team-b", role="respondent", team=team_b
    )
    RoleMapping.objects.create(connection=connection, group="leads", role="lead")
    return connection


def claims(sub="u-1", email="rosa@org-one.example", groups=("team-a",), **extra):
    return {"sub": sub, "email": email, "groups": list(groups), **extra}


def roles(user):
    return sorted(
        (m.role, m.team.name if m.team else None)
        for m in Membership.objects.filter(user=user).select_related("team")
    )


def test_the_first_sign_in_creates_the_user_and_an_identity(connection):
    signed_in = sso_sign_in(provider=PROVIDER, claims=claims())
    assert signed_in.created
    user = signed_in.user
    assert roles(user) == [("respondent", "Team A")]
    identity = SsoIdentity.objects.get()
    assert (identity.user, identity.issuer, identity.subject) == (
        user,
        PROVIDER.issuer,
        "u-1",
    )
    assert AuditEvent.objects.filter(action="sso.user_created").count() == 1


def test_the_groups_are_applied_again_at_each_sign_in(connection):
    user = sso_sign_in(provider=PROVIDER, claims=claims(groups=["team-a"])).user
    again = sso_sign_in(provider=PROVIDER, claims=claims(groups=["team-b", "leads"]))
    assert again.user == user
    assert not again.created
    assert roles(user) == [("lead", None), ("respondent", "Team B")]
    assert ManagedMembership.objects.count() == 2
    actions = list(
        AuditEvent.objects.values_list("action", flat=True).order_by("at", "pk")
    )
    assert actions.count("membership.remove") == 1


def test_a_membership_added_by_hand_outlives_the_groups(connection, team_b):
    user = sso_sign_in(provider=PROVIDER, claims=claims(groups=["team-a"])).user
    Membership.objects.create(
        user=user, organization=connection.organization, team=team_b, role="respondent"
    )
    sso_sign_in(provider=PROVIDER, claims=claims(groups=["leads"]))
    assert roles(user) == [("lead", None), ("respondent", "Team B")]


def test_losing_every_group_refuses_the_sign_in(connection):
    user = sso_sign_in(provider=PROVIDER, claims=claims(groups=["team-a"])).user
    with pytest.raises(SignInRefused) as refused:
        sso_sign_in(provider=PROVIDER, claims=claims(groups=["marketing"]))
    assert refused.value.reason == "no_role"
    # Refused in one transaction: the earlier role is still there.
    assert roles(user) == [("respondent", "Team A")]


def test_the_last_lead_of_the_organisation_stays_a_lead(connection):
    user = sso_sign_in(provider=PROVIDER, claims=claims(groups=["leads"])).user
    sso_sign_in(provider=PROVIDER, claims=claims(groups=["team-a"]))
    assert roles(user) == [("lead", None), ("respondent", "Team A")]


def test_an_existing_account_with_the_email_is_linked(connection, respondent_a):
    connection.email_domains = "example.com"
    connection.save()
    signed_in = sso_sign_in(
        provider=PROVIDER, claims=claims(email="Alice@Example.com", groups=["team-b"])
    )
    assert signed_in.user == respondent_a
    assert not signed_in.created
    assert roles(respondent_a) == [("respondent", "Team A"), ("respondent", "Team B")]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("staff", "staff"),
        ("several", "several_accounts"),
        ("inactive", "inactive"),
    ],
)
def test_accounts_that_cannot_be_linked_are_refused(connection, setup, reason):
    User = get_user_model()
    email = "rosa@org-one.example"
    if setup == "staff":
        User.objects.create_user("root", email=email, is_staff=True)
    elif setup == "several":
        User.objects.create_user("rosa1", email=email)
        User.objects.create_user("rosa2", email=email.upper())
    else:
        User.objects.create_user("rosa", email=email, is_active=False)
    with pytest.raises(SignInRefused) as refused:
        sso_sign_in(provider=PROVIDER, claims=claims())
    assert refused.value.reason == reason
    assert not SsoIdentity.objects.exists()


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"email": ""}, "no_email"),
        ({"email_verified": False}, "email_unverified"),
        ({"email": "rosa@elsewhere.example"}, "outside_domains"),
    ],
)
def test_claims_that_do_not_name_a_member_are_refused(connection, extra, reason):
    with pytest.raises(SignInRefused) as refused:
        sso_sign_in(provider=PROVIDER, claims={**claims(), **extra})
    assert refused.value.reason == reason
    assert not get_user_model().objects.exists()


def test_a_sign_in_records_the_person_as_one_of_the_organisations(connection):
    user = sso_sign_in(provider=PROVIDER, claims=claims()).user
    assert Affiliation.objects.get(user=user).source == "sso"


def test_someone_invited_may_sign_in_without_a_group_to_accept(connection, lead):
    from assessment.invitations import invitation_create

    invitation_create(
        organization=connection.organization,
        email="rosa@org-one.example",
        role="respondent",
        team=None,
        by=lead,
        site_url="https://finops.example.com",
    )
    user = sso_sign_in(provider=PROVIDER, claims=claims(groups=["marketing"])).user
    assert roles(user) == []
    assert Affiliation.objects.filter(user=user).exists()


def test_a_disabled_connection_signs_nobody_in(connection):
    connection.enabled = False
    connection.save()
    with pytest.raises(SignInRefused) as refused:
        sso_sign_in(provider=PROVIDER, claims=claims())
    assert refused.value.reason == "no_connection"


# --- ID-token checks that need no provider --------------------------------------------


def _unsigned_token(alg: str) -> str:
    import base64
    import json

    def part(value):
        return (
            base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
        )

    body = {"iss": PROVIDER.issuer, "aud": "portal", "sub": "x", "exp": 9999999999}
    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(body)}.c2ln"


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_hmac_id_tokens_are_refused_before_any_key_is_fetched(alg):
    backend = OidcBackend()
    backend.provider = PROVIDER
    backend.request = RequestFactory().get("/accounts/sso/callback/")
    with pytest.raises(SignInRefused) as refused:
        backend.verify_token(_unsigned_token(alg), nonce="n")
    assert refused.value.reason == "algorithm"
    assert backend.request.sso_refusal is refused.value


def test_deleting_the_organisation_takes_its_single_sign_on_along(connection, lead):
    from assessment.organizations import organization_delete

    user = sso_sign_in(provider=PROVIDER, claims=claims(groups=["team-a"])).user
    organization_delete(organization=connection.organization)
    assert not SsoConnection.objects.exists()
    assert not ManagedMembership.objects.exists()
    assert not Membership.objects.filter(user=user).exists()
    # The person's account and provider link stay: other organisations may use them.
    assert SsoIdentity.objects.get().user == user

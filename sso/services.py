"""Signing in through an identity provider: which organisation, which portal user,
which roles. Called with claims the backend has already verified (signature,
issuer, audience, expiry, nonce).

Each refusal raises ``SignInRefused`` with a message for the person signing in;
the whole sign-in is one transaction, so a refused first sign-in leaves no user
behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessment.access import access_for
from assessment.invitations import organization_affiliate, pending_invitation_for
from assessment.models import Affiliation, Assessment, Cycle, Membership
from finops_portal.audit import audit_record

from . import claims as rules
from .models import ManagedMembership, RoleMapping, SsoConnection, SsoIdentity
from .providers import Provider

NO_CONNECTION_MSG = "No organisation signs in with {provider} on this portal yet."
NO_EMAIL_MSG = (
    "{provider} did not send your email address, which the portal needs to find "
    "your organisation. Ask your administrator to release the email claim to the "
    "portal."
)
EMAIL_UNVERIFIED_MSG = "{provider} has not verified your email address {email}."
OUTSIDE_DOMAINS_MSG = (
    "Your email address {email} is not in a domain of an organisation that signs "
    "in with {provider}. Sign in with your work account, or ask your FinOps lead."
)
NO_ROLE_MSG = (
    "You signed in as {email}, but none of your groups ({groups}) gives you a role "
    "in {org}. Ask your FinOps lead to add you to one of the portal's groups."
)
INACTIVE_MSG = "Your portal account is deactivated. Ask your administrator."
STAFF_EMAIL_MSG = (
    "An administrator account already uses {email}; administrators sign in with "
    "their password."
)
SEVERAL_ACCOUNTS_MSG = (
    "Several portal accounts use {email}. Ask your administrator to merge them."
)
RACE_MSG = "Your account was being set up by another sign-in. Try again."

AUDIT_USER_CREATED = "sso.user_created"
AUDIT_GRANTED = "membership.add"
AUDIT_ROLE = "membership.update_role"
AUDIT_REVOKED = "membership.remove"


class SignInRefused(PermissionDenied):
    """A sign-in the portal refuses; ``message`` says why, to the person."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class SignIn:
    user: object
    connection: SsoConnection
    created: bool


def connection_for(*, provider: Provider, email: str) -> SsoConnection:
    """The enabled connection of ``provider`` whose domains hold ``email``."""
    connections = list(
        SsoConnection.objects.filter(provider=provider.key, enabled=True)
        .select_related("organization")
        .order_by("pk")
    )
    if not connections:
        raise SignInRefused(
            NO_CONNECTION_MSG.format(provider=provider.name), "no_connection"
        )
    domain = rules.email_domain(email)
    for connection in connections:
        if domain and domain in connection.domains:
            return connection
    raise SignInRefused(
        OUTSIDE_DOMAINS_MSG.format(email=email, provider=provider.name),
        "outside_domains",
    )


def _unique_username(email: str) -> str:
    User = get_user_model()
    base = email[:140]
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _user_for(*, provider: Provider, claims: dict, email: str):
    """The portal user of this provider account: linked before, found by email
    (the provider is the authority on its organisation's domains), or created."""
    User = get_user_model()
    identity = (
        SsoIdentity.objects.select_related("user")
        .filter(issuer=provider.issuer, subject=str(claims["sub"]))
        .first()
    )
    created = False
    if identity is not None:
        user = identity.user
    else:
        matches = list(User.objects.filter(email__iexact=email).order_by("pk")[:2])
        if len(matches) > 1:
            raise SignInRefused(
                SEVERAL_ACCOUNTS_MSG.format(email=email), "several_accounts"
            )
        if matches:
            user = matches[0]
            if user.is_staff or user.is_superuser:
                raise SignInRefused(STAFF_EMAIL_MSG.format(email=email), "staff")
        else:
            user = User(username=_unique_username(email), email=email)
            user.set_unusable_password()
            created = True
        identity = SsoIdentity(user=user, issuer=provider.issuer, subject=claims["sub"])
    if not user.is_active:
        raise SignInRefused(INACTIVE_MSG, "inactive")
    user.first_name = str(claims.get("given_name") or user.first_name)[:150]
    user.last_name = str(claims.get("family_name") or user.last_name)[:150]
    if user.email.lower() != email:
        user.email = email
    user.save()
    identity.user = user
    identity.email = email
    identity.last_sign_in_at = timezone.now()
    identity.save()
    return user, created


def _sync_memberships(*, user, connection: SsoConnection, grants: dict) -> None:
    """Give ``user`` the memberships ``grants`` names, and take back the ones an
    earlier sign-in granted that it no longer names. Memberships added by hand
    stay; the organisation's last lead stays a lead."""
    org = connection.organization
    existing = {
        m.team_id: m
        for m in Membership.objects.filter(user=user, organization=org).select_related(
            "team"
        )
    }
    managed = set(
        ManagedMembership.objects.filter(
            connection=connection, membership__user=user
        ).values_list("membership_id", flat=True)
    )
    for team_id, role in grants.items():
        membership = existing.get(team_id)
        if membership is None:
            membership = Membership.objects.create(
                user=user, organization=org, team_id=team_id, role=role
            )
            ManagedMembership.objects.create(
                membership=membership, connection=connection
            )
            where = membership.team.name if membership.team_id else org.name
            audit_record(
                organization=org,
                actor=user,
                action=AUDIT_GRANTED,
                summary=f"Single sign-on made {user.username} "
                f"{membership.get_role_display()} of {where}",
                membership_id=membership.id,
                user_id=user.id,
                role=role,
                team_id=team_id,
                source="sso",
            )
        elif membership.pk in managed and membership.role != role:
            old = membership.role
            membership.role = role
            membership.save(update_fields=["role"])
            audit_record(
                organization=org,
                actor=user,
                action=AUDIT_ROLE,
                summary=f"Single sign-on made {user.username} "
                f"{membership.get_role_display()} (was {Membership.Role(old).label})",
                membership_id=membership.id,
                old=old,
                new=role,
                source="sso",
            )
    for team_id, membership in existing.items():
        if team_id in grants or membership.pk not in managed:
            continue
        if membership.is_lead and _is_last_lead(membership):
            continue
        where = membership.team.name if membership.team_id else org.name
        pk = membership.pk
        membership.delete()
        audit_record(
            organization=org,
            actor=user,
            action=AUDIT_REVOKED,
            summary=f"Single sign-on removed {user.username} from {where} "
            "(no longer in the group)",
            membership_id=pk,
            source="sso",
        )


def _is_last_lead(membership: Membership) -> bool:
    return (
        not Membership.objects.filter(
            organization_id=membership.organization_id, role=Membership.Role.LEAD
        )
        .exclude(pk=membership.pk)
        .exists()
    )


def sso_sign_in(*, provider: Provider, claims: dict) -> SignIn:
    """The portal user for verified ``claims`` of ``provider``, with the roles the
    organisation's groups grant, recorded as one of the organisation's people;
    SignInRefused (and nothing written) if they end up with no role there (unless
    an invitation to the organisation waits for their address)."""
    email = rules.normalise_email(claims.get("email"))
    if not email:
        raise SignInRefused(NO_EMAIL_MSG.format(provider=provider.name), "no_email")
    if not rules.email_verified(claims):
        raise SignInRefused(
            EMAIL_UNVERIFIED_MSG.format(provider=provider.name, email=email),
            "email_unverified",
        )
    connection = connection_for(provider=provider, email=email)
    groups = rules.groups_from(claims, connection.groups_claim)
    mappings = RoleMapping.objects.filter(connection=connection).values_list(
        "group", "role", "team_id"
    )
    grants = rules.grants_for(groups, mappings)
    try:
        with transaction.atomic():
            user, created = _user_for(provider=provider, claims=claims, email=email)
            if created:
                audit_record(
                    organization=connection.organization,
                    actor=None,
                    action=AUDIT_USER_CREATED,
                    summary=f"Single sign-on created the account {user.username}",
                    user_id=user.id,
                    issuer=provider.issuer,
                )
            organization_affiliate(
                organization=connection.organization,
                user=user,
                source=Affiliation.Source.SSO,
            )
            _sync_memberships(user=user, connection=connection, grants=grants)
            # Someone invited by a lead may sign in to accept the invitation.
            if not Membership.objects.filter(
                user=user, organization=connection.organization
            ).exists() and not pending_invitation_for(
                organization=connection.organization, email=email
            ):
                raise SignInRefused(
                    NO_ROLE_MSG.format(
                        email=email,
                        groups=", ".join(groups) or "none",
                        org=connection.organization.name,
                    ),
                    "no_role",
                )
    except IntegrityError:
        raise SignInRefused(RACE_MSG, "race") from None
    return SignIn(user=user, connection=connection, created=created)


def landing_url(user) -> str | None:
    """Where a respondent starts: the one open questionnaire of their teams, if
    there is exactly one; None for everyone else (the home page decides)."""
    access = access_for(user)
    if access.is_lead or not access.team_ids:
        return None
    open_ones = list(
        Assessment.objects.filter(
            team_id__in=access.team_ids, cycle__status=Cycle.Status.OPEN
        )
        .exclude(status=Assessment.Status.SUBMITTED)
        .order_by("pk")[:2]
    )
    return open_ones[0].get_absolute_url() if len(open_ones) == 1 else None

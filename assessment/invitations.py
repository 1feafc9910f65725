"""Who belongs to an organisation, and invitations for everyone else.

A lead gives roles only to the organisation's people: its current members and
its affiliations (people who signed in through its single sign-on, accepted one
of its invitations, or held a role in it). Anyone else gets an invitation by
email and joins when they accept it, so a lead learns nothing about accounts
elsewhere on the installation and enrols nobody without consent.

``invitation_send`` is the one place that sends the email (Django's mail
framework), so that another app can take the sending over.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from finops_portal.audit import audit_record

from .models import Affiliation, Invitation, Membership, Organization, Team

logger = logging.getLogger(__name__)

INVITATION_DAYS = 14
KEY_BYTES = 32

INVITATION_EMAIL_MISMATCH_MSG = (
    "This invitation is for {email}, and you are signed in as {user}. Sign out, "
    "then open the link again."
)
INVITATION_SEND_FAILED_MSG = "Could not send the invitation to %s: %s"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- who belongs --------------------------------------------------------------------


def organization_people(*, organization: Organization) -> QuerySet:
    """The users who belong to the organisation: members and affiliations."""
    return (
        get_user_model()
        .objects.filter(
            Q(memberships__organization=organization)
            | Q(affiliations__organization=organization)
        )
        .distinct()
    )


def organization_affiliate(*, organization: Organization, user, source: str) -> None:
    """Record that ``user`` belongs to the organisation (kept if already known)."""
    try:
        with transaction.atomic():
            Affiliation.objects.get_or_create(
                organization=organization, user=user, defaults={"source": source}
            )
    except IntegrityError:
        pass  # recorded by a concurrent request


# --- invitations --------------------------------------------------------------------


def pending_invitations_everywhere() -> QuerySet[Invitation]:
    """Invitations not yet accepted nor expired, of every organisation."""
    return Invitation.objects.filter(
        accepted_at__isnull=True, expires_at__gt=timezone.now()
    )


def pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    """The organisation's invitations not yet accepted nor expired, newest first."""
    return (
        pending_invitations_everywhere()
        .filter(organization=organization)
        .select_related("team", "invited_by")
        .order_by("-created_at")
    )


def site_url_for(request) -> str:
    """The portal's address for links in emails: PORTAL_URL, else the request's."""
    return settings.PORTAL_URL or request.build_absolute_uri("/")


def accept_url(*, key: str, site_url: str) -> str:
    return site_url.rstrip("/") + reverse("assessment:invitation", args=[key])


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    team: Team | None,
    by=None,
    site_url: str,
) -> Invitation:
    """Invite ``email`` to ``role`` (of ``team``) and send the email after commit.
    Inviting the same address to the same place again renews the invitation (a new
    link; the old one stops working)."""
    email = email.strip().lower()
    key = secrets.token_urlsafe(KEY_BYTES)
    expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
    invitation = (
        pending_invitations_everywhere()
        .filter(organization=organization, email=email, team=team)
        .select_for_update()
        .first()
    )
    if invitation is None:
        invitation = Invitation(organization=organization, email=email, team=team)
    invitation.role = role
    invitation.invited_by = by if by is not None and by.is_authenticated else None
    invitation.key_hash = hash_key(key)
    invitation.expires_at = expires_at
    invitation.save()
    audit_record(
        organization=organization,
        actor=by,
        action="invitation.send",
        summary=f"Invited {email} as {invitation.get_role_display()} of {invitation.where}",
        invitation_id=invitation.id,
        email=email,
        role=role,
        team_id=team.id if team else None,
    )
    transaction.on_commit(
        partial(invitation_send, invitation=invitation, key=key, site_url=site_url),
        robust=True,
    )
    return invitation


def invitation_send(*, invitation: Invitation, key: str, site_url: str) -> bool:
    """Email the invitation's link (Django's mail framework); False if sending
    failed, which is logged: the lead can send it again."""
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "url": accept_url(key=key, site_url=site_url),
        "days": INVITATION_DAYS,
        "inviter": (inviter.get_full_name() or inviter.get_username())
        if inviter
        else "",
    }
    subject = render_to_string(
        "assessment/email/invitation_subject.txt", context
    ).strip()
    body = render_to_string("assessment/email/invitation.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    except Exception as error:  # noqa: BLE001 - mail trouble must not fail the lead
        logger.warning(INVITATION_SEND_FAILED_MSG, invitation.email, error)
        return False
    return True


def invitation_for_key(key: str) -> Invitation | None:
    """The pending invitation of a link's key; None if unknown, used or expired."""
    if not key or len(key) > 200:
        return None
    return (
        Invitation.objects.filter(
            key_hash=hash_key(key),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("organization", "team", "invited_by")
        .first()
    )


def pending_invitation_for(*, organization: Organization, email: str) -> bool:
    return (
        pending_invitations(organization=organization)
        .filter(email=(email or "").strip().lower())
        .exists()
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """``user`` joins as the invitation says; their email must be the invited one."""
    if (user.email or "").lower() != invitation.email:
        raise ValidationError(
            INVITATION_EMAIL_MISMATCH_MSG.format(
                email=invitation.email, user=user.get_username()
            )
        )
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    organization = invitation.organization
    organization_affiliate(
        organization=organization, user=user, source=Affiliation.Source.INVITATION
    )
    membership = Membership.objects.filter(
        user=user, organization=organization, team=invitation.team
    ).first()
    if membership is None:
        membership = Membership.objects.create(
            user=user,
            organization=organization,
            team=invitation.team,
            role=invitation.role,
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        organization=organization,
        actor=user,
        action="invitation.accept",
        summary=f"{user.get_username()} accepted the invitation and is now "
        f"{membership.get_role_display()} of {invitation.where}",
        invitation_id=invitation.id,
        membership_id=membership.id,
        user_id=user.id,
    )
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by=None) -> None:
    """Delete a pending invitation: its link stops working."""
    organization, email, pk = invitation.organization, invitation.email, invitation.pk
    invitation.delete()
    audit_record(
        organization=organization,
        actor=by,
        action="invitation.revoke",
        summary=f"Withdrew the invitation of {email}",
        invitation_id=pk,
    )

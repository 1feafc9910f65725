"""Organisations, their team tree and memberships: the writes a FinOps lead makes.

Services take keyword arguments, validate, write and record an audit event for
every administrative action. Errors are ``ValidationError``s keyed by the argument
name, so forms and API serializers can place each message next to its field.
Reads (the tree, member lists) are in ``selectors``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction

from finops_portal.audit import AuditEvent, audit_record

from .invitations import invitation_create, organization_affiliate, organization_people
from .models import (
    Affiliation,
    Answer,
    AnswerChange,
    Assessment,
    AssessmentReopen,
    CapabilityScore,
    Cycle,
    Invitation,
    Membership,
    Organization,
    RespondentAnswer,
    RespondentAnswerChange,
    RespondentSubmission,
    Settlement,
    Target,
    Team,
)
from .tree import Tree

SLUG_TAKEN_MSG = "An organisation with this slug already exists."
NAME_REQUIRED_MSG = "Enter a name."
TEAM_NAME_TAKEN_MSG = "The organisation already has a team or unit named “{name}”."
TEAM_KIND_INVALID_MSG = "Choose a business unit or a team."
PARENT_OTHER_ORG_MSG = "The parent belongs to another organisation."
PARENT_NOT_UNIT_MSG = "Only a business unit can contain teams."
PARENT_IS_SELF_MSG = "A unit cannot contain itself."
PARENT_IS_DESCENDANT_MSG = "A unit cannot move under one of its own descendants."
UNIT_TO_TEAM_WITH_CHILDREN_MSG = "A business unit with children cannot become a team."
TEAM_HAS_CHILDREN_MSG = (
    "“{name}” still contains {count} unit(s) or team(s). Move or delete them first."
)
TEAM_HAS_ASSESSMENTS_MSG = (
    "“{name}” has assessments in {count} cycle(s), so it cannot be deleted."
)

IDENTIFIER_REQUIRED_MSG = "Enter a username or an email address."
# The same answer whether or not the username exists elsewhere on the installation.
NOT_IN_ORG_MSG = (
    "No one in {org} has that username. To add someone new, enter their email "
    "address: they get an invitation to accept."
)
SEVERAL_USERS_MSG = (
    "Several people of the organisation have that email; use the username."
)
ROLE_INVALID_MSG = "Choose a role."
RESPONDENT_NEEDS_TEAM_MSG = "A respondent needs a team."
TEAM_OTHER_ORG_MSG = "The team belongs to another organisation."
ALREADY_MEMBER_MSG = "{user} is already a member of {where}."
LAST_LEAD_MSG = "The organisation needs at least one lead."


# --- organisations ------------------------------------------------------------------


@transaction.atomic
def organization_create(
    *, name: str, slug: str, anonymity_threshold: int = 5, lead=None
) -> Organization:
    """Create an organisation; with ``lead``, make that user its first lead."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": NAME_REQUIRED_MSG})
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": SLUG_TAKEN_MSG})
    org = Organization(name=name, slug=slug, anonymity_threshold=anonymity_threshold)
    org.full_clean()
    org.save()
    if lead is not None:
        Membership.objects.create(
            user=lead, organization=org, role=Membership.Role.LEAD
        )
    audit_record(
        organization=org,
        actor=lead,
        action="organization.create",
        summary=f"Created organisation {org.name}",
    )
    return org


def organization_delete(*, organization: Organization) -> None:
    """Delete an organisation and everything under it, the big tables first with
    set-based deletes (a cascading ORM delete would load every answer).

    Rows of higher apps that hang off a cycle, an assessment or a team (roll-ups,
    evidence, plans) go with them through their foreign keys' cascades: the
    tables of this app are emptied first, so what is left for the ORM is small."""
    org_id = organization.pk
    cycles = f"SELECT id FROM {Cycle._meta.db_table} WHERE organization_id = %s"
    assessments = (
        f"SELECT id FROM {Assessment._meta.db_table} WHERE cycle_id IN ({cycles})"
    )
    answers = (
        f"SELECT id FROM {Answer._meta.db_table} WHERE assessment_id IN ({assessments})"
    )
    statements: list[tuple[type[models.Model], str]] = [
        (AnswerChange, f"answer_id IN ({answers})"),
        (Answer, f"assessment_id IN ({assessments})"),
        (CapabilityScore, f"assessment_id IN ({assessments})"),
        (AssessmentReopen, f"assessment_id IN ({assessments})"),
        (
            RespondentAnswerChange,
            f"answer_id IN (SELECT id FROM {RespondentAnswer._meta.db_table}"
            f" WHERE assessment_id IN ({assessments}))",
        ),
        (RespondentAnswer, f"assessment_id IN ({assessments})"),
        (RespondentSubmission, f"assessment_id IN ({assessments})"),
        (Settlement, f"assessment_id IN ({assessments})"),
        (Assessment, f"cycle_id IN ({cycles})"),
        (Cycle.teams.through, f"cycle_id IN ({cycles})"),
        (Cycle.capabilities.through, f"cycle_id IN ({cycles})"),
        (Target, "organization_id = %s"),
        (Membership, "organization_id = %s"),
        (AuditEvent, "organization_id = %s"),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for model, where in statements:
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE {where}",
                [org_id] * where.count("%s"),
            )
        # Teams protect their parents: detach the tree, then the ORM removes what
        # is left (now small), including rows of models added later.
        Team.objects.filter(organization_id=org_id).update(parent=None)
        Organization.objects.filter(pk=org_id).delete()


# --- teams --------------------------------------------------------------------------


def _check_team_name(*, organization: Organization, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": NAME_REQUIRED_MSG})
    clash = Team.objects.filter(organization=organization, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": TEAM_NAME_TAKEN_MSG.format(name=name)})
    return name


def _check_parent(*, organization: Organization, parent: Team | None) -> None:
    if parent is None:
        return
    if parent.organization_id != organization.id:
        raise ValidationError({"parent": PARENT_OTHER_ORG_MSG})
    if not parent.is_business_unit:
        raise ValidationError({"parent": PARENT_NOT_UNIT_MSG})


@transaction.atomic
def team_create(
    *,
    organization: Organization,
    name: str,
    parent: Team | None = None,
    kind: str = Team.Kind.TEAM,
    user=None,
) -> Team:
    """Add a business unit or team, at the top or under a business unit."""
    if kind not in Team.Kind.values:
        raise ValidationError({"kind": TEAM_KIND_INVALID_MSG})
    name = _check_team_name(organization=organization, name=name)
    _check_parent(organization=organization, parent=parent)
    try:
        with transaction.atomic():
            team = Team.objects.create(
                organization=organization, name=name, parent=parent, kind=kind
            )
    except IntegrityError as exc:  # a concurrent create took the name
        raise ValidationError({"name": TEAM_NAME_TAKEN_MSG.format(name=name)}) from exc
    audit_record(
        organization=organization,
        actor=user,
        action="team.create",
        summary=f"Added {team.get_kind_display().lower()} {team.name}",
        team_id=team.id,
        parent_id=parent.id if parent else None,
    )
    return team


def _descendant_ids(team: Team) -> set[int]:
    """Ids under ``team`` (one query: the organisation's parent links)."""
    links = Team.objects.filter(organization_id=team.organization_id).values_list(
        "id", "parent_id"
    )
    return Tree(links).descendants(team.id)


@transaction.atomic
def team_update(
    *,
    team: Team,
    name: str | None = None,
    parent: Team | None = None,
    to_root: bool = False,
    kind: str | None = None,
    user=None,
) -> Team:
    """Rename and/or move a node. ``parent=None`` keeps the parent; ``to_root=True``
    moves the node to the top level. Refuses moves that would create a cycle."""
    changes: dict = {}
    if name is not None and name.strip() != team.name:
        new_name = _check_team_name(
            organization=team.organization, name=name, exclude_pk=team.pk
        )
        changes["name"] = [team.name, new_name]
        team.name = new_name
    if kind is not None and kind != team.kind:
        if kind not in Team.Kind.values:
            raise ValidationError({"kind": TEAM_KIND_INVALID_MSG})
        if kind == Team.Kind.TEAM and team.children.exists():
            raise ValidationError({"kind": UNIT_TO_TEAM_WITH_CHILDREN_MSG})
        changes["kind"] = [team.kind, kind]
        team.kind = kind
    if to_root:
        if team.parent_id is not None:
            changes["parent_id"] = [team.parent_id, None]
            team.parent = None
    elif parent is not None and parent.id != team.parent_id:
        _check_parent(organization=team.organization, parent=parent)
        if parent.id == team.id:
            raise ValidationError({"parent": PARENT_IS_SELF_MSG})
        if parent.id in _descendant_ids(team):
            raise ValidationError({"parent": PARENT_IS_DESCENDANT_MSG})
        changes["parent_id"] = [team.parent_id, parent.id]
        team.parent = parent
    if not changes:
        return team
    try:
        with transaction.atomic():
            team.save(update_fields=["name", "parent", "kind"])
    except IntegrityError as exc:
        raise ValidationError(
            {"name": TEAM_NAME_TAKEN_MSG.format(name=team.name)}
        ) from exc
    audit_record(
        organization=team.organization,
        actor=user,
        action="team.update",
        summary=f"Changed {team.get_kind_display().lower()} {team.name}",
        team_id=team.id,
        changes=changes,
    )
    return team


@transaction.atomic
def team_delete(*, team: Team, user=None) -> None:
    """Delete an empty node: refused while it has children or assessments."""
    children = team.children.count()
    if children:
        raise ValidationError(
            TEAM_HAS_CHILDREN_MSG.format(name=team.name, count=children)
        )
    cycles = team.assessments.count()
    if cycles:
        raise ValidationError(
            TEAM_HAS_ASSESSMENTS_MSG.format(name=team.name, count=cycles)
        )
    organization, name, pk = team.organization, team.name, team.pk
    team.delete()
    audit_record(
        organization=organization,
        actor=user,
        action="team.delete",
        summary=f"Deleted {name}",
        team_id=pk,
    )


# --- memberships --------------------------------------------------------------------


def _find_member(*, organization: Organization, identifier: str):
    """One of the organisation's people, by username or email; None if none is."""
    people = organization_people(organization=organization)
    by_name = people.filter(username__iexact=identifier).first()
    if by_name is not None:
        return by_name
    by_email = list(people.filter(email__iexact=identifier)[:2])
    if len(by_email) > 1:
        raise ValidationError({"identifier": SEVERAL_USERS_MSG})
    return by_email[0] if by_email else None


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _check_role_and_team(
    *, organization: Organization, role: str, team: Team | None
) -> None:
    if role not in Membership.Role.values:
        raise ValidationError({"role": ROLE_INVALID_MSG})
    if team is not None and team.organization_id != organization.id:
        raise ValidationError({"team": TEAM_OTHER_ORG_MSG})
    if role == Membership.Role.RESPONDENT and team is None:
        raise ValidationError({"team": RESPONDENT_NEEDS_TEAM_MSG})


def _is_last_lead(membership: Membership) -> bool:
    if membership.role != Membership.Role.LEAD:
        return False
    return (
        not Membership.objects.filter(
            organization_id=membership.organization_id, role=Membership.Role.LEAD
        )
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def membership_add(
    *,
    organization: Organization,
    identifier: str,
    role: str,
    team: Team | None = None,
    by=None,
    site_url: str = "",
) -> Membership | Invitation:
    """Give one of the organisation's people (found by username or email) a role;
    anyone else, named by email, gets an invitation to accept (sent after commit,
    its link on ``site_url``). Nothing tells whether an outside address or
    username has an account elsewhere on the installation: an address is invited
    either way, a username is refused either way."""
    identifier = (identifier or "").strip()
    if not identifier:
        raise ValidationError({"identifier": IDENTIFIER_REQUIRED_MSG})
    _check_role_and_team(organization=organization, role=role, team=team)
    user = _find_member(organization=organization, identifier=identifier)
    if user is None:
        if _is_email(identifier):
            return invitation_create(
                organization=organization,
                email=identifier,
                role=role,
                team=team,
                by=by,
                site_url=site_url,
            )
        raise ValidationError(
            {"identifier": NOT_IN_ORG_MSG.format(org=organization.name)}
        )
    where = team.name if team is not None else organization.name
    duplicate = Membership.objects.filter(
        user=user, organization=organization, team=team
    )
    if duplicate.exists():
        raise ValidationError(
            {"identifier": ALREADY_MEMBER_MSG.format(user=user.username, where=where)}
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, organization=organization, team=team, role=role
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"identifier": ALREADY_MEMBER_MSG.format(user=user.username, where=where)}
        ) from exc
    audit_record(
        organization=organization,
        actor=by,
        action="membership.add",
        summary=f"Added {user.username} as {membership.get_role_display()} of {where}",
        membership_id=membership.id,
        user_id=user.id,
        role=role,
        team_id=team.id if team else None,
    )
    return membership


@transaction.atomic
def membership_update_role(*, membership: Membership, role: str, by=None) -> Membership:
    """Change a member's role; respondents need a team, and the last lead stays one."""
    _check_role_and_team(
        organization=membership.organization, role=role, team=membership.team
    )
    if role == membership.role:
        return membership
    if _is_last_lead(membership):
        raise ValidationError({"role": LAST_LEAD_MSG})
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        organization=membership.organization,
        actor=by,
        action="membership.update_role",
        summary=(
            f"Made {membership.user.username} {membership.get_role_display()}"
            f" (was {Membership.Role(old).label})"
        ),
        membership_id=membership.id,
        old=old,
        new=role,
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by=None) -> None:
    """Remove a membership; the organisation's last lead cannot be removed."""
    if _is_last_lead(membership):
        raise ValidationError(LAST_LEAD_MSG)
    org, username = membership.organization, membership.user.username
    where = membership.team.name if membership.team is not None else org.name
    pk = membership.pk
    # Still one of the organisation's people: a lead may give them a role again.
    organization_affiliate(
        organization=org, user=membership.user, source=Affiliation.Source.MEMBERSHIP
    )
    membership.delete()
    audit_record(
        organization=org,
        actor=by,
        action="membership.remove",
        summary=f"Removed {username} from {where}",
        membership_id=pk,
    )

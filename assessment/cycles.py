"""Services and selectors for what a FinOps lead administers: organisations, their
team tree, memberships and assessment cycles, plus the cycle's completion board.

Services take keyword arguments, validate, write, and record an ``AuditEvent`` for
every administrative action. Errors are ``ValidationError``s keyed by the argument
name, so forms and API serializers can place each message next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from capabilities.models import Capability, Framework, Lens, Question

from .models import (
    Assessment,
    AssessmentReopen,
    AuditEvent,
    Cycle,
    Membership,
    Organization,
    Team,
)

# --- messages ---------------------------------------------------------------------

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

NO_USER_MSG = "No user with that username or email."
SEVERAL_USERS_MSG = "Several users have that email; use the username."
ROLE_INVALID_MSG = "Choose a role."
RESPONDENT_NEEDS_TEAM_MSG = "A respondent needs a team."
TEAM_OTHER_ORG_MSG = "The team belongs to another organisation."
ALREADY_MEMBER_MSG = "{user} is already a member of {where}."
LAST_LEAD_MSG = "The organisation needs at least one lead."

FRAMEWORK_NOT_PUBLISHED_MSG = "Only a published framework can be used."
CYCLE_NAME_TAKEN_MSG = "The organisation already has a cycle named “{name}”."
CLOSES_BEFORE_OPENS_MSG = "The due date cannot be before the opening date."
TEAMS_OTHER_ORG_MSG = "Some teams do not belong to this organisation."
TEAMS_NOT_TEAMS_MSG = "Only teams can be assessed, not business units."
NO_TEAMS_MSG = "Choose at least one team (add teams to the organisation first)."
CAPABILITIES_OTHER_FRAMEWORK_MSG = "Some capabilities are not in the chosen framework."
LENS_WEIGHTS_NOT_A_MAPPING_MSG = "Lens weights must map lens keys to numbers."
LENS_WEIGHTS_UNKNOWN_MSG = (
    "Unknown lens key(s): {keys}. The framework's lenses are {known}."
)
LENS_WEIGHTS_MISSING_MSG = "Give a weight for every lens; missing: {keys}."
LENS_WEIGHT_NOT_POSITIVE_MSG = "The weight of {key} must be a positive number."
CYCLE_NOT_PLANNED_MSG = (
    "Teams, capabilities and lens weights can only change while the cycle is planned."
)
CYCLE_CLOSED_MSG = "A closed cycle cannot be changed."
CYCLE_OPEN_CLOSED_MSG = "A closed cycle cannot be opened again."
CYCLE_CLOSE_PLANNED_MSG = "Only an open cycle can be closed."

# The FinOps Foundation's example weighting (Knowledge 30, Process 25, Metrics 20,
# Adoption 20, Automation 5).
FOUNDATION_LENS_WEIGHTS = {
    "knowledge": 30,
    "process": 25,
    "metrics": 20,
    "adoption": 20,
    "automation": 5,
}
LENS_WEIGHT_PRESETS = {
    "default": {},
    "foundation": FOUNDATION_LENS_WEIGHTS,
}

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --- audit ------------------------------------------------------------------------


def _audit(
    *, organization: Organization | None, actor, action: str, summary: str, **detail
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        summary=summary[:500],
        detail=detail,
    )


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
    _audit(
        organization=org,
        actor=lead,
        action="organization.create",
        summary=f"Created organisation {org.name}",
    )
    return org


def organization_list_for_lead(*, user) -> QuerySet[Organization]:
    """Organisations the user leads (every organisation for staff), by name."""
    qs = Organization.objects.all()
    if not user.is_staff:
        qs = qs.filter(
            memberships__user=user, memberships__role=Membership.Role.LEAD
        ).distinct()
    return qs.order_by("name")


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
    _audit(
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
    children: dict[int, list[int]] = {}
    for pk, parent_id in links:
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    frontier = [team.id]
    while frontier:
        pk = frontier.pop()
        for child in children.get(pk, ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


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
    _audit(
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
    _audit(
        organization=organization,
        actor=user,
        action="team.delete",
        summary=f"Deleted {name}",
        team_id=pk,
    )


@dataclass
class TreeNode:
    """One node of an organisation's tree, in display order."""

    team: Team
    depth: int
    path: str  # names of the business units above it, "Retail / Online"
    children: int = 0
    teams_below: int = 0
    members: int = 0

    @property
    def is_business_unit(self) -> bool:
        return self.team.is_business_unit


def _count_subquery(model, fk: str) -> Coalesce:
    counts = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def team_tree(*, organization: Organization) -> list[TreeNode]:
    """The organisation's teams depth-first, siblings by name (units before teams),
    each with its depth, path and counts. One query."""
    teams = list(
        Team.objects.filter(organization=organization).annotate(
            member_count=_count_subquery(Membership, "team")
        )
    )
    by_parent: dict[int | None, list[Team]] = {}
    known = {t.id for t in teams}
    for t in teams:
        parent_id = t.parent_id if t.parent_id in known else None
        by_parent.setdefault(parent_id, []).append(t)
    for siblings in by_parent.values():
        siblings.sort(key=lambda t: (not t.is_business_unit, t.name.lower()))

    nodes: list[TreeNode] = []

    def walk(parent_id, depth: int, path: list[str]) -> int:
        teams_below = 0
        for t in by_parent.get(parent_id, []):
            node = TreeNode(
                team=t,
                depth=depth,
                path=" / ".join(path),
                children=len(by_parent.get(t.id, [])),
                members=t.member_count,
            )
            nodes.append(node)
            below = walk(t.id, depth + 1, [*path, t.name])
            node.teams_below = below
            teams_below += below + (0 if t.is_business_unit else 1)
        return teams_below

    walk(None, 0, [])
    return nodes


def _unit_paths(*, organization_id: int) -> dict[int, str]:
    """Team id -> the names of the units above it ("Retail / Online"). One query."""
    rows = {
        pk: (parent_id, name)
        for pk, parent_id, name in Team.objects.filter(
            organization_id=organization_id
        ).values_list("id", "parent_id", "name")
    }
    paths: dict[int, str] = {}
    for pk in rows:
        names: list[str] = []
        seen = {pk}
        parent_id = rows[pk][0]
        while parent_id is not None and parent_id in rows and parent_id not in seen:
            seen.add(parent_id)
            names.append(rows[parent_id][1])
            parent_id = rows[parent_id][0]
        paths[pk] = " / ".join(reversed(names))
    return paths


# --- memberships --------------------------------------------------------------------


def _find_user(identifier: str):
    identifier = (identifier or "").strip()
    if not identifier:
        raise ValidationError({"identifier": NO_USER_MSG})
    User = get_user_model()
    by_name = User.objects.filter(username__iexact=identifier).first()
    if by_name is not None:
        return by_name
    by_email = list(User.objects.filter(email__iexact=identifier)[:2])
    if not by_email:
        raise ValidationError({"identifier": NO_USER_MSG})
    if len(by_email) > 1:
        raise ValidationError({"identifier": SEVERAL_USERS_MSG})
    return by_email[0]


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
) -> Membership:
    """Give an existing user (found by username or email) a role in the organisation."""
    user = _find_user(identifier)
    _check_role_and_team(organization=organization, role=role, team=team)
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
    _audit(
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
    _audit(
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
    where = membership.team.name if membership.team_id else org.name
    pk = membership.pk
    membership.delete()
    _audit(
        organization=org,
        actor=by,
        action="membership.remove",
        summary=f"Removed {username} from {where}",
        membership_id=pk,
    )


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    """The organisation's memberships with user and team, by username."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user", "team")
        .order_by("user__username", "team__name")
    )


# --- cycles -------------------------------------------------------------------------


def _parse_lens_weights(*, framework: Framework, lens_weights) -> dict:
    """Validate ``{lens key: positive number}``; empty means the framework default."""
    if not lens_weights:
        return {}
    if not isinstance(lens_weights, dict):
        raise ValidationError({"lens_weights": LENS_WEIGHTS_NOT_A_MAPPING_MSG})
    known = list(
        Lens.objects.filter(framework=framework)
        .order_by("order", "id")
        .values_list("key", flat=True)
    )
    unknown = sorted(set(lens_weights) - set(known))
    if unknown:
        raise ValidationError(
            {
                "lens_weights": LENS_WEIGHTS_UNKNOWN_MSG.format(
                    keys=", ".join(map(str, unknown)), known=", ".join(known)
                )
            }
        )
    missing = [k for k in known if k not in lens_weights]
    if missing:
        raise ValidationError(
            {"lens_weights": LENS_WEIGHTS_MISSING_MSG.format(keys=", ".join(missing))}
        )
    weights: dict = {}
    for key in known:
        value = lens_weights[key]
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            number = None
        if isinstance(value, bool) or number is None or not number.is_finite():
            number = None
        if number is None or number <= 0:
            raise ValidationError(
                {"lens_weights": LENS_WEIGHT_NOT_POSITIVE_MSG.format(key=key)}
            )
        weights[key] = int(number) if number == number.to_integral() else float(number)
    return weights


def _check_dates(opens_on: date | None, closes_on: date | None) -> None:
    if opens_on and closes_on and closes_on < opens_on:
        raise ValidationError({"closes_on": CLOSES_BEFORE_OPENS_MSG})


def _scope_teams(*, organization: Organization, team_ids) -> list[int]:
    if team_ids is None:
        ids = list(
            Team.objects.filter(
                organization=organization, kind=Team.Kind.TEAM
            ).values_list("id", flat=True)
        )
    else:
        wanted = {int(pk) for pk in team_ids}
        rows = list(
            Team.objects.filter(pk__in=wanted).values_list(
                "id", "organization_id", "kind"
            )
        )
        if len(rows) != len(wanted) or any(
            org_id != organization.id for _pk, org_id, _kind in rows
        ):
            raise ValidationError({"team_ids": TEAMS_OTHER_ORG_MSG})
        if any(kind != Team.Kind.TEAM for _pk, _org, kind in rows):
            raise ValidationError({"team_ids": TEAMS_NOT_TEAMS_MSG})
        ids = [pk for pk, _org, _kind in rows]
    if not ids:
        raise ValidationError({"team_ids": NO_TEAMS_MSG})
    return ids


def _scope_capabilities(*, framework: Framework, capability_ids) -> list[int]:
    """Capability ids in scope; an empty list means every capability."""
    if not capability_ids:
        return []
    wanted = {int(pk) for pk in capability_ids}
    found = set(
        Capability.objects.filter(pk__in=wanted, framework=framework).values_list(
            "id", flat=True
        )
    )
    if found != wanted:
        raise ValidationError({"capability_ids": CAPABILITIES_OTHER_FRAMEWORK_MSG})
    return sorted(found)


@transaction.atomic
def cycle_create(
    *,
    organization: Organization,
    framework: Framework,
    name: str,
    opens_on: date | None = None,
    closes_on: date | None = None,
    team_ids=None,
    capability_ids=None,
    lens_weights=None,
    user=None,
) -> Cycle:
    """Plan a cycle. Teams default to every team of the organisation (not business
    units), capabilities to all of the framework, lens weights to its default."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": NAME_REQUIRED_MSG})
    if framework is None or framework.status != Framework.Status.PUBLISHED:
        raise ValidationError({"framework": FRAMEWORK_NOT_PUBLISHED_MSG})
    if Cycle.objects.filter(organization=organization, name__iexact=name).exists():
        raise ValidationError({"name": CYCLE_NAME_TAKEN_MSG.format(name=name)})
    _check_dates(opens_on, closes_on)
    teams = _scope_teams(organization=organization, team_ids=team_ids)
    capabilities = _scope_capabilities(
        framework=framework, capability_ids=capability_ids
    )
    weights = _parse_lens_weights(framework=framework, lens_weights=lens_weights)
    cycle = Cycle.objects.create(
        organization=organization,
        framework=framework,
        name=name,
        opens_on=opens_on,
        closes_on=closes_on,
        lens_weights=weights,
    )
    cycle.teams.set(teams)
    if capabilities:
        cycle.capabilities.set(capabilities)
    _audit(
        organization=organization,
        actor=user,
        action="cycle.create",
        summary=f"Planned cycle {cycle.name} ({framework}, {len(teams)} teams)",
        cycle_id=cycle.id,
        framework_id=framework.id,
        teams=len(teams),
        capabilities=len(capabilities) or "all",
        lens_weights=weights,
    )
    return cycle


_UNCHANGED = object()


@transaction.atomic
def cycle_update(
    *,
    cycle: Cycle,
    name: str | None = None,
    opens_on=_UNCHANGED,
    closes_on=_UNCHANGED,
    team_ids=None,
    capability_ids=None,
    lens_weights=None,
    user=None,
) -> Cycle:
    """Edit a cycle. Name and dates change until it closes; teams, capabilities and
    lens weights only while it is planned. ``None`` leaves a value as it is;
    ``capability_ids=[]`` means all capabilities, ``lens_weights={}`` the default."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.is_closed:
        raise ValidationError(CYCLE_CLOSED_MSG)
    scope_change = any(v is not None for v in (team_ids, capability_ids, lens_weights))
    if scope_change and cycle.status != Cycle.Status.PLANNED:
        raise ValidationError(CYCLE_NOT_PLANNED_MSG)
    changes: dict = {}
    fields: list[str] = []
    if name is not None and name.strip() != cycle.name:
        new_name = name.strip()
        if not new_name:
            raise ValidationError({"name": NAME_REQUIRED_MSG})
        if (
            Cycle.objects.filter(
                organization_id=cycle.organization_id, name__iexact=new_name
            )
            .exclude(pk=cycle.pk)
            .exists()
        ):
            raise ValidationError({"name": CYCLE_NAME_TAKEN_MSG.format(name=new_name)})
        changes["name"] = [cycle.name, new_name]
        cycle.name = new_name
        fields.append("name")
    new_opens = cycle.opens_on if opens_on is _UNCHANGED else opens_on
    new_closes = cycle.closes_on if closes_on is _UNCHANGED else closes_on
    _check_dates(new_opens, new_closes)
    if new_opens != cycle.opens_on:
        changes["opens_on"] = [str(cycle.opens_on), str(new_opens)]
        cycle.opens_on = new_opens
        fields.append("opens_on")
    if new_closes != cycle.closes_on:
        changes["closes_on"] = [str(cycle.closes_on), str(new_closes)]
        cycle.closes_on = new_closes
        fields.append("closes_on")
    if lens_weights is not None:
        weights = _parse_lens_weights(
            framework=cycle.framework, lens_weights=lens_weights
        )
        if weights != cycle.lens_weights:
            changes["lens_weights"] = [cycle.lens_weights, weights]
            cycle.lens_weights = weights
            fields.append("lens_weights")
    if fields:
        cycle.save(update_fields=fields)
    if team_ids is not None:
        teams = _scope_teams(organization=cycle.organization, team_ids=team_ids)
        cycle.teams.set(teams)
        changes["teams"] = len(teams)
    if capability_ids is not None:
        caps = _scope_capabilities(
            framework=cycle.framework, capability_ids=capability_ids
        )
        cycle.capabilities.set(caps)
        changes["capabilities"] = len(caps) or "all"
    if changes:
        _audit(
            organization=cycle.organization,
            actor=user,
            action="cycle.update",
            summary=f"Changed cycle {cycle.name}",
            cycle_id=cycle.id,
            changes=changes,
        )
    return cycle


@transaction.atomic
def cycle_open(*, cycle: Cycle, user=None) -> Cycle:
    """Open a planned cycle: one assessment per team in scope. Idempotent: opening an
    open cycle only adds assessments that are missing."""
    cycle = (
        Cycle.objects.select_for_update()
        .select_related("organization", "framework")
        .get(pk=cycle.pk)
    )
    if cycle.is_closed:
        raise ValidationError(CYCLE_OPEN_CLOSED_MSG)
    team_ids = list(cycle.teams.values_list("id", flat=True))
    if not team_ids:
        raise ValidationError(NO_TEAMS_MSG)
    created = Assessment.objects.bulk_create(
        [Assessment(cycle=cycle, team_id=pk) for pk in team_ids],
        ignore_conflicts=True,
    )
    if cycle.status == Cycle.Status.PLANNED:
        cycle.status = Cycle.Status.OPEN
        cycle.opened_at = timezone.now()
        cycle.save(update_fields=["status", "opened_at"])
        _audit(
            organization=cycle.organization,
            actor=user,
            action="cycle.open",
            summary=f"Opened cycle {cycle.name} for {len(created)} teams",
            cycle_id=cycle.id,
            teams=len(team_ids),
        )
    return cycle


@transaction.atomic
def cycle_close(*, cycle: Cycle, user=None) -> Cycle:
    """Close an open cycle: nothing more is written to it. Closing twice is a no-op."""
    cycle = (
        Cycle.objects.select_for_update()
        .select_related("organization")
        .get(pk=cycle.pk)
    )
    if cycle.is_closed:
        return cycle
    if cycle.status != Cycle.Status.OPEN:
        raise ValidationError(CYCLE_CLOSE_PLANNED_MSG)
    cycle.status = Cycle.Status.CLOSED
    cycle.closed_at = timezone.now()
    cycle.save(update_fields=["status", "closed_at"])
    _audit(
        organization=cycle.organization,
        actor=user,
        action="cycle.close",
        summary=f"Closed cycle {cycle.name}",
        cycle_id=cycle.id,
    )
    return cycle


def cycle_list(*, organization: Organization) -> QuerySet[Cycle]:
    """The organisation's cycles, newest first, with team/assessment/submitted counts."""
    return (
        Cycle.objects.filter(organization=organization)
        .select_related("framework")
        .annotate(
            team_count=_count_subquery(Cycle.teams.through, "cycle"),
            assessment_count=Count("assessments", distinct=True),
            submitted_count=Count(
                "assessments",
                filter=Q(assessments__status=Assessment.Status.SUBMITTED),
                distinct=True,
            ),
        )
        .order_by("-created_at", "-id")
    )


def cycle_capability_ids(*, cycle: Cycle) -> list[int]:
    """Capabilities in scope; an empty list means every capability of the framework."""
    return list(cycle.capabilities.values_list("id", flat=True))


def cycle_question_count(*, cycle: Cycle, capability_ids: list[int]) -> int:
    questions = Question.objects.filter(capability__framework_id=cycle.framework_id)
    if capability_ids:
        questions = questions.filter(capability_id__in=capability_ids)
    return questions.count()


def cycle_completion(*, cycle: Cycle) -> list[dict]:
    """Per team of the cycle: status, answered of total questions, percent, last
    activity and submission, ordered by business unit path then team name.
    Four queries, whatever the number of teams."""
    capability_ids = cycle_capability_ids(cycle=cycle)
    total = cycle_question_count(cycle=cycle, capability_ids=capability_ids)
    answered = Q(answers__option__isnull=False) | Q(answers__not_applicable=True)
    if capability_ids:
        answered &= Q(answers__question__capability_id__in=capability_ids)
    assessments = (
        Assessment.objects.filter(cycle=cycle)
        .select_related("team", "submitted_by")
        .annotate(
            answered=Count("answers", filter=answered),
            latest_answer_at=Max("answers__updated_at"),
        )
        .order_by()
    )
    paths = _unit_paths(organization_id=cycle.organization_id)
    rows = []
    for a in assessments:
        done = min(a.answered, total)
        rows.append(
            {
                "assessment_id": a.id,
                "team": a.team,
                "team_id": a.team_id,
                "team_name": a.team.name,
                "unit_path": paths.get(a.team_id, ""),
                "status": a.status,
                "status_label": a.get_status_display(),
                "answered": done,
                "total": total,
                "percent": round(done * 100 / total) if total else 0,
                "last_activity_at": _latest(a.last_activity_at, a.latest_answer_at),
                "submitted_at": a.submitted_at,
                "submitted_by": a.submitted_by.get_username() if a.submitted_by else "",
            }
        )
    rows.sort(key=lambda r: (r["unit_path"].lower(), r["team_name"].lower()))
    return rows


def _latest(*values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def completion_summary(rows: list[dict]) -> dict:
    """Counts for the line above the board: submitted n of N, and so on."""
    counts = {status: 0 for status in Assessment.Status.values}
    for row in rows:
        counts[row["status"]] += 1
    total = len(rows)
    submitted = counts[Assessment.Status.SUBMITTED]
    return {
        "total": total,
        "submitted": submitted,
        "in_progress": counts[Assessment.Status.IN_PROGRESS],
        "not_started": counts[Assessment.Status.NOT_STARTED],
        "percent": round(submitted * 100 / total) if total else 0,
    }


def open_cycle_summaries(*, organization: Organization) -> list[Cycle]:
    """Open cycles of the organisation with submitted/assessment counts and percent."""
    cycles = list(
        cycle_list(organization=organization).filter(status=Cycle.Status.OPEN)
    )
    for c in cycles:
        c.submitted_percent = (
            round(c.submitted_count * 100 / c.assessment_count)
            if c.assessment_count
            else 0
        )
    return cycles


def csv_safe(value) -> str:
    """A cell value that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(CSV_FORMULA_PREFIXES):
        return "'" + text
    return text


COMPLETION_CSV_HEADER = [
    "business unit",
    "team",
    "status",
    "answered",
    "total",
    "percent",
    "last activity",
    "submitted at",
    "submitted by",
]


def completion_csv_rows(rows: list[dict]) -> list[list[str]]:
    """The completion board as CSV rows (header first), safe against formula injection."""

    def when(value) -> str:
        return value.isoformat(timespec="seconds") if value else ""

    out = [COMPLETION_CSV_HEADER]
    for r in rows:
        out.append(
            [
                csv_safe(v)
                for v in (
                    r["unit_path"],
                    r["team_name"],
                    r["status_label"],
                    r["answered"],
                    r["total"],
                    r["percent"],
                    when(r["last_activity_at"]),
                    when(r["submitted_at"]),
                    r["submitted_by"],
                )
            ]
        )
    return out


def cycle_reopen_list(*, cycle: Cycle) -> QuerySet[AssessmentReopen]:
    """Reopen reasons of the cycle's assessments, newest first."""
    return (
        AssessmentReopen.objects.filter(assessment__cycle=cycle)
        .select_related("assessment__team", "reopened_by")
        .order_by("-reopened_at", "-id")
    )


def audit_event_list(*, organization: Organization) -> QuerySet[AuditEvent]:
    """The organisation's audit trail, newest first."""
    return (
        AuditEvent.objects.filter(organization=organization)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def published_framework_list() -> QuerySet[Framework]:
    """Framework versions a cycle may use."""
    return Framework.objects.filter(status=Framework.Status.PUBLISHED).order_by(
        "slug", "-version"
    )

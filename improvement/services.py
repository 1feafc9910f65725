"""Improvement plans and initiatives: every write goes through here.

Writes validate first and raise ``ValidationError`` with a message per field (so
a form shows it beside the field and the API answers 400), then write the row,
its history (``ActionItemChange``) and an audit event in one transaction, and
publish an event (``action_item.created`` / ``.changed`` / ``.done``) that
webhooks and notifications read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assessment.models import Membership, Organization, Team
from capabilities.models import Capability, Lens, Recommendation
from finops_portal.audit import audit_record
from finops_portal.errors import DomainError
from finops_portal.events import event_publish

from .models import ActionItem, ActionItemChange, Initiative

OWNER_NOT_MEMBER_MSG = "{user} is not a member of {team}: choose one of its members."
DUE_PAST_WARNING = "The due date {due} is in the past; the item was saved anyway."
DROP_REASON_MSG = "Say why the item is dropped."
UNKNOWN_CAPABILITY_MSG = "No capability has the key {key}."
UNKNOWN_LENS_MSG = "No lens has the key {key}."
TITLE_MSG = "Give the item a title."
STATUS_MSG = "Choose planned, in progress, done or dropped."
LINK_MSG = "Enter web addresses starting with http:// or https://, one a line."
LINKS_MAX = 10
LINKS_MAX_MSG = f"At most {LINKS_MAX} links."
CONFLICT_MSG = "Someone changed this item meanwhile; reload it and try again."
TEAM_KIND_MSG = "An improvement plan belongs to a team, not a business unit."
TARGET_MSG = "Enter a target between 1 and 100 percent."
INITIATIVE_NAME_MSG = "Give the initiative a name."
INITIATIVE_NAME_TAKEN_MSG = "Another initiative of the organisation has that name."
INITIATIVE_SCOPE_MSG = "Choose at least one business unit or team."
DUE_MSG = "Enter a due date."

EDITABLE_FIELDS = (
    "title",
    "description",
    "capability_key",
    "lens_key",
    "owner_id",
    "due_on",
    "status",
    "drop_reason",
    "expected_effect",
    "links",
)


class ScopeNotFound(DomainError):
    """An initiative named a team outside the organisation: answered as 404, so
    nothing tells whether the team exists elsewhere."""

    http_status = 404
    default_message = "Not found."


class ActionConflict(DomainError):
    http_status = 409
    default_message = CONFLICT_MSG


@dataclass
class Saved:
    """A saved action item and the warnings to show (a due date in the past)."""

    item: ActionItem
    warnings: list[str] = field(default_factory=list)


# --- rules ------------------------------------------------------------------------


def team_member_ids(*, team: Team) -> set[int]:
    """Users who may own the team's items: members of the team or of a unit above
    it, and the organisation's leads (one query for the ancestors, one for users)."""
    ancestors = [team.pk]
    parent_id = team.parent_id
    parents = dict(
        Team.objects.filter(organization_id=team.organization_id).values_list(
            "id", "parent_id"
        )
    )
    while parent_id is not None and parent_id not in ancestors:
        ancestors.append(parent_id)
        parent_id = parents.get(parent_id)
    return set(
        Membership.objects.filter(organization_id=team.organization_id)
        .filter(Q(team_id__in=ancestors) | Q(role=Membership.Role.LEAD))
        .values_list("user_id", flat=True)
    )


def team_members(*, team: Team):
    """The possible owners as users, by name (see ``team_member_ids``)."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(pk__in=team_member_ids(team=team))
        .order_by("username")
    )


def clean_links(value) -> list[str]:
    """Links from a list or a text of one address a line; http(s) only."""
    if isinstance(value, str):
        value = [line.strip() for line in value.splitlines()]
    links = [str(link).strip() for link in (value or []) if str(link).strip()]
    if len(links) > LINKS_MAX:
        raise ValidationError({"links": LINKS_MAX_MSG})
    check = URLValidator(schemes=["http", "https"])
    for link in links:
        try:
            check(link)
        except ValidationError:
            raise ValidationError({"links": LINK_MSG}) from None
    return links


def _capability_name(key: str) -> str:
    name = (
        Capability.objects.filter(key=key)
        .order_by("-framework__version", "-id")
        .values_list("name", flat=True)
        .first()
    )
    if name is None:
        raise ValidationError(
            {"capability_key": UNKNOWN_CAPABILITY_MSG.format(key=key)}
        )
    return name


def _check(values: dict, *, team: Team, today: dt.date) -> tuple[dict, list[str]]:
    """Validate an item's values; returns them cleaned and the warnings."""
    errors: dict[str, str] = {}
    warnings: list[str] = []
    cleaned = dict(values)
    if "title" in values:
        cleaned["title"] = (values["title"] or "").strip()
        if not cleaned["title"]:
            errors["title"] = TITLE_MSG
    if "status" in values and values["status"] not in ActionItem.Status.values:
        errors["status"] = STATUS_MSG
    if (
        values.get("status") == ActionItem.Status.DROPPED
        and not (values.get("drop_reason") or "").strip()
    ):
        errors["drop_reason"] = DROP_REASON_MSG
    if values.get("owner_id") is not None and values["owner_id"] not in team_member_ids(
        team=team
    ):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=values["owner_id"]).first()
        errors["owner"] = OWNER_NOT_MEMBER_MSG.format(
            user=user.username if user else "That user", team=team.name
        )
    if "capability_key" in values:
        try:
            cleaned["capability_name"] = _capability_name(values["capability_key"])
        except ValidationError as error:
            errors |= {k: v[0] for k, v in error.message_dict.items()}
    if (
        values.get("lens_key")
        and not Lens.objects.filter(key=values["lens_key"]).exists()
    ):
        errors["lens_key"] = UNKNOWN_LENS_MSG.format(key=values["lens_key"])
    if "links" in values:
        try:
            cleaned["links"] = clean_links(values["links"])
        except ValidationError as error:
            errors |= {k: v[0] for k, v in error.message_dict.items()}
    if errors:
        raise ValidationError(errors)
    due = values.get("due_on")
    if due is not None and due < today:
        warnings.append(DUE_PAST_WARNING.format(due=due.isoformat()))
    if values.get("status") != ActionItem.Status.DROPPED and "status" in values:
        cleaned["drop_reason"] = (values.get("drop_reason") or "").strip()
    return cleaned, warnings


def _today(organization: Organization) -> dt.date:
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(organization.time_zone)).date()


def _payload(item: ActionItem, **extra) -> dict:
    return {
        "action_item_id": item.pk,
        "team_id": item.team_id,
        "team": item.team.name,
        "capability_key": item.capability_key,
        "lens_key": item.lens_key,
        "title": item.title,
        "status": item.status,
        "owner": item.owner.username if item.owner_id and item.owner else None,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "expected_effect": item.expected_effect,
        "version": item.version,
        **extra,
    }


# --- action items -----------------------------------------------------------------


@transaction.atomic
def action_create(
    *,
    team: Team,
    user,
    capability_key: str,
    title: str,
    owner_id: int | None = None,
    due_on: dt.date | None = None,
    lens_key: str = "",
    description: str = "",
    expected_effect: str = "",
    links: Sequence[str] | str = (),
    status: str = ActionItem.Status.PLANNED,
    drop_reason: str = "",
    source: str = ActionItem.Source.MANUAL,
    recommendation_id: int | None = None,
    assessment_id: int | None = None,
) -> Saved:
    """A new item in the team's plan; ``ValidationError`` per field on bad input
    (an owner outside the team, an unknown capability), a warning for a due date
    in the past (saved all the same)."""
    if team.kind != Team.Kind.TEAM:
        raise ValidationError({"team": TEAM_KIND_MSG})
    values = {
        "title": title,
        "capability_key": capability_key,
        "lens_key": lens_key or "",
        "owner_id": owner_id,
        "due_on": due_on,
        "status": status,
        "drop_reason": drop_reason,
        "links": links,
    }
    cleaned, warnings = _check(values, team=team, today=_today(team.organization))
    if (
        recommendation_id is not None
        and not Recommendation.objects.filter(
            pk=recommendation_id, capability__key=capability_key
        ).exists()
    ):
        recommendation_id = None
    item = ActionItem.objects.create(
        organization_id=team.organization_id,
        team=team,
        capability_key=cleaned["capability_key"],
        capability_name=cleaned["capability_name"],
        lens_key=cleaned["lens_key"],
        title=cleaned["title"],
        description=(description or "").strip(),
        owner_id=owner_id,
        due_on=due_on,
        status=cleaned["status"],
        drop_reason=cleaned.get("drop_reason", ""),
        expected_effect=(expected_effect or "").strip()[:200],
        links=cleaned["links"],
        source=source if source in ActionItem.Source.values else "manual",
        recommendation_id=recommendation_id,
        assessment_id=assessment_id,
        created_by=user if user is not None and user.is_authenticated else None,
        closed_at=timezone.now() if status in ("done", "dropped") else None,
    )
    ActionItemChange.objects.create(
        item=item,
        changed_by=item.created_by,
        version=1,
        changes={"created": [None, item.title]},
    )
    audit_record(
        organization_id=team.organization_id,
        actor=user,
        action="action_item.create",
        summary=f"Action item '{item.title}' added to {team.name}'s plan",
        action_item_id=item.pk,
        team_id=team.pk,
    )
    event_publish(
        topic="action_item.created",
        organization_id=team.organization_id,
        actor=user,
        payload=_payload(item),
    )
    return Saved(item=item, warnings=warnings)


def _jsonable(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@transaction.atomic
def action_update(
    *, item: ActionItem, user, version: int | None = None, **values
) -> Saved:
    """Change some fields of an item (``EDITABLE_FIELDS``); keeps each change in
    its history. ``version`` (when given) must be the item's current one, else
    ``ActionConflict``. Nothing changed: nothing written."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    item = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("team__organization", "owner")
        .get(pk=item.pk)
    )
    if version is not None and version != item.version:
        raise ActionConflict()
    merged = {name: getattr(item, name) for name in EDITABLE_FIELDS} | values
    if "status" in values and values["status"] != ActionItem.Status.DROPPED:
        merged["drop_reason"] = values.get("drop_reason", "")
    cleaned, warnings = _check(
        {k: merged[k] for k in values}
        | {
            "status": merged["status"],
            "drop_reason": merged["drop_reason"],
        },
        team=item.team,
        today=_today(item.team.organization),
    )
    changes = {}
    for name in set(values) | {"drop_reason"}:
        new = cleaned.get(name, merged[name])
        old = getattr(item, name)
        if new != old:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(item, name, new)
    if not changes:
        return Saved(item=item, warnings=warnings)
    if "capability_key" in changes:
        item.capability_name = cleaned["capability_name"]
    was_open = changes.get("status", [item.status])[0] in ("planned", "in_progress")
    if "status" in changes:
        item.closed_at = None if item.is_open else timezone.now()
    item.version += 1
    item.save()
    ActionItemChange.objects.create(
        item=item, changed_by=user, version=item.version, changes=changes
    )
    audit_record(
        organization_id=item.organization_id,
        actor=user,
        action="action_item.update",
        summary=f"Action item '{item.title}' of {item.team.name}: "
        + ", ".join(sorted(changes)),
        action_item_id=item.pk,
        changes=changes,
    )
    item = ActionItem.objects.select_related("team", "owner").get(pk=item.pk)
    topic = (
        "action_item.done"
        if "status" in changes and item.status == ActionItem.Status.DONE and was_open
        else "action_item.changed"
    )
    event_publish(
        topic=topic,
        organization_id=item.organization_id,
        actor=user,
        payload=_payload(item, changes=changes),
    )
    return Saved(item=item, warnings=warnings)


# --- initiatives ------------------------------------------------------------------


def _clean_target(value) -> Decimal:
    try:
        target = Decimal(str(value).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"target_percent": TARGET_MSG}) from None
    if not target.is_finite() or not Decimal(0) < target <= Decimal(100):
        raise ValidationError({"target_percent": TARGET_MSG})
    return target.quantize(Decimal("0.01"))


def scope_teams(*, organization: Organization, scope_ids: Iterable[int]) -> list[Team]:
    """The scope's nodes; ``ScopeNotFound`` when one is not of the organisation."""
    ids = {int(pk) for pk in scope_ids}
    nodes = list(Team.objects.filter(organization=organization, pk__in=ids))
    if len(nodes) != len(ids):
        raise ScopeNotFound()
    return nodes


@transaction.atomic
def initiative_create(
    *,
    organization: Organization,
    user,
    name: str,
    capability_key: str,
    target_percent,
    due_on: dt.date | None,
    scope_ids: Iterable[int],
) -> Initiative:
    """A lead's initiative over business units and teams of ``organization``."""
    scope_ids = list(scope_ids)
    nodes = scope_teams(organization=organization, scope_ids=scope_ids)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = INITIATIVE_NAME_MSG
    elif Initiative.objects.filter(organization=organization, name=name).exists():
        errors["name"] = INITIATIVE_NAME_TAKEN_MSG
    try:
        target = _clean_target(target_percent)
    except ValidationError as error:
        errors |= {k: v[0] for k, v in error.message_dict.items()}
    try:
        capability_name = _capability_name(capability_key)
    except ValidationError as error:
        errors |= {k: v[0] for k, v in error.message_dict.items()}
    if due_on is None:
        errors["due_on"] = DUE_MSG
    if not nodes:
        errors["scope"] = INITIATIVE_SCOPE_MSG
    if errors or due_on is None:
        raise ValidationError(errors)
    initiative = Initiative.objects.create(
        organization=organization,
        name=name,
        capability_key=capability_key,
        capability_name=capability_name,
        target_percent=target,
        due_on=due_on,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    initiative.scope.set(nodes)
    audit_record(
        organization=organization,
        actor=user,
        action="initiative.create",
        summary=f"Initiative '{name}' created",
        initiative_id=initiative.pk,
    )
    return initiative


@transaction.atomic
def initiative_delete(*, initiative: Initiative, user) -> None:
    audit_record(
        organization_id=initiative.organization_id,
        actor=user,
        action="initiative.delete",
        summary=f"Initiative '{initiative.name}' deleted",
    )
    initiative.delete()

"""Targets: the score (percent) each team aims for, per capability key.

An organisation sets a default per capability; a team's own target beats it. That
rule is written once, as ``resolve_targets`` (pure, for frames) with its SQL
counterpart ``target_percent_sql`` (for queries that must filter or sort by it);
``team_targets`` applies it to one team.

Setting or clearing a target records an audit event and bumps
``Organization.targets_version`` (cached figures that show gaps are keyed by it);
after commit it asks the report builders, by task name, to build the
organisation's reports again.
"""

from decimal import Decimal, InvalidOperation
from functools import partial

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from capabilities.models import Capability, Framework
from finops_portal.audit import audit_record
from finops_portal.queue import enqueue

from .models import Organization, Target, Team

TARGET_RANGE_MSG = "Enter a target between 1 and 100 percent."
TARGET_NOT_A_NUMBER_MSG = "Enter a number, for example 75."
TARGET_TEAM_ELSEWHERE_MSG = "That team belongs to another organisation."
TARGET_UNKNOWN_CAPABILITY_MSG = (
    "No published framework has a capability with the key “{key}”."
)


def capability_key_known(capability_key: str) -> bool:
    """Whether a published (or retired) framework has a capability of that key:
    what a target may name (one query)."""
    return (
        Capability.objects.filter(key=capability_key)
        .exclude(framework__status=Framework.Status.DRAFT)
        .exists()
    )


# What a change of targets starts (a task of a higher app, found by its name).
TARGETS_CHANGED_TASK = "benchmarks.tasks.prebuild_organization_reports"

TARGET_FIELDS = {
    "team_id": "team_id",
    "capability_key": "capability_key",
    "percent": "percent",
}


# --- the rule ---------------------------------------------------------------------


def resolve_targets(pairs: pd.DataFrame, targets: pd.DataFrame) -> pd.Series:
    """The target of each (team_id, capability_key) row of ``pairs``: the team's
    own target, else the organisation default, else NaN. Index follows ``pairs``.
    ``targets`` is ``targets_frame``'s shape (team_id NaN for a default)."""
    defaults = (
        targets[targets["team_id"].isna()]
        .set_index("capability_key")["percent"]
        .astype(float)
    )
    overrides = targets[targets["team_id"].notna()].astype({"team_id": "int64"})
    keyed = pairs[["team_id", "capability_key"]].astype({"team_id": "int64"})
    merged = keyed.merge(
        overrides, on=["team_id", "capability_key"], how="left", validate="m:1"
    )
    override = pd.Series(merged["percent"].to_numpy(dtype=float), index=pairs.index)
    default = pairs["capability_key"].map(defaults).astype(float)
    return override.fillna(default)


def target_percent_sql(
    *, organization_id, team_id=None, capability_key=None
) -> Coalesce:
    """SQL for ``resolve_targets``'s rule, to annotate a query: the team's target
    for the capability, else the default (NULL without either). The references
    default to a ``CapabilityScore`` query's team and capability key."""
    if team_id is None:
        team_id = OuterRef("assessment__team_id")
    if capability_key is None:
        capability_key = OuterRef("capability__key")
    targets = Target.objects.filter(
        organization_id=organization_id, capability_key=capability_key
    ).order_by()
    own = targets.filter(team_id=team_id).values("percent")
    default = targets.filter(team__isnull=True).values("percent")
    return Coalesce(Subquery(own[:1]), Subquery(default[:1]))


# --- reads ------------------------------------------------------------------------


def targets_frame(*, organization: Organization) -> pd.DataFrame:
    """Every target of the organisation: team_id (NaN = default), capability_key, percent."""
    rows = Target.objects.filter(organization=organization).values(*TARGET_FIELDS)
    frame = pd.DataFrame.from_records(list(rows), columns=list(TARGET_FIELDS))
    frame["percent"] = frame["percent"].astype(float)
    frame["team_id"] = frame["team_id"].astype("Int64")
    return frame


def team_targets(*, organization_id: int, team_id: int) -> dict[str, float]:
    """One team's target per capability key, by ``resolve_targets``'s rule (its own
    target, else the default), in one query of that team's and the default rows
    (a report reads this; a frame merge would cost more than the query)."""
    rows = (
        Target.objects.filter(organization_id=organization_id)
        .filter(Q(team_id=team_id) | Q(team__isnull=True))
        .order_by()
        .values_list("team_id", "capability_key", "percent")
    )
    defaults: dict[str, float] = {}
    own: dict[str, float] = {}
    for row_team, key, percent in rows:
        (defaults if row_team is None else own)[key] = float(percent)
    return defaults | own


def targets_version(*, organization_id: int) -> int:
    """The organisation's targets version (part of cached figures' keys)."""
    version = (
        Organization.objects.filter(pk=organization_id)
        .values_list("targets_version", flat=True)
        .first()
    )
    return version or 0


# --- writes -----------------------------------------------------------------------


def target_percent_clean(value) -> Decimal:
    """A target percent from user input, or ``ValidationError`` with the message."""
    try:
        percent = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(TARGET_NOT_A_NUMBER_MSG) from None
    if not percent.is_finite():
        raise ValidationError(TARGET_NOT_A_NUMBER_MSG)
    if percent < 1 or percent > 100:
        raise ValidationError(TARGET_RANGE_MSG)
    return percent.quantize(Decimal("0.01"))


def _targets_changed(organization: Organization) -> None:
    """Bump the targets version (in the caller's transaction) and, after commit,
    have the organisation's reports built again."""
    Organization.objects.filter(pk=organization.pk).update(
        targets_version=F("targets_version") + 1
    )
    transaction.on_commit(
        partial(enqueue, TARGETS_CHANGED_TASK, organization.pk), robust=True
    )


@transaction.atomic
def target_set(
    *,
    organization: Organization,
    capability_key: str,
    percent,
    team: Team | None = None,
    user=None,
) -> Target:
    """Set the organisation default (``team=None``) or a team's target for a capability."""
    value = target_percent_clean(percent)
    if team is not None and team.organization_id != organization.id:
        raise ValidationError(TARGET_TEAM_ELSEWHERE_MSG)
    target, _created = Target.objects.update_or_create(
        organization=organization,
        team=team,
        capability_key=capability_key,
        defaults={"percent": value},
    )
    who = team.name if team is not None else "organisation default"
    audit_record(
        organization=organization,
        actor=user,
        action="target.set",
        summary=f"Target for {capability_key} ({who}) set to {value}%",
        capability_key=capability_key,
        team_id=team.id if team is not None else None,
        percent=str(value),
    )
    _targets_changed(organization)
    return target


@transaction.atomic
def target_clear(
    *,
    organization: Organization,
    capability_key: str,
    team: Team | None = None,
    user=None,
) -> bool:
    """Remove a default or team target; returns whether one existed."""
    deleted, _ = Target.objects.filter(
        organization=organization, team=team, capability_key=capability_key
    ).delete()
    if deleted:
        who = team.name if team is not None else "organisation default"
        audit_record(
            organization=organization,
            actor=user,
            action="target.clear",
            summary=f"Target for {capability_key} ({who}) cleared",
            capability_key=capability_key,
            team_id=team.id if team is not None else None,
        )
        _targets_changed(organization)
    return bool(deleted)

"""Targets: the score (percent) each team aims for, per capability key.

An organisation sets a default per capability; a team override beats it. Setting or
clearing a target records an ``AuditEvent`` and bumps a cache version, so cached
dashboard figures that show gaps are rebuilt.
"""

from decimal import Decimal, InvalidOperation

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from assessment.models import AuditEvent, Organization, Target, Team

TARGET_RANGE_MSG = "Enter a target between 1 and 100 percent."
TARGET_NOT_A_NUMBER_MSG = "Enter a number, for example 75."
TARGET_TEAM_ELSEWHERE_MSG = "That team belongs to another organisation."

TARGET_FIELDS = {
    "team_id": "team_id",
    "capability_key": "capability_key",
    "percent": "percent",
}
TARGETS_VERSION_KEY = "benchmarks:targets-version:{organization_id}"


def targets_version(*, organization_id: int) -> int:
    """A counter bumped on every target change (part of cached figures' keys)."""
    return cache.get(TARGETS_VERSION_KEY.format(organization_id=organization_id), 0)


def _bump_version(organization_id: int) -> None:
    """After commit: a new version for cached figures, and reports rebuilt ahead of
    their next visit when workers prebuild them."""
    key = TARGETS_VERSION_KEY.format(organization_id=organization_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)
    if settings.REPORTS_PREBUILD:
        from .services import prebuild_organization

        prebuild_organization(organization_id=organization_id)


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
    AuditEvent.objects.create(
        organization=organization,
        actor=user if user is not None and user.is_authenticated else None,
        action="target.set",
        summary=f"Target for {capability_key} ({who}) set to {value}%",
        detail={
            "capability_key": capability_key,
            "team_id": team.id if team is not None else None,
            "percent": str(value),
        },
    )
    transaction.on_commit(lambda: _bump_version(organization.id))
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
        AuditEvent.objects.create(
            organization=organization,
            actor=user if user is not None and user.is_authenticated else None,
            action="target.clear",
            summary=f"Target for {capability_key} ({who}) cleared",
            detail={
                "capability_key": capability_key,
                "team_id": team.id if team is not None else None,
            },
        )
        transaction.on_commit(lambda: _bump_version(organization.id))
    return bool(deleted)


def targets_frame(*, organization: Organization) -> pd.DataFrame:
    """Every target of the organisation: team_id (NaN = default), capability_key, percent."""
    rows = Target.objects.filter(organization=organization).values(*TARGET_FIELDS)
    frame = pd.DataFrame.from_records(list(rows), columns=list(TARGET_FIELDS))
    frame["percent"] = frame["percent"].astype(float)
    frame["team_id"] = frame["team_id"].astype("Int64")
    return frame


def team_targets(*, organization_id: int, team_id: int) -> dict[str, float]:
    """One team's target per capability key: its override, else the organisation
    default (one query; what a single team's report needs of ``resolve_targets``)."""
    rows = (
        Target.objects.filter(organization_id=organization_id)
        .filter(Q(team_id=team_id) | Q(team__isnull=True))
        .order_by()
        .values_list("team_id", "capability_key", "percent")
    )
    defaults, overrides = {}, {}
    for row_team, key, percent in rows:
        (defaults if row_team is None else overrides)[key] = float(percent)
    return defaults | overrides


def resolve_targets(pairs: pd.DataFrame, targets: pd.DataFrame) -> pd.Series:
    """The target of each (team_id, capability_key) row of ``pairs``: the team's
    override, else the organisation default, else NaN. Index follows ``pairs``."""
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

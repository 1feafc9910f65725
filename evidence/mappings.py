"""Team mapping: rules attributing FOCUS cost to the portal's teams, checked
against the spend they catch in the latest evidence, with a preview."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from assessment.models import Organization
from finops_portal.audit import audit_record

from . import engine, focus, storage
from .models import TeamMapping
from .services import (
    duckdb_connect,
    latest_period,
    mapping_rules,
    measures_mark_stale,
)

MAPPING_TEAM_MSG = "Choose a team of this organisation."
MAPPING_KIND_MSG = "Choose sub-account, tag or custom column."
MAPPING_KEY_MSG = "Give the tag key."
MAPPING_COLUMN_MSG = "Give a custom column starting with x_ (letters, digits and _)."
MAPPING_KEY_CHARS_MSG = "A tag key is at most 128 printable characters."
MAPPING_VALUE_MSG = "Give the value to match."
MAPPING_DUPLICATE_MSG = "{rule} is mapped already (to {team})."
MAPPING_NO_EVIDENCE_MSG = (
    "Upload a FOCUS export first: a mapping is checked against the spend it catches."
)
MAPPING_CATCHES_NOTHING_MSG = (
    "{rule} catches no spend in {period}'s evidence; check the value against the "
    "sub-accounts, tags and columns listed below."
)


def rule_clean(
    *, organization: Organization, team, kind: str, key: str, value: str
) -> dict:
    errors: dict[str, list[str]] = {}
    if team is None or team.organization_id != organization.pk:
        errors["team"] = [MAPPING_TEAM_MSG]
    if kind not in TeamMapping.Kind.values:
        errors["kind"] = [MAPPING_KIND_MSG]
    key = (key or "").strip()
    value = (value or "").strip()
    if kind == TeamMapping.Kind.SUB_ACCOUNT:
        key = ""
    elif kind == TeamMapping.Kind.TAG:
        if not key:
            errors["key"] = [MAPPING_KEY_MSG]
        elif len(key) > 128 or not key.isprintable():
            errors["key"] = [MAPPING_KEY_CHARS_MSG]
    elif kind == TeamMapping.Kind.COLUMN and not focus.CUSTOM_COLUMN.match(key):
        errors["key"] = [MAPPING_COLUMN_MSG]
    if not value or len(value) > 256:
        errors["value"] = [MAPPING_VALUE_MSG]
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "key": key, "value": value}


def describe_rule(kind: str, key: str, value: str) -> str:
    return TeamMapping(kind=kind, key=key, value=value).describe()


def mapping_preview(
    *, organization: Organization, candidate: dict | None = None
) -> dict | None:
    """Spend caught and attributed per rule in the latest period, the total and
    what is left unmapped; with ``candidate`` (a rule not saved yet) as the last
    rule. None when there is no evidence yet."""
    period = latest_period(organization=organization)
    if period is None:
        return None
    rules = mapping_rules(organization_id=organization.pk)
    if candidate is not None:
        last = max((r["position"] for r in rules), default=0) + 1
        rules = [*rules, {**candidate, "position": last}]
    con = duckdb_connect()
    try:
        relation = engine.cube_relation([str(storage.absolute(period.cube))])
        preview = engine.mapping_preview(con, relation, rules)
    finally:
        con.close()
    preview["period"] = period
    preview["candidate_position"] = rules[-1]["position"] if candidate else None
    return preview


def mapping_dimensions(*, organization: Organization) -> dict | None:
    """What the latest period offers to map: sub-accounts, tags, custom columns."""
    period = latest_period(organization=organization)
    if period is None:
        return None
    con = duckdb_connect()
    try:
        found = engine.dimensions(
            con, engine.cube_relation([str(storage.absolute(period.cube))])
        )
    finally:
        con.close()
    found["period"] = period
    return found


@transaction.atomic
def mapping_add(
    *, organization: Organization, user, team, kind: str, key: str = "", value: str
) -> TeamMapping:
    """Map a sub-account, tag value or custom column value to a team; refused when
    it catches no spend in the latest evidence."""
    rule = rule_clean(
        organization=organization, team=team, kind=kind, key=key, value=value
    )
    existing = (
        TeamMapping.objects.filter(organization=organization, **rule)
        .select_related("team")
        .first()
    )
    text = describe_rule(**rule)
    if existing is not None:
        raise ValidationError(
            {
                "value": [
                    MAPPING_DUPLICATE_MSG.format(rule=text, team=existing.team.name)
                ]
            }
        )
    preview = mapping_preview(
        organization=organization, candidate={"team_id": team.pk, **rule}
    )
    if preview is None:
        raise ValidationError({"value": [MAPPING_NO_EVIDENCE_MSG]})
    if not preview["caught"].get(preview["candidate_position"]):
        raise ValidationError(
            {
                "value": [
                    MAPPING_CATCHES_NOTHING_MSG.format(
                        rule=text, period=f"{preview['period'].period_start:%B %Y}"
                    )
                ]
            }
        )
    position = (
        TeamMapping.objects.filter(organization=organization).aggregate(
            m=Max("position")
        )["m"]
        or 0
    ) + 1
    mapping = TeamMapping.objects.create(
        organization=organization, team=team, position=position, created_by=user, **rule
    )
    audit_record(
        organization_id=organization.pk,
        actor=user,
        action="evidence.mapping_add",
        summary=f"Mapped {text} to {team.name}",
        mapping_id=mapping.pk,
    )
    measures_mark_stale(organization=organization)
    return mapping


@transaction.atomic
def mapping_remove(*, mapping: TeamMapping, user) -> None:
    organization = mapping.organization
    audit_record(
        organization_id=organization.pk,
        actor=user,
        action="evidence.mapping_remove",
        summary=f"Removed the mapping {mapping.describe()}",
    )
    mapping.delete()
    measures_mark_stale(organization=organization)

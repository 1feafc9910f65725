"""Pure rules on an identity provider's claims (no Django): the email domain, the
groups, and what the groups grant."""

from __future__ import annotations

import re
from collections.abc import Iterable

LEAD = "lead"


def normalise_email(value) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def email_domain(email: str) -> str:
    """``"Rosa@Northwind.Example"`` -> ``"northwind.example"``; "" if not an address."""
    local, at, domain = normalise_email(email).rpartition("@")
    return domain if at and local and domain else ""


def email_verified(claims: dict) -> bool:
    """False only when the provider says so (Entra ID sends no such claim)."""
    value = claims.get("email_verified", True)
    if isinstance(value, str):
        return value.strip().lower() not in {"false", "0", "no"}
    return bool(value)


def groups_from(claims: dict, claim: str) -> list[str]:
    """The values of the groups claim: a list, or one string of names separated
    by commas or spaces; anything else counts as no groups."""
    value = claims.get(claim)
    if isinstance(value, str):
        values = re.split(r"[\s,]+", value)
    elif isinstance(value, list | tuple):
        values = [v for v in value if isinstance(v, str | int)]
    else:
        return []
    return sorted({str(v).strip() for v in values if str(v).strip()})


def grants_for(
    groups: Iterable[str], mappings: Iterable[tuple[str, str, int | None]]
) -> dict[int | None, str]:
    """``{team id or None: role}`` that ``groups`` grant through ``mappings`` of
    ``(group, role, team id)``. A lead's grant is the organisation's (None). Group
    names are compared case-insensitively, ids exactly as sent."""
    held = {g.casefold() for g in groups}
    grants: dict[int | None, str] = {}
    for group, role, team_id in mappings:
        if group.casefold() not in held:
            continue
        key = None if role == LEAD else team_id
        grants[key] = role
    return grants

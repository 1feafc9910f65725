"""Reads: who gets what, the delivery log, a person's notices, the board's column.

Every selector issues a fixed number of queries, whatever the number of teams or
people.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, QuerySet

from assessment.models import Assessment, Cycle, Membership

from .models import Category, CycleSchedule, Delivery, Notification, Preference


@dataclass
class Recipient:
    """A person to write to, and the assessments (their teams') the mail is about."""

    user_id: int
    email: str
    name: str
    assessment_ids: list[int] = field(default_factory=list)


def _display_name(first: str, last: str, username: str) -> str:
    full = f"{first} {last}".strip()
    return full or username


def respondents_of_assessments(
    *, cycle_id: int, unsubmitted_only: bool = False, team_ids=None
) -> list[Recipient]:
    """The respondents of the cycle's teams (each person once, with the assessments
    of their teams), optionally only of teams that have not submitted. One query."""
    assessments = Assessment.objects.filter(cycle_id=cycle_id)
    if unsubmitted_only:
        assessments = assessments.exclude(status=Assessment.Status.SUBMITTED)
    if team_ids is not None:
        assessments = assessments.filter(team_id__in=list(team_ids))
    by_team: dict[int, list[int]] = defaultdict(list)
    for pk, team_id in assessments.values_list("id", "team_id"):
        by_team[team_id].append(pk)
    if not by_team:
        return []
    rows = (
        Membership.objects.filter(
            role=Membership.Role.RESPONDENT, team_id__in=list(by_team)
        )
        .order_by("user_id", "team_id")
        .values_list(
            "user_id",
            "team_id",
            "user__email",
            "user__first_name",
            "user__last_name",
            "user__username",
            "user__is_active",
        )
    )
    found: dict[int, Recipient] = {}
    for user_id, team_id, email, first, last, username, active in rows:
        if not active:
            continue
        person = found.get(user_id)
        if person is None:
            person = found[user_id] = Recipient(
                user_id, (email or "").strip(), _display_name(first, last, username)
            )
        person.assessment_ids.extend(by_team[team_id])
    return list(found.values())


def respondents_of_team(*, team_id: int) -> list[Recipient]:
    """Active respondents of one team. One query."""
    rows = Membership.objects.filter(
        role=Membership.Role.RESPONDENT, team_id=team_id, user__is_active=True
    ).values_list(
        "user_id",
        "user__email",
        "user__first_name",
        "user__last_name",
        "user__username",
    )
    return [
        Recipient(pk, (email or "").strip(), _display_name(first, last, username))
        for pk, email, first, last, username in rows
    ]


def leads_of(*, organization_id: int) -> list[Recipient]:
    """Active leads of the organisation, each once. One query."""
    rows = (
        Membership.objects.filter(
            organization_id=organization_id,
            role=Membership.Role.LEAD,
            user__is_active=True,
        )
        .order_by("user_id")
        .values_list(
            "user_id",
            "user__email",
            "user__first_name",
            "user__last_name",
            "user__username",
        )
        .distinct()
    )
    return [
        Recipient(pk, (email or "").strip(), _display_name(first, last, username))
        for pk, email, first, last, username in rows
    ]


def email_off(*, user_ids, category: str) -> set[int]:
    """The people among ``user_ids`` who switched mails of ``category`` off."""
    return set(
        Preference.objects.filter(
            user_id__in=list(user_ids), category=category, email=False
        ).values_list("user_id", flat=True)
    )


def preferences_of(*, user) -> dict[str, bool]:
    """Category -> mails on, for every category (on unless switched off)."""
    off = set(
        Preference.objects.filter(user=user, email=False).values_list(
            "category", flat=True
        )
    )
    return {value: value not in off for value in Category.values}


def schedule_of(*, cycle: Cycle) -> CycleSchedule | None:
    return CycleSchedule.objects.filter(cycle=cycle).first()


def time_zone_of(*, user) -> str:
    """The time zone a person's dates are shown in: their (first) organisation's."""
    found = (
        Membership.objects.filter(user=user)
        .order_by("organization_id")
        .values_list("organization__time_zone", flat=True)
        .first()
    )
    return found or "UTC"


UNREAD_KEY = "notifications:unread:{user_id}"
UNREAD_TTL = 24 * 3600


def unread_count(*, user, fresh: bool = False) -> int:
    """The person's unread notices. Every page's navigation shows it, so it is
    kept in the cache: filled at sign-in, forgotten by whatever adds or reads
    notices (``services.unread_forget``), counted again only after that."""
    key = UNREAD_KEY.format(user_id=user.pk)
    count = None if fresh else cache.get(key)
    if count is None:
        count = Notification.objects.filter(user=user, read_at__isnull=True).count()
        cache.set(key, count, UNREAD_TTL)
    return count


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def delivery_list(
    *, organization_id: int, status: str = "", cycle_id=None, category: str = ""
) -> QuerySet[Delivery]:
    """The organisation's mails, newest first, with person and cycle."""
    rows = Delivery.objects.filter(organization_id=organization_id)
    if status:
        rows = rows.filter(status=status)
    if cycle_id:
        rows = rows.filter(cycle_id=cycle_id)
    if category:
        rows = rows.filter(category=category)
    return rows.select_related("user", "cycle").order_by("-queued_at", "-id")


def delivery_counts(*, organization_id: int, cycle_id=None) -> dict[str, int]:
    """Mails per status (every status present, 0 when none)."""
    rows = Delivery.objects.filter(organization_id=organization_id)
    if cycle_id:
        rows = rows.filter(cycle_id=cycle_id)
    counts = dict(
        rows.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Delivery.Status.values}


@dataclass
class TeamReach:
    """What the completion board shows of one team: its people without an address
    or whose address was refused, and when it was last reminded."""

    no_address: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    people: int = 0
    last_reminded_at: object = None


def board_reach(*, cycle: Cycle, team_ids: list[int]) -> dict[int, TeamReach]:
    """Team id -> ``TeamReach`` for these teams of the cycle. Two queries."""
    members = list(
        Membership.objects.filter(
            role=Membership.Role.RESPONDENT, team_id__in=team_ids, user__is_active=True
        )
        .annotate(
            refused=Exists(
                Delivery.objects.filter(
                    user_id=OuterRef("user_id"), status=Delivery.Status.BOUNCED
                )
            )
        )
        .values_list("team_id", "user_id", "user__username", "user__email", "refused")
    )
    last = dict(
        Delivery.objects.filter(
            cycle=cycle, kind="reminder", status=Delivery.Status.SENT
        )
        .order_by()
        .values("user_id")
        .annotate(at=Max("sent_at"))
        .values_list("user_id", "at")
    )
    reach: dict[int, TeamReach] = defaultdict(TeamReach)
    for team_id, user_id, username, email, refused in members:
        entry = reach[team_id]
        entry.people += 1
        if not (email or "").strip():
            entry.no_address.append(username)
        elif refused:
            entry.refused.append(username)
        at = last.get(user_id)
        if at and (entry.last_reminded_at is None or at > entry.last_reminded_at):
            entry.last_reminded_at = at
    return reach


def pending_deliveries(*, cycle_id: int, kind: str, step: str = "") -> list[int]:
    """Ids of the queued mails of one cycle, kind (and step)."""
    rows = Delivery.objects.filter(
        cycle_id=cycle_id, kind=kind, status=Delivery.Status.QUEUED
    )
    if step:
        rows = rows.filter(step=step)
    return list(rows.order_by("id").values_list("id", flat=True))

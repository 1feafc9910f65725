"""Writes: schedules, queuing mails and notices, the schedule's tick, preferences.

Queuing writes one ``Delivery`` row per mail under a unique key and, after commit,
enqueues its sending in batches (``delivery.py`` sends). Every key names what the
mail is for (``reminder:<cycle>:<step>:<user>``), so whatever calls a queue function
twice (beat firing twice, a retried task, a lead's double click) queues nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assessment.cycles import cycle_close, cycle_open, organization_today
from assessment.models import Assessment, Cycle, Organization, validate_time_zone
from finops_portal.audit import audit_record
from finops_portal.queue import enqueue

from . import schedule, selectors
from .models import (
    DEFAULT_DAYS_BEFORE,
    Category,
    CycleSchedule,
    Delivery,
    Notification,
    Preference,
)
from .selectors import Recipient

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.tasks.deliveries_send"
BATCH_SIZE = 50
INSERT_BATCH = 2000

INVALID_ADDRESS_MSG = "“{address}” is not a valid email address."
NO_ADDRESS_MSG = "No email address."
UNSUBSCRIBED_MSG = "Unsubscribed from {category}."
CYCLE_NOT_OPEN_REMIND_MSG = "Only an open cycle's teams can be reminded."
NOTHING_LATE_MSG = "Every team of this cycle has submitted: nobody to remind."
TEAM_NOT_IN_CYCLE_MSG = "This team is not in the cycle."
TEAM_SUBMITTED_MSG = "{team} has submitted already: nobody to remind."
SCHEDULE_CLOSED_MSG = "A closed cycle's schedule cannot change."
TIME_ZONE_SAVED_SUMMARY = "Time zone set to {time_zone}"

# --- schedules -------------------------------------------------------------------------


def schedule_defaults() -> dict:
    return {
        "auto_open": False,
        "days_before": list(DEFAULT_DAYS_BEFORE),
        "overdue_every": 7,
        "auto_close": False,
        "grace_days": 0,
        "send_hour": 9,
        "digest": CycleSchedule.Digest.WEEKLY,
    }


def schedule_for(*, cycle: Cycle) -> CycleSchedule:
    """The cycle's schedule, or an unsaved one with the defaults."""
    return selectors.schedule_of(cycle=cycle) or CycleSchedule(
        cycle=cycle, **schedule_defaults()
    )


def schedule_ensure(*, cycle_id: int) -> CycleSchedule:
    """The cycle's schedule, saved with the defaults if it had none (at opening)."""
    found, _ = CycleSchedule.objects.get_or_create(
        cycle_id=cycle_id, defaults=schedule_defaults()
    )
    return found


@transaction.atomic
def schedule_save(
    *,
    cycle: Cycle,
    auto_open: bool,
    days_before,
    overdue_every: int,
    auto_close: bool,
    grace_days: int,
    send_hour: int,
    digest: str,
    user=None,
) -> CycleSchedule:
    """Validate and store a cycle's schedule; errors are keyed by field."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.is_closed:
        raise ValidationError(SCHEDULE_CLOSED_MSG)
    if isinstance(days_before, str):
        try:
            days_before = schedule.parse_days(days_before)
        except ValueError as error:
            raise ValidationError({"days_before": str(error)}) from None
    days = tuple(sorted({int(d) for d in days_before}, reverse=True))
    plan = schedule.Plan(
        days_before=days,
        overdue_every=overdue_every,
        auto_close=auto_close,
        grace_days=grace_days,
    )
    opened_on = _opened_on(cycle)
    errors = schedule.validate(
        plan,
        opens_on=opened_on or cycle.opens_on,
        due_on=cycle.closes_on,
        send_hour=send_hour,
    )
    if digest not in CycleSchedule.Digest.values:
        errors["digest"] = "Choose how often leads get a digest."
    if errors:
        raise ValidationError(errors)
    row = schedule_for(cycle=cycle)
    before = {f: getattr(row, f) for f in schedule_defaults()} if row.pk else None
    row.auto_open = auto_open
    row.days_before = list(days)
    row.overdue_every = overdue_every
    row.auto_close = auto_close
    row.grace_days = grace_days
    row.send_hour = send_hour
    row.digest = digest
    row.updated_by = user if user is not None and user.is_authenticated else None
    row.save()
    audit_record(
        organization_id=cycle.organization_id,
        actor=user,
        action="cycle.schedule",
        summary=f"Set the schedule of cycle {cycle.name}",
        cycle_id=cycle.id,
        before=before,
        after={f: getattr(row, f) for f in schedule_defaults()},
    )
    return row


def _tz(organization: Organization) -> ZoneInfo:
    return ZoneInfo(organization.time_zone or "UTC")


def _opened_on(cycle: Cycle):
    """The local date the cycle opened, if it has."""
    if cycle.opened_at is None:
        return None
    return cycle.opened_at.astimezone(_tz(cycle.organization)).date()


def organization_time_zone_set(
    *, organization: Organization, time_zone: str, user=None
) -> Organization:
    """Set the time zone that decides the organisation's dates (due today, ...)."""
    time_zone = (time_zone or "").strip()
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        raise ValidationError({"time_zone": error.messages}) from None
    if organization.time_zone != time_zone:
        previous = organization.time_zone
        Organization.objects.filter(pk=organization.pk).update(time_zone=time_zone)
        organization.time_zone = time_zone
        audit_record(
            organization_id=organization.pk,
            actor=user,
            action="organization.time_zone",
            summary=TIME_ZONE_SAVED_SUMMARY.format(time_zone=time_zone),
            before=previous,
            after=time_zone,
        )
    return organization


# --- queuing ---------------------------------------------------------------------------


@dataclass
class Queued:
    """What a queue call did: mails queued now, already there, without address..."""

    queued: int = 0
    already: int = 0
    no_address: list[str] = field(default_factory=list)
    skipped: int = 0
    ids: list[int] = field(default_factory=list)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _delivery(
    *,
    key: str,
    kind: str,
    category: str,
    person: Recipient,
    organization_id: int,
    cycle_id: int | None,
    step: str = "",
    context: dict | None = None,
    off: set[int],
    requested_by=None,
) -> Delivery:
    """An unsaved row, already marked when there is no address, the address is
    invalid or the person switched this category off."""
    row = Delivery(
        key=key[:160],
        kind=kind,
        category=category,
        user_id=person.user_id,
        organization_id=organization_id,
        cycle_id=cycle_id,
        step=step,
        context=context or {},
        to_address=person.email,
        domain=_domain(person.email) if person.email else "",
        requested_by=requested_by,
    )
    if not person.email:
        row.status, row.last_error = Delivery.Status.NO_ADDRESS, NO_ADDRESS_MSG
        return row
    try:
        validate_email(person.email)
    except ValidationError:
        row.status = Delivery.Status.SKIPPED
        row.last_error = INVALID_ADDRESS_MSG.format(address=person.email)
        return row
    if person.user_id in off:
        row.status = Delivery.Status.SKIPPED
        row.last_error = UNSUBSCRIBED_MSG.format(
            category=Category(category).label.lower()
        )
    return row


def _store(rows: list[Delivery], result: Queued) -> None:
    """Insert the rows that are new (by key); fills ``result``."""
    if not rows:
        return
    keys = [r.key for r in rows]
    existing = set()
    for start in range(0, len(keys), INSERT_BATCH):
        existing |= set(
            Delivery.objects.filter(
                key__in=keys[start : start + INSERT_BATCH]
            ).values_list("key", flat=True)
        )
    new = [r for r in rows if r.key not in existing]
    Delivery.objects.bulk_create(new, ignore_conflicts=True, batch_size=INSERT_BATCH)
    result.already += len(rows) - len(new)
    result.skipped += sum(r.status == Delivery.Status.SKIPPED for r in new)
    result.queued += sum(r.status == Delivery.Status.QUEUED for r in new)


def _send_after_commit(ids: list[int]) -> None:
    """Enqueue the sending of these rows, in batches, once the caller commits."""
    if ids:
        transaction.on_commit(partial(deliveries_enqueue, ids), robust=True)


def deliveries_enqueue(ids: list[int], countdown: float | None = None) -> int:
    """Send tasks for ``ids`` in batches; returns how many tasks were sent."""
    sent = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        sent += enqueue(
            SEND_TASK, batch, countdown=countdown, what=f"{len(batch)} mails"
        )
    return sent


def _notices(rows: list[Notification]) -> None:
    Notification.objects.bulk_create(
        rows, ignore_conflicts=True, batch_size=INSERT_BATCH
    )
    unread_forget(user_ids={row.user_id for row in rows})


def unread_forget(*, user_ids) -> None:
    """Drop the cached unread counts of these people (after commit: a page read
    in between would cache the old count again)."""
    keys = [selectors.UNREAD_KEY.format(user_id=pk) for pk in user_ids]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(partial(cache.delete_many, keys), robust=True)


def _questionnaire_path(assessment_id: int) -> str:
    return reverse("assessment:questionnaire", args=[assessment_id])


@transaction.atomic
def invitations_queue(*, cycle_id: int) -> Queued:
    """Invite every respondent of the cycle's teams (one mail per person, listing
    their teams' questionnaires) and put the invitation in their in-app list."""
    cycle = Cycle.objects.select_related("organization").get(pk=cycle_id)
    result = Queued()
    if not cycle.is_open:
        return result
    people = selectors.respondents_of_assessments(cycle_id=cycle.pk)
    off = selectors.email_off(
        user_ids=[p.user_id for p in people], category=Category.INVITATION
    )
    rows = [
        _delivery(
            key=f"invitation:{cycle.pk}:{p.user_id}",
            kind="invitation",
            category=Category.INVITATION,
            person=p,
            organization_id=cycle.organization_id,
            cycle_id=cycle.pk,
            context={"assessment_ids": p.assessment_ids},
            off=off,
        )
        for p in people
    ]
    _store(rows, result)
    result.no_address = [p.name for p in people if not p.email]
    due = f", due {_show_date(cycle.closes_on)}" if cycle.closes_on else ""
    _notices(
        [
            Notification(
                user_id=p.user_id,
                key=f"invitation:{cycle.pk}",
                organization_id=cycle.organization_id,
                category=Category.INVITATION,
                title=f"{cycle.name} is open{due}",
                body="Your team is asked to assess its FinOps practice.",
                url=_questionnaire_path(p.assessment_ids[0]),
            )
            for p in people
        ]
    )
    result.ids = selectors.pending_deliveries(cycle_id=cycle.pk, kind="invitation")
    _send_after_commit(result.ids)
    return result


def _show_date(day) -> str:
    return f"{day.day} {day:%B %Y}"


@transaction.atomic
def reminders_queue(
    *, cycle_id: int, step: str, team_ids=None, requested_by=None, label: str = ""
) -> Queued:
    """Remind the respondents of the cycle's teams that have not submitted (of
    ``team_ids`` only, when given): one mail per person and step."""
    cycle = Cycle.objects.select_related("organization").get(pk=cycle_id)
    result = Queued()
    if not cycle.is_open:
        return result
    people = selectors.respondents_of_assessments(
        cycle_id=cycle.pk, unsubmitted_only=True, team_ids=team_ids
    )
    off = selectors.email_off(
        user_ids=[p.user_id for p in people], category=Category.REMINDER
    )
    rows = [
        _delivery(
            key=f"reminder:{cycle.pk}:{step}:{p.user_id}",
            kind="reminder",
            category=Category.REMINDER,
            person=p,
            organization_id=cycle.organization_id,
            cycle_id=cycle.pk,
            step=step,
            context={"assessment_ids": p.assessment_ids, "step": label or step},
            off=off,
            requested_by=requested_by,
        )
        for p in people
    ]
    _store(rows, result)
    result.no_address = [p.name for p in people if not p.email]
    result.ids = selectors.pending_deliveries(
        cycle_id=cycle.pk, kind="reminder", step=step
    )
    _send_after_commit(result.ids)
    return result


def remind_now(*, cycle: Cycle, team_id: int | None = None, user=None) -> Queued:
    """The lead's "remind now": the late teams (or one of them) get a reminder now,
    at most once a day per person (the key holds the organisation's date)."""
    if not cycle.is_open:
        raise ValidationError(CYCLE_NOT_OPEN_REMIND_MSG)
    late = Assessment.objects.filter(cycle=cycle).exclude(
        status=Assessment.Status.SUBMITTED
    )
    if team_id is not None:
        found = Assessment.objects.filter(cycle=cycle, team_id=team_id).first()
        if found is None:
            raise ValidationError(TEAM_NOT_IN_CYCLE_MSG)
        if found.is_submitted:
            raise ValidationError(TEAM_SUBMITTED_MSG.format(team=found.team.name))
    elif not late.exists():
        raise ValidationError(NOTHING_LATE_MSG)
    today = organization_today(cycle.organization)
    result = reminders_queue(
        cycle_id=cycle.pk,
        step=f"now-{today.isoformat()}",
        team_ids=None if team_id is None else [team_id],
        requested_by=user if user is not None and user.is_authenticated else None,
        label="reminder from your FinOps lead",
    )
    audit_record(
        organization_id=cycle.organization_id,
        actor=user,
        action="cycle.remind",
        summary=f"Reminded {'one team' if team_id else 'the late teams'} of "
        f"{cycle.name}: {result.queued} mails",
        cycle_id=cycle.pk,
        team_id=team_id,
        queued=result.queued,
        already=result.already,
    )
    return result


@transaction.atomic
def digests_queue(*, cycle_id: int, on: str, since: str | None) -> Queued:
    """A digest of the cycle for each of the organisation's leads, once per day."""
    cycle = Cycle.objects.select_related("organization").get(pk=cycle_id)
    result = Queued()
    people = selectors.leads_of(organization_id=cycle.organization_id)
    off = selectors.email_off(
        user_ids=[p.user_id for p in people], category=Category.DIGEST
    )
    rows = [
        _delivery(
            key=f"digest:{cycle.pk}:{on}:{p.user_id}",
            kind="digest",
            category=Category.DIGEST,
            person=p,
            organization_id=cycle.organization_id,
            cycle_id=cycle.pk,
            step=f"digest-{on}",
            context={"since": since, "on": on},
            off=off,
        )
        for p in people
    ]
    _store(rows, result)
    result.ids = selectors.pending_deliveries(
        cycle_id=cycle.pk, kind="digest", step=f"digest-{on}"
    )
    _send_after_commit(result.ids)
    return result


@transaction.atomic
def team_notice_queue(
    *,
    key: str,
    team_id: int,
    organization_id: int,
    category: str,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    context: dict | None = None,
    cycle_id: int | None = None,
    email: bool = True,
    exclude_user_id: int | None = None,
    leads_in_app: bool = False,
) -> Queued:
    """A notice to a team's respondents: in their in-app list and, with ``email``,
    as a mail of ``kind`` (honouring their choice for ``category``). ``key``
    names the event, so a notice is made once per person."""
    result = Queued()
    people = [
        p
        for p in selectors.respondents_of_team(team_id=team_id)
        if p.user_id != exclude_user_id
    ]
    notices = [
        Notification(
            user_id=p.user_id,
            key=key,
            organization_id=organization_id,
            category=category,
            title=title[:255],
            body=body,
            url=url,
        )
        for p in people
    ]
    if leads_in_app:
        team_people = {p.user_id for p in people}
        notices += [
            Notification(
                user_id=p.user_id,
                key=key,
                organization_id=organization_id,
                category=category,
                title=title[:255],
                body=body,
                url=url,
            )
            for p in selectors.leads_of(organization_id=organization_id)
            if p.user_id not in team_people and p.user_id != exclude_user_id
        ]
    _notices(notices)
    if not email:
        return result
    off = selectors.email_off(user_ids=[p.user_id for p in people], category=category)
    rows = [
        _delivery(
            key=f"{key}:{p.user_id}",
            kind=kind,
            category=category,
            person=p,
            organization_id=organization_id,
            cycle_id=cycle_id,
            context={"title": title, "body": body, "url": url, **(context or {})},
            off=off,
        )
        for p in people
    ]
    _store(rows, result)
    result.ids = list(
        Delivery.objects.filter(
            key__in=[r.key for r in rows], status=Delivery.Status.QUEUED
        ).values_list("id", flat=True)
    )
    _send_after_commit(result.ids)
    return result


@transaction.atomic
def cycle_closed_notify(*, cycle_id: int, event_id: int) -> int:
    """A closed cycle sends nothing more: its queued reminders and digests are
    dropped, and its respondents find the close in their in-app list."""
    cycle = Cycle.objects.get(pk=cycle_id)
    dropped = Delivery.objects.filter(
        cycle_id=cycle_id,
        kind__in=["reminder", "digest"],
        status=Delivery.Status.QUEUED,
    ).update(status=Delivery.Status.SKIPPED, last_error="The cycle closed.")
    people = selectors.respondents_of_assessments(cycle_id=cycle_id)
    _notices(
        [
            Notification(
                user_id=p.user_id,
                key=f"cycle-closed:{cycle_id}",
                organization_id=cycle.organization_id,
                category=Category.CYCLE,
                title=f"{cycle.name} is closed",
                body="Answers can no longer be changed; the results stay available.",
                url=_questionnaire_path(p.assessment_ids[0]),
            )
            for p in people
        ]
    )
    return dropped


# --- the schedule's tick ---------------------------------------------------------------


@dataclass
class TickResult:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    reminded: list[tuple[int, str]] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)


def schedule_tick(*, now: datetime | None = None) -> TickResult:
    """Do what every schedule asks for now: open cycles whose opening date has come,
    close those past due and grace, queue the current reminder step and the day's
    digest. Idempotent: a second tick at the same moment finds nothing to do, and
    a tick racing another queues each mail once (unique keys)."""
    now = now or timezone.now()
    result = TickResult()
    schedules = (
        CycleSchedule.objects.filter(
            cycle__status__in=[Cycle.Status.PLANNED, Cycle.Status.OPEN]
        )
        .select_related("cycle__organization")
        .order_by("cycle_id")
    )
    for row in schedules:
        try:
            _tick_one(row, now, result)
        except Exception:  # one cycle's failure must not stop the others
            logger.exception("Schedule of cycle %s failed", row.cycle_id)
    return result


def _tick_one(row: CycleSchedule, now: datetime, result: TickResult) -> None:
    cycle = row.cycle
    org = cycle.organization
    local = now.astimezone(_tz(org))
    today = organization_today(org, now)
    plan = row.plan
    if cycle.status == Cycle.Status.PLANNED:
        if row.auto_open and cycle.opens_on and today >= cycle.opens_on:
            cycle_open(cycle=cycle)
            result.opened.append(cycle.pk)
        return
    closes = schedule.close_date(cycle.closes_on, plan)
    if closes is not None and today >= closes:
        cycle_close(cycle=cycle)
        result.closed.append(cycle.pk)
        return
    if local.hour < row.send_hour:
        return
    step = schedule.current_step(
        due_on=cycle.closes_on, plan=plan, today=today, opened_on=_opened_on(cycle)
    )
    if step is not None and step.key != row.last_step_key:
        reminders_queue(cycle_id=cycle.pk, step=step.key, label=step.label)
        CycleSchedule.objects.filter(pk=row.pk).update(last_step_key=step.key)
        result.reminded.append((cycle.pk, step.key))
    wants_digest = row.digest == CycleSchedule.Digest.DAILY or (
        row.digest == CycleSchedule.Digest.WEEKLY and today.weekday() == 0
    )
    if wants_digest and row.last_digest_on != today:
        since = row.last_digest_on or _opened_on(cycle)
        digests_queue(
            cycle_id=cycle.pk,
            on=today.isoformat(),
            since=since.isoformat() if since else None,
        )
        CycleSchedule.objects.filter(pk=row.pk).update(last_digest_on=today)
        result.digests.append(cycle.pk)


# --- people's choices and their list ------------------------------------------------------


def preferences_save(*, user, email_on: dict[str, bool]) -> None:
    """Store a person's mail choices per category (unknown categories ignored)."""
    for category in Category.values:
        if category in email_on:
            preference_set(user_id=user.pk, category=category, email=email_on[category])


def preference_set(*, user_id: int, category: str, email: bool) -> None:
    Preference.objects.update_or_create(
        user_id=user_id, category=category, defaults={"email": email}
    )


def notification_read(*, user, pk: int) -> Notification | None:
    """Mark one of the user's notices read; None when it is not theirs."""
    found = Notification.objects.filter(user=user, pk=pk).first()
    if found is not None and found.read_at is None:
        found.read_at = timezone.now()
        found.save(update_fields=["read_at"])
        unread_forget(user_ids=[user.pk])
    return found


def notifications_read_all(*, user) -> int:
    done = Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    unread_forget(user_ids=[user.pk])
    return done

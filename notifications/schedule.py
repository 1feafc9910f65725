"""When a cycle's schedule acts: pure date arithmetic on the organisation's dates.

A cycle opens on ``opens_on`` (from local midnight), is due on ``due_on`` and, with
auto-close, closes at local midnight after ``grace_days`` more days: teams can still
submit until the end of ``due_on + grace_days``. Reminder steps, in order:

- ``before-N``: N days before the due date (``before-0`` is the due date itself),
  for each N the lead chose;
- ``overdue-K``: while overdue, the K-th reminder: the day after the due date, then
  every ``overdue_every`` days until the cycle closes.

On any day only the latest step whose date has come is sent: a step missed while
nothing ran (beat down for a day) is replaced by the next one, never sent late on
top of it. Steps on or before the day the cycle opened are left out, since the
invitation went out that day. No Django here; ``services`` applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_STEPS = 10
MAX_DAYS = 365
MAX_OVERDUE_EVERY = 90
MAX_GRACE_DAYS = 90
# How many overdue steps a timeline shows ("then every 7 days").
TIMELINE_OVERDUE_STEPS = 3

DAYS_BEFORE_FORMAT_MSG = (
    "Enter whole numbers of days, separated by commas, such as “7, 1”."
)
DAYS_BEFORE_RANGE_MSG = (
    f"Each reminder must be 0 to {MAX_DAYS} days before the due date."
)
DAYS_BEFORE_COUNT_MSG = f"Choose at most {MAX_STEPS} reminders before the due date."
DAYS_BEFORE_EARLY_MSG = (
    "A reminder {days} day{s} before the due date ({on}) falls on or before the day "
    "the cycle opens ({opens}), when the invitation goes out: choose fewer days."
)
OVERDUE_EVERY_RANGE_MSG = (
    f"Remind overdue teams every 1 to {MAX_OVERDUE_EVERY} days, or 0 for never."
)
GRACE_RANGE_MSG = f"The grace period is 0 to {MAX_GRACE_DAYS} days."
OVERDUE_AFTER_CLOSE_MSG = (
    "The first overdue reminder ({on}) comes after the cycle closes ({closes}): give "
    "a grace period of at least one day, or send no overdue reminders."
)
SEND_HOUR_RANGE_MSG = "Choose an hour from 0 to 23."


@dataclass(frozen=True)
class Plan:
    """The lead's choices for one cycle."""

    days_before: tuple[int, ...] = (7, 1)
    overdue_every: int = 7
    auto_close: bool = False
    grace_days: int = 0


@dataclass(frozen=True)
class Step:
    """One reminder step: its key (part of each mail's idempotency key), its date
    and what it says."""

    key: str
    on: date
    kind: str  # "before" or "overdue"
    days: int  # days before the due date, or the overdue reminder's number

    @property
    def label(self) -> str:
        if self.kind == "overdue":
            return f"overdue reminder {self.days}"
        if self.days == 0:
            return "on the due date"
        return f"{self.days} day{'s' if self.days != 1 else ''} before the due date"


def parse_days(text: str) -> tuple[int, ...]:
    """ "7, 1" -> (7, 1): unique, largest first. Raises ValueError with a message."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",")]
    values = []
    for part in parts:
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(DAYS_BEFORE_FORMAT_MSG)
        values.append(int(part))
    if any(v > MAX_DAYS for v in values):
        raise ValueError(DAYS_BEFORE_RANGE_MSG)
    unique = tuple(sorted(set(values), reverse=True))
    if len(unique) > MAX_STEPS:
        raise ValueError(DAYS_BEFORE_COUNT_MSG)
    return unique


def close_date(due_on: date | None, plan: Plan) -> date | None:
    """The date from whose local midnight an auto-closing cycle is closed."""
    if due_on is None or not plan.auto_close:
        return None
    return due_on + timedelta(days=plan.grace_days + 1)


def _overdue_on(due_on: date, k: int, every: int) -> date:
    return due_on + timedelta(days=1 + (k - 1) * every)


def steps(
    due_on: date, plan: Plan, *, until: date, opened_on: date | None = None
) -> list[Step]:
    """Every step on or before ``until`` (and before an auto-close), in date order;
    steps on or before ``opened_on`` are left out."""
    found = [
        Step(f"before-{n}", due_on - timedelta(days=n), "before", n)
        for n in sorted(set(plan.days_before), reverse=True)
    ]
    closes = close_date(due_on, plan)
    if plan.overdue_every > 0:
        k = 1
        while True:
            on = _overdue_on(due_on, k, plan.overdue_every)
            if on > until or (closes is not None and on >= closes):
                break
            found.append(Step(f"overdue-{k}", on, "overdue", k))
            k += 1
    return [
        s
        for s in found
        if s.on <= until
        and (opened_on is None or s.on > opened_on)
        and (closes is None or s.on < closes)
    ]


def current_step(
    *, due_on: date | None, plan: Plan, today: date, opened_on: date | None
) -> Step | None:
    """The step to send today: the latest whose date has come, or None."""
    if due_on is None:
        return None
    found = steps(due_on, plan, until=today, opened_on=opened_on)
    return found[-1] if found else None


def timeline(
    *, opens_on: date | None, due_on: date | None, plan: Plan, opened_on=None
) -> list[tuple[date, str]]:
    """What happens when, for the schedule page: opening, reminders, due date, the
    first overdue reminders and the close."""
    events: list[tuple[date, str]] = []
    start = opened_on or opens_on
    if start:
        events.append((start, "cycle opens, invitations go out"))
    if due_on is None:
        return events
    horizon = _overdue_on(due_on, TIMELINE_OVERDUE_STEPS, max(plan.overdue_every, 1))
    for step in steps(due_on, plan, until=horizon, opened_on=start):
        if step.kind == "before" and step.days == 0:
            events.append((step.on, "due date, reminder to teams not submitted"))
            continue
        what = "reminder" if step.kind == "before" else "overdue reminder"
        events.append((step.on, f"{what} to teams not submitted ({step.label})"))
    if 0 not in plan.days_before:
        events.append((due_on, "due date"))
    closes = close_date(due_on, plan)
    if closes is not None:
        events.append((closes, "cycle closes by itself"))
    return sorted(events, key=lambda e: e[0])


def validate(
    plan: Plan, *, opens_on: date | None, due_on: date | None, send_hour: int = 9
) -> dict[str, str]:
    """Field -> message for every choice that cannot work with these dates."""
    errors: dict[str, str] = {}
    if not 0 <= send_hour <= 23:
        errors["send_hour"] = SEND_HOUR_RANGE_MSG
    if not 0 <= plan.overdue_every <= MAX_OVERDUE_EVERY:
        errors["overdue_every"] = OVERDUE_EVERY_RANGE_MSG
    if not 0 <= plan.grace_days <= MAX_GRACE_DAYS:
        errors["grace_days"] = GRACE_RANGE_MSG
    if any(not 0 <= d <= MAX_DAYS for d in plan.days_before):
        errors["days_before"] = DAYS_BEFORE_RANGE_MSG
    if errors or due_on is None:
        return errors
    if opens_on is not None:
        for days in sorted(plan.days_before, reverse=True):
            on = due_on - timedelta(days=days)
            if on <= opens_on:
                errors["days_before"] = DAYS_BEFORE_EARLY_MSG.format(
                    days=days,
                    s="s" if days != 1 else "",
                    on=_show(on),
                    opens=_show(opens_on),
                )
                break
    closes = close_date(due_on, plan)
    if plan.overdue_every and closes is not None:
        first = _overdue_on(due_on, 1, plan.overdue_every)
        if first >= closes:
            errors["overdue_every"] = OVERDUE_AFTER_CLOSE_MSG.format(
                on=_show(first), closes=_show(closes)
            )
    return errors


def _show(day: date) -> str:
    return f"{day.day} {day:%b %Y}"

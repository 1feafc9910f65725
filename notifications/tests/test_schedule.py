"""The schedule's date arithmetic (pure), and the tick acting on it across an
organisation's midnight (time-machine)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from notifications import schedule
from notifications.schedule import Plan, current_step, parse_days, steps, validate

DUE = date(2026, 11, 20)


def test_parse_days_sorts_and_drops_duplicates():
    assert parse_days("1, 7,7 ; 0") == (7, 1, 0)
    assert parse_days("") == ()


@pytest.mark.parametrize("text", ["seven", "1.5", "-1"])
def test_parse_days_refuses_what_is_not_whole_days(text):
    with pytest.raises(ValueError, match="whole numbers of days"):
        parse_days(text)


def test_parse_days_refuses_more_than_a_year():
    with pytest.raises(ValueError, match="0 to 365 days"):
        parse_days("400")


def test_steps_before_and_overdue_in_order():
    plan = Plan(days_before=(7, 1), overdue_every=7)
    found = steps(DUE, plan, until=date(2026, 12, 10), opened_on=date(2026, 10, 5))
    assert [(s.key, s.on) for s in found] == [
        ("before-7", date(2026, 11, 13)),
        ("before-1", date(2026, 11, 19)),
        ("overdue-1", date(2026, 11, 21)),
        ("overdue-2", date(2026, 11, 28)),
        ("overdue-3", date(2026, 12, 5)),
    ]


def test_only_the_latest_step_is_current():
    plan = Plan(days_before=(7, 1), overdue_every=7)
    opened = date(2026, 10, 5)
    assert (
        current_step(due_on=DUE, plan=plan, today=date(2026, 11, 12), opened_on=opened)
        is None
    )
    assert (
        current_step(
            due_on=DUE, plan=plan, today=date(2026, 11, 13), opened_on=opened
        ).key
        == "before-7"
    )
    # beat was down on the 19th: the 20th sends before-1, not both
    assert (
        current_step(
            due_on=DUE, plan=plan, today=date(2026, 11, 20), opened_on=opened
        ).key
        == "before-1"
    )
    assert (
        current_step(
            due_on=DUE, plan=plan, today=date(2026, 11, 27), opened_on=opened
        ).key
        == "overdue-1"
    )


def test_steps_on_or_before_the_opening_day_are_left_out():
    plan = Plan(days_before=(7, 1), overdue_every=0)
    found = steps(DUE, plan, until=DUE, opened_on=date(2026, 11, 13))
    assert [s.key for s in found] == ["before-1"]


def test_no_overdue_step_after_an_auto_close():
    plan = Plan(days_before=(), overdue_every=2, auto_close=True, grace_days=3)
    found = steps(DUE, plan, until=date(2026, 12, 31))
    assert [s.on for s in found] == [date(2026, 11, 21), date(2026, 11, 23)]
    assert schedule.close_date(DUE, plan) == date(2026, 11, 24)


def test_validate_names_a_reminder_before_the_opening():
    errors = validate(Plan(days_before=(60, 1)), opens_on=date(2026, 10, 5), due_on=DUE)
    assert errors == {
        "days_before": "A reminder 60 days before the due date (21 Sep 2026) falls on "
        "or before the day the cycle opens (5 Oct 2026), when the invitation goes "
        "out: choose fewer days."
    }


def test_validate_names_an_overdue_step_after_the_close():
    errors = validate(
        Plan(days_before=(1,), overdue_every=7, auto_close=True, grace_days=0),
        opens_on=date(2026, 10, 5),
        due_on=DUE,
    )
    assert errors == {
        "overdue_every": "The first overdue reminder (21 Nov 2026) comes after the "
        "cycle closes (21 Nov 2026): give a grace period of at least one day, or "
        "send no overdue reminders."
    }


def test_timeline_lists_what_happens_when():
    events = schedule.timeline(
        opens_on=date(2026, 10, 5),
        due_on=DUE,
        plan=Plan(days_before=(7,), overdue_every=7, auto_close=True, grace_days=10),
    )
    assert events == [
        (date(2026, 10, 5), "cycle opens, invitations go out"),
        (
            date(2026, 11, 13),
            "reminder to teams not submitted (7 days before the due date)",
        ),
        (DUE, "due date"),
        (
            date(2026, 11, 21),
            "overdue reminder to teams not submitted (overdue reminder 1)",
        ),
        (
            date(2026, 11, 28),
            "overdue reminder to teams not submitted (overdue reminder 2)",
        ),
        (date(2026, 12, 1), "cycle closes by itself"),
    ]


# --- the tick, across a time zone's midnight -------------------------------------------

pytestmark_db = pytest.mark.django_db


def _schedule(cycle, **fields):
    from notifications.models import CycleSchedule

    values = {
        "auto_open": True,
        "days_before": [1],
        "overdue_every": 7,
        "auto_close": False,
        "grace_days": 0,
        "send_hour": 0,
        "digest": "off",
    } | fields
    return CycleSchedule.objects.create(cycle=cycle, **values)


def _tick(when: datetime, capture):
    from notifications.services import schedule_tick

    with time_machine.travel(when, tick=False), capture(execute=True):
        return schedule_tick()


@pytest.mark.django_db
def test_a_cycle_opens_at_midnight_in_its_organisations_time_zone(
    planned_cycle, org, eager_tasks, django_capture_on_commit_callbacks
):
    org.time_zone = "Asia/Tokyo"  # UTC+9: 11 Jan starts at 15:00 UTC on the 10th
    org.save()
    _schedule(planned_cycle)
    before = _tick(
        datetime(2027, 1, 10, 14, 59, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    planned_cycle.refresh_from_db()
    assert (before.opened, planned_cycle.status) == ([], "planned")
    after = _tick(
        datetime(2027, 1, 10, 15, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    planned_cycle.refresh_from_db()
    assert (after.opened, planned_cycle.status) == ([planned_cycle.pk], "open")
    assert sorted(m.to[0] for m in mail.outbox) == [
        "alice@example.com",
        "bob@example.com",
    ]


@pytest.mark.django_db
def test_the_due_day_reminder_follows_new_yorks_midnight(
    cycle, org, eager_tasks, django_capture_on_commit_callbacks
):
    """Due 20 Nov, a reminder on the due date: in New York (UTC-5) the 20th begins
    at 05:00 UTC, so at 04:59 UTC nothing goes, at 05:00 it does, and a second
    tick (beat firing twice) sends nothing more."""
    from assessment.cycles import cycle_due_state, organization_today

    org.time_zone = "America/New_York"
    org.save()
    _schedule(cycle, days_before=[0], overdue_every=0)
    with time_machine.travel(datetime(2026, 11, 20, 4, 59, tzinfo=UTC), tick=False):
        assert cycle_due_state(cycle, organization_today(org)) == "open"
    quiet = _tick(
        datetime(2026, 11, 20, 4, 59, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert (quiet.reminded, mail.outbox) == ([], [])
    with time_machine.travel(datetime(2026, 11, 20, 5, 0, tzinfo=UTC), tick=False):
        assert cycle_due_state(cycle, organization_today(org)) == "due_today"
    sent = _tick(
        datetime(2026, 11, 20, 5, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    again = _tick(
        datetime(2026, 11, 20, 5, 1, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert sent.reminded == [(cycle.pk, "before-0")]
    assert again.reminded == []
    assert len(mail.outbox) == 2
    assert "due today" in mail.outbox[0].subject


@pytest.mark.django_db
def test_overdue_reminders_come_weekly_and_the_cycle_closes_after_its_grace(
    cycle, org, eager_tasks, django_capture_on_commit_callbacks
):
    org.time_zone = "Europe/Paris"  # UTC+1 in November
    org.save()
    _schedule(cycle, days_before=[], overdue_every=7, auto_close=True, grace_days=8)
    first = _tick(
        datetime(2026, 11, 20, 23, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert first.reminded == [(cycle.pk, "overdue-1")]  # 00:00 on the 21st in Paris
    assert "overdue by 1 day" in mail.outbox[0].subject
    _tick(datetime(2026, 11, 27, 12, 0, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2  # nothing new between the weekly steps
    second = _tick(
        datetime(2026, 11, 28, 0, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert second.reminded == [(cycle.pk, "overdue-2")]
    open_still = _tick(
        datetime(2026, 11, 28, 22, 59, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert open_still.closed == []
    closed = _tick(
        datetime(2026, 11, 28, 23, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    cycle.refresh_from_db()
    assert (closed.closed, cycle.status) == ([cycle.pk], "closed")


@pytest.mark.django_db
def test_reminders_wait_for_the_send_hour(
    cycle, org, eager_tasks, django_capture_on_commit_callbacks
):
    org.time_zone = "Europe/Paris"
    org.save()
    _schedule(cycle, days_before=[1], overdue_every=0, send_hour=9)
    early = _tick(
        datetime(2026, 11, 19, 7, 59, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    on_time = _tick(
        datetime(2026, 11, 19, 8, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert (early.reminded, on_time.reminded) == ([], [(cycle.pk, "before-1")])


@pytest.mark.django_db
def test_a_weekly_digest_goes_to_leads_on_monday(
    cycle, org, lead, eager_tasks, django_capture_on_commit_callbacks
):
    _schedule(cycle, days_before=[], overdue_every=0, digest="weekly", send_hour=8)
    sunday = _tick(
        datetime(2026, 11, 15, 12, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    monday = _tick(
        datetime(2026, 11, 16, 8, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    again = _tick(
        datetime(2026, 11, 16, 9, 0, tzinfo=UTC), django_capture_on_commit_callbacks
    )
    assert (sunday.digests, monday.digests, again.digests) == ([], [cycle.pk], [])
    (digest,) = mail.outbox
    assert digest.to == ["lena@example.com"]
    assert digest.subject == "2026 Q4: 0 of 2 teams submitted"
    assert "Team A" in digest.body
    assert "Team B" in digest.body


@pytest.mark.django_db
def test_schedule_save_refuses_a_step_after_the_close(cycle, lead):
    from notifications.services import schedule_save

    with pytest.raises(ValidationError) as error:
        schedule_save(
            cycle=cycle,
            auto_open=False,
            days_before="7, 1",
            overdue_every=7,
            auto_close=True,
            grace_days=0,
            send_hour=9,
            digest="weekly",
            user=lead,
        )
    assert list(error.value.message_dict) == ["overdue_every"]
    from notifications.models import CycleSchedule

    assert not CycleSchedule.objects.exists()


@pytest.mark.django_db
def test_the_tick_command_does_what_beat_does(
    planned_cycle, eager_tasks, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    _schedule(planned_cycle)
    out = StringIO()
    with (
        time_machine.travel(datetime(2027, 1, 11, 12, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("notifications_tick", stdout=out)
    planned_cycle.refresh_from_db()
    assert planned_cycle.status == "open"
    assert out.getvalue().startswith("Opened 1, closed 0")
    assert len(mail.outbox) == 2

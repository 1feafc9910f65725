"""What notifications adds to lower apps' pages (their slots): the navigation's
link with the unread count, the completion board's reminder column and toolbar,
and a section of the lead's organisation page."""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone

from assessment.access import access_for
from assessment.cycles import DUE_OVERDUE, cycle_due_state, organization_today
from assessment.models import Cycle
from finops_portal.slots import NavLink, SlotColumn

from . import schedule, selectors, services
from .messages import due_phrase


def nav_links(request, *, access) -> list[NavLink]:
    """ "Notifications (n)" for everyone signed in."""
    count = selectors.unread_count(user=request.user)
    label = f"Notifications ({count})" if count else "Notifications"
    return [NavLink(label, reverse("notifications:inbox"), "member")]


def unread_count_warm(sender, request, user, **kwargs) -> None:
    """At sign-in, count the person's unread notices into the cache, so that the
    pages after it show the count without a query of their own."""
    selectors.unread_count(user=user, fresh=True)


def completion_board_column(request, *, cycle: Cycle, rows) -> SlotColumn | None:
    """A "Reminders" column (who has no address, last reminder, "remind now") and a
    toolbar (due state, next step, remind all late teams, schedule, previews)."""
    if not access_for(request.user).leads(cycle.organization_id):
        return None
    today = organization_today(cycle.organization)
    state = cycle_due_state(cycle, today)
    reach = selectors.board_reach(cycle=cycle, team_ids=[r["team_id"] for r in rows])
    row_schedule = services.schedule_for(cycle=cycle)
    late = [r for r in rows if r["status"] != "submitted"]
    with timezone.override(cycle.organization.time_zone):
        return _column(request, cycle, rows, today, state, reach, row_schedule, late)


def _column(request, cycle, rows, today, state, reach, row_schedule, late):
    # Rendered without the request: context processors (the navigation's) would
    # run once per row. The form's CSRF token is passed in instead.
    token = get_token(request)
    cell = get_template("notifications/_board_cell.html")
    cells = {}
    for r in rows:
        cells[r["assessment_id"]] = cell.render(
            {
                "row": r,
                "cycle": cycle,
                "reach": reach.get(r["team_id"]),
                "overdue": state == DUE_OVERDUE and r["status"] != "submitted",
                "can_remind": cycle.is_open and r["status"] != "submitted",
                "csrf_token": token,
            }
        )
    step = None
    if cycle.is_open and row_schedule.pk:
        upcoming = schedule.timeline(
            opens_on=cycle.opens_on,
            due_on=cycle.closes_on,
            plan=row_schedule.plan,
            opened_on=None,
        )
        step = next((e for e in upcoming if e[0] > today), None)
    toolbar = render_to_string(
        "notifications/_board_toolbar.html",
        {
            "cycle": cycle,
            "state": state,
            "today": today,
            "late_count": len(late),
            "due_phrase": due_phrase(cycle, today),
            "schedule": row_schedule,
            "next_step": step,
            "no_address": sum(len(v.no_address) for v in reach.values()),
            "csrf_token": token,
        },
    )
    return SlotColumn(heading="Reminders", cells=cells, toolbar_html=toolbar)


def lead_home_section(request, *, organization) -> str | None:
    """The organisation's time zone, today's date there and the delivery log."""
    if not access_for(request.user).leads(organization.id):
        return None
    counts = selectors.delivery_counts(organization_id=organization.id)
    return render_to_string(
        "notifications/_lead_home.html",
        {
            "org": organization,
            "today": organization_today(organization),
            "counts": counts,
        },
    )

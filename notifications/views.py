"""Pages: a person's notices and mail choices, unsubscribe links, and the lead's
schedule, "remind now", previews, delivery log and time zone. Every view
authorises through ``assessment.access`` first (404 outside one's reach)."""

from zoneinfo import available_timezones

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from assessment.access import get_cycle_for_lead, get_organization_for_lead
from assessment.cycles import organization_today
from assessment.forms import apply_service_errors
from assessment.models import Assessment
from finops_portal.cells import to_csv

from . import messages as mail_messages
from . import schedule, selectors, services
from .forms import PreferencesForm, RemindForm, ScheduleForm, TimeZoneForm
from .models import TRANSACTIONAL, Category, Delivery
from .signing import BadLink, unsubscribe_read

INBOX_PAGE_SIZE = 30
DELIVERY_PAGE_SIZE = 50
SCHEDULE_SAVED_MSG = "Saved the schedule of “{name}”."
PREFERENCES_SAVED_MSG = "Saved your choices."
UNSUBSCRIBED_MSG = "You will get no more mails about: {category}."
RESUBSCRIBED_MSG = "Mails about {category} are back on."
REMINDED_MSG = "Reminder queued for {n} {people}."
ALREADY_REMINDED_MSG = "{n} {people} had been reminded today already."
NO_ADDRESS_LIST_MSG = "No email address, so not reminded: {names}."
NOBODY_MSG = "Nobody to remind: the team has no respondent with an email address."
TIME_ZONE_SAVED_MSG = "Time zone set to {time_zone}: today there is {today}."
READ_ALL_MSG = "Marked {n} notification{s} read."
PREVIEW_KINDS = {
    "invitation": "Invitation",
    "reminder": "Reminder",
    "digest": "Digest to leads",
    "reopen": "Reopen notice",
    "submission": "Submission notice",
}
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'"
)
DELIVERY_CSV_HEADER = [
    "queued at",
    "kind",
    "category",
    "cycle",
    "step",
    "person",
    "address",
    "status",
    "attempts",
    "sent at",
    "error",
]


def _people(n: int) -> str:
    return "person" if n == 1 else "people"


# --- a person's notices and choices ---------------------------------------------------


@login_required
def inbox(request):
    page = Paginator(
        selectors.notification_list(user=request.user), INBOX_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    with timezone.override(selectors.time_zone_of(user=request.user)):
        return render(
            request,
            "notifications/inbox.html",
            {
                "page": page,
                "unread": selectors.unread_count(user=request.user),
                "time_zone": selectors.time_zone_of(user=request.user),
            },
        )


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark a notice read and go where it points (its page, or back to the list)."""
    found = services.notification_read(user=request.user, pk=pk)
    if found is None:
        raise Http404("No such notification.")
    if request.POST.get("next") == "list" or not found.url:
        return redirect("notifications:inbox")
    if not url_has_allowed_host_and_scheme(
        found.url, allowed_hosts={request.get_host()}
    ):
        return redirect("notifications:inbox")
    return redirect(found.url)


@login_required
@require_POST
def notifications_read_all(request):
    n = services.notifications_read_all(user=request.user)
    messages.success(request, READ_ALL_MSG.format(n=n, s="" if n == 1 else "s"))
    return redirect("notifications:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    current = selectors.preferences_of(user=request.user)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user=request.user, email_on=form.cleaned_data)
        messages.success(request, PREFERENCES_SAVED_MSG)
        return redirect("notifications:preferences")
    fields = [
        {"field": form[value], "transactional": value in TRANSACTIONAL}
        for value in Category.values
    ]
    return render(
        request, "notifications/preferences.html", {"form": form, "fields": fields}
    )


@csrf_exempt  # the signed token is the authority; mail clients' one-click POST has no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks, POST unsubscribes (RFC 8058 one-click POSTs here too)."""
    try:
        link = unsubscribe_read(token)
    except BadLink as error:
        return render(
            request,
            "notifications/unsubscribe.html",
            {"error": error.message},
            status=400,
        )
    user = get_user_model().objects.filter(pk=link.user_id, is_active=True).first()
    if user is None:
        return render(
            request,
            "notifications/unsubscribe.html",
            {"error": "This link's account no longer exists."},
            status=400,
        )
    category = Category(link.category)
    done = None
    if request.method == "POST":
        on = request.POST.get("action") == "resubscribe"
        services.preference_set(user_id=user.pk, category=category, email=on)
        done = (RESUBSCRIBED_MSG if on else UNSUBSCRIBED_MSG).format(
            category=category.label.lower()
        )
    return render(
        request,
        "notifications/unsubscribe.html",
        {
            "category": category,
            "done": done,
            "subscribed": selectors.preferences_of(user=user)[category],
            "transactional": category in TRANSACTIONAL,
        },
    )


# --- the lead's controls ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def cycle_schedule(request, cycle_id: int):
    cycle = get_cycle_for_lead(request.user, cycle_id)
    row = services.schedule_for(cycle=cycle)
    initial = {
        "auto_open": row.auto_open,
        "days_before": ", ".join(str(d) for d in row.days_before),
        "overdue_every": row.overdue_every,
        "auto_close": row.auto_close,
        "grace_days": row.grace_days,
        "send_hour": row.send_hour,
        "digest": row.digest,
    }
    form = ScheduleForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.schedule_save(
                    cycle=cycle, user=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, SCHEDULE_SAVED_MSG.format(name=cycle.name))
                return redirect("notifications:cycle_schedule", cycle.pk)
        status = 400
    with timezone.override(cycle.organization.time_zone):
        return _render_schedule(request, cycle, form, row, status)


def _render_schedule(request, cycle, form, row, status):
    return render(
        request,
        "notifications/lead/schedule.html",
        {
            "org": cycle.organization,
            "section": "cycles",
            "cycle": cycle,
            "form": form,
            "saved": row.pk is not None,
            "timeline": schedule.timeline(
                opens_on=cycle.opens_on,
                due_on=cycle.closes_on,
                plan=row.plan,
                opened_on=services._opened_on(cycle),
            ),
            "today": organization_today(cycle.organization),
            "kinds": PREVIEW_KINDS,
        },
        status=status,
    )


@login_required
@require_POST
def cycle_remind(request, cycle_id: int):
    """ "Remind now": one team (``team``) or every late team of the cycle."""
    cycle = get_cycle_for_lead(request.user, cycle_id)
    form = RemindForm(request.POST)
    back = reverse("assessment:cycle_detail", args=[cycle.pk]) + "#board-title"
    if not form.is_valid():
        messages.error(request, services.TEAM_NOT_IN_CYCLE_MSG)
        return redirect(back)
    try:
        result = services.remind_now(
            cycle=cycle, team_id=form.cleaned_data["team"], user=request.user
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(back)
    if result.queued:
        messages.success(
            request, REMINDED_MSG.format(n=result.queued, people=_people(result.queued))
        )
    if result.already:
        messages.info(
            request,
            ALREADY_REMINDED_MSG.format(
                n=result.already, people=_people(result.already)
            ),
        )
    if result.no_address:
        messages.warning(
            request, NO_ADDRESS_LIST_MSG.format(names=", ".join(result.no_address))
        )
    if not (result.queued or result.already or result.no_address):
        messages.warning(request, NOBODY_MSG)
    return redirect(back)


def _preview_or_404(request, cycle_id: int, kind: str):
    cycle = get_cycle_for_lead(request.user, cycle_id)
    if kind not in PREVIEW_KINDS:
        raise Http404("No such mail.")
    return cycle, mail_messages.preview(kind=kind, cycle=cycle, user=request.user)


@login_required
def cycle_preview(request, cycle_id: int, kind: str):
    cycle, (subject, text, _html) = _preview_or_404(request, cycle_id, kind)
    return render(
        request,
        "notifications/lead/preview.html",
        {
            "org": cycle.organization,
            "section": "cycles",
            "cycle": cycle,
            "kind": kind,
            "kind_label": PREVIEW_KINDS[kind],
            "kinds": PREVIEW_KINDS,
            "subject": subject,
            "text": text,
            "from_email": settings.DEFAULT_FROM_EMAIL,
        },
    )


@login_required
@xframe_options_sameorigin
def cycle_preview_html(request, cycle_id: int, kind: str):
    """The HTML part alone, for the preview's sandboxed frame."""
    _cycle, (_subject, _text, html) = _preview_or_404(request, cycle_id, kind)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    return response


@login_required
def org_deliveries(request, org_slug: str):
    """The delivery log: every mail of the organisation, filterable, as CSV too."""
    org = get_organization_for_lead(request.user, org_slug)
    status = request.GET.get("status", "")
    status = status if status in Delivery.Status.values else ""
    category = request.GET.get("category", "")
    category = category if category in Category.values else ""
    cycle_id = request.GET.get("cycle", "")
    cycle_id = int(cycle_id) if cycle_id.isdigit() else None
    rows = selectors.delivery_list(
        organization_id=org.pk, status=status, cycle_id=cycle_id, category=category
    )
    if request.GET.get("format") == "csv":
        body = to_csv(
            DELIVERY_CSV_HEADER,
            [
                [
                    d.queued_at.isoformat(timespec="seconds"),
                    d.kind,
                    d.category,
                    d.cycle.name if d.cycle else "",
                    d.step,
                    d.user.get_username(),
                    d.to_address,
                    d.get_status_display(),
                    d.attempts,
                    d.sent_at.isoformat(timespec="seconds") if d.sent_at else "",
                    d.last_error,
                ]
                for d in rows.iterator(chunk_size=2000)
            ],
        )
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="deliveries-{org.slug}.csv"'
        )
        return response
    with timezone.override(org.time_zone):
        return _render_deliveries(request, org, rows, cycle_id, status, category)


def _render_deliveries(request, org, rows, cycle_id, status, category):
    page = Paginator(rows, DELIVERY_PAGE_SIZE).get_page(request.GET.get("page"))
    cycles = list(org.cycles.order_by("-created_at").values_list("id", "name"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/lead/deliveries.html",
        {
            "org": org,
            "section": "deliveries",
            "page": page,
            "counts": selectors.delivery_counts(
                organization_id=org.pk, cycle_id=cycle_id
            ),
            "statuses": Delivery.Status.choices,
            "categories": Category.choices,
            "cycles": cycles,
            "chosen": {"status": status, "category": category, "cycle": cycle_id},
            "query": query.urlencode(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def org_settings(request, org_slug: str):
    """The organisation's time zone (what "due today" means) and the schedules."""
    org = get_organization_for_lead(request.user, org_slug)
    form = TimeZoneForm(request.POST or None, initial={"time_zone": org.time_zone})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.organization_time_zone_set(
                    organization=org,
                    time_zone=form.cleaned_data["time_zone"],
                    user=request.user,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    TIME_ZONE_SAVED_MSG.format(
                        time_zone=org.time_zone,
                        today=mail_messages.show_date(organization_today(org)),
                    ),
                )
                return redirect("notifications:org_settings", org.slug)
        status = 400
    cycles = list(
        org.cycles.exclude(status="closed")
        .select_related("notification_schedule")
        .annotate(
            late=Count(
                "assessments",
                filter=~Q(assessments__status=Assessment.Status.SUBMITTED),
            )
        )
        .order_by("-created_at")
    )
    return render(
        request,
        "notifications/lead/settings.html",
        {
            "org": org,
            "section": "notifications",
            "form": form,
            "today": organization_today(org),
            "zones": sorted(available_timezones()),
            "cycles": cycles,
        },
        status=status,
    )

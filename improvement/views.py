"""Improvement pages: a team's plan and its action items, initiatives, the
executive summary, webhooks and the tracker exports.

Each view authorises through ``improvement.access`` / ``assessment.access``
(404 outside the user's reach), calls a service or selector, and renders.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from assessment.access import (
    access_for,
    get_assessment_for_user,
    get_organization_for_lead,
)
from assessment.models import Cycle, Organization, Team
from benchmarks.charts import figure_payload
from capabilities.models import Capability, Lens, Recommendation

from . import charts, exports, selectors, services, webhooks
from .access import (
    get_action_item_for_user,
    get_delivery_for_lead,
    get_initiative_for_lead,
    get_webhook_for_lead,
)
from .forms import ActionItemForm, InitiativeForm, WebhookForm, add_service_errors
from .models import ActionItem, Initiative, Webhook, WebhookDelivery

CREATED_MSG = "Action item added to the plan."
SAVED_MSG = "Action item saved."
INITIATIVE_CREATED_MSG = "Initiative created."
WEBHOOK_CREATED_MSG = "Webhook added. Copy its secret now: it is not shown again."
WEBHOOK_DELETED_MSG = "Webhook removed."
REPLAYED_MSG = "Delivery queued again."
SECRET_SESSION_KEY = "improvement.webhook_secret"


def _capability_choices(framework_id: int | None = None) -> list[tuple[str, str]]:
    rows = Capability.objects.order_by("order", "-framework__version")
    if framework_id is not None:
        rows = rows.filter(framework_id=framework_id)
    return list(dict(rows.values_list("key", "name")).items())


def _lens_choices(framework_id: int | None = None) -> list[tuple[str, str]]:
    rows = Lens.objects.order_by("order")
    if framework_id is not None:
        rows = rows.filter(framework_id=framework_id)
    return list(dict(rows.values_list("key", "name")).items())


def _report_url(assessment_id: int) -> str:
    return reverse("benchmarks:team_report", args=[assessment_id]) + "#improvement-plan"


# --- action items -----------------------------------------------------------------


def _initial_from(request, assessment) -> dict:
    """Initial values from a next step (``?recommendation=``) or a gap
    (``?capability=&gap=``)."""
    initial = {"status": ActionItem.Status.PLANNED}
    rec_id = request.GET.get("recommendation")
    if rec_id and rec_id.isdigit():
        rec = (
            Recommendation.objects.select_related("capability", "lens", "level")
            .filter(
                pk=int(rec_id), capability__framework_id=assessment.cycle.framework_id
            )
            .first()
        )
        if rec is not None:
            initial |= {
                "title": rec.title,
                "capability_key": rec.capability.key,
                "lens_key": rec.lens.key if rec.lens_id else "",
                "description": rec.body,
                "links": "\n".join(
                    link.get("url", "")
                    for link in rec.links or []
                    if isinstance(link, dict)
                ),
                "source": ActionItem.Source.NEXT_STEP,
                "recommendation_id": rec.pk,
            }
    key = request.GET.get("capability")
    if key and "capability_key" not in initial:
        initial |= {"capability_key": key, "source": ActionItem.Source.GAP}
        gap = request.GET.get("gap")
        if gap:
            initial["expected_effect"] = f"Close the gap of {gap} points"
    return initial


@login_required
def action_new(request, assessment_pk: int):
    """A new item in the plan of the assessment's team (respondents and leads)."""
    assessment = get_assessment_for_user(request.user, assessment_pk)
    team = assessment.team
    initial = _initial_from(request, assessment)
    form = ActionItemForm(
        request.POST or None,
        initial=initial,
        capabilities=_capability_choices(assessment.cycle.framework_id),
        lenses=_lens_choices(assessment.cycle.framework_id),
        members=services.team_members(team=team),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = request.POST.get("source", ActionItem.Source.MANUAL)
        rec_id = request.POST.get("recommendation_id")
        try:
            saved = services.action_create(
                team=team,
                user=request.user,
                capability_key=data["capability_key"],
                title=data["title"],
                owner_id=data["owner"],
                due_on=data["due_on"],
                lens_key=data["lens_key"],
                description=data["description"],
                expected_effect=data["expected_effect"],
                links=data["links"],
                status=data["status"],
                drop_reason=data["drop_reason"],
                source=source,
                recommendation_id=int(rec_id) if rec_id and rec_id.isdigit() else None,
                assessment_id=assessment.pk,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, CREATED_MSG)
            for warning in saved.warnings:
                messages.warning(request, warning)
            return redirect(_report_url(assessment.pk))
    return render(
        request,
        "improvement/action_form.html",
        {
            "form": form,
            "assessment": assessment,
            "team": team,
            "source": initial.get("source", ActionItem.Source.MANUAL),
            "recommendation_id": initial.get("recommendation_id", ""),
            "item": None,
        },
    )


@login_required
def action_edit(request, pk: int):
    """Change an item (status, owner, due date...); its history below the form."""
    item = get_action_item_for_user(request.user, pk)
    initial = {
        "title": item.title,
        "capability_key": item.capability_key,
        "lens_key": item.lens_key,
        "owner": item.owner_id,
        "due_on": item.due_on,
        "status": item.status,
        "drop_reason": item.drop_reason,
        "expected_effect": item.expected_effect,
        "description": item.description,
        "links": "\n".join(item.links or []),
    }
    capabilities = _capability_choices()
    form = ActionItemForm(
        request.POST or None,
        initial=initial,
        capabilities=capabilities,
        lenses=_lens_choices(),
        members=services.team_members(team=item.team),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = request.POST.get("version")
        try:
            saved = services.action_update(
                item=item,
                user=request.user,
                version=int(version) if version and version.isdigit() else None,
                title=data["title"],
                capability_key=data["capability_key"],
                lens_key=data["lens_key"],
                owner_id=data["owner"],
                due_on=data["due_on"],
                status=data["status"],
                drop_reason=data["drop_reason"],
                expected_effect=data["expected_effect"],
                description=data["description"],
                links=data["links"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except services.ActionConflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, SAVED_MSG)
            for warning in saved.warnings:
                messages.warning(request, warning)
            if item.assessment_id:
                return redirect(_report_url(item.assessment_id))
            return redirect("improvement:action", item.pk)
    return render(
        request,
        "improvement/action_form.html",
        {
            "form": form,
            "item": item,
            "team": item.team,
            "assessment": None,
            "changes": item.changes.select_related("changed_by")[:50],
        },
    )


@login_required
@require_POST
def action_status(request, pk: int):
    """One-click status change from the report (planned -> in progress -> done)."""
    item = get_action_item_for_user(request.user, pk)
    status = request.POST.get("status", "")
    try:
        services.action_update(item=item, user=request.user, status=status)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, SAVED_MSG)
    if item.assessment_id:
        return redirect(_report_url(item.assessment_id))
    return redirect("improvement:action", item.pk)


# --- lead pages -------------------------------------------------------------------


@login_required
def home(request):
    """The improvement pages of the first organisation the user leads."""
    access = access_for(request.user)
    organizations = Organization.objects.order_by("name")
    if not access.is_staff:
        organizations = organizations.filter(id__in=access.lead_org_ids)
    organization = organizations.first()
    if organization is None:
        raise Http404("No organisation to show.")
    return redirect("improvement:initiatives", organization.slug)


def _nodes(organization) -> list[tuple[int, str]]:
    return [
        (t.pk, f"{t.name} (business unit)" if t.is_business_unit else t.name)
        for t in Team.objects.filter(organization=organization).order_by("kind", "name")
    ]


@login_required
def initiatives(request, slug: str):
    """The organisation's initiatives with their latest progress; a form for a new one."""
    org = get_organization_for_lead(request.user, slug)
    form = InitiativeForm(
        request.POST or None,
        capabilities=_capability_choices(),
        nodes=_nodes(org),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            initiative = services.initiative_create(
                organization=org,
                user=request.user,
                name=data["name"],
                capability_key=data["capability_key"],
                target_percent=data["target_percent"],
                due_on=data["due_on"],
                scope_ids=data["scope"],
            )
        except services.ScopeNotFound:
            raise Http404("Not found.") from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, INITIATIVE_CREATED_MSG)
            return redirect("improvement:initiative", org.slug, initiative.pk)
    rows = []
    for initiative in Initiative.objects.filter(organization=org):
        progress = selectors.initiative_progress(initiative=initiative)
        rows.append(
            {"initiative": initiative, "last": progress[-1] if progress else None}
        )
    return render(
        request,
        "improvement/initiatives.html",
        {"org": org, "form": form, "rows": rows, "section": "improvement"},
    )


@login_required
def initiative_detail(request, slug: str, pk: int):
    """Progress per cycle, the burn-down, the teams still short and their items."""
    org = get_organization_for_lead(request.user, slug)
    initiative = get_initiative_for_lead(request.user, pk, org)
    team_ids = selectors.scope_team_ids(initiative=initiative)
    progress = selectors.initiative_progress(initiative=initiative, team_ids=team_ids)
    chart = None
    if progress:
        chart = {
            "payload": figure_payload(
                charts.initiative_burndown(
                    progress, title=f"{initiative.name}: teams short of target"
                )
            ),
            "headings": ["Cycle", "At target", "Teams", "Short"],
            "rows": [
                [row["cycle"], row["at_target"], row["teams"], row["short"]]
                for row in progress
            ],
        }
    return render(
        request,
        "improvement/initiative.html",
        {
            "org": org,
            "initiative": initiative,
            "progress": progress,
            "chart": chart,
            "short": selectors.short_teams(initiative=initiative, progress=progress),
            "scope": initiative.scope.order_by("name"),
            "today": timezone.localdate(),
            "section": "improvement",
        },
    )


@login_required
@require_POST
def initiative_delete(request, slug: str, pk: int):
    org = get_organization_for_lead(request.user, slug)
    initiative = get_initiative_for_lead(request.user, pk, org)
    services.initiative_delete(initiative=initiative, user=request.user)
    messages.success(request, "Initiative deleted.")
    return redirect("improvement:initiatives", org.slug)


@login_required
def summary(request, slug: str):
    """The executive summary of one cycle (printable)."""
    org = get_organization_for_lead(request.user, slug)
    cycles = list(Cycle.objects.filter(organization=org).order_by("-opens_on", "-id"))
    cycle_id = request.GET.get("cycle")
    cycle = next((c for c in cycles if str(c.pk) == cycle_id), None)
    if cycle is None:
        cycle = next((c for c in cycles if c.status != Cycle.Status.PLANNED), None)
    context = {"org": org, "cycles": cycles, "cycle": cycle}
    if cycle is not None:
        context["data"] = selectors.executive_summary(organization=org, cycle=cycle)
    return render(request, "improvement/summary.html", context)


@login_required
def plan_export(request, slug: str):
    """The organisation's action items as CSV for Jira or Azure DevOps."""
    org = get_organization_for_lead(request.user, slug)
    fmt = request.GET.get("format", "jira")
    if fmt not in exports.FORMATS:
        raise Http404("Unknown format.")
    items = (
        ActionItem.objects.filter(organization=org)
        .select_related("team", "owner")
        .order_by("team__name", "due_on", "id")
    )
    rows = [
        {
            "title": item.title,
            "description": item.description,
            "team": item.team.name,
            "capability": item.capability_name or item.capability_key,
            "capability_key": item.capability_key,
            "owner_email": (item.owner.email or item.owner.username)
            if item.owner
            else "",
            "due_on": item.due_on,
            "status": item.status,
            "expected_effect": item.expected_effect,
            "links": item.links,
        }
        for item in items
    ]
    response = HttpResponse(
        exports.items_csv(rows, fmt), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{org.slug}-action-items-{fmt}.csv"'
    )
    return response


@login_required
def webhook_list(request, slug: str):
    """The organisation's webhooks, a form for a new one, and the secret of the one
    just created (once)."""
    org = get_organization_for_lead(request.user, slug)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook = webhooks.webhook_create(
                organization=org,
                user=request.user,
                url=form.cleaned_data["url"],
                topics=form.cleaned_data["topics"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session[SECRET_SESSION_KEY] = [webhook.pk, webhook.secret]
            messages.success(request, WEBHOOK_CREATED_MSG)
            return redirect("improvement:webhooks", org.slug)
    shown = request.session.pop(SECRET_SESSION_KEY, None)
    return render(
        request,
        "improvement/webhooks.html",
        {
            "org": org,
            "form": form,
            "webhooks": Webhook.objects.filter(organization=org),
            "new_secret": shown,
            "topics": webhooks.TOPICS,
            "section": "improvement",
        },
    )


@login_required
def webhook_detail(request, slug: str, pk: int):
    """A webhook's delivery log: each delivery, its attempts and response codes."""
    org = get_organization_for_lead(request.user, slug)
    webhook = get_webhook_for_lead(request.user, pk, org)
    deliveries = (
        WebhookDelivery.objects.filter(webhook=webhook)
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")[:50]
    )
    return render(
        request,
        "improvement/webhook.html",
        {
            "org": org,
            "webhook": webhook,
            "deliveries": deliveries,
            "section": "improvement",
        },
    )


@login_required
@require_POST
def webhook_delete(request, slug: str, pk: int):
    org = get_organization_for_lead(request.user, slug)
    webhook = get_webhook_for_lead(request.user, pk, org)
    webhooks.webhook_delete(webhook=webhook, user=request.user)
    messages.success(request, WEBHOOK_DELETED_MSG)
    return redirect("improvement:webhooks", org.slug)


@login_required
@require_POST
def delivery_replay(request, slug: str, pk: int):
    org = get_organization_for_lead(request.user, slug)
    delivery = get_delivery_for_lead(request.user, pk, org)
    webhooks.delivery_replay(delivery=delivery, user=request.user)
    messages.success(request, REPLAYED_MSG)
    return redirect("improvement:webhook", org.slug, delivery.webhook_id)

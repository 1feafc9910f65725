"""The FinOps lead's pages: organisation home, teams, members, cycles, completion
board and audit log. Every view authorises through ``access.py`` first; anything
outside the lead's organisations answers 404."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from capabilities import selectors as capability_selectors
from capabilities.models import Framework
from finops_portal.formats import time_ago

from . import cycles, invitations, organizations, selectors
from .access import (
    access_for,
    get_assessment_for_user,
    get_cycle_for_lead,
    get_organization_for_lead,
    get_team_for_user,
)
from .forms import (
    CycleCreateForm,
    CycleEditForm,
    MemberAddForm,
    MemberRoleForm,
    ReopenForm,
    TeamCreateForm,
    TeamUpdateForm,
    apply_service_errors,
    capabilities_by_framework,
    lens_preset_of,
)
from .models import AnsweringMode, Assessment, Cycle, Invitation, Membership, Team
from .slots import COMPLETION_BOARD, LEAD_HOME_SECTIONS

AUDIT_PAGE_SIZE = 50
# ``/lead/?go=teams`` (the navigation's links) lands on that page of the lead's
# organisation, or lists the organisations when there are several.
LEAD_HOME_TARGETS = {
    "teams": "assessment:lead_teams",
    "members": "assessment:lead_members",
    "cycles": "assessment:lead_cycles",
    "audit": "assessment:lead_audit",
}
TEAM_CREATED_MSG = "Added “{name}”."
TEAM_UPDATED_MSG = "Saved “{name}”."
TEAM_DELETED_MSG = "Deleted “{name}”."
MEMBER_ADDED_MSG = "Added {user}."
MEMBER_ROLE_MSG = "{user} is now {role}."
MEMBER_REMOVED_MSG = "Removed {user}."
INVITATION_SENT_MSG = (
    "Invitation sent to {email}: they join when they accept it (the link works for "
    "{days} days)."
)
INVITATION_REVOKED_MSG = "Withdrew the invitation of {email}: its link no longer works."
CYCLE_UPDATED_MSG = "Saved “{name}”."
CYCLE_CREATED_MSG = "Planned cycle “{name}”. Open it when the teams should start."
CYCLE_OPENED_MSG = "Opened “{name}”: every team in scope can now answer."
CYCLE_CLOSED_MSG = "Closed “{name}”."
REOPENED_MSG = "Reopened the assessment of {team}."


def _get_team_for_lead(request, org, team_id: int) -> Team:
    team = get_team_for_user(request.user, team_id)
    if team.organization_id != org.id or not access_for(request.user).leads(org.id):
        raise Http404("No such team.")
    return team


def _get_membership(org, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "team", "organization"),
        pk=membership_id,
        organization=org,
    )


def _flash_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- home -------------------------------------------------------------------------


@login_required
def lead_home(request):
    """The organisations the user leads; with just one, that organisation's page."""
    access = access_for(request.user)
    if not (access.is_lead or access.is_staff):
        raise Http404("Not a lead.")
    organizations = list(selectors.organization_list_for_lead(user=request.user))
    target = LEAD_HOME_TARGETS.get(request.GET.get("go", ""), "assessment:lead_org")
    if len(organizations) == 1:
        return redirect(target, organizations[0].slug)
    # open cycles past their due date, per organisation (one query)
    overdue: dict[int, list[Cycle]] = {}
    for cycle in (
        Cycle.objects.filter(
            organization__in=organizations,
            status=Cycle.Status.OPEN,
            closes_on__isnull=False,
        )
        .select_related("organization")
        .order_by("closes_on")
    ):
        if cycle.is_overdue:
            overdue.setdefault(cycle.organization_id, []).append(cycle)
    for organization in organizations:
        organization.overdue_cycles = overdue.get(organization.pk, [])
    return render(
        request,
        "assessment/lead/home.html",
        {"organizations": organizations, "target": target},
    )


@login_required
def lead_org(request, org_slug: str):
    org = get_organization_for_lead(request.user, org_slug)
    context = {
        "org": org,
        "section": "home",
        "open_cycles": selectors.open_cycle_summaries(organization=org),
        "team_count": org.teams.filter(kind=Team.Kind.TEAM).count(),
        "member_count": org.memberships.count(),
        "sections": [
            mark_safe(html)  # noqa: S308 - rendered templates of the providers
            for html in LEAD_HOME_SECTIONS.collect(request, organization=org)
        ],
    }
    return render(request, "assessment/lead/org.html", context)


# --- teams ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lead_teams(request, org_slug: str):
    org = get_organization_for_lead(request.user, org_slug)
    # "Add a team here" links preselect the business unit.
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else {}
    form = TeamCreateForm(request.POST or None, organization=org, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                team = organizations.team_create(
                    organization=org,
                    name=form.cleaned_data["name"],
                    parent=form.cleaned_data["parent"],
                    kind=form.cleaned_data["kind"],
                    user=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, TEAM_CREATED_MSG.format(name=team.name))
                return redirect("assessment:lead_teams", org.slug)
        status = 400
    context = {
        "org": org,
        "section": "teams",
        "nodes": selectors.team_tree(organization=org),
        "form": form,
    }
    return render(request, "assessment/lead/teams.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lead_team_edit(request, org_slug: str, team_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    team = _get_team_for_lead(request, org, team_id)
    form = TeamUpdateForm(request.POST or None, team=team)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            parent = form.cleaned_data["parent"]
            try:
                organizations.team_update(
                    team=team,
                    name=form.cleaned_data["name"],
                    parent=parent,
                    to_root=parent is None,
                    user=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, TEAM_UPDATED_MSG.format(name=team.name))
                return redirect("assessment:lead_teams", org.slug)
        status = 400
    context = {"org": org, "section": "teams", "team": team, "form": form}
    return render(request, "assessment/lead/team_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lead_team_delete(request, org_slug: str, team_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    team = _get_team_for_lead(request, org, team_id)
    if request.method == "POST":
        name = team.name
        try:
            organizations.team_delete(team=team, user=request.user)
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(request, TEAM_DELETED_MSG.format(name=name))
        return redirect("assessment:lead_teams", org.slug)
    return render(
        request,
        "assessment/lead/confirm.html",
        {
            "org": org,
            "section": "teams",
            "title": f"Delete “{team.name}”?",
            "question": "The unit or team and its memberships are deleted. "
            "This cannot be undone.",
            "button": "Delete",
            "danger": True,
            "cancel_url": reverse("assessment:lead_teams", args=[org.slug]),
        },
    )


# --- members ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lead_members(request, org_slug: str):
    org = get_organization_for_lead(request.user, org_slug)
    form = MemberAddForm(request.POST or None, organization=org)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                added = organizations.membership_add(
                    organization=org,
                    identifier=form.cleaned_data["identifier"],
                    role=form.cleaned_data["role"],
                    team=form.cleaned_data["team"],
                    by=request.user,
                    site_url=invitations.site_url_for(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if isinstance(added, Invitation):
                    message = INVITATION_SENT_MSG.format(
                        email=added.email, days=invitations.INVITATION_DAYS
                    )
                else:
                    message = MEMBER_ADDED_MSG.format(user=added.user.username)
                messages.success(request, message)
                return redirect("assessment:lead_members", org.slug)
        status = 400
    context = {
        "org": org,
        "section": "members",
        "memberships": selectors.membership_list(organization=org),
        "invitations": invitations.pending_invitations(organization=org),
        "form": form,
        "role_choices": Membership.Role.choices,
    }
    return render(request, "assessment/lead/members.html", context, status=status)


@login_required
@require_POST
def lead_member_role(request, org_slug: str, membership_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    membership = _get_membership(org, membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, organizations.ROLE_INVALID_MSG)
    else:
        try:
            organizations.membership_update_role(
                membership=membership, role=form.cleaned_data["role"], by=request.user
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(
                request,
                MEMBER_ROLE_MSG.format(
                    user=membership.user.username,
                    role=membership.get_role_display(),
                ),
            )
    return redirect("assessment:lead_members", org.slug)


@login_required
@require_http_methods(["GET", "POST"])
def lead_member_remove(request, org_slug: str, membership_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    membership = _get_membership(org, membership_id)
    if request.method == "POST":
        username = membership.user.username
        try:
            organizations.membership_remove(membership=membership, by=request.user)
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(request, MEMBER_REMOVED_MSG.format(user=username))
        return redirect("assessment:lead_members", org.slug)
    where = membership.team.name if membership.team_id else org.name
    return render(
        request,
        "assessment/lead/confirm.html",
        {
            "org": org,
            "section": "members",
            "title": f"Remove {membership.user.username}?",
            "question": f"{membership.user.username} loses the role "
            f"{membership.get_role_display()} in {where}.",
            "button": "Remove",
            "danger": True,
            "cancel_url": reverse("assessment:lead_members", args=[org.slug]),
        },
    )


@login_required
@require_POST
def lead_invitation_revoke(request, org_slug: str, invitation_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    invitation = get_object_or_404(
        invitations.pending_invitations(organization=org), pk=invitation_id
    )
    email = invitation.email
    invitations.invitation_revoke(invitation=invitation, by=request.user)
    messages.success(request, INVITATION_REVOKED_MSG.format(email=email))
    return redirect("assessment:lead_members", org.slug)


# --- cycles -----------------------------------------------------------------------


def _cycle_form(request, org, cycle=None):
    """The create form, or with ``cycle`` its edit form, plus what the template
    needs to draw the team tree, capability groups and lens weights."""
    if cycle is None:
        frameworks = capability_selectors.published_framework_list()
    else:
        frameworks = Framework.objects.filter(pk=cycle.framework_id)
    nodes = selectors.team_tree(organization=org)
    teams = [n.team for n in nodes if not n.is_business_unit]
    grouped = capabilities_by_framework(frameworks)
    lens_keys = capability_selectors.lens_keys_of(frameworks=frameworks)
    kwargs = {
        "frameworks": frameworks,
        "teams": teams,
        "lens_keys": lens_keys,
        "capabilities": [c for caps in grouped.values() for c in caps],
    }
    if cycle is None:
        form = CycleCreateForm(request.POST or None, **kwargs)
        chosen_teams, chosen_caps = {t.id for t in teams}, set()
    else:
        preset = lens_preset_of(cycle.lens_weights, cycles.LENS_WEIGHT_PRESETS)
        initial = {
            "name": cycle.name,
            "opens_on": cycle.opens_on,
            "closes_on": cycle.closes_on,
            "lens_weights": preset,
        }
        if preset == "custom":
            initial.update({f"weight_{k}": v for k, v in cycle.lens_weights.items()})
        form = CycleEditForm(
            request.POST or None,
            initial=initial,
            scope_editable=cycle.status == Cycle.Status.PLANNED,
            **kwargs,
        )
        chosen_teams = set(cycle.teams.values_list("id", flat=True))
        chosen_caps = set(selectors.cycle_capability_ids(cycle=cycle))
    if form.is_bound:
        chosen_teams = {int(v) for v in form.data.getlist("team_ids") if v.isdigit()}
        chosen_caps = {
            int(v) for v in form.data.getlist("capability_ids") if v.isdigit()
        }
    framework_groups = [
        {"framework": fw, "capabilities": grouped.get(fw.id, [])} for fw in frameworks
    ]
    return form, {
        "nodes": nodes,
        "chosen_teams": chosen_teams,
        "chosen_caps": chosen_caps,
        "framework_groups": framework_groups,
    }


@login_required
@require_http_methods(["GET", "POST"])
def lead_cycles(request, org_slug: str):
    org = get_organization_for_lead(request.user, org_slug)
    form, form_context = _cycle_form(request, org)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                cycle = cycles.cycle_create(
                    organization=org,
                    framework=data["framework"],
                    name=data["name"],
                    opens_on=data["opens_on"],
                    closes_on=data["closes_on"],
                    team_ids=data["team_ids"] or [],
                    capability_ids=data["capability_ids"],
                    lens_weights=form.resolved_weights(cycles.LENS_WEIGHT_PRESETS),
                    user=request.user,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, CYCLE_CREATED_MSG.format(name=cycle.name))
                return redirect("assessment:cycle_detail", cycle.pk)
        status = 400
    context = {
        "org": org,
        "section": "cycles",
        "cycles": selectors.cycle_list(organization=org),
        "form": form,
        **form_context,
    }
    return render(request, "assessment/lead/cycles.html", context, status=status)


@login_required
def cycle_detail(request, cycle_id: int):
    cycle = get_cycle_for_lead(request.user, cycle_id)
    rows = selectors.cycle_completion(cycle=cycle)
    now = timezone.now()
    for row in rows:
        row["ago"] = (
            time_ago(row["last_activity_at"], now) if row["last_activity_at"] else ""
        )
    # Columns higher apps add to the board (reminders, ...): a heading, a cell per
    # assessment and a toolbar, all rendered HTML of their templates.
    columns = COMPLETION_BOARD.collect(request, cycle=cycle, rows=rows)
    for row in rows:
        row["slot_cells"] = [
            mark_safe(c.cells.get(row["assessment_id"], ""))  # noqa: S308
            for c in columns
        ]
    context = {
        "org": cycle.organization,
        "section": "cycles",
        "cycle": cycle,
        "rows": rows,
        "slot_headings": [c.heading for c in columns],
        "slot_toolbars": [mark_safe(c.toolbar_html) for c in columns if c.toolbar_html],  # noqa: S308
        "summary": selectors.completion_summary(rows),
        "reopens": selectors.cycle_reopen_list(cycle=cycle),
        "mode_choices": AnsweringMode.choices,
        "lens_weights": sorted(
            cycle.lens_weights.items(), key=lambda kv: (-kv[1], kv[0])
        ),
    }
    return render(request, "assessment/lead/cycle_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def cycle_edit(request, cycle_id: int):
    """Edit a cycle: everything while planned, the name and dates while open."""
    cycle = get_cycle_for_lead(request.user, cycle_id)
    if cycle.is_closed:
        messages.error(request, cycles.CYCLE_CLOSED_MSG)
        return redirect("assessment:cycle_detail", cycle.pk)
    form, form_context = _cycle_form(request, cycle.organization, cycle=cycle)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            scope = {}
            if "team_ids" in form.fields:
                scope = {
                    "team_ids": data["team_ids"] or [],
                    "capability_ids": data["capability_ids"] or [],
                    "lens_weights": form.resolved_weights(cycles.LENS_WEIGHT_PRESETS),
                }
            try:
                cycle = cycles.cycle_update(
                    cycle=cycle,
                    name=data["name"],
                    opens_on=data["opens_on"],
                    closes_on=data["closes_on"],
                    user=request.user,
                    **scope,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, CYCLE_UPDATED_MSG.format(name=cycle.name))
                return redirect("assessment:cycle_detail", cycle.pk)
        status = 400
    context = {
        "org": cycle.organization,
        "section": "cycles",
        "cycle": cycle,
        "form": form,
        **form_context,
    }
    return render(request, "assessment/lead/cycle_edit.html", context, status=status)


CYCLE_ACTIONS = {
    "open": {
        "service": cycles.cycle_open,
        "done": CYCLE_OPENED_MSG,
        "title": "Open “{name}”?",
        "question": "Each team in scope gets an assessment and can start answering.",
        "button": "Open cycle",
    },
    "close": {
        "service": cycles.cycle_close,
        "done": CYCLE_CLOSED_MSG,
        "title": "Close “{name}”?",
        "question": "Nothing more can be answered or submitted in this cycle.",
        "button": "Close cycle",
    },
}


@login_required
@require_http_methods(["GET", "POST"])
def cycle_transition(request, cycle_id: int, action: str):
    """Open or close a cycle: GET asks for confirmation, POST does it."""
    cycle = get_cycle_for_lead(request.user, cycle_id)
    spec = CYCLE_ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    if request.method == "POST":
        extra = (
            {"carry_forward": request.POST.get("carry_forward") == "on"}
            if action == "open"
            else {}
        )
        try:
            spec["service"](cycle=cycle, user=request.user, **extra)
        except ValidationError as exc:
            _flash_errors(request, exc)
        else:
            messages.success(request, spec["done"].format(name=cycle.name))
        return redirect("assessment:cycle_detail", cycle.pk)
    return render(
        request,
        "assessment/lead/confirm.html",
        {
            "org": cycle.organization,
            "section": "cycles",
            "title": spec["title"].format(name=cycle.name),
            "question": spec["question"],
            "warnings": cycles.cycle_transition_warnings(cycle=cycle, action=action),
            "button": spec["button"],
            "danger": action == "close",
            "offer_carry_forward": action == "open",
            "cancel_url": reverse("assessment:cycle_detail", args=[cycle.pk]),
        },
    )


@login_required
def cycle_completion_csv(request, cycle_id: int):
    cycle = get_cycle_for_lead(request.user, cycle_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="completion-{cycle.organization.slug}-{cycle.pk}.csv"'
    )
    writer = csv.writer(response)
    writer.writerows(
        selectors.completion_csv_rows(selectors.cycle_completion(cycle=cycle))
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def lead_assessment_reopen(request, assessment_id: int):
    """A lead reopens a submitted assessment, giving a reason the team will see."""
    assessment = get_assessment_for_user(request.user, assessment_id)
    if not access_for(request.user).leads(assessment.cycle.organization_id):
        raise Http404("No such assessment.")
    form = ReopenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            from .services import assessment_reopen

            try:
                assessment_reopen(
                    assessment=assessment,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, REOPENED_MSG.format(team=assessment.team.name)
                )
                return redirect("assessment:cycle_detail", assessment.cycle_id)
        status = 400
    context = {
        "org": assessment.cycle.organization,
        "section": "cycles",
        "assessment": assessment,
        "is_submitted": assessment.status == Assessment.Status.SUBMITTED,
        "form": form,
    }
    return render(request, "assessment/lead/reopen.html", context, status=status)


# --- audit log --------------------------------------------------------------------


@login_required
def lead_audit(request, org_slug: str):
    org = get_organization_for_lead(request.user, org_slug)
    paginator = Paginator(selectors.audit_event_list(organization=org), AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    events = selectors.audit_events_described(list(page.object_list))
    return render(
        request,
        "assessment/lead/audit.html",
        {"org": org, "section": "audit", "page": page, "events": events},
    )

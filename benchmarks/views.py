"""Benchmark pages: the team report, the organisation dashboard, targets, exports.

Every view authorises through ``assessment.access`` (404 outside the user's reach),
then reads snapshots through ``reports``/``selectors`` and renders.
"""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from assessment.access import (
    access_for,
    get_assessment_for_user,
    get_cycle_for_lead,
    get_organization_for_lead,
)
from assessment.models import Organization, Team
from assessment.targets import (
    target_clear,
    target_percent_clean,
    target_set,
    targets_frame,
)
from finops_portal import cells

from . import exports, report_cache, reports, selectors
from .slots import DASHBOARD_SECTIONS, TEAM_REPORT_SECTIONS

TARGETS_SAVED_MSG = "Targets saved."
EXPORT_FORMATS = {"csv", "xlsx"}
SORT_KEY = re.compile(r"[a-z0-9_-]{1,60}")


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _team_report_context(request, pk: int) -> dict:
    """The assessment (404 outside the user's reach) and, once submitted, its report
    as this user sees it: leads see groups below the anonymity threshold."""
    assessment = get_assessment_for_user(
        request.user, pk, queryset=report_cache.report_assessments()
    )
    is_lead = access_for(request.user).leads(assessment.cycle.organization_id)
    context = {"assessment": assessment, "is_lead": is_lead}
    if assessment.is_submitted:
        context |= reports.team_report_data(
            assessment=assessment, enforce_anonymity=not is_lead
        )
    return context


# Where the cached report body takes the sections of higher apps: after the grid.
REPORT_SECTIONS_MARKER = "<!-- report-sections -->"


@login_required
def team_report(request, pk: int):
    """A team's results: grid, charts, benchmarks, recommendations and trend; the
    sections higher apps add (``TEAM_REPORT_SECTIONS``) after the grid, rendered
    per request outside the report cache."""
    context = _team_report_context(request, pk)
    if "report_html" in context:
        head, _marker, tail = str(context["report_html"]).partition(
            REPORT_SECTIONS_MARKER
        )
        context["report_head"] = mark_safe(head)  # noqa: S308 - the rendered report
        context["report_tail"] = mark_safe(tail)  # noqa: S308
        context["report_sections"] = [
            mark_safe(html)  # noqa: S308 - rendered templates of the providers
            for html in TEAM_REPORT_SECTIONS.collect(
                request,
                assessment=context["assessment"],
                is_lead=context["is_lead"],
            )
        ]
    return render(request, "benchmarks/team_report.html", context)


@login_required
def team_benchmark(request, pk: int):
    """Where the team stands in its organisation and business unit (no team named)."""
    context = _team_report_context(request, pk)
    return render(request, "benchmarks/team_benchmark.html", context)


@login_required
def dashboard_home(request):
    """The dashboard of the first organisation the user leads."""
    access = access_for(request.user)
    organizations = Organization.objects.order_by("name")
    if not access.is_staff:
        organizations = organizations.filter(id__in=access.lead_org_ids)
    organization = organizations.first()
    if organization is None:
        raise Http404("No organisation to show.")
    return redirect("benchmarks:org_dashboard", slug=organization.slug)


@login_required
def org_dashboard(request, slug: str):
    """The lead's view of a cycle: the teams (the business units of a large scope,
    each opening its own; the teams a page at a time), distributions, levels,
    units, trend. A unit of another organisation is ignored; a page past the last
    shows the last."""
    organization = get_organization_for_lead(request.user, slug)
    cycles = selectors.cycles_list(organization=organization)
    cycle = reports.pick_cycle(cycles, _int_or_none(request.GET.get("cycle")))
    context = {"organization": organization, "cycles": cycles, "cycle": cycle}
    if cycle is None:
        return render(request, "benchmarks/org_dashboard.html", context)
    unit_id = _int_or_none(request.GET.get("unit"))
    if (
        unit_id is not None
        and not Team.objects.filter(
            organization=organization, id=unit_id, kind=Team.Kind.BUSINESS_UNIT
        ).exists()
    ):
        unit_id = None
    sort = request.GET.get("sort") or "name"
    if not SORT_KEY.fullmatch(sort):
        sort = "name"
    data = reports.org_dashboard_data(
        organization=organization,
        cycle=cycle,
        unit_id=unit_id,
        sort=sort,
        page=_int_or_none(request.GET.get("page")) or 1,
        units_page=_int_or_none(request.GET.get("units_page")) or 1,
    )
    if sort not in {key for key, _label in data["sort_options"]}:
        sort = "name"
    context |= {
        "data": data,
        "unit_id": unit_id,
        "sort": sort,
        "completion": selectors.cycle_completion_get(cycle=cycle["id"]),
        "sections": [
            mark_safe(html)  # noqa: S308 - rendered templates of the providers
            for html in DASHBOARD_SECTIONS.collect(
                request,
                organization=organization,
                cycle_id=cycle["id"],
                unit_id=unit_id,
            )
        ],
        "is_stale": cycle["generation"] > cycle["computed_generation"],
    }
    return render(request, "benchmarks/org_dashboard.html", context)


@login_required
def targets_edit(request, slug: str):
    """Organisation default targets and one team's overrides, per capability."""
    organization = get_organization_for_lead(request.user, slug)
    cycles = selectors.cycles_list(organization=organization)
    framework_id = _targets_framework_id(cycles)
    teams = selectors.teams_frame(organization=organization)
    team_choices = teams[teams["kind"] == Team.Kind.TEAM][["id", "name"]]
    team_id = _int_or_none(request.POST.get("team") or request.GET.get("team"))
    team = None
    if team_id is not None:
        team = Team.objects.filter(
            organization=organization, id=team_id, kind=Team.Kind.TEAM
        ).first()
        if team is None:
            raise Http404("No such team.")
    if framework_id is None:
        capabilities, levels = [], []
    else:
        capabilities = selectors.capabilities_frame(framework_id=framework_id).to_dict(
            "records"
        )
        levels = selectors.levels_frame(framework_id=framework_id).to_dict("records")
    targets = targets_frame(organization=organization)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        errors, values, changes = _parse_targets(request.POST, capabilities, levels)
        if not errors:
            with transaction.atomic():
                for key, percent in changes.items():
                    if percent is None:
                        target_clear(
                            organization=organization,
                            capability_key=key,
                            team=team,
                            user=request.user,
                        )
                    else:
                        target_set(
                            organization=organization,
                            capability_key=key,
                            percent=percent,
                            team=team,
                            user=request.user,
                        )
            messages.success(request, TARGETS_SAVED_MSG)
            url = request.path + (f"?team={team.id}" if team else "")
            return redirect(url)
    defaults = {
        row["capability_key"]: row["percent"]
        for row in targets[targets["team_id"].isna()].to_dict("records")
    }
    overrides = {
        row["capability_key"]: row["percent"]
        for row in targets[targets["team_id"] == (team.id if team else -1)].to_dict(
            "records"
        )
    }
    current = overrides if team else defaults
    rows = []
    for capability in capabilities:
        key = capability["key"]
        value = values.get(key)
        if value is None:
            value = _format_percent(current.get(key))
        rows.append(
            {
                **capability,
                "value": value,
                "error": errors.get(key),
                "default": _format_percent(defaults.get(key)),
            }
        )
    team_names = dict(zip(teams["id"], teams["name"], strict=True))
    capability_names = {c["key"]: c["name"] for c in capabilities}
    override_list = [
        {
            "team": team_names.get(int(row["team_id"]), "?"),
            "team_id": int(row["team_id"]),
            "capability_key": row["capability_key"],
            "capability": capability_names.get(
                row["capability_key"], row["capability_key"]
            ),
            "percent": _format_percent(row["percent"]),
        }
        for row in targets[targets["team_id"].notna()].to_dict("records")
    ]
    override_list.sort(key=lambda row: (row["team"], row["capability"]))
    return render(
        request,
        "benchmarks/targets.html",
        {
            "organization": organization,
            "team": team,
            "team_choices": team_choices.to_dict("records"),
            "rows": rows,
            "levels": levels,
            "override_list": override_list,
            "has_errors": bool(errors),
        },
        status=400 if errors else 200,
    )


def _targets_framework_id(cycles):
    if cycles:
        return cycles[0]["framework_id"]
    from capabilities.models import Framework

    return (
        Framework.objects.filter(status=Framework.Status.PUBLISHED)
        .order_by("-published_at", "-id")
        .values_list("id", flat=True)
        .first()
    )


def _format_percent(value) -> str:
    if value is None or value != value:
        return ""
    value = float(value)
    return f"{value:.0f}" if value == int(value) else f"{value:g}"


def _parse_targets(data, capabilities, levels):
    """Per capability: the percent typed, else the level picked (its minimum percent),
    else None (no target). Returns (errors, raw values, changes)."""
    level_minimum = {level["key"]: level["min_percent"] for level in levels}
    errors, values, changes = {}, {}, {}
    for capability in capabilities:
        key = capability["key"]
        raw = (data.get(f"percent-{key}") or "").strip()
        level = data.get(f"level-{key}") or ""
        values[key] = raw
        if not raw and level in level_minimum:
            raw = str(level_minimum[level])
            values[key] = _format_percent(level_minimum[level])
        if not raw:
            changes[key] = None
            continue
        try:
            changes[key] = target_percent_clean(raw)
        except ValidationError as error:
            errors[key] = error.messages[0]
    return errors, values, changes


def _export(request, pk: int, fmt: str, kind: str, table_for):
    if fmt not in EXPORT_FORMATS:
        raise Http404("No such format.")
    cycle = get_cycle_for_lead(request.user, pk)
    headers, rows = table_for(cycle=cycle)
    filename = exports.export_filename(cycle=cycle, kind=kind, fmt=fmt)
    if fmt == "csv":
        response = HttpResponse(
            cells.to_csv(headers, rows), content_type=cells.CSV_CONTENT_TYPE
        )
    else:
        response = HttpResponse(
            cells.to_xlsx(headers, rows, title=kind),
            content_type=cells.XLSX_CONTENT_TYPE,
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def export_team_scores(request, pk: int, fmt: str):
    """The cycle's team scores as CSV or XLSX (leads of the organisation)."""
    return _export(request, pk, fmt, "team-scores", exports.team_scores_table)


@login_required
def export_rollup(request, pk: int, fmt: str):
    """The cycle's roll-up snapshot as CSV or XLSX (leads of the organisation)."""
    return _export(request, pk, fmt, "rollup", exports.rollup_table)

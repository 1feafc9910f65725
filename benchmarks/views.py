"""Benchmark pages: the team report, the organisation dashboard, targets, exports."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from assessment.access import (
    get_assessment_for_user,
    get_cycle_for_lead,
    get_organization_for_lead,
)


@login_required
def team_report(request, pk: int):
    assessment = get_assessment_for_user(request.user, pk)
    return render(request, "benchmarks/team_report.html", {"assessment": assessment})


@login_required
def team_benchmark(request, pk: int):
    get_assessment_for_user(request.user, pk)
    raise Http404("Not built yet.")


@login_required
def org_dashboard(request, slug: str):
    get_organization_for_lead(request.user, slug)
    raise Http404("Not built yet.")


@login_required
def targets_edit(request, slug: str):
    get_organization_for_lead(request.user, slug)
    raise Http404("Not built yet.")


@login_required
def export_team_scores(request, pk: int, fmt: str):
    get_cycle_for_lead(request.user, pk)
    raise Http404("Not built yet.")


@login_required
def export_rollup(request, pk: int, fmt: str):
    get_cycle_for_lead(request.user, pk)
    raise Http404("Not built yet.")

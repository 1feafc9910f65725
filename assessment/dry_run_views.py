"""Staff pages of a framework version's dry run: choose an organisation, follow
the progress, read how scores and levels would move. Everyone else gets a 404."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods

from capabilities.models import Framework

from . import dry_runs
from .models import FrameworkDryRun, Organization


class DryRunForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"),
        label="Organisation",
        help_text="Its last closed cycle's submitted answers are scored against "
        "this version; nothing of the organisation is changed.",
        error_messages={"required": "Choose an organisation."},
    )


def _staff_framework(request, pk) -> Framework:
    if not request.user.is_staff:
        raise Http404("No such page.")
    framework = Framework.objects.filter(pk=pk).first()
    if framework is None:
        raise Http404("No such framework.")
    return framework


@login_required
@require_http_methods(["GET", "POST"])
def dry_run_start(request, pk: int):
    framework = _staff_framework(request, pk)
    form = DryRunForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = dry_runs.dry_run_start(
                    framework=framework,
                    organization=form.cleaned_data["organization"],
                    user=request.user,
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("organization", message)
            else:
                return redirect("assessment:dry_run", run.pk)
        status = 400
    runs = FrameworkDryRun.objects.filter(framework=framework).select_related(
        "organization"
    )[:10]
    return render(
        request,
        "assessment/dry_run_start.html",
        {"framework": framework, "form": form, "runs": runs},
        status=status,
    )


@login_required
@require_GET
def dry_run(request, run_id: int):
    if not request.user.is_staff:
        raise Http404("No such page.")
    run = (
        FrameworkDryRun.objects.select_related("framework", "organization")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise Http404("No such dry run.")
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "state": run.state,
                "done": run.done,
                "total": run.total,
                "error": run.error,
            }
        )
    return render(request, "assessment/dry_run.html", {"run": run})


def review_section(request, *, framework):
    """The dry-run section of a framework's review page in the admin."""
    if not request.user.is_staff:
        return None
    return render_to_string(
        "assessment/_dry_run_section.html",
        {
            "framework": framework,
            "form": DryRunForm(),
            "runs": FrameworkDryRun.objects.filter(framework=framework).select_related(
                "organization"
            )[:5],
        },
        request=request,
    )

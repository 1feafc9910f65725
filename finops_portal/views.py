from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache

from assessment.access import access_for

from . import health


@never_cache
def healthz(request):
    """JSON state of the database, cache and broker; 200 only when all answer."""
    checks = {
        "database": health.check_database(),
        "cache": health.check_cache(),
        "broker": health.check_broker(),
    }
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "checks": checks},
        status=200 if ok else 503,
    )


@login_required
def home(request):
    """Send each user to the page of their role: leads to the lead home, members of
    a team to their assessments; others see a short explanation."""
    access = access_for(request.user)
    if access.is_lead:
        try:
            return redirect(reverse("assessment:lead_home"))
        except NoReverseMatch:
            return redirect("assessment:my_assessments")
    if access.team_ids or access.member_org_ids:
        return redirect("assessment:my_assessments")
    return render(request, "home.html")


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)

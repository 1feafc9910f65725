from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

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
    """Send each user to the page of their role."""
    return render(request, "home.html")


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
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


def csrf_failure(request, reason=""):
    """A form sent without a valid CSRF token (often an expired session): say what
    happened and how to go on, in the site's own page (``CSRF_FAILURE_VIEW``)."""
    return render(request, "403_csrf.html", status=403)


def favicon(request):
    """The site's icon at the address browsers try first (the static file's own URL
    carries a content hash in production, so it is looked up per request)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))

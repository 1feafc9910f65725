"""Sign-in throttling with django-axes, keyed so that nobody can lock out someone else.

Two limits, both counted over the cool-off window (``AXES_COOLOFF_TIME``):

- ``AXES_FAILURE_LIMIT`` failures for one username from one client address lock
  that username *from that address* only: the same person signs in from anywhere
  else, so an attacker elsewhere cannot lock them out;
- ``AXES_ADDRESS_FAILURE_LIMIT`` failures from one address, whatever the
  usernames, lock the address: password spraying (many usernames, one password)
  is throttled too.

The client address is the one ``finops_portal.client_ip`` finds (proxy headers only
from ``TRUSTED_PROXIES``). Usernames are compared case-insensitively, so "Alice" and
"alice" share a count. The lockout answer is the same whether or not the username
exists: HTML for pages, JSON for the API.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum
from django.http import JsonResponse
from django.shortcuts import render

LOCKOUT_MSG = (
    "Too many failed sign-ins from your network address. Wait {wait} and try again."
)
API_PREFIX = "/api/"


def username_key(request, credentials: dict | None) -> str | None:
    """The username an attempt counts against: trimmed and lower-cased."""
    username = (credentials or {}).get("username")
    if username is None and request is not None and request.method == "POST":
        username = request.POST.get("username")
    if not isinstance(username, str):
        return None
    return username.strip().lower() or None


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a second limit per client address.

    Axes records attempts per (username, address, user agent) and, with
    ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``, resets only the
    signed-in username's attempts from that address on success, so a sign-in to
    one's own account does not wipe the address's count of sprayed failures.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        totals = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(
            address=Sum("failures_since_start"),
            username=Sum("failures_since_start", filter=Q(username=username)),
        )
        per_username = totals["username"] or 0
        if (totals["address"] or 0) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(per_username, get_failure_limit(request, credentials))
        return per_username


def _wait_text(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_response(request, original_response=None, credentials=None):
    """429 with ``Retry-After``: JSON ``{"detail": ...}`` under /api/, else a page."""
    seconds = int(get_cool_off(request).total_seconds())
    message = LOCKOUT_MSG.format(wait=_wait_text(seconds))
    if request.path.startswith(API_PREFIX):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {"message": message},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response

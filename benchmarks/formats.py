"""How long ago a snapshot was computed, as the pages show it ("25 s", "3 min").

``static/js/ago.js`` keeps the same text up to date on an open page."""

from django.utils import timezone


def age_text(moment, now=None) -> str:
    """The time since ``moment`` in its largest whole unit: s, min, h or days."""
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"

"""How long ago something happened, as the pages show it: one formatter.

``age_text`` ("25 s", "3 min", "2 days") labels when a snapshot was computed, and
``static/js/ago.js`` keeps the same text current on an open page; ``time_ago``
("just now", "3 h ago", "2 d ago") is the completion board's short form.
"""

from django.utils import timezone

# seconds per unit, largest first: (seconds, short name, long name)
UNITS = [(86400, "d", "days"), (3600, "h", "h"), (60, "min", "min"), (1, "s", "s")]


def elapsed(moment, now=None) -> tuple[int, str, str]:
    """The time since ``moment`` in its largest whole unit: (count, short, long).
    A moment a little in the future (a clock ahead) counts as now."""
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    for size, short, long in UNITS:
        if seconds >= size:
            return seconds // size, short, long
    return 0, "s", "s"


def age_text(moment, now=None) -> str:
    """``"25 s"``, ``"3 min"``, ``"4 h"``, ``"2 days"``."""
    count, _short, long = elapsed(moment, now)
    return f"{count} {long}"


def time_ago(moment, now=None) -> str:
    """``"just now"`` under a minute, else ``"5 min ago"``, ``"3 h ago"``, ``"2 d ago"``."""
    count, short, _long = elapsed(moment, now)
    if short == "s":
        return "just now"
    return f"{count} {short} ago"

"""Numbers and ages as the pages, exports and dashboard show them: one formatter.

Numbers are stored and computed at full precision and rounded only here, half
away from zero (52.5 -> 53, 37.5 -> 38, -2.5 -> -3), after dropping float noise
below ``NOISE_DECIMALS`` (67.49999999999999 is 67.5). ``rounded`` gives the number
(for spreadsheet cells and charts), ``number`` its text (at most that many
decimals, trailing zeros dropped: 26.25, 67.5, 4), and the template filter
``{% load numbers %}{{ value|number }}`` the same text on a page. How many
decimals each kind of figure shows is in ``DIGITS``.

``age_text`` ("25 s", "3 min", "2 days") labels when a snapshot was computed, and
``static/js/ago.js`` keeps the same text current on an open page; ``time_ago``
("just now", "3 h ago", "2 d ago") is the completion board's short form.
"""

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

# decimals shown per kind of figure, everywhere (report, exports, dashboard)
PERCENT_DIGITS = 2  # percents, gaps and progress (points)
LENS_DIGITS = 2  # lens scores 0-4 and the Foundation's total 0-20
DIGITS = {"percent": PERCENT_DIGITS, "lens": LENS_DIGITS, "total": LENS_DIGITS}
NOISE_DECIMALS = 9
MISSING = "–"
# enough digits for any float (up to 1e308) with NOISE_DECIMALS decimals
CONTEXT = Context(prec=340)
AT_TARGET = "at target"
ABOVE_TARGET = "above target by {amount}"


def _decimal(value) -> Decimal | None:
    """``value`` as a Decimal rid of float noise, or None when missing/not finite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(float(value)))
    except (TypeError, ValueError, InvalidOperation):
        return None
    if not number.is_finite():
        return None
    return number.quantize(
        Decimal(1).scaleb(-NOISE_DECIMALS), ROUND_HALF_UP, context=CONTEXT
    )


def _quantized(value, digits: int) -> Decimal | None:
    number = _decimal(value)
    if number is None:
        return None
    rounded = number.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP, CONTEXT)
    return rounded.copy_abs() if rounded == 0 else rounded  # no "-0"


def rounded(value, digits: int = PERCENT_DIGITS) -> float | None:
    """``value`` rounded half away from zero to ``digits`` decimals; None when it
    is missing (None, NaN, not a number)."""
    number = _quantized(value, digits)
    return None if number is None else float(number)


def number(value, digits: int = PERCENT_DIGITS, *, trim: bool = True) -> str:
    """``value`` as text rounded to ``digits`` decimals, trailing zeros dropped
    unless ``trim`` is False ("–" when missing)."""
    number = _quantized(value, digits)
    if number is None:
        return MISSING
    text = f"{number:.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def signed(value, digits: int = PERCENT_DIGITS) -> str:
    """``number`` with an explicit sign: "+4", "-8", "0"."""
    text = number(value, digits)
    if text == MISSING or text.startswith("-") or _quantized(value, digits) == 0:
        return text
    return "+" + text


def gap_text(gap, digits: int = PERCENT_DIGITS) -> str:
    """A gap to target (target - score) in words where it is not a shortfall:
    "12.5", "at target", "above target by 2.5" (never an unexplained minus)."""
    amount = _quantized(gap, digits)
    if amount is None:
        return MISSING
    if amount == 0:
        return AT_TARGET
    if amount < 0:
        return ABOVE_TARGET.format(amount=number(-amount, digits))
    return number(amount, digits)


# seconds per unit, largest first: (seconds, short name, long name)
UNITS = [(86400, "d", "days"), (3600, "h", "h"), (60, "min", "min"), (1, "s", "s")]


def elapsed(moment, now=None) -> tuple[int, str, str]:
    """The time since ``moment`` in its largest whole unit: (count, short, long).
    A moment a little in the future (a clock ahead) counts as now."""
    from django.utils import timezone

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

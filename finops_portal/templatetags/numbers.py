"""``{{ value|number }}``, ``{{ gap|gap_text }}``: ``finops_portal.formats``'s
rounding (half away from zero) on a page."""

from django import template

from finops_portal import formats

register = template.Library()


@register.filter
def number(value, digits=formats.PERCENT_DIGITS):
    """A number rounded to ``digits`` decimals ("–" when None); any other value
    (a name in a table row) as it is."""
    if value is None:
        return formats.MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return formats.number(value, int(digits))


@register.filter
def gap_text(value, digits=formats.PERCENT_DIGITS):
    """A gap to target: "12.5", "at target" or "above target by 2.5"."""
    return formats.gap_text(value, int(digits))

"""``{{ value|number:1 }}``, ``{{ gap|gap_text }}``: ``finops_portal.formats``'s
rounding (half away from zero) on a page."""

from django import template

from finops_portal import formats

register = template.Library()


@register.filter
def number(value, digits=0):
    """``value`` with ``digits`` decimals, "–" when missing."""
    return formats.number(value, int(digits))


@register.filter
def gap_text(value, digits=formats.PERCENT_DIGITS):
    """A gap to target: "12.5", "at target" or "above target by 2.5"."""
    return formats.gap_text(value, int(digits))

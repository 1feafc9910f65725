"""Display helpers of the evidence pages: amounts, counts and measure values."""

from decimal import Decimal

from django import template

from ..selectors import format_value

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.678 -> '12,345.68' (amounts are shown to the cent)."""
    if value is None or value == "":
        return "–"
    return f"{Decimal(value):,.2f}"


@register.filter
def thousands(value) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}"


@register.simple_tag
def measure_value(measure: str, value) -> str:
    """A measure's value with its unit: '41.3 %' or '3' ('–' without one)."""
    if value is None or value == "":
        return format_value(measure, None)
    return format_value(measure, float(value))

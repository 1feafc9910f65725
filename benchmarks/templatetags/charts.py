"""Tags of the chart pages: ``{% plotly_template %}`` (plotly's default template,
once per page) and ``{% computed_ago moment %}`` (when the figures were computed)."""

import functools

from django import template
from django.utils.html import format_html, json_script

from benchmarks.charts import default_template
from finops_portal.formats import age_text

register = template.Library()
TEMPLATE_ELEMENT_ID = "plotly-template"


@functools.cache
def _template_script() -> str:
    return json_script(default_template(), TEMPLATE_ELEMENT_ID)


@register.simple_tag
def plotly_template():
    """An inert JSON script element that ``charts.js`` applies to every figure
    drawn without a template of its own."""
    return _template_script()


@register.simple_tag
def computed_ago(moment):
    """``<time>`` with the time since ``moment`` ("3 min"), kept current by
    ``js/ago.js``; "–" when there is no moment."""
    if moment is None:
        return "–"
    return format_html(
        '<time data-ago datetime="{}">{}</time>', moment.isoformat(), age_text(moment)
    )

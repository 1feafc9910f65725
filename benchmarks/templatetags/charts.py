"""``{% plotly_template %}``: plotly's default template, once per page with charts."""

import functools

from django import template
from django.utils.html import json_script

from benchmarks.charts import default_template

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

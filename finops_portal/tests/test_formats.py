from datetime import UTC, datetime, timedelta

import pytest

from finops_portal.formats import age_text

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=0), "0 s"),
        (timedelta(seconds=59), "59 s"),
        (timedelta(seconds=60), "1 min"),
        (timedelta(minutes=59, seconds=59), "59 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=23, minutes=59), "23 h"),
        (timedelta(days=3, hours=5), "3 days"),
        (timedelta(seconds=-5), "0 s"),  # a clock a little ahead
    ],
)
def test_age_text_uses_the_largest_whole_unit(ago, text):
    assert age_text(NOW - ago, now=NOW) == text


# --- numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (52.5, 0, "53"),  # half away from zero, not to even (52)
        (37.5, 0, "38"),
        (-2.5, 0, "-3"),
        (2.675, 2, "2.68"),  # 2.675 is 2.67499999... in binary
        (67.49999999999999, 0, "68"),  # float noise is dropped first
        (26.25, 2, "26.25"),
        (43.75, 2, "43.75"),
        (20.0, 2, "20"),
        (67.5, 2, "67.5"),
        (-0.4, 0, "0"),  # never "-0"
        (None, 2, "–"),
        (float("nan"), 2, "–"),
        (float("inf"), 2, "–"),
    ],
)
def test_number_rounds_half_away_from_zero(value, digits, text):
    from finops_portal.formats import number

    assert number(value, digits) == text


def test_rounded_gives_the_same_figure_as_a_number():
    from finops_portal.formats import rounded

    assert rounded(52.5, 0) == 53.0
    assert rounded(2.675, 2) == 2.68
    assert rounded(None) is None


@pytest.mark.parametrize(
    ("gap", "text"),
    [(12.5, "12.5"), (-2.5, "above target by 2.5"), (0.001, "at target"), (None, "–")],
)
def test_gap_text_never_shows_an_unexplained_minus(gap, text):
    from finops_portal.formats import gap_text

    assert gap_text(gap) == text


def test_the_template_filters_use_the_same_formatter():
    from django.template import Context, Template

    rendered = Template(
        "{% load numbers %}{{ a|number:0 }} {{ b|number }} {{ c|number }} "
        "{{ d|gap_text }}"
    ).render(Context({"a": 37.5, "b": 26.25, "c": "Education", "d": -4}))
    assert rendered == "38 26.25 Education above target by 4"

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

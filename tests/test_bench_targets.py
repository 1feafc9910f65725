"""The benchmark runner's check of the design's targets."""

from bench.common import row
from bench.targets import AT_LEAST, AT_MOST, Target, check, format_targets

TARGETS = [
    Target("page within 2x", "page p95", "ratio", AT_MOST, 2),
    Target("saves at least 0.7x", "saves", "ratio", AT_LEAST, 0.7),
    Target("memory under 500", "memory", "value", AT_MOST, 500),
    Target("never measured", "missing row", "value", AT_MOST, 1),
]


def test_each_target_reads_its_row_and_says_whether_it_was_met():
    rows = [
        row("page p95", 300, "ms", baseline=100),  # 3x: missed
        row("saves", 80, "saves/s", baseline=100),  # 0.8x: met
        row("memory", 500, "MB"),  # at the limit: met
    ]
    lines = check(rows, TARGETS)
    assert [(line["measured"], line["met"]) for line in lines] == [
        (3.0, "NO"),
        (0.8, "yes"),
        (500, "yes"),
        (None, "not run"),
    ]
    table = format_targets(lines)
    assert table.splitlines()[0].split() == ["target", "measured", "limit", "met"]
    assert "page within 2x" in table
    assert "<= 2" in table

"""The dashboard's headline table: median and level per capability, the share of
teams at target, movement since the previous cycle."""

import math

import pandas as pd
import pytest
from django.urls import reverse

from benchmarks.report_frames import capability_headlines

LEVELS = pd.DataFrame(
    {"name": ["Crawl", "Walk", "Run"], "min_percent": [0.0, 40.0, 70.0]}
)


def test_headlines_per_capability():
    node_stats = pd.DataFrame(
        {
            "capability_key": ["a", "b"],
            "capability": ["Alpha", "Beta"],
            "median": [55.0, 72.5],
        }
    )
    scores = pd.DataFrame(
        {
            "capability_key": ["a", "a", "a", "b", "b"],
            "percent": [50.0, 60.0, 70.0, 80.0, 65.0],
            "target": [60.0, 60.0, math.nan, math.nan, math.nan],
        }
    )
    history = pd.DataFrame(
        {
            "cycle_id": [1, 1, 2, 2, 3, 3],
            "capability_key": ["a", "b", "a", "b", "a", "b"],
            "median": [30.0, 40.0, 45.0, 75.0, 55.0, 72.5],
        }
    )
    rows = capability_headlines(
        node_stats=node_stats, scores=scores, history=history, levels=LEVELS, cycle_id=3
    )
    assert rows[0] == {
        "capability": "Alpha",
        "median": 55.0,
        "level": "Walk",
        "with_target": 2,
        "at_target": 1,
        "share_at_target": 50.0,
        "movement": 10.0,  # against cycle 2, not cycle 1
    }
    assert rows[1]["level"] == "Run"
    assert rows[1]["with_target"] == 0
    assert rows[1]["share_at_target"] is None
    assert rows[1]["movement"] == -2.5


def test_the_first_cycle_has_no_movement():
    node_stats = pd.DataFrame(
        {"capability_key": ["a"], "capability": ["Alpha"], "median": [20.0]}
    )
    scores = pd.DataFrame({"capability_key": [], "percent": [], "target": []})
    history = pd.DataFrame({"cycle_id": [7], "capability_key": ["a"], "median": [20.0]})
    (row,) = capability_headlines(
        node_stats=node_stats, scores=scores, history=history, levels=LEVELS, cycle_id=7
    )
    assert row["movement"] is None
    assert row["level"] == "Crawl"


@pytest.mark.django_db
def test_the_dashboard_opens_with_the_headlines(client, lead, org, empty_cache, cycle):
    client.force_login(lead)
    html = client.get(reverse("benchmarks:org_dashboard", args=[org.slug])).content
    html = html.decode()
    head = html.index("Where the teams stand")
    assert head < html.index("completion-heading")
    assert "Median %" in html
    assert "no earlier cycle" in html

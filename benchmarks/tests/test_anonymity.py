"""The anonymity rule, the one used by the team report, the benchmark page and the
API: a figure of fewer than k teams is never shown to a respondent."""

import pandas as pd
import pytest

from benchmarks.anonymity import (
    HIDDEN_GROUP_MSG,
    PARTLY_HIDDEN_GROUP_MSG,
    anonymity_split,
    anonymity_split_rows,
    hidden_message,
    is_visible,
)


@pytest.mark.parametrize(
    ("n", "visible"), [(0, False), (4, False), (5, True), (6, True), (None, False)]
)
def test_a_figure_is_visible_from_k_teams(n, visible):
    assert is_visible(n, 5) is visible


def test_a_group_below_k_is_hidden_whole():
    stats = pd.DataFrame(
        {
            "group": ["Org", "Org", "Retail", "Retail"],
            "capability": ["A", "B", "A", "B"],
            "n": [6, 6, 4, 4],
        }
    )
    visible, hidden = anonymity_split(stats, k=5)
    assert hidden == ["Retail"]
    assert list(visible["group"]) == ["Org", "Org"]


def test_a_group_at_k_is_shown():
    stats = pd.DataFrame({"group": ["Retail"], "capability": ["A"], "n": [5]})
    visible, hidden = anonymity_split(stats, k=5)
    assert hidden == []
    assert len(visible) == 1


def test_a_row_below_k_is_hidden_even_when_its_group_is_larger_elsewhere():
    """The case the two former rules disagreed on: the group's largest row meets k
    (overall, capability A) but capability B counts 3 teams (two marked N/A)."""
    stats = pd.DataFrame(
        {
            "group": ["Retail", "Retail", "Retail"],
            "capability": [None, "A", "B"],  # None: overall
            "n": [5, 5, 3],
        }
    )
    visible, hidden = anonymity_split(stats, k=5)
    assert visible["capability"].tolist()[1:] == ["A"]
    assert visible["capability"].isna().tolist() == [True, False]
    assert hidden == ["Retail"]

    rows = [
        {"capability": None, "n": 5},
        {"capability": "A", "n": 5},
        {"capability": "B", "n": 3},
    ]
    shown, hidden_rows = anonymity_split_rows(rows, k=5)
    assert [r["capability"] for r in shown] == [None, "A"]
    assert [r["capability"] for r in hidden_rows] == ["B"]


def test_the_message_says_whether_a_group_is_hidden_whole_or_in_part():
    assert hidden_message(group="Retail", k=5, fully=True) == HIDDEN_GROUP_MSG.format(
        k=5, group="Retail"
    )
    assert hidden_message(
        group="Retail", k=5, fully=False
    ) == PARTLY_HIDDEN_GROUP_MSG.format(k=5, group="Retail")


# --- the pages and the API apply it alike -------------------------------------------


@pytest.mark.django_db
def test_the_report_and_the_api_hide_the_same_small_row(
    client, respondent_a, report_a, org
):
    """Two teams submitted; for cap-1 one of them marked everything N/A, so the
    organisation's cap-1 figure counts 1 team, below k = 2."""
    from django.urls import reverse

    from tests.api_support import client_for

    org.anonymity_threshold = 2
    org.save()
    cycle = report_a.cycle
    cycle.node_stats.filter(node__isnull=True, capability__key="cap-1").update(n=1)

    body = client_for(respondent_a).get(f"/api/v1/cycles/{cycle.pk}/benchmarks/").json()
    assert {row["capability"] for row in body["results"]} == {None, "cap-0"}
    partly = PARTLY_HIDDEN_GROUP_MSG.format(k=2, group="the organisation")
    assert body["hidden"] == [{"capability": "cap-1", "reason": partly}]

    client.force_login(respondent_a)
    page = client.get(reverse("benchmarks:team_benchmark", args=[report_a.pk]))
    html = page.content.decode()
    assert PARTLY_HIDDEN_GROUP_MSG.format(k=2, group="Org One") in html
    shown = {
        row[0]
        for chart in page.context["benchmarks"]
        if chart["group"] == "Org One"
        for row in chart["rows"]
    }
    assert shown == {"Capability 0"}

import pytest

from assessment.models import Assessment
from benchmarks import selectors
from benchmarks.report_frames import heatmap_rows, subtree_ids
from benchmarks.reports import pick_cycle
from benchmarks.tests.snapshots import build_snapshot, make_teams

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org, framework, team_a, team_b):
    return build_snapshot(
        organization=org,
        framework=framework,
        teams=[team_a, team_b],
        submitted=[team_a, team_b],
    )


def test_cycle_scores_frame_reads_submitted_scores_in_one_query(
    cycle, team_a, django_assert_num_queries
):
    with django_assert_num_queries(1):
        frame = selectors.cycle_scores_frame(cycle=cycle)
    assert list(frame.columns) == list(selectors.SCORE_FIELDS.values())
    assert frame[["team", "capability_key", "percent"]].values.tolist() == [
        ["Team A", "cap-0", 20.0],
        ["Team A", "cap-1", 20.0],
        ["Team B", "cap-0", 30.0],
        ["Team B", "cap-1", 30.0],
    ]


def test_cycle_scores_frame_leaves_out_unsubmitted_assessments(cycle, team_b):
    Assessment.objects.filter(cycle=cycle, team=team_b).update(
        status=Assessment.Status.IN_PROGRESS
    )
    frame = selectors.cycle_scores_frame(cycle=cycle)
    assert set(frame["team"]) == {"Team A"}


def test_empty_frames_keep_their_columns(org, framework, team_a):
    cycle = build_snapshot(
        organization=org, framework=framework, teams=[team_a], submitted=[]
    )
    frame = selectors.cycle_scores_frame(cycle=cycle)
    assert frame.empty
    assert "percent" in frame.columns
    stats = selectors.node_stats_frame(cycle=cycle)
    assert list(stats.columns) == list(selectors.STAT_FIELDS.values())


def test_node_stats_for_frame_reads_the_organisation_and_a_unit(
    cycle, business_unit, django_assert_num_queries
):
    with django_assert_num_queries(1):
        stats = selectors.node_stats_for_frame(
            cycle=cycle, node_ids=[None, business_unit.id]
        )
    assert sorted(stats["node"].fillna("org").unique()) == ["Retail", "org"]
    org_row = stats[stats["node_id"].isna()].iloc[0]
    assert (org_row["n"], org_row["median"]) == (2, 25.0)


def test_team_ranks_frame_reads_the_percentiles(cycle, team_b):
    assessment = Assessment.objects.get(cycle=cycle, team=team_b)
    ranks = selectors.team_ranks_frame(assessment=assessment)
    assert ranks[["capability_key", "percentile"]].values.tolist() == [
        ["cap-0", 100.0],
        ["cap-1", 100.0],
    ]


def test_team_history_frame_matches_cycles_oldest_first(org, framework, team_a):
    build_snapshot(organization=org, framework=framework, teams=[team_a], name="Old")
    build_snapshot(
        organization=org, framework=framework, teams=[team_a], name="New", base=60
    )
    history = selectors.team_history_frame(team=team_a)
    assert history[["cycle", "capability_key", "percent"]].values.tolist() == [
        ["Old", "cap-0", 20.0],
        ["Old", "cap-1", 20.0],
        ["New", "cap-0", 60.0],
        ["New", "cap-1", 60.0],
    ]


def test_cycles_list_carries_the_rollup_state(cycle, org):
    cycles = selectors.cycles_list(organization=org)
    row = cycles[0]
    assert (row["name"], row["computed_generation"]) == ("2026 H1", 1)
    assert row["computed_at"] is not None
    assert pick_cycle(cycles, None)["id"] == cycle.id
    assert pick_cycle(cycles, 999999)["id"] == cycle.id
    assert pick_cycle([], None) is None


def test_pick_cycle_prefers_the_asked_then_the_newest_computed(org, framework):
    from assessment.tests.factories import make_cycle

    older = make_cycle(organization=org, framework=framework, name="Older")
    newer = make_cycle(organization=org, framework=framework, name="Newer")
    cycles = [
        {"id": newer.id, "computed_at": None},
        {"id": older.id, "computed_at": "yesterday"},
    ]
    assert pick_cycle(cycles, newer.id)["id"] == newer.id
    assert pick_cycle(cycles, None)["id"] == older.id
    assert pick_cycle(cycles[:1], None)["id"] == newer.id


def test_cycle_completion_counts_submitted_assessments(org, framework, team_a, team_b):
    cycle = build_snapshot(
        organization=org,
        framework=framework,
        teams=[team_a, team_b],
        submitted=[team_a],
    )
    assert selectors.cycle_completion_get(cycle=cycle) == {"total": 2, "submitted": 1}


def test_subtree_ids_follow_the_tree(org):
    teams = make_teams(org, 3)
    frame = selectors.teams_frame(organization=org)
    retail = teams[0].parent_id
    assert subtree_ids(frame, retail) == {retail, teams[0].id, teams[2].id}
    assert subtree_ids(frame, None) == set(frame["id"])


def test_heatmap_rows_group_by_unit_and_sort_by_overall(org, framework):
    teams = make_teams(org, 4)
    cycle = build_snapshot(organization=org, framework=framework, teams=teams)
    scores = selectors.cycle_scores_frame(cycle=cycle)
    scores["target"] = float("nan")
    rows = heatmap_rows(
        scores,
        selectors.teams_frame(organization=org),
        ["Capability 0", "Capability 1"],
        sort="overall",
        sort_names={"overall": "overall"},
        url_template="/assessments/{}/report/",
    )
    assert list(rows["label"]) == [
        "Retail · Squad 0002",
        "Retail · Squad 0000",
        "Wholesale · Squad 0003",
        "Wholesale · Squad 0001",
    ]
    assert rows["url"].iloc[0].startswith("/assessments/")


def _grid():
    import pandas as pd

    from benchmarks.report_frames import report_grid

    scores = pd.DataFrame(
        {
            "capability_key": ["edu", "ops"],
            "capability": ["Education", "Operations"],
            "percent": [30.0, 60.0],
            "level_key": ["", "walk"],
            "lens_scores": [
                {"knowledge": 2.0, "process": 0.4},
                {"knowledge": 3.0, "process": 1.8},
            ],
        }
    )
    lenses = pd.DataFrame(
        {"key": ["knowledge", "process"], "name": ["K", "P"], "weight": [50.0, 50.0]}
    )
    levels = pd.DataFrame(
        {
            "key": ["crawl", "walk"],
            "name": ["Crawl", "Walk"],
            "min_percent": [25.0, 50.0],
        }
    )
    return report_grid(scores, lenses, levels, [80.0, 70.0])


def test_report_grid_adds_levels_targets_gaps_and_progress():
    grid = _grid()
    assert list(grid["level"]) == ["Crawl", "Walk"]
    # the plain sum of the lens scores, not percent / 5
    assert list(grid["foundation_20"]) == [2.4, 4.8]
    assert list(grid["percent"]) == [30.0, 60.0]
    assert list(grid["gap"]) == [50.0, 10.0]
    assert list(grid["progress"]) == [37.5, 100 * 60 / 70]
    assert list(grid["lens_process"]) == [0.4, 1.8]
    # targets 80 % and 70 % on the 0-20 scale of two lenses (0-8)
    assert list(grid["target_20"]) == [6.4, 5.6]


def test_recommendations_follow_level_and_weakest_lens_largest_gap_first():
    import pandas as pd

    from benchmarks.report_frames import pick_recommendations

    recommendations = pd.DataFrame(
        {
            "capability_key": ["ops", "edu", "edu", "edu", "edu"],
            "lens_key": [None, None, "process", "knowledge", None],
            "lens": [None, None, "P", "K", None],
            "level_key": ["walk", "crawl", "crawl", "crawl", "walk"],
            "title": ["ops walk", "edu low", "edu process", "edu knowledge", "edu w"],
            "body": ["b"] * 5,
            "links": [[]] * 5,
            "effort": ["low"] * 5,
            "impact": ["medium", "low", "high", "high", "high"],
            "order": [0, 0, 1, 2, 0],
        }
    )
    picked = pick_recommendations(_grid(), recommendations, ["knowledge", "process"])
    assert [r["title"] for r in picked] == ["edu process", "edu low", "ops walk"]
    assert picked[0]["gap"] == 50

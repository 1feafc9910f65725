"""Bulk SQL for frames and plain rows, on PostgreSQL and on SQLite alike."""

import pandas as pd
import pytest
from django.db import connection
from django.utils import timezone

from assessment.models import Assessment, CapabilityScore, Team
from assessment.tests.factories import make_cycle
from finops_portal import bulk_sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(org, framework, team_a):
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a])
    return Assessment.objects.get(cycle=cycle)


def _scores(assessment, capabilities, percent):
    return pd.DataFrame(
        {
            "assessment_id": [assessment.pk] * len(capabilities),
            "capability_id": [c.pk for c in capabilities],
            "percent": [percent] * len(capabilities),
            "level_key": ["walk"] * len(capabilities),
            "answered": [5] * len(capabilities),
            "total": [5] * len(capabilities),
            "lens_knowledge": [2.0] * len(capabilities),
            "computed_at": timezone.now(),
        }
    )


def test_insert_frame_upserts_on_the_unique_key(assessment, framework):
    capabilities = list(framework.capabilities.order_by("order"))
    lens_json = {"lens_scores": {"knowledge": "lens_knowledge"}}
    bulk_sql.insert_frame(
        CapabilityScore,
        _scores(assessment, capabilities, 50.0),
        json=lens_json,
        unique=("assessment_id", "capability_id"),
    )
    bulk_sql.insert_frame(
        CapabilityScore,
        _scores(assessment, capabilities, 75.0),
        json=lens_json,
        unique=("assessment_id", "capability_id"),
    )

    rows = CapabilityScore.objects.filter(assessment=assessment)
    assert rows.count() == 2
    assert {r.percent for r in rows} == {75.0}
    assert [r.lens_scores for r in rows] == [{"knowledge": 2.0}] * 2


def test_fetch_frame_reads_a_query_with_the_given_columns(org, team_a, team_b):
    frame = bulk_sql.fetch_frame(
        Team.objects.filter(organization=org, kind="team").order_by("name"),
        ["id", "parent_id"],
        ["id", "parent"],
    )
    assert list(frame.columns) == ["id", "parent"]
    assert sorted(frame["id"].tolist()) == sorted([team_a.pk, team_b.pk])


def test_fetch_frame_of_nothing_keeps_its_columns(org):
    frame = bulk_sql.fetch_frame(Team.objects.filter(pk=-1), ["id"], ["id"])
    assert list(frame.columns) == ["id"]
    assert frame.empty


def test_bulk_insert_streams_rows_and_counts_them(org):
    now = timezone.now()
    rows = ((org.pk, f"Team {i}", "team", 0, now) for i in range(7))
    written = bulk_sql.bulk_insert(
        Team, ["organization_id", "name", "kind", "history_version", "created_at"], rows
    )
    assert written == 7
    assert Team.objects.filter(organization=org, name__startswith="Team ").count() == 7


def test_sync_frame_writes_only_the_difference(assessment, framework):
    from benchmarks.models import TeamRank

    capabilities = list(framework.capabilities.order_by("order"))
    existing = TeamRank.objects.filter(cycle=assessment.cycle)

    def table(percentile):
        return pd.DataFrame(
            {
                "cycle_id": assessment.cycle_id,
                "assessment_id": assessment.pk,
                "capability_id": pd.array([c.pk for c in capabilities], dtype="Int64"),
                "percent": [50.0, 60.0],
                "percentile": percentile,
            }
        )

    first = bulk_sql.sync_frame(
        TeamRank,
        table([10.0, 20.0]),
        existing,
        ["assessment_id", "capability_id"],
        ["percent", "percentile"],
    )
    second = bulk_sql.sync_frame(
        TeamRank,
        table([10.0, 30.0]),
        existing,
        ["assessment_id", "capability_id"],
        ["percent", "percentile"],
    )
    assert first["inserted"] == 2
    assert sorted(existing.values_list("percentile", flat=True)) == [10.0, 30.0]
    if connection.vendor == "postgresql":
        assert second == {"inserted": 0, "updated": 1, "deleted": 0}
    else:  # other databases replace the rows whole
        assert second == {"inserted": 2, "updated": 0, "deleted": 2}


def test_sync_frame_inserts_and_deletes_in_one_call(assessment, framework):
    """A row gone and a row new at once: the merge leaves the new row's integer
    columns as floats, which the insert must turn back."""
    from benchmarks.models import TeamRank

    first, second = list(framework.capabilities.order_by("order"))
    existing = TeamRank.objects.filter(cycle=assessment.cycle)

    def table(capability):
        return pd.DataFrame(
            {
                "cycle_id": assessment.cycle_id,
                "assessment_id": assessment.pk,
                "capability_id": pd.array([capability.pk], dtype="Int64"),
                "percent": [50.0],
                "percentile": [40.0],
            }
        )

    keys, values = ["assessment_id", "capability_id"], ["percent", "percentile"]
    bulk_sql.sync_frame(TeamRank, table(first), existing, keys, values)
    bulk_sql.sync_frame(TeamRank, table(second), existing, keys, values)
    assert list(existing.values_list("cycle_id", "capability_id")) == [
        (assessment.cycle_id, second.pk)
    ]

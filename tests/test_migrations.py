"""The migrations that moved a model or a field between apps keep every row.

``AuditEvent`` moved from ``assessment`` to ``finops_portal`` (its table renamed),
and a cycle's scores generation from ``benchmarks.RollupState`` to
``assessment.Cycle``. The demo organisation is loaded, the database migrated back
to before the moves and forward again; every row and value must survive.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

BEFORE_THE_MOVES = [
    ("finops_portal", "0001_initial"),
    ("assessment", "0003_team_history_version"),
    ("benchmarks", "0001_initial"),
]
TABLES = [
    "assessment_organization",
    "assessment_team",
    "assessment_membership",
    "assessment_cycle",
    "assessment_assessment",
    "assessment_answer",
    "assessment_capabilityscore",
    "assessment_target",
    "benchmarks_rollupstate",
    "benchmarks_nodestat",
    "benchmarks_teamrank",
]


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(cursor.fetchall())


def _counts() -> dict[str, int]:
    return {table: _rows(f"SELECT COUNT(*) FROM {table}")[0][0] for table in TABLES}


def _migrate(*targets) -> None:
    for app, name in targets:
        call_command("migrate", app, name, verbosity=0, stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_moving_audit_events_and_generations_keeps_every_row(
    shipped_framework, lead, org
):
    from assessment.targets import target_set

    call_command("seed_demo", "--password", "pw-demo-1", stdout=StringIO())
    call_command("seed_demo_rollups", stdout=StringIO())
    target_set(organization=org, capability_key="education", percent=70, user=lead)
    counts = _counts()
    events = _rows(
        "SELECT id, organization_id, actor_id, action, summary "
        "FROM finops_portal_auditevent"
    )
    generations = _rows("SELECT id, scores_generation FROM assessment_cycle")
    assert counts["assessment_answer"] > 1000
    assert counts["benchmarks_nodestat"] > 0
    assert events
    assert any(org_id == org.pk for _id, org_id, *_ in events)
    assert any(generation > 0 for _id, generation in generations)

    try:
        _migrate(*BEFORE_THE_MOVES)
        # the old layout holds the same rows
        assert (
            _rows(
                "SELECT id, organization_id, actor_id, action, summary "
                "FROM assessment_auditevent"
            )
            == events
        )
        old = _rows("SELECT cycle_id, generation FROM benchmarks_rollupstate")
        assert old == [(pk, g) for pk, g in generations if g > 0]
    finally:
        call_command("migrate", verbosity=0, stdout=StringIO())

    assert _counts() == counts
    assert (
        _rows(
            "SELECT id, organization_id, actor_id, action, summary "
            "FROM finops_portal_auditevent"
        )
        == events
    )
    assert _rows("SELECT id, scores_generation FROM assessment_cycle") == generations

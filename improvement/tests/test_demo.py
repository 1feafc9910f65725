"""The demo's plan and initiative: owners and dates, a burn-down over the three
cycles, idempotent."""

import pytest
from django.core.management import call_command

from benchmarks.services import rollup_recompute
from improvement import selectors
from improvement.demo import DEMO_INITIATIVE, demo_improvement_seed
from improvement.models import ActionItem, Initiative

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind(shipped_framework_v2):
    from assessment.demo import demo_seed
    from assessment.models import Cycle

    org = demo_seed(password="pw").organization
    for cycle in Cycle.objects.filter(organization=org):
        rollup_recompute(cycle_id=cycle.pk, force=True)
    return org


def test_the_demo_plan_and_initiative(northwind):
    seeded = demo_improvement_seed()
    items = ActionItem.objects.filter(team__name="Payments API")
    assert items.count() == 4
    assert all(item.owner_id and item.due_on for item in items)
    assert items.filter(status="done").count() == 1
    progress = selectors.initiative_progress(initiative=seeded.initiative)
    assert [row["cycle"] for row in progress] == ["2026 Q1", "2026 Q2", "2026 Q3"]
    assert all(row["teams"] == 8 for row in progress)
    # the plan shows on the team's latest submitted report, movement included
    assessment = items.first().assessment
    assert selectors.movements(assessment=assessment)["rows"]


def test_seeding_twice_changes_nothing(northwind):
    demo_improvement_seed()
    call_command("seed_demo_improvement")
    assert Initiative.objects.filter(name=DEMO_INITIATIVE).count() == 1
    assert ActionItem.objects.filter(team__name="Payments API").count() == 4
    call_command("seed_demo_improvement", "--reset")
    assert ActionItem.objects.filter(team__name="Payments API").count() == 4

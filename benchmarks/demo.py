"""Roll-ups of generated organisations (the demo, load for benchmarks), computed now.

``assessment.demo`` writes organisations, answers and team scores and enqueues
their roll-ups as a submit would; the commands here compute them at once, so the
dashboards are full as soon as the command returns, with or without a worker.
"""

import time

from django.db import connection

from assessment import demo
from assessment.models import Cycle, Organization

from .models import NodeStat, TeamRank
from .services import rollup_recompute


def rollups_compute(*, cycle_ids, force: bool = True) -> int:
    """Recompute the roll-up of each cycle (stale ones only without ``force``);
    returns how many were computed."""
    computed = sum(
        rollup_recompute(cycle_id=cycle_id, force=force)["status"] == "computed"
        for cycle_id in cycle_ids
    )
    if connection.vendor == "postgresql":
        # Fresh planner statistics after a bulk load (see assessment.demo).
        with connection.cursor() as cursor:
            for model in (NodeStat, TeamRank):
                cursor.execute(
                    f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}"
                )
    return computed


def organization_rollups(*, slug: str, force: bool = False) -> int:
    """Compute the roll-ups of every cycle of the organisation ``slug`` (stale ones
    only unless ``force``); 0 when there is no such organisation."""
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        return 0
    ids = Cycle.objects.filter(organization=organization).values_list("id", flat=True)
    return rollups_compute(cycle_ids=list(ids), force=force)


def load_generate(**kwargs) -> demo.BuildResult:
    """``assessment.demo.load_generate`` and the roll-ups of its cycles."""
    result = demo.load_generate(**kwargs)
    started = time.perf_counter()
    rollups_compute(cycle_ids=result.cycle_ids)
    seconds = time.perf_counter() - started
    result.add_phase("rollups", seconds)
    result.elapsed += seconds
    return result

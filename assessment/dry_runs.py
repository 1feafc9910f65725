"""Dry runs of a framework version: started by staff, computed in a Celery worker
for large organisations (in the request for small ones), with progress.

The computation is ``editions.dry_run``; this module keeps its ``FrameworkDryRun``
record (state, progress, result) and never touches the organisation's data.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from capabilities.models import Framework
from finops_portal.queue import enqueue

from . import editions
from .models import Assessment, FrameworkDryRun, Organization

# Up to this many submitted assessments, the run is computed in the request.
INLINE_MAX_ASSESSMENTS = 100
TASK_NAME = "assessment.tasks.framework_dry_run"


def dry_run_start(
    *, framework: Framework, organization: Organization, user=None
) -> FrameworkDryRun:
    """Check the organisation has a closed cycle (ValidationError naming it, nothing
    written otherwise), record the run and compute it: now for a small
    organisation, in a worker (after commit) for a large one."""
    cycle = editions.last_closed_cycle(organization=organization)
    total = Assessment.objects.filter(
        cycle=cycle, status=Assessment.Status.SUBMITTED
    ).count()
    run = FrameworkDryRun.objects.create(
        framework=framework, organization=organization, requested_by=user, total=total
    )
    if total <= INLINE_MAX_ASSESSMENTS:
        dry_run_execute(run_id=run.pk)
        run.refresh_from_db()
    else:
        transaction.on_commit(
            lambda: enqueue(TASK_NAME, run.pk, what=f"dry run {run.pk}")
        )
    return run


def dry_run_execute(*, run_id: int) -> None:
    """Compute a recorded run (idempotent: a finished run is left alone)."""
    run = (
        FrameworkDryRun.objects.select_related("framework", "organization")
        .filter(pk=run_id)
        .first()
    )
    if run is None or run.state in (FrameworkDryRun.State.DONE,):
        return
    FrameworkDryRun.objects.filter(pk=run_id).update(
        state=FrameworkDryRun.State.RUNNING, done=0
    )

    def progress(done: int, total: int) -> None:
        FrameworkDryRun.objects.filter(pk=run_id).update(done=done, total=total)

    try:
        result = editions.dry_run(
            framework=run.framework, organization=run.organization, progress=progress
        )
    except ValidationError as exc:
        FrameworkDryRun.objects.filter(pk=run_id).update(
            state=FrameworkDryRun.State.FAILED,
            error=" ".join(exc.messages),
            finished_at=timezone.now(),
        )
        return
    FrameworkDryRun.objects.filter(pk=run_id).update(
        state=FrameworkDryRun.State.DONE,
        result=result,
        done=result["teams"],
        total=result["teams"],
        finished_at=timezone.now(),
    )

"""Start a Celery task by its registered name.

A lower app starts the work of a higher one without importing it: the submit
service enqueues ``benchmarks.tasks.rollup_cycle`` by name, say. With no broker
configured, tasks run in-process as they do everywhere else; a broker that cannot
be reached is logged and reported as False, never raised: every such task has a
sweeper (a beat task) that catches up on what was not sent.
"""

import logging

from .celery import app

logger = logging.getLogger(__name__)
ENQUEUE_FAILED_MSG = "Could not enqueue {what}: {error}"


def task_named(name: str):
    """The registered task ``name``, importing every app's ``tasks`` module first
    if it is not known yet (a web process imports them lazily)."""
    task = app.tasks.get(name)
    if task is None:
        app.loader.import_default_modules()
        task = app.tasks[name]
    return task


def enqueue(
    name: str,
    *args,
    countdown: float | None = None,
    what: str | None = None,
    **kwargs,
) -> bool:
    """Send task ``name`` with ``args``/``kwargs``; False (and a warning in the log
    naming ``what`` was not sent) when the broker refused it."""
    try:
        task_named(name).apply_async(args, kwargs or None, countdown=countdown)
    except Exception as error:  # noqa: BLE001 - a broker outage must not fail callers
        what = what or f"{name}{args}"
        logger.warning(ENQUEUE_FAILED_MSG.format(what=what, error=error))
        return False
    return True

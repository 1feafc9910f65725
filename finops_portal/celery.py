"""The Celery application: configured from Django settings (``CELERY_`` namespace).

Every worker also sends the sweep tasks named in ``WORKER_SWEEP_TASKS`` when it
starts and every ``WORKER_SWEEP_SECONDS`` after. A worker killed in the middle of a
task leaves its message unacknowledged in Redis until the broker's visibility
timeout (an hour) runs out; the sweeps find the work it left undone (a stale
roll-up) within a minute, whether or not beat is running, and whether the worker
is restarted or another one carries on. The swept tasks are idempotent, so several
workers sweeping, or beat sweeping too, only costs a few cheap queries.
"""

import logging
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finops_portal.settings")

logger = logging.getLogger(__name__)

app = Celery("finops_portal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The first sweep waits this long after start-up, so the worker is consuming by then.
FIRST_SWEEP_DELAY_S = 2.0
SWEEP_FAILED_MSG = "Could not send the sweep task %s: %s"


class WorkerSweeps(bootsteps.StartStopStep):
    """Send ``WORKER_SWEEP_TASKS`` at start-up and every ``WORKER_SWEEP_SECONDS``."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timers = []

    def start(self, worker):
        from django.conf import settings

        interval = settings.WORKER_SWEEP_SECONDS
        if not interval or not settings.WORKER_SWEEP_TASKS:
            return
        self.timers = [
            worker.timer.call_after(FIRST_SWEEP_DELAY_S, self.sweep),
            worker.timer.call_repeatedly(interval, self.sweep),
        ]

    def stop(self, worker):
        for timer in self.timers:
            timer.cancel()
        self.timers = []

    def sweep(self):
        from django.conf import settings

        for name in settings.WORKER_SWEEP_TASKS:
            try:
                app.send_task(name)
            except Exception as error:  # noqa: BLE001 - a broker outage: next time
                logger.warning(SWEEP_FAILED_MSG, name, error)


app.steps["worker"].add(WorkerSweeps)

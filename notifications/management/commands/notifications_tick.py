from django.core.management.base import BaseCommand

from notifications.delivery import deliveries_sweep
from notifications.services import schedule_tick


class Command(BaseCommand):
    help = (
        "Do now what beat does every minute: open, remind, digest and close as the "
        "cycles' schedules say, and send mails left queued. For the embedded default "
        "(no beat) or a cron job; safe to run at any time, as often as you like."
    )

    def handle(self, *args, **options):
        result = schedule_tick()
        enqueued = deliveries_sweep()
        self.stdout.write(
            f"Opened {len(result.opened)}, closed {len(result.closed)}, reminders for "
            f"{len(result.reminded)} cycle step(s), {len(result.digests)} digest(s); "
            f"{enqueued} queued mail(s) sent on."
        )

from django.core.management.base import BaseCommand

from notifications.demo import demo_notifications


class Command(BaseCommand):
    help = (
        "Schedules on the demo's cycles, a planned cycle to open, a respondent "
        "without an email address and a reopen notice for the demo respondent "
        "(safe to run again; --reset rebuilds them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Rebuild them.")

    def handle(self, *args, reset=False, **options):
        result = demo_notifications(reset=reset)
        if result is None:
            self.stdout.write("No demo organisation: nothing to notify.")
            return
        done = ", ".join(result.done) or "already present"
        self.stdout.write(f"Demo notifications: {done}.")

from django.core.management.base import BaseCommand, CommandError

from improvement.demo import DEMO_PRESENT_MSG, demo_improvement_seed


class Command(BaseCommand):
    help = (
        "Give the demo organisation an improvement plan for the Payments API team "
        "(owners, due dates) and the lead's initiative over Commerce. Keeps existing "
        "data; --reset rebuilds it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Rebuild the demo plan and initiative."
        )

    def handle(self, *args, reset=False, **options):
        try:
            seeded = demo_improvement_seed(reset=reset)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if seeded is None:
            self.stdout.write(DEMO_PRESENT_MSG)
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo improvement: {seeded.items} action items for Payments API, "
                f"initiative '{seeded.initiative.name}'."
            )
        )

from django.core.management.base import BaseCommand, CommandError

from evidence.demo import DEMO_PRESENT_MSG, demo_evidence_seed


class Command(BaseCommand):
    help = (
        "Give the demo organisation (Northwind Traders) a FOCUS export of its last "
        "three billing months, read into evidence with a team mapping. Keeps "
        "existing evidence; --reset rebuilds it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Rebuild the demo evidence."
        )

    def handle(self, *args, reset=False, **options):
        try:
            ingestion = demo_evidence_seed(reset=reset)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if ingestion is None:
            self.stdout.write(DEMO_PRESENT_MSG)
            return
        if ingestion.status != ingestion.Status.SUCCEEDED:
            raise CommandError("Demo evidence not read: " + " ".join(ingestion.errors))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo evidence: {ingestion.rows_read:,} FOCUS rows, billing periods "
                f"{', '.join(ingestion.periods)}."
            )
        )

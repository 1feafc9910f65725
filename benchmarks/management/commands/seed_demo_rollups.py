from django.core.management.base import BaseCommand

from assessment.demo import DEMO_ORG_SLUG
from benchmarks.demo import organization_rollups


class Command(BaseCommand):
    help = (
        "Compute the roll-ups of the demo organisation's cycles that are not computed "
        "yet (safe to run again; --reset recomputes all of them)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Recompute every cycle's roll-up."
        )

    def handle(self, *args, reset=False, **options):
        computed = organization_rollups(slug=DEMO_ORG_SLUG, force=reset)
        self.stdout.write(f"Demo roll-ups: {computed} computed.")

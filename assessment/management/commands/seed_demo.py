import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assessment.demo import DEMO_PRESENT_MSG, demo_seed, progress_bar


class Command(BaseCommand):
    help = (
        "Create the demo organisation (Northwind Traders: 30 teams, three cycles) and "
        "the demo sign-ins. Does nothing when it is already present; --reset rebuilds it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="Password of every demo user (default DEMO_PASSWORD)."
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo organisation first."
        )
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, password=None, reset=False, seed=42, **options):
        password = password or settings.DEMO_PASSWORD
        show = options["verbosity"] > 0

        def write(text: str) -> None:
            if show:
                self.stdout.write(text, ending="")
                self.stdout.flush()

        try:
            result = demo_seed(
                password=password,
                reset=reset,
                seed=seed,
                progress=progress_bar(write, "Seeding demo"),
            )
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if result is None:
            self.stdout.write(DEMO_PRESENT_MSG)
            return
        write("\n")
        for note in result.notes:
            self.stderr.write(note)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organisation {result.organization.name}: {result.teams} teams, "
                f"{result.assessments} assessments, {result.answers} answers "
                f"in {result.elapsed:.1f} s."
            )
        )
        sys.stdout.flush()

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assessment.demo import progress_bar
from benchmarks.demo import load_generate


class Command(BaseCommand):
    help = (
        "Generate an organisation of N teams x C cycles with realistic answers, for "
        "benchmarks: all cycles closed and submitted but the last (open, ~60% submitted)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--teams", type=int, required=True)
        parser.add_argument("--cycles", type=int, default=3)
        parser.add_argument("--org", help='Organisation name (default "Load N teams").')
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--password",
            help="Password of the generated users (default DEMO_PASSWORD).",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete an organisation of the same name first.",
        )

    def handle(self, *args, **options):
        show = options["verbosity"] > 0

        def write(text: str) -> None:
            if show:
                self.stdout.write(text, ending="")
                self.stdout.flush()

        try:
            result = load_generate(
                teams=options["teams"],
                cycles=options["cycles"],
                org_name=options["org"],
                seed=options["seed"],
                password=options["password"] or settings.DEMO_PASSWORD,
                replace=options["replace"],
                progress=progress_bar(write, "Generating load"),
            )
        except (LookupError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        write("\n")
        for note in result.notes:
            self.stderr.write(note)
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.organization.name} ({result.organization.slug}): "
                f"{result.teams} teams, {result.assessments} assessments, "
                f"{result.answers} answers in {result.elapsed:.1f} s "
                f"({result.rows_per_second:,.0f} answers/s)."
            )
        )
        self.stdout.write(
            "  "
            + ", ".join(f"{name} {secs:.1f} s" for name, secs in result.phases.items())
        )

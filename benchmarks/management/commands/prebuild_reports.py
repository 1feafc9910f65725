"""Build the team reports of rolled-up cycles into the cache, with a progress bar."""

import time

from django.core.management.base import BaseCommand, CommandError

from benchmarks import reports
from benchmarks.management.commands.recompute_rollups import write_progress
from benchmarks.models import RollupState
from benchmarks.services import prebuild_assessments

# Assessments per redraw of the progress bar.
STEP = 25


class Command(BaseCommand):
    help = (
        "Build every submitted assessment's team report into the cache, for members "
        "and for leads (all rolled-up cycles, or --cycle ID). Workers do this after "
        "each roll-up; run it after the cache was flushed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, action="append", help="cycle id")

    def handle(self, *args, **options):
        states = RollupState.objects.filter(computed_at__isnull=False).order_by(
            "cycle_id"
        )
        if options["cycle"]:
            states = states.filter(cycle_id__in=options["cycle"])
            missing = set(options["cycle"]) - set(
                states.values_list("cycle_id", flat=True)
            )
            if missing:
                raise CommandError(
                    "No rolled-up cycle with id "
                    f"{', '.join(map(str, sorted(missing)))} (run recompute_rollups)."
                )
        started = time.perf_counter()
        assessments = built = 0
        for cycle_id in states.values_list("cycle_id", flat=True):
            rows = list(prebuild_assessments(cycle_id=cycle_id))
            label = f"cycle {cycle_id}"
            for i, assessment in enumerate(rows, 1):
                built += reports.team_report_prebuild(assessment=assessment)
                if i % STEP == 0 or i == len(rows):
                    write_progress(self.stderr, i, len(rows), label)
            if not rows:
                write_progress(self.stderr, 0, 0, label)
            assessments += len(rows)
        seconds = time.perf_counter() - started
        each = f" ({1000 * seconds / built:.1f} ms each)" if built else ""
        self.stdout.write(
            f"Built {built} reports for {assessments} submitted assessments in "
            f"{seconds:.2f} s{each}; the others were already cached or shared."
        )

"""Recompute team scores and roll-ups from the answers, with a progress bar."""

import time

from django.core.management.base import BaseCommand, CommandError

from assessment.models import Assessment, Cycle
from assessment.scores import scores_store_many
from benchmarks.services import rollup_recompute

# Assessments scored per step of the progress bar.
STEP = 2000


def progress_line(done: int, total: int, label: str, width: int = 30) -> str:
    """A plain progress bar, meant to be redrawn in place with a carriage return."""
    filled = width * done // total if total else width
    percent = 100 * done / total if total else 100.0
    return f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}% {done}/{total}"


def write_progress(stream, done: int, total: int, label: str) -> None:
    """Redraw the progress bar on ``stream``, ending the line when done."""
    stream.write(
        progress_line(done, total, label), ending="\n" if done >= total else ""
    )
    stream.flush()


class Command(BaseCommand):
    help = (
        "Recompute every team's capability scores from its answers, then the "
        "roll-up of each cycle (all cycles, or --cycle ID)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, action="append", help="cycle id")

    def handle(self, *args, **options):
        cycles = Cycle.objects.order_by("id")
        if options["cycle"]:
            cycles = cycles.filter(pk__in=options["cycle"])
            missing = set(options["cycle"]) - set(cycles.values_list("id", flat=True))
            if missing:
                raise CommandError(
                    f"No cycle with id {', '.join(map(str, sorted(missing)))}."
                )
        started = time.perf_counter()
        totals = {"cycles": 0, "assessments": 0, "scores": 0, "node_stats": 0}
        for cycle in cycles:
            ids = list(
                Assessment.objects.filter(cycle=cycle)
                .order_by("id")
                .values_list("id", flat=True)
            )
            label = f"cycle {cycle.pk} {cycle.name[:30]}"
            self._progress(0, len(ids), label)
            for i in range(0, len(ids), STEP):
                chunk = ids[i : i + STEP]
                totals["scores"] += scores_store_many(assessment_ids=chunk)
                self._progress(i + len(chunk), len(ids), label)
            if not ids:
                self._progress(0, 0, label)
            result = rollup_recompute(cycle_id=cycle.pk, force=True)
            totals["cycles"] += 1
            totals["assessments"] += len(ids)
            totals["node_stats"] += result.get("node_stats", 0)
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Recomputed {totals['cycles']} cycles: {totals['assessments']} assessments, "
            f"{totals['scores']} capability scores, {totals['node_stats']} group "
            f"statistics in {seconds:.2f} s."
        )

    def _progress(self, done: int, total: int, label: str) -> None:
        write_progress(self.stderr, done, total, label)

"""Which scores generation a cycle is at now lives on the cycle (assessment records
it on every submit and reopen); the roll-up state keeps the one it computed."""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery


def copy_generation(apps, schema_editor):
    Cycle = apps.get_model("assessment", "Cycle")
    RollupState = apps.get_model("benchmarks", "RollupState")
    states = RollupState.objects.filter(cycle_id=OuterRef("pk"))
    Cycle.objects.filter(rollup__isnull=False).update(
        scores_generation=Subquery(states.values("generation")[:1]),
        scores_changed_at=Subquery(states.values("stale_since")[:1]),
    )


def copy_back(apps, schema_editor):
    Cycle = apps.get_model("assessment", "Cycle")
    RollupState = apps.get_model("benchmarks", "RollupState")
    cycles = Cycle.objects.filter(pk=OuterRef("cycle_id"))
    RollupState.objects.update(
        generation=Subquery(cycles.values("scores_generation")[:1])
    )
    RollupState.objects.filter(computed_generation__lt=F("generation")).update(
        stale_since=Subquery(cycles.values("scores_changed_at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("benchmarks", "0001_initial"),
        ("assessment", "0005_cycle_scores_generation_targets_version"),
    ]

    operations = [
        migrations.RunPython(copy_generation, copy_back),
        migrations.RemoveField(model_name="rollupstate", name="generation"),
        migrations.RemoveField(model_name="rollupstate", name="stale_since"),
    ]

"""Precomputed roll-ups of a cycle's team scores, read by the dashboards.

A roll-up is a snapshot: ``RollupState`` says when and from which scores generation
it was computed (stale when the cycle's ``scores_generation`` is ahead); ``NodeStat`` and ``TeamRank`` hold its rows and are replaced whole, in one
transaction, so readers never see half of one.
"""

from django.db import models

from assessment.models import Assessment, Cycle, Team
from capabilities.models import Capability


class RollupState(models.Model):
    """Per cycle: whether the roll-up is stale, and when and from what it was computed."""

    cycle = models.OneToOneField(Cycle, on_delete=models.CASCADE, related_name="rollup")
    # The ``Cycle.scores_generation`` this snapshot was computed from.
    computed_generation = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    teams_scored = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # How the last run computed: the whole snapshot, or only what changed teams move.
    mode = models.CharField(max_length=16, blank=True)
    teams_changed = models.PositiveIntegerField(default=0)
    # The last whole recompute: the reference that incremental runs build on.
    full_generation = models.PositiveIntegerField(default=0)
    full_at = models.DateTimeField(null=True, blank=True)
    incremental_runs = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"roll-up of {self.cycle}"

    @property
    def is_stale(self) -> bool:
        return self.computed_generation < self.cycle.scores_generation


class NodeStat(models.Model):
    """Statistics of team scores under one node (business unit, or the organisation
    when ``node`` is null) for one capability (overall when ``capability`` is null)."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="node_stats"
    )
    node = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, related_name="+"
    )
    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, null=True, related_name="+"
    )
    n = models.PositiveIntegerField()
    mean = models.FloatField(null=True)
    median = models.FloatField(null=True)
    p25 = models.FloatField(null=True)
    p75 = models.FloatField(null=True)
    min = models.FloatField(null=True)
    max = models.FloatField(null=True)
    level_counts = models.JSONField(default=dict)
    lens_means = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["cycle", "node"])]

    def __str__(self) -> str:
        return (
            f"{self.cycle_id}/{self.node_id or 'org'}/{self.capability_id or 'overall'}"
        )


class TeamRank(models.Model):
    """A team's percentile rank (0-100) within its organisation for one capability
    (overall when ``capability`` is null).

    Each submission moves every rank of its cycle: on PostgreSQL the table keeps
    half of each page free, so those updates stay on their page (migration 0005).
    """

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="team_ranks"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="ranks"
    )
    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, null=True, related_name="+"
    )
    percent = models.FloatField(null=True)
    percentile = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["cycle", "assessment"])]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.capability_id or 'overall'}: p{self.percentile:.0f}"


class DisagreementStat(models.Model):
    """How far the members of consensus-mode teams disagreed, under one node (the
    organisation when ``node`` is null) for one capability (overall when null):
    over the ``teams`` with a figure, the mean and the widest of the teams'
    disagreement (``assessment.disagreement``: mean range of individual scores,
    0-4). Part of the roll-up snapshot, replaced with it."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="disagreement_stats"
    )
    node = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, related_name="+"
    )
    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, null=True, related_name="+"
    )
    teams = models.PositiveIntegerField()
    mean = models.FloatField()
    max = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["cycle", "node"])]

    def __str__(self) -> str:
        return (
            f"{self.cycle_id}/{self.node_id or 'org'}/"
            f"{self.capability_id or 'overall'}: {self.mean:.2f}"
        )

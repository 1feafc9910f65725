"""Build stored scores and a roll-up snapshot straight with bulk inserts, for tests.

The numbers are plain and predictable: team ``i`` scores ``base + 10 * i`` (capped at
100) in every capability, with every lens at the same level.
"""

import statistics

from django.utils import timezone

from assessment.models import Assessment, CapabilityScore, Cycle, Team
from assessment.tests.factories import make_cycle
from benchmarks.models import NodeStat, RollupState, TeamRank
from capabilities.models import Capability, Lens, MaturityLevel


def level_key_for(percent: float, levels) -> str:
    best = ""
    for level in levels:
        if float(level.min_percent) <= percent:
            best = level.key
    return best


def make_teams(organization, count: int, *, unit_names=("Retail", "Wholesale")):
    """``count`` teams spread over business units (created when missing)."""
    units = [
        Team.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={"kind": Team.Kind.BUSINESS_UNIT},
        )[0]
        for name in unit_names
    ]
    return Team.objects.bulk_create(
        Team(
            organization=organization,
            parent=units[i % len(units)],
            name=f"Squad {i:04d}",
        )
        for i in range(count)
    )


def build_snapshot(
    *,
    organization,
    framework,
    teams,
    name: str = "2026 H1",
    base: float = 20.0,
    percents=None,
    submitted=None,
):
    """A cycle where the given teams submitted, with stored scores and a roll-up.

    ``percents`` maps team -> percent (default ``base + 10 * i``); ``submitted``
    limits which teams submitted (default all).
    """
    cycle = make_cycle(
        organization=organization, framework=framework, teams=teams, name=name
    )
    submitted = list(teams if submitted is None else submitted)
    Assessment.objects.filter(cycle=cycle, team__in=submitted).update(
        status=Assessment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    assessments = {
        a.team_id: a for a in Assessment.objects.filter(cycle=cycle, team__in=submitted)
    }
    capabilities = list(Capability.objects.filter(framework=framework))
    lens_keys = list(
        Lens.objects.filter(framework=framework).values_list("key", flat=True)
    )
    levels = list(MaturityLevel.objects.filter(framework=framework))
    percent_of = {
        team.id: (
            percents[team]
            if percents is not None and team in percents
            else min(100.0, base + 10 * i)
        )
        for i, team in enumerate(submitted)
    }
    CapabilityScore.objects.bulk_create(
        CapabilityScore(
            assessment=assessments[team.id],
            capability=capability,
            lens_scores={key: percent_of[team.id] / 25 for key in lens_keys},
            percent=percent_of[team.id],
            level_key=level_key_for(percent_of[team.id], levels),
            answered=5,
            total=5,
        )
        for team in submitted
        for capability in capabilities
    )
    groups = {None: [t for t in submitted]}
    for team in submitted:
        if team.parent_id:
            groups.setdefault(team.parent_id, []).append(team)
    stats = []
    for node_id, members in groups.items():
        if not members:
            continue
        values = sorted(percent_of[t.id] for t in members)
        quartiles = (
            statistics.quantiles(values, n=4, method="inclusive")
            if len(values) > 1
            else [values[0]] * 3
        )
        counts: dict[str, int] = {}
        for value in values:
            key = level_key_for(value, levels)
            counts[key] = counts.get(key, 0) + 1
        for capability in [*capabilities, None]:
            stats.append(
                NodeStat(
                    cycle=cycle,
                    node_id=node_id,
                    capability=capability,
                    n=len(values),
                    mean=statistics.fmean(values),
                    median=statistics.median(values),
                    p25=quartiles[0],
                    p75=quartiles[2],
                    min=values[0],
                    max=values[-1],
                    level_counts=counts,
                    lens_means={
                        key: statistics.fmean(values) / 25 for key in lens_keys
                    },
                )
            )
    NodeStat.objects.bulk_create(stats)
    ordered = sorted(submitted, key=lambda t: percent_of[t.id])
    TeamRank.objects.bulk_create(
        TeamRank(
            cycle=cycle,
            assessment=assessments[team.id],
            capability=capability,
            percent=percent_of[team.id],
            percentile=100 * rank / max(1, len(ordered) - 1),
        )
        for rank, team in enumerate(ordered)
        for capability in capabilities
    )
    Cycle.objects.filter(pk=cycle.pk).update(scores_generation=1)
    cycle.scores_generation = 1
    RollupState.objects.create(
        cycle=cycle,
        computed_generation=1,
        computed_at=timezone.now(),
        teams_scored=len(submitted),
        runs=1,
    )
    return cycle

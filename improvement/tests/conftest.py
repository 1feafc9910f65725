"""Helpers of the improvement tests: cycles with submitted answers."""

import datetime as dt

import pytest


def submitted_cycle(
    *, org, framework, teams, name, opens_on, score_of, user, lens_weights=None
):
    """A cycle of ``framework`` with one submitted assessment per team; the answer
    to question ``q`` of team ``t`` is the option scored ``score_of(t, q)`` (None:
    not applicable... left unanswered is not allowed by submit, so 0). Returns
    (cycle, {team id: assessment})."""
    from assessment.models import Answer, Assessment, Cycle
    from assessment.services import assessment_submit

    cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name=name,
        status=Cycle.Status.OPEN,
        opens_on=opens_on,
        closes_on=opens_on + dt.timedelta(days=30),
        lens_weights=lens_weights or {},
    )
    cycle.teams.set(teams)
    out = {}
    for team in teams:
        assessment = Assessment.objects.create(cycle=cycle, team=team)
        for cap in framework.capabilities.all():
            for q in cap.questions.all():
                Answer.objects.create(
                    assessment=assessment,
                    question=q,
                    option=q.options.get(score=score_of(team, q)),
                    answered_by=user,
                )
        out[team.pk] = assessment_submit(assessment=assessment, user=user)
    Cycle.objects.filter(pk=cycle.pk).update(status=Cycle.Status.CLOSED)
    return cycle, out


@pytest.fixture
def two_cycles(org, team_a, team_b, respondent_a, framework):
    """Two cycles of the same framework; team A improves its process answers."""

    def first(team, q):
        return 1 if q.lens.key == "process" else 2

    def second(team, q):
        if team.pk == team_a.pk and q.lens.key == "process":
            return 3
        return first(team, q)

    c1, a1 = submitted_cycle(
        org=org,
        framework=framework,
        teams=[team_a, team_b],
        name="2025",
        opens_on=dt.date(2025, 3, 1),
        score_of=first,
        user=respondent_a,
    )
    c2, a2 = submitted_cycle(
        org=org,
        framework=framework,
        teams=[team_a, team_b],
        name="2026",
        opens_on=dt.date(2026, 3, 1),
        score_of=second,
        user=respondent_a,
    )
    return (c1, a1), (c2, a2)

"""Build organisations, cycles, assessments and answers for tests, straight with the ORM."""

from django.utils import timezone

from assessment.models import Answer, Assessment, Cycle, Organization, Team
from capabilities.models import Question


def make_cycle(
    *,
    organization: Organization,
    framework,
    teams=(),
    status: str = Cycle.Status.OPEN,
    name: str = "2026 H1",
    capabilities=None,
    closes_on=None,
) -> Cycle:
    """A cycle with one assessment per team (what opening a cycle creates).

    ``capabilities`` limits the scope; None keeps every capability of the framework.
    """
    cycle = Cycle.objects.create(
        organization=organization,
        framework=framework,
        name=name,
        status=status,
        closes_on=closes_on,
        opened_at=timezone.now() if status != Cycle.Status.PLANNED else None,
    )
    cycle.teams.set(teams)
    if capabilities:
        cycle.capabilities.set(capabilities)
    Assessment.objects.bulk_create(Assessment(cycle=cycle, team=t) for t in teams)
    return cycle


def make_assessment(*, team: Team, framework, **cycle_kwargs) -> Assessment:
    """An open cycle for one team, and that team's assessment."""
    cycle = make_cycle(
        organization=team.organization,
        framework=framework,
        teams=[team],
        **cycle_kwargs,
    )
    return Assessment.objects.select_related("cycle", "team").get(
        cycle=cycle, team=team
    )


def answer_all(assessment: Assessment, *, score: int = 2, user=None, skip=0) -> list:
    """Answer every question of the framework with the option of ``score``, leaving the
    last ``skip`` questions unanswered; bypasses the service (fast, no history)."""
    questions = list(
        Question.objects.filter(capability__framework_id=assessment.cycle.framework_id)
        .order_by("capability__order", "order", "id")
        .prefetch_related("options")
    )
    if skip:
        questions = questions[:-skip]
    answers = Answer.objects.bulk_create(
        Answer(
            assessment=assessment,
            question=q,
            option=next(o for o in q.options.all() if o.score == score),
            answered_by=user,
        )
        for q in questions
    )
    Assessment.objects.filter(pk=assessment.pk).update(
        status=Assessment.Status.IN_PROGRESS
    )
    assessment.status = Assessment.Status.IN_PROGRESS
    return answers

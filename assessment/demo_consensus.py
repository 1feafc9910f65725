"""The demo's consensus-mode team: in the open cycle, one team answers member by
member. Three of its members have answered and submitted their own answers,
disagreeing on about a quarter of the questions; a fourth has not answered yet.
The facilitator (a named member, or the lead) settles and submits.
"""

from __future__ import annotations

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import (
    Answer,
    AnsweringMode,
    Assessment,
    Cycle,
    Membership,
    Organization,
    RespondentAnswer,
    RespondentAnswerChange,
    RespondentSubmission,
    Team,
)
from .scores import scores_store
from .selectors import questions_for_assessment

CONSENSUS_TEAM = "Data Platform"
# username -> (first name, last name, role in the team)
CONSENSUS_RESPONDENTS: dict[str, tuple[str, str, str]] = {
    "tess": ("Tess", "Lindqvist", "team lead"),
    "omar": ("Omar", "Farouk", "engineer"),
    "fiona": ("Fiona", "Walsh", "finance partner"),
}
# Share of questions on which the members are two levels or more apart.
CONTESTED_SHARE = 0.25
CONTESTED_COMMENTS = {
    "tess": "We agreed this in the planning review; it is how we work now.",
    "omar": "In practice only a couple of us do this, and not every sprint.",
    "fiona": "From the finance side we do not see this in the monthly numbers.",
}
FACILITATOR_NOTE = "I was not sure how the others read this one."


def _team_and_assessment(organization: Organization) -> tuple[Team, Assessment]:
    """The consensus team and its assessment of the open cycle: the named team
    unless it has submitted, then the first team (by name) that has not."""
    cycle = Cycle.objects.get(organization=organization, status=Cycle.Status.OPEN)
    assessments = (
        Assessment.objects.filter(cycle=cycle)
        .exclude(status=Assessment.Status.SUBMITTED)
        .select_related("team", "cycle")
        .order_by("team__name")
    )
    chosen = (
        next((a for a in assessments if a.team.name == CONSENSUS_TEAM), None)
        or assessments.first()
    )
    return chosen.team, chosen


@transaction.atomic
def consensus_team_seed(
    *, organization: Organization, password: str, seed: int = 42
) -> Assessment:
    """Turn one not-yet-submitted team of the open cycle into a consensus-mode team
    with three members who answered on their own and submitted (see the module)."""
    rng = np.random.default_rng(seed + 18)
    team, assessment = _team_and_assessment(organization)
    Answer.objects.filter(assessment=assessment).delete()
    User = get_user_model()
    users = []
    for username, (first, last, _role) in CONSENSUS_RESPONDENTS.items():
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{organization.slug}.example",
        )
        user.set_password(password)
        user.save()
        Membership.objects.create(
            user=user,
            organization=organization,
            team=team,
            role=Membership.Role.RESPONDENT,
        )
        users.append(user)
    questions = list(
        # the questions the team answers (central ones are the central team's)
        questions_for_assessment(assessment=assessment).prefetch_related("options")
    )
    answers, changes = [], []
    now = timezone.now()
    for question in questions:
        options = {o.score: o for o in question.options.all()}
        base = int(rng.integers(1, 4))
        if rng.random() < CONTESTED_SHARE:
            offsets = [int(o) for o in rng.permutation([-2, 0, 1])]
        else:
            offsets = [int(o) for o in rng.choice([0, 0, 1], size=3)]
        contested = max(offsets) - min(offsets) >= 2
        for index, (user, offset) in enumerate(zip(users, offsets, strict=True)):
            score = min(4, max(0, base + offset))
            answers.append(
                RespondentAnswer(
                    assessment=assessment,
                    question=question,
                    respondent=user,
                    option=options[score],
                    comment=CONTESTED_COMMENTS[user.username] if contested else "",
                    private_note=FACILITATOR_NOTE if contested and index == 1 else "",
                    version=1,
                )
            )
    created = RespondentAnswer.objects.bulk_create(answers)
    if created and created[0].pk is None:
        created = list(RespondentAnswer.objects.filter(assessment=assessment))
    for answer in created:
        changes.append(
            RespondentAnswerChange(
                answer=answer,
                changed_by_id=answer.respondent_id,
                version=1,
                old={},
                new={
                    "option_score": answer.option.score,
                    "option_id": answer.option_id,
                    "not_applicable": False,
                    "comment": answer.comment,
                    "private_note": answer.private_note,
                    "evidence_url": "",
                },
            )
        )
    RespondentAnswerChange.objects.bulk_create(changes)
    RespondentSubmission.objects.bulk_create(
        RespondentSubmission(assessment=assessment, respondent=user) for user in users
    )
    Assessment.objects.filter(pk=assessment.pk).update(
        mode=AnsweringMode.CONSENSUS,
        status=Assessment.Status.IN_PROGRESS,
        submitted_at=None,
        submitted_by=None,
        facilitator=users[0],
        last_activity_at=now,
    )
    assessment.refresh_from_db()
    scores_store(assessment=assessment)
    return assessment

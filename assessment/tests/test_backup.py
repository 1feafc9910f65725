import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from assessment.backup import ORG_EXISTS_MSG, org_export, org_import
from assessment.models import (
    Answer,
    Assessment,
    AssessmentReopen,
    CapabilityScore,
    Cycle,
    Organization,
    Target,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated_org(org, team_a, team_b, respondent_a, lead, framework):
    cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name="2026 Q1",
        status=Cycle.Status.OPEN,
        lens_weights={
            "knowledge": 30,
            "process": 25,
            "metrics": 20,
            "adoption": 20,
            "automation": 5,
        },
    )
    cycle.teams.set([team_a, team_b])
    done = Assessment.objects.create(
        cycle=cycle,
        team=team_a,
        status=Assessment.Status.SUBMITTED,
        submitted_at=timezone.now(),
        submitted_by=respondent_a,
    )
    Assessment.objects.create(cycle=cycle, team=team_b)
    for i, question in enumerate(
        q for cap in framework.capabilities.all() for q in cap.questions.all()
    ):
        Answer.objects.create(
            assessment=done,
            question=question,
            option=question.options.get(score=i % 5),
            comment=f"note {i}" if i % 3 == 0 else "",
            answered_by=respondent_a,
            version=2,
        )
    AssessmentReopen.objects.create(
        assessment=done, reopened_by=lead, reason="Typo in Q3"
    )
    Target.objects.create(organization=org, capability_key="cap-0", percent=70)
    Target.objects.create(
        organization=org, team=team_a, capability_key="cap-0", percent=80
    )
    return org


def _without_slug(data: dict) -> dict:
    copy = json.loads(json.dumps(data))
    copy["organization"].pop("slug")
    return copy


def test_export_then_import_gives_the_same_organisation(populated_org):
    exported = org_export(organization=populated_org)
    imported, notes = org_import(data=exported, slug="org-copy")
    assert notes == []
    assert _without_slug(org_export(organization=imported)) == _without_slug(exported)


def test_import_recomputes_scores_of_submitted_assessments(populated_org):
    imported, _ = org_import(
        data=org_export(organization=populated_org), slug="org-copy"
    )
    scores = CapabilityScore.objects.filter(assessment__cycle__organization=imported)
    assert scores.count() == 2
    assert all(s.percent is not None for s in scores)


def test_import_refuses_an_existing_slug_and_changes_nothing(populated_org):
    before = Organization.objects.count()
    with pytest.raises(ValidationError) as err:
        org_import(data=org_export(organization=populated_org))
    assert err.value.messages == [ORG_EXISTS_MSG.format(slug="org-one")]
    assert Organization.objects.count() == before


def test_import_creates_missing_users_inactive(populated_org, django_user_model):
    data = org_export(organization=populated_org)
    data["memberships"].append(
        {
            "user": "newcomer",
            "email": "n@example.com",
            "role": "respondent",
            "team": "Team A",
        }
    )
    _, notes = org_import(data=data, slug="org-copy")
    user = django_user_model.objects.get(username="newcomer")
    assert not user.is_active
    assert not user.has_usable_password()
    assert notes == [
        "Created inactive user 'newcomer': set a password to let them sign in."
    ]


def test_the_commands_round_trip_through_a_file(populated_org, tmp_path):
    path = tmp_path / "org.json"
    call_command("export_org", "org-one", "-o", str(path))
    call_command("import_org", str(path), "--slug", "org-restored")
    restored = Organization.objects.get(slug="org-restored")
    assert Answer.objects.filter(assessment__cycle__organization=restored).count() == 10


def test_import_of_a_broken_file_names_the_problem(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_org", str(path))
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CommandError, match="This is not an organisation export"):
        call_command("import_org", str(path))


def test_a_consensus_assessment_survives_export_and_import(
    org, team_a, framework, respondent_a, lead
):
    from assessment import consensus
    from assessment.models import AnsweringMode, RespondentAnswer, Settlement
    from assessment.tests.factories import make_assessment
    from capabilities.models import Question
    from conftest import _member

    carl = _member("carl", org, "respondent", team_a)
    assessment = make_assessment(team=team_a, framework=framework, name="Consensus")
    consensus.cycle_mode_set(cycle=assessment.cycle, mode=AnsweringMode.CONSENSUS)
    assessment.refresh_from_db()
    question = Question.objects.filter(capability__framework=framework).first()
    for user, score in ((respondent_a, 1), (carl, 3)):
        consensus.own_answer_record(
            assessment=assessment,
            question=question,
            user=user,
            option=question.options.get(score=score),
            private_note=f"{user.username} note",
            expected_version=0,
        )
    consensus.facilitator_set(assessment=assessment, facilitator=carl)
    consensus.answer_settle(
        assessment=assessment,
        question=question,
        user=lead,
        option=question.options.get(score=2),
        note="met halfway",
    )
    exported = org_export(organization=org)
    imported, _notes = org_import(data=exported, slug="org-copy")
    assert _without_slug(org_export(organization=imported)) == _without_slug(exported)
    copy = imported.cycles.get().assessments.get()
    assert (copy.mode, copy.facilitator.username) == ("consensus", "carl")
    assert sorted(
        RespondentAnswer.objects.filter(assessment=copy).values_list(
            "respondent__username", "option__score", "private_note"
        )
    ) == [("alice", 1, "alice note"), ("carl", 3, "carl note")]
    assert Settlement.objects.get(assessment=copy).note == "met halfway"

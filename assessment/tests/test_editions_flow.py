"""A new edition end to end: the v2 made from the shipped v1 is dry-run on an
organisation's closed v1 cycle, published (v1 superseded), and a cycle opened on it
carries the teams' answers forward through the mapping."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from assessment import cycles, dry_runs, editions, services
from assessment.models import (
    Answer,
    AnswerChange,
    Assessment,
    CapabilityScore,
    Cycle,
    FrameworkDryRun,
)
from assessment.tests.factories import make_cycle
from capabilities.models import Framework, Question
from capabilities.services import framework_import, framework_publish
from capabilities.tests.editions import make_v2_document
from finops_portal.audit import AuditEvent
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for

pytestmark = pytest.mark.django_db

# Per team: the default score, and overrides that make the merge and split visible.
TEAM_SCORES = {
    "Team A": (2, {"operations-adoption-1": 1, "operations-adoption-2": 4}),
    "Team B": (3, {"governance-process-1": 0, "education-automation-1": 1}),
}


def _answer_v1(assessment, default, overrides):
    questions = Question.objects.filter(
        capability__framework=assessment.cycle.framework
    ).prefetch_related("options")
    Answer.objects.bulk_create(
        Answer(
            assessment=assessment,
            question=q,
            option=next(
                o for o in q.options.all() if o.score == overrides.get(q.key, default)
            ),
        )
        for q in questions
    )


@pytest.fixture
def closed_v1(org, shipped_framework, team_a, team_b):
    """A v1 cycle of the organisation, both teams submitted, closed."""
    cycle = make_cycle(
        organization=org, framework=shipped_framework, teams=[team_a, team_b], name="Q1"
    )
    for assessment in Assessment.objects.filter(cycle=cycle).select_related(
        "team", "cycle"
    ):
        default, overrides = TEAM_SCORES[assessment.team.name]
        _answer_v1(assessment, default, overrides)
        services.assessment_submit(assessment=assessment, user=None)
    cycles.cycle_close(cycle=cycle)
    return cycle


@pytest.fixture
def v2(shipped_framework):
    return framework_import(data=make_v2_document())


def _org_data(org):
    return (
        Answer.objects.filter(assessment__cycle__organization=org).count(),
        AnswerChange.objects.filter(
            answer__assessment__cycle__organization=org
        ).count(),
        CapabilityScore.objects.filter(assessment__cycle__organization=org).count(),
        list(
            CapabilityScore.objects.filter(
                assessment__cycle__organization=org
            ).values_list("percent", "level_key")
        ),
        Cycle.objects.filter(organization=org).count(),
    )


# --- dry run ----------------------------------------------------------------------


def test_a_dry_run_needs_a_closed_cycle(org, v2, team_a, shipped_framework):
    make_cycle(organization=org, framework=shipped_framework, teams=[team_a])
    with pytest.raises(ValidationError) as caught:
        dry_runs.dry_run_start(framework=v2, organization=org)
    assert caught.value.message_dict == {
        "organization": [editions.NO_CLOSED_CYCLE_MSG.format(organization=org)]
    }
    assert not FrameworkDryRun.objects.exists()


def test_a_dry_run_writes_nothing_and_lists_unmatched_questions(org, closed_v1, v2):
    before = _org_data(org)
    run = dry_runs.dry_run_start(framework=v2, organization=org)
    assert _org_data(org) == before
    assert run.state == "done"
    result = run.result
    assert result["teams"] == 2
    assert result["cycle"] == "Q1"
    unmatched = {q["key"] for q in result["unmatched_questions"]}
    assert unmatched == {
        q.key for q in Question.objects.filter(capability__key="ai-cost")
    }
    by_cap = {row["capability"]: row for row in result["capabilities"]}
    assert by_cap["education-enablement"]["kind"] == "renamed"
    assert by_cap["ai-cost"]["kind"] == "new"
    assert by_cap["ai-cost"]["after_mean"] is None
    rows = {(r["team"], r["capability"]): r for r in result["rows"]}
    # A renamed capability continues the old one's score.
    edu_a = rows[("Team A", "education-enablement")]
    assert edu_a["before_percent"] == pytest.approx(50.0)
    assert edu_a["after_percent"] == pytest.approx(50.0)


def test_the_dry_run_equals_scoring_on_the_published_draft(
    org, closed_v1, v2, shipped_framework, lead, respondent_a
):
    result = dry_runs.dry_run_start(framework=v2, organization=org).result
    v2 = framework_publish(framework=v2)
    shipped_framework.refresh_from_db()
    assert shipped_framework.is_superseded
    assert shipped_framework.is_published
    v2.refresh_from_db()
    assert v2.is_current

    cycle = cycles.cycle_create(organization=org, framework=v2, name="Q2", user=lead)
    cycles.cycle_open(cycle=cycle, user=lead, carry_forward=True)
    assert AuditEvent.objects.filter(action="cycle.carry_forward").exists()

    for assessment in Assessment.objects.filter(cycle=cycle).select_related(
        "team", "cycle"
    ):
        carried = {
            a.question.key: a
            for a in Answer.objects.filter(assessment=assessment).select_related(
                "question", "option"
            )
        }
        # Mapped answers are pre-filled and marked; new questions are empty.
        assert all(a.carried_forward for a in carried.values())
        assert not any(key.startswith("ai-cost") for key in carried)
        assert "assessment-process-1" in carried  # central, but carried for the record
        default, overrides = TEAM_SCORES[assessment.team.name]
        assert carried["education-knowledge-1"].option.score == default
        merged = [
            overrides.get(k, default)
            for k in ("operations-adoption-1", "operations-adoption-2")
        ]
        assert carried["operations-adoption"].option.score == int(sum(merged) / 2 + 0.5)
        split = overrides.get("governance-process-1", default)
        assert carried["governance-process-1a"].option.score == split
        assert carried["governance-process-1b"].option.score == split

        # The new questions must be answered; carried ones confirmed.
        for question in Question.objects.filter(capability__key="ai-cost"):
            services.answer_record(
                assessment=assessment,
                question=question,
                user=None,
                option=question.options.get(score=1),
                expected_version=0,
            )
        with pytest.raises(ValidationError) as caught:
            services.assessment_submit(assessment=assessment, user=None)
        assert "confirm_carried" in caught.value.message_dict
        services.assessment_submit(
            assessment=assessment, user=None, confirm_carried=True
        )
        assert not Answer.objects.filter(
            assessment=assessment, carried_forward=True
        ).exists()

    stored = {
        (s.assessment.team.name, s.capability.key): s
        for s in CapabilityScore.objects.filter(assessment__cycle=cycle).select_related(
            "assessment__team", "capability"
        )
    }
    compared = 0
    for row in result["rows"]:
        if row["after_percent"] is None:
            continue
        score = stored[(row["team"], row["capability"])]
        assert score.percent == pytest.approx(row["after_percent"], abs=0.01)
        assert score.level_key == row["after_level"]
        compared += 1
    assert compared == 2 * 7  # every capability but the new one, for both teams


def test_a_superseded_version_is_refused_for_new_cycles(org, v2, shipped_framework):
    v2 = framework_publish(framework=v2)
    shipped_framework.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        cycles.cycle_create(organization=org, framework=shipped_framework, name="Old")
    assert caught.value.message_dict == {
        "framework": [
            cycles.FRAMEWORK_SUPERSEDED_MSG.format(framework=shipped_framework)
        ]
    }


def test_confirming_or_changing_a_carried_answer_clears_the_mark(
    org, closed_v1, v2, lead, respondent_a
):
    v2 = framework_publish(framework=v2)
    cycle = cycles.cycle_create(organization=org, framework=v2, name="Q2")
    cycles.cycle_open(cycle=cycle, carry_forward=True)
    assessment = Assessment.objects.select_related("cycle").get(
        cycle=cycle, team__name="Team A"
    )
    answer = Answer.objects.select_related("question", "option").get(
        assessment=assessment, question__key="education-knowledge-1"
    )
    # Saving it unchanged confirms it.
    confirmed = services.answer_record(
        assessment=assessment,
        question=answer.question,
        user=respondent_a,
        option=answer.option,
        expected_version=answer.version,
    )
    assert (confirmed.carried_forward, confirmed.version) == (False, 2)
    stored = Answer.objects.get(pk=answer.pk)
    assert (stored.carried_forward, stored.version, stored.option_id) == (
        False,
        2,
        answer.option_id,
    )
    # Its history keeps that it was carried: the same values, confirmed.
    change = stored.changes.get(version=2)
    assert change.old == {**change.new, "carried_forward": True}
    assert change.new["option_id"] == answer.option_id
    # Saved again unchanged, it is confirmed already: nothing is written.
    again = services.answer_record(
        assessment=assessment,
        question=answer.question,
        user=respondent_a,
        option=answer.option,
        expected_version=2,
    )
    assert again.version == 2
    assert stored.changes.count() == 1
    other = Answer.objects.select_related("question").get(
        assessment=assessment, question__key="education-process-1"
    )
    changed = services.answer_record(
        assessment=assessment,
        question=other.question,
        user=respondent_a,
        option=other.question.options.get(score=4),
        expected_version=other.version,
    )
    assert changed.carried_forward is False
    # The review page lists what is still unconfirmed, and submit asks for it.
    from django.test import Client

    client = Client()
    client.force_login(respondent_a)
    page = client.get(f"/assessments/{assessment.pk}/review/")
    html = page.content.decode()
    remaining = Answer.objects.filter(assessment=assessment, carried_forward=True)
    assert f"Carried forward, not yet confirmed ({remaining.count()})" in html
    assert 'name="confirm_carried"' in html
    section = html.split('class="card carried-list"', 1)[1].split("</section>", 1)[0]
    assert f"#question-{answer.question_id}" not in section
    assert f"#question-{other.question_id}" not in section
    assert f"#question-{remaining.first().question_id}" in section


def test_carry_forward_through_the_api(org, closed_v1, v2, lead):
    v2 = framework_publish(framework=v2)
    cycle = cycles.cycle_create(organization=org, framework=v2, name="Q2")
    response = client_for(lead).post(
        f"/api/v1/cycles/{cycle.pk}/open/", {"carry_forward": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Answer.objects.filter(assessment__cycle=cycle, carried_forward=True).exists()


# --- publishing, import and export through the API and commands ----------------------


def test_the_authoring_api_as_staff(
    staff, org, closed_v1, shipped_framework, respondent_a
):
    client = client_for(staff)
    document = make_v2_document()
    # Import refused: every problem listed, nothing written.
    bad = {**document, "retired": {"capabilities": [], "questions": []}}
    response = client.post(
        "/api/v1/frameworks/import/", {"document": bad}, format="json"
    )
    assert response.status_code == 400
    assert any("education-knowledge-2" in e for e in response.json()["errors"])
    assert Framework.objects.count() == 1
    # Imported as the next free version.
    response = client.post(
        "/api/v1/frameworks/import/",
        {"document": {**document, "version": 1}, "next_version": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    draft = Framework.objects.get(pk=response.json()["id"])
    assert draft.version == 2
    # Validate, diff, dry run.
    response = client.get(f"/api/v1/frameworks/{draft.pk}/validate/")
    assert response.json()["problems"] == []
    assert any("superseded" in line for line in response.json()["publish_consequences"])
    diff = client.get(f"/api/v1/frameworks/{draft.pk}/diff/").json()
    assert diff["source"] == "finops-practice v1"
    changes = {row["key"]: row for row in diff["capabilities"]}
    assert changes["education-enablement"]["kind"] == "renamed"
    assert changes["ai-cost"]["change"] == "added"
    assert changes["intersecting-frameworks"]["change"] == "removed"
    questions = {row["key"]: row for row in diff["questions"]}
    assert questions["operations-adoption"]["kind"] == "merged"
    assert questions["education-knowledge-2"]["change"] == "removed"
    response = client.post(
        f"/api/v1/frameworks/{draft.pk}/dry-run/",
        {"organization": org.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["state"] == "done"
    assert client.get(f"/api/v1/dry-runs/{run['id']}/").json()["result"]["teams"] == 2
    # Publish; the old version is superseded, still published.
    response = client.post(f"/api/v1/frameworks/{draft.pk}/publish/")
    assert response.status_code == 200
    listing = {
        row["version"]: row
        for row in client.get("/api/v1/frameworks/").json()["results"]
    }
    assert listing[1]["status"] == "published"
    assert listing[1]["superseded_at"]
    assert listing[2]["superseded_at"] is None
    # Export any version; a published one refuses a re-import onto it.
    exported = client.get(f"/api/v1/frameworks/{shipped_framework.pk}/export/").json()
    assert exported["version"] == 1
    response = client.post(
        "/api/v1/frameworks/import/", {"document": exported}, format="json"
    )
    assert response.status_code == 400
    assert "the next free one is v3" in response.json()["errors"][0]
    # Retire is explicit.
    response = client.post(f"/api/v1/frameworks/{shipped_framework.pk}/retire/")
    assert response.json()["status"] == "retired"
    # None of it is open to a respondent.
    other = client_for(respondent_a)
    assert (
        other.post(
            "/api/v1/frameworks/import/", {"document": document}, format="json"
        ).status_code
        == 403
    )
    assert (
        other.post(
            f"/api/v1/frameworks/{draft.pk}/dry-run/",
            {"organization": org.pk},
            format="json",
        ).status_code
        == 403
    )
    assert other.get(f"/api/v1/dry-runs/{run['id']}/").status_code == 403


def test_a_dry_run_api_on_an_organisation_without_a_closed_cycle(staff, org, v2):
    response = client_for(staff).post(
        f"/api/v1/frameworks/{v2.pk}/dry-run/", {"organization": org.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "organization": [editions.NO_CLOSED_CYCLE_MSG.format(organization=org)]
    }


def test_commands_import_as_next_version_and_publish(
    tmp_path, shipped_framework, capsys
):
    path = tmp_path / "v2.yaml"
    import yaml

    path.write_text(yaml.safe_dump({**make_v2_document(), "version": 1}))
    call_command("import_framework", str(path), "--next-version")
    draft = Framework.objects.get(version=2)
    assert draft.status == "draft"
    call_command("publish_framework", "finops-practice", "2")
    out = capsys.readouterr().out
    assert "superseded" in out
    shipped_framework.refresh_from_db()
    assert shipped_framework.is_superseded


def test_with_a_central_team_central_questions_are_carried_to_it_alone(
    org, closed_v1, v2, team_a, team_b
):
    """Team B becomes the central team: team A never gets a carried answer to a
    central question (it could not confirm one), team B gets them all."""
    v2 = framework_publish(framework=v2)
    org.central_team = team_b
    org.save(update_fields=["central_team"])
    cycle = cycles.cycle_create(organization=org, framework=v2, name="Q2")
    cycles.cycle_open(cycle=cycle, carry_forward=True)
    central = set(
        Question.objects.filter(
            capability__framework=v2, audience="central"
        ).values_list("key", flat=True)
    )
    assert "assessment-process-1" in central

    def carried(team):
        return set(
            Answer.objects.filter(
                assessment__cycle=cycle, assessment__team=team, carried_forward=True
            ).values_list("question__key", flat=True)
        )

    assert carried(team_a)
    assert not carried(team_a) & central
    assert "assessment-process-1" in carried(team_b)

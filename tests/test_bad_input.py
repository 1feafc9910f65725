"""Oversized bodies are refused with a clear 400 and change nothing."""

import json

import pytest

pytestmark = pytest.mark.django_db

TOO_BIG = 6 * 1024 * 1024  # over DATA_UPLOAD_MAX_MEMORY_SIZE (5 MiB)


@pytest.fixture
def open_assessment(org, team_a, framework):
    from assessment.models import Assessment, Cycle

    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="Q", status="open"
    )
    cycle.teams.set([team_a])
    return Assessment.objects.create(cycle=cycle, team=team_a)


def test_an_oversized_autosave_is_refused_and_saves_nothing(
    client, respondent_a, open_assessment
):
    from assessment.models import Answer

    client.force_login(respondent_a)
    question = open_assessment.cycle.framework.capabilities.first().questions.first()
    body = json.dumps({"comment": "x" * TOO_BIG, "expected_version": 0})
    response = client.post(
        f"/assessments/{open_assessment.pk}/answers/{question.pk}/",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_an_oversized_api_body_is_refused_and_saves_nothing(
    client, respondent_a, open_assessment
):
    from assessment.models import Answer

    client.force_login(respondent_a)
    question = open_assessment.cycle.framework.capabilities.first().questions.first()
    response = client.put(
        f"/api/v1/assessments/{open_assessment.pk}/answers/{question.pk}/",
        json.dumps({"comment": "x" * TOO_BIG, "version": 0}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_an_oversized_form_post_is_refused(client, lead, org):
    client.force_login(lead)
    response = client.post(f"/lead/{org.slug}/teams/", {"name": "x" * TOO_BIG})
    assert response.status_code == 400
    assert not org.teams.filter(name__startswith="xxx").exists()

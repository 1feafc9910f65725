"""HTML and script typed into any free-text field is shown as text, never run.

Team, business-unit, cycle and organisation names, question text, comments and
evidence links carry payloads; the pages that show them are opened in Chromium
with a dialog listener: a single ``alert`` would fail the test.
"""

import pytest
from django.utils import timezone

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src=x onerror="alert(1)">'


@pytest.fixture
def hostile_world(org, framework, lead, staff):
    from assessment.models import Answer, Assessment, Cycle, Membership, Team
    from capabilities.models import Capability, Framework, Question
    from conftest import _member

    # Content is written before publishing: published content is immutable.
    Framework.objects.filter(pk=framework.pk).update(status=Framework.Status.DRAFT)
    cap = Capability.objects.filter(framework=framework).order_by("order").first()
    cap.name = "Cap " + IMG
    cap.description = "Described " + SCRIPT
    cap.save()
    question = cap.questions.order_by("order").first()
    question.prompt = "Prompt " + SCRIPT + "?"
    question.help_text = "Help " + IMG
    question.save()
    Framework.objects.filter(pk=framework.pk).update(status=Framework.Status.PUBLISHED)

    org.name = "Org " + SCRIPT
    org.save()
    unit = Team.objects.create(
        organization=org, name="BU " + IMG, kind=Team.Kind.BUSINESS_UNIT
    )
    team = Team.objects.create(organization=org, name="Team " + SCRIPT, parent=unit)
    respondent = _member("mallory", org, Membership.Role.RESPONDENT, team)
    cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name="Cycle " + IMG,
        status=Cycle.Status.OPEN,
    )
    cycle.teams.set([team])
    assessment = Assessment.objects.create(cycle=cycle, team=team)
    for q in Question.objects.filter(capability__framework=framework):
        Answer.objects.create(
            assessment=assessment,
            question=q,
            option=q.options.get(score=2),
            comment="Comment " + SCRIPT + IMG,
            evidence_url="https://example.com/?q=<script>",
            answered_by=respondent,
        )
    from assessment.services import assessment_submit

    assessment_submit(assessment=assessment, user=respondent)
    assessment.refresh_from_db()
    assert assessment.submitted_at <= timezone.now()
    return {
        "assessment": assessment,
        "cycle": cycle,
        "org": org,
        "framework": framework,
    }


def _visit_all(page, paths: list[str]) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in paths:
        response = page.goto(page.base_url + path)
        assert response.status < 400, (path, response.status)
        page.wait_for_load_state("networkidle")
    return dialogs


def test_payloads_are_inert_for_the_respondent(page, hostile_world):
    a = hostile_world["assessment"]
    browser_login(page, "mallory")
    paths = [
        "/assessments/",
        f"/assessments/{a.pk}/",
        f"/assessments/{a.pk}/summary/",
        f"/assessments/{a.pk}/report/",
        f"/framework/{hostile_world['framework'].slug}/v{hostile_world['framework'].version}/",
    ]
    dialogs = _visit_all(page, paths)
    assert dialogs == []
    page.goto(page.base_url + f"/assessments/{a.pk}/summary/")
    assert SCRIPT in page.inner_text("body")  # shown as text
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0


def test_payloads_are_inert_for_the_lead(page, hostile_world):
    org, cycle, a = (
        hostile_world["org"],
        hostile_world["cycle"],
        hostile_world["assessment"],
    )
    browser_login(page, "lena")
    paths = [
        "/lead/",
        f"/lead/{org.slug}/teams/",
        f"/lead/{org.slug}/members/",
        f"/lead/{org.slug}/cycles/",
        f"/lead/cycles/{cycle.pk}/",
        f"/lead/{org.slug}/audit/",
        f"/org/{org.slug}/dashboard/?cycle={cycle.pk}",
        f"/org/{org.slug}/targets/",
        f"/assessments/{a.pk}/report/",
    ]
    dialogs = _visit_all(page, paths)
    assert dialogs == []
    page.goto(page.base_url + f"/lead/{org.slug}/teams/")
    assert "Team " + SCRIPT in page.inner_text("body")


def test_payloads_are_inert_in_the_admin(page, hostile_world):
    browser_login(page, "stella")
    q = (
        hostile_world["framework"]
        .capabilities.order_by("order")
        .first()
        .questions.order_by("order")
        .first()
    )
    dialogs = _visit_all(
        page,
        [
            "/admin/capabilities/question/",
            f"/admin/capabilities/question/{q.pk}/change/",
            "/admin/assessment/team/",
            "/admin/assessment/answer/",
        ],
    )
    assert dialogs == []

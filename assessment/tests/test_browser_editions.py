"""Staff import a new version made from the shipped v1, read its validation, preview
and diff, dry-run it on an organisation's closed cycle and publish it after the
confirmation, in a real browser."""

import copy

import pytest
import yaml
from playwright.sync_api import expect

from conftest import ARTIFACTS, axe_violations, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _closed_v1_cycle(org, teams):
    from assessment import cycles, services
    from assessment.models import Assessment
    from assessment.tests.factories import make_cycle
    from assessment.tests.test_editions_flow import TEAM_SCORES, _answer_v1
    from capabilities.services import framework_load_shipped

    v1 = framework_load_shipped(versions=[1])[0][0]
    cycle = make_cycle(organization=org, framework=v1, teams=teams, name="Q1")
    for assessment in Assessment.objects.filter(cycle=cycle).select_related(
        "team", "cycle"
    ):
        default, overrides = TEAM_SCORES[assessment.team.name]
        _answer_v1(assessment, default, overrides)
        services.assessment_submit(assessment=assessment, user=None)
    cycles.cycle_close(cycle=cycle)
    return v1


def test_staff_import_review_dry_run_and_publish_a_new_version(
    page, staff, org, team_a, team_b, tmp_path
):
    from capabilities.models import Framework
    from capabilities.tests.editions import make_v2_document

    v1 = _closed_v1_cycle(org, [team_a, team_b])
    document = make_v2_document()
    bad = tmp_path / "bad.yaml"
    broken = copy.deepcopy({**document, "version": 1})
    broken["capabilities"][0]["maps_from"] = {"kind": "renamed", "from": ["educashun"]}
    bad.write_text(yaml.safe_dump(broken, sort_keys=False))
    good = tmp_path / "v2.yaml"
    good.write_text(yaml.safe_dump({**document, "version": 1}, sort_keys=False))

    browser_login(page, "stella")
    # A file with a mapping to a missing capability: the error names it; nothing written.
    page.goto(f"{page.base_url}/admin/capabilities/framework/import/")
    page.set_input_files("#id_file", str(bad))
    page.check("#id_next_version")
    page.click("input[type=submit][value=Import]")
    expect(page.locator(".errorlist")).to_contain_text(
        "capabilities[0].maps_from.from[0]: unknown capability 'educashun' in "
        "finops-practice v1"
    )
    assert Framework.objects.count() == 1

    # The good file, imported as the next free version (the form offers v2).
    expect(page.locator(".help", has_text="finops-practice: v2")).to_be_visible()
    page.set_input_files("#id_file", str(good))
    page.check("#id_next_version")
    page.click("input[type=submit][value=Import]")
    expect(page.locator(".messagelist")).to_contain_text("Imported")
    draft = Framework.objects.get(version=2)
    assert draft.status == "draft"

    # Review: validation, diff.
    page.goto(f"{page.base_url}/admin/capabilities/framework/{draft.pk}/review/")
    expect(page.locator(".validation-ok")).to_be_visible()
    diff = page.locator("table.diff-capabilities")
    expect(diff.locator("tr", has_text="education-enablement")).to_contain_text(
        "renamed from education"
    )
    expect(diff.locator("tr", has_text="intersecting-frameworks")).to_contain_text(
        "removed"
    )
    expect(diff.locator("tr", has_text="ai-cost")).to_contain_text("added")
    questions = page.locator("table.diff-questions")
    expect(questions.locator("tr", has_text="operations-adoption")).to_contain_text(
        "merged from operations-adoption-1, operations-adoption-2"
    )

    # Preview: the questionnaire as a respondent sees it.
    page.click("text=See the questionnaire as a respondent will")
    expect(page.locator("#cap-ai-cost")).to_contain_text("AI workloads:")
    expect(page.locator("#cap-assessment")).to_contain_text(
        "answered by the central FinOps function"
    )
    page.go_back()

    # Dry run on the organisation's closed cycle.
    page.select_option("#dry-run-organization", str(org.pk))
    page.click("input[value='Start the dry run']")
    expect(page.locator("h1")).to_contain_text("Dry run of")
    teams = page.locator("table.dry-run-teams")
    expect(
        teams.locator("tr[data-team='Team A'][data-capability='education-enablement']")
    ).to_contain_text("50.0%")
    expect(page.locator(".dry-run-unmatched")).to_contain_text("ai-cost-knowledge-1")
    page.screenshot(path=str(ARTIFACTS / "editions-dry-run.png"), full_page=True)
    assert axe_violations(page) == []

    # Publish, after the confirmation that states the consequences.
    page.goto(f"{page.base_url}/admin/capabilities/framework/{draft.pk}/review/")
    page.click("input[type=submit][value^='Publish']")
    consequences = page.locator(".publish-consequences")
    expect(consequences).to_contain_text("becomes the current version")
    expect(consequences).to_contain_text(
        "stays published for the 1 cycle(s) that use it, marked superseded"
    )
    draft.refresh_from_db()
    assert draft.status == "draft"
    page.click("input[value='Yes, publish']")
    expect(page.locator(".messagelist")).to_contain_text(f"Published {draft}.")
    draft.refresh_from_db()
    v1.refresh_from_db()
    assert draft.is_current
    assert v1.is_superseded
    assert v1.status == "published"
    row = page.locator(
        "#result_list tbody tr", has=page.locator("td.field-version", has_text="1")
    )
    expect(row.locator("td.field-current")).to_have_text("Superseded")


def test_the_dry_run_start_page_says_when_there_is_no_closed_cycle(page, staff, org):
    from capabilities.services import framework_load_shipped

    v1 = framework_load_shipped(versions=[1])[0][0]
    browser_login(page, "stella")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/staff/frameworks/{v1.pk}/dry-run/")
    page.select_option("#id_organization", str(org.pk))
    page.click("button:has-text('Start the dry run')")
    expect(page.locator(".field-error")).to_contain_text(
        f"{org.name} has no closed cycle yet"
    )
    assert axe_violations(page) == []


def test_a_respondent_confirms_carried_answers_and_submits(
    page, org, team_a, team_b, respondent_a
):
    from assessment import cycles
    from assessment.models import Answer, Assessment
    from capabilities.models import Question
    from capabilities.services import framework_import, framework_publish
    from capabilities.tests.editions import make_v2_document

    _closed_v1_cycle(org, [team_a, team_b])
    v2 = framework_publish(framework=framework_import(data=make_v2_document()))
    cycle = cycles.cycle_create(organization=org, framework=v2, name="Q2")
    cycles.cycle_open(cycle=cycle, carry_forward=True)
    assessment = Assessment.objects.get(cycle=cycle, team=team_a)
    question = Question.objects.get(
        capability__framework=v2, key="education-knowledge-1"
    )

    browser_login(page, "alice")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/c/education-enablement/")
    box = page.locator(f"#question-{question.pk}")
    expect(box.locator(".badge-carried")).to_be_visible()
    assert axe_violations(page) == []
    box.locator("[data-confirm-carried]").click()
    expect(box.locator("[data-carried]")).to_have_count(0)
    answer = Answer.objects.get(assessment=assessment, question=question)
    assert answer.carried_forward is False

    # The new capability's questions are empty: answer them, then submit.
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/c/ai-cost/")
    for fieldset in page.locator("fieldset[data-question-id]").all():
        fieldset.locator("input[type=radio]").nth(2).check()
        expect(fieldset.locator("[data-status]")).to_contain_text("Saved")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/review/")
    expect(page.locator("#carried-title")).to_contain_text("Carried forward")
    page.click("button:has-text('Submit assessment')")
    expect(page.locator(".messages, .message, [role=alert]").first).to_contain_text(
        "not confirmed"
    )
    page.check("#confirm_carried")
    page.click("button:has-text('Submit assessment')")
    assessment.refresh_from_db()
    assert assessment.status == "submitted"
    assert not Answer.objects.filter(
        assessment=assessment, carried_forward=True
    ).exists()

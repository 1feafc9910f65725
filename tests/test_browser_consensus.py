"""The facilitator's board in Chromium, at desktop (1366 px) and phone (390 px)
width: every member's answer, the spread, settling a question with the default and
by hand, submitting the team; axe finds no serious violation. A member autosaves
their own answer in the questionnaire, with the note for the facilitator."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from benchmarks.services import rollup_recompute
from conftest import axe_violations, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board(team_a, framework, respondent_a, lead):
    from assessment import consensus
    from assessment.models import AnsweringMode
    from assessment.tests.factories import make_assessment
    from capabilities.models import Question
    from conftest import _member

    carl = _member("carl", team_a.organization, "respondent", team_a)
    dora = _member("dora", team_a.organization, "respondent", team_a)
    assessment = make_assessment(team=team_a, framework=framework)
    consensus.cycle_mode_set(cycle=assessment.cycle, mode=AnsweringMode.CONSENSUS)
    assessment.refresh_from_db()
    questions = list(
        Question.objects.filter(capability__framework=framework)
        .order_by("capability__order", "order", "id")
        .prefetch_related("options")
    )
    spreads = {0: (0, 2, 4), 1: (2, 3, 3)}
    for index, question in enumerate(questions):
        for who, user in enumerate((respondent_a, carl, dora)):
            score = spreads.get(index, (2, 2, 2))[who]
            consensus.own_answer_record(
                assessment=assessment,
                question=question,
                user=user,
                option=next(o for o in question.options.all() if o.score == score),
                comment=f"{user.username} on question {index}",
                private_note="only for the facilitator" if who == 1 else "",
                expected_version=0,
            )
    return {"assessment": assessment, "questions": questions}


@pytest.mark.parametrize("width", [1366, 390])
def test_the_facilitator_settles_and_submits_on_the_board(page, board, width):
    assessment, questions = board["assessment"], board["questions"]
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, "lena")
    page.goto(page.base_url + f"/assessments/{assessment.pk}/team-answers/")
    first = page.locator("section.ta-question").first
    # widest disagreement first, with the three answers and the note side by side
    assert questions[0].prompt in first.inner_text()
    assert "disagreement 4" in first.inner_text()
    assert "only for the facilitator" in first.inner_text()
    assert axe_violations(page) == []
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0

    page.click("text=Confirm every default")
    page.wait_for_load_state()
    assert "9 question(s) settled with their default." in page.content()

    wide = page.locator(f"#settle-{questions[0].pk}")
    wide.locator("input[type=radio]").nth(2).check()
    wide.locator("textarea[name=note]").fill("The finance partner's figures")
    wide.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "The team's answer is settled." in page.content()
    assert axe_violations(page) == []

    page.click("text=Submit the team's assessment")
    page.wait_for_load_state()
    assert "The team's assessment is submitted." in page.content()
    page.goto(page.base_url + reverse("benchmarks:team_report", args=[assessment.pk]))
    section = page.locator("[data-testid=team-disagreement]")
    assert "The team disagreed most on:" in section.inner_text()
    assert questions[0].prompt in section.inner_text()
    # The score grid's colours and plotly's charts are the report's own business
    # (not checked by axe elsewhere either); the disagreement section is checked.
    grid = 'section[aria-labelledby="grid-heading"]'
    assert axe_violations(page, exclude=(grid, ".chart")) == []
    rollup_recompute(cycle_id=assessment.cycle_id, force=True)
    page.goto(
        page.base_url
        + reverse("benchmarks:org_dashboard", args=[assessment.cycle.organization.slug])
        + f"?cycle={assessment.cycle_id}"
    )
    spread = page.locator("[data-testid=dashboard-disagreement]")
    assert "Team A" in spread.inner_text()
    assert axe_violations(page, exclude=(".chart",)) == []
    page.goto(page.base_url + f"/lead/cycles/{assessment.cycle_id}/")
    # the members answered but none submitted their own answers
    assert "0 of 3 answered" in page.content()
    assert axe_violations(page) == []
    assert page.console_errors == []


def test_a_member_autosaves_their_own_answer_and_note(page, board, team_a):
    from assessment.models import RespondentAnswer
    from conftest import _member

    late = _member("late", team_a.organization, "respondent", team_a)
    assessment, question = board["assessment"], board["questions"][0]
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, late.username)
    page.goto(page.base_url + f"/assessments/{assessment.pk}/")
    fieldset = page.locator(f"#question-{question.pk}")
    fieldset.locator("input[type=radio]").nth(3).check()
    fieldset.locator("textarea[name$='-note']").fill("Between us: it is worse.")
    fieldset.locator("textarea[name$='-comment']").click()
    expect(fieldset.locator("[data-status]")).to_have_text("Saved")
    assert axe_violations(page) == []
    saved = RespondentAnswer.objects.get(respondent=late, question=question)
    assert (saved.option.score, saved.private_note) == (3, "Between us: it is worse.")
    assert page.console_errors == []

"""The questionnaire in Chromium: autosave, retry after a network failure, conflict,
submit, and the phone layout."""

import re

import pytest
from playwright.sync_api import expect

from assessment import services
from assessment.models import Answer, Assessment
from assessment.tests.factories import make_assessment
from capabilities.models import Question
from conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLOW = 15_000  # ms; a retry waits up to a few seconds


@pytest.fixture
def assessment(team_a, framework, respondent_a):
    return make_assessment(team=team_a, framework=framework)


def _questions(framework, capability_key):
    return list(
        Question.objects.filter(
            capability__framework=framework, capability__key=capability_key
        ).order_by("order")
    )


def _choose(page, question, label):
    page.locator(f"#question-{question.pk} .option-card", has_text=label).click()


def _status(page, question):
    return page.locator(f"#question-{question.pk} [data-status]")


def _network_noise(errors):
    """Chromium logs failed requests (aborted, 409) to the console; scripts did not."""
    return [e for e in errors if not e.startswith("Failed to load resource")]


def test_a_respondent_answers_reloads_recovers_from_a_network_failure_and_submits(
    page, assessment, framework
):
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
    # With scripts on, answers save themselves: the no-script Save button is hidden.
    expect(page.locator("#fallback-save")).to_be_hidden()
    first = _questions(framework, "cap-0")
    for question in first:
        _choose(page, question, "Level 2")
        expect(_status(page, question)).to_have_text("Saved")
    comment = page.locator(f"#q-{first[0].pk}-comment")
    comment.fill("We review costs weekly")
    expect(page.locator(f"#question-{first[0].pk}")).to_have_attribute(
        "data-version", "2"
    )
    expect(_status(page, first[0])).to_have_text("Saved")
    expect(page.locator("#overall-progress-label")).to_have_text(
        "5 of 10 questions answered (50%)"
    )
    expect(page.locator(".q-nav-link[aria-current=page] [data-count]")).to_have_text(
        "5/5"
    )

    # a reload keeps every answer (the address names the capability: opened without
    # one, the questionnaire goes to the first question still to answer)
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/c/cap-0/")
    for question in first:
        expect(
            page.locator(
                f"#question-{question.pk} .option-card", has_text="Level 2"
            ).locator("input")
        ).to_be_checked()
    expect(comment).to_have_value("We review costs weekly")

    # Offline for one save: the value is kept, retried, then saved.
    page.route("**/answers/**", lambda route: route.abort())
    _choose(page, first[1], "Level 4")
    expect(_status(page, first[1])).to_have_text("Not saved — retrying…")
    expect(page.locator("#save-banner")).to_be_visible()
    page.unroute("**/answers/**")
    expect(_status(page, first[1])).to_have_text("Saved", timeout=SLOW)
    expect(page.locator("#save-banner")).to_be_hidden()
    assert Answer.objects.get(question=first[1]).option.score == 4

    page.get_by_role("link", name="Capability 1 →").click()
    for question in _questions(framework, "cap-1"):
        _choose(page, question, "Level 3")
        expect(_status(page, question)).to_have_text("Saved")
    expect(page.locator("#overall-progress-label")).to_have_text(
        "10 of 10 questions answered (100%)"
    )
    page.get_by_role("link", name="Review and submit →").click()
    expect(page.get_by_text("Every question is answered.")).to_be_visible()
    page.get_by_role("button", name="Submit assessment").click()

    expect(page).to_have_url(re.compile(rf"/assessments/{assessment.pk}/summary/$"))
    expect(page.get_by_text("Assessment submitted. Thank you!")).to_be_visible()
    expect(page.get_by_role("link", name="See the team report")).to_be_visible()
    expect(page.get_by_text("We review costs weekly")).to_be_visible()
    assert page.locator("main input[type=radio]").count() == 0
    assert Assessment.objects.get(pk=assessment.pk).is_submitted

    page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
    expect(page.get_by_text("This assessment is submitted")).to_be_visible()
    expect(page.locator("fieldset.question input[type=radio]").first).to_be_disabled()
    assert _network_noise(page.console_errors) == []


def test_a_conflicting_save_offers_theirs_or_mine(page, assessment, framework, lead):
    question = _questions(framework, "cap-0")[0]
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
    # The lead answers the same question after alice loaded the page.
    services.answer_record(
        assessment=assessment,
        question=question,
        user=lead,
        option=question.options.get(score=1),
        comment="Lead says 1",
        expected_version=0,
    )
    _choose(page, question, "Level 3")
    expect(_status(page, question)).to_have_text("Conflict")
    box = page.locator(f"#question-{question.pk} [data-conflict]")
    # who saved, and when
    expect(box).to_contain_text(re.compile(r"lena saved on .*\d{4}.*: Level 1 \(1\)\."))
    expect(box).to_contain_text("Lead says 1")

    page.get_by_role("button", name="Keep mine").click()
    expect(_status(page, question)).to_have_text("Saved")
    expect(box).to_be_hidden()
    answer = Answer.objects.get(question=question)
    # Keeping mine keeps the whole answer as shown on this page, comment included.
    assert (answer.option.score, answer.comment, answer.version) == (3, "", 2)

    services.answer_record(
        assessment=assessment,
        question=question,
        user=lead,
        option=question.options.get(score=0),
        comment="Lead again",
        expected_version=2,
    )
    _choose(page, question, "Level 4")
    expect(_status(page, question)).to_have_text("Conflict")
    page.get_by_role("button", name="Use theirs").click()
    expect(
        page.locator(
            f"#question-{question.pk} .option-card", has_text="Level 0"
        ).locator("input")
    ).to_be_checked()
    expect(page.locator(f"#q-{question.pk}-comment")).to_have_value("Lead again")
    assert Answer.objects.get(question=question).option.score == 0
    assert _network_noise(page.console_errors) == []


def test_an_unresolved_conflict_is_listed_on_the_review_page(
    page, assessment, framework, lead
):
    question = _questions(framework, "cap-0")[0]
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
    services.answer_record(
        assessment=assessment,
        question=question,
        user=lead,
        option=question.options.get(score=1),
        expected_version=0,
    )
    _choose(page, question, "Level 3")
    expect(_status(page, question)).to_have_text("Conflict")
    # leaving with an unsaved answer asks first: accept
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/review/")
    listed = page.locator("#unresolved-conflicts")
    expect(listed).to_be_visible()
    expect(listed).to_contain_text(question.prompt)
    expect(listed).to_contain_text("lena saved on")
    link = listed.get_by_role("link", name=question.prompt)
    assert link.get_attribute("href").endswith(f"#question-{question.pk}")

    # opened afresh, the question shows the saved answer; saving a choice settles it
    link.click()
    page.wait_for_load_state()
    _choose(page, question, "Level 2")
    expect(_status(page, question)).to_have_text("Saved")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/review/")
    expect(page.locator("#unresolved-conflicts")).to_be_hidden()


def test_continue_scrolls_to_the_first_unanswered_question(page, assessment, framework):
    from assessment.tests.factories import answer_all

    answer_all(assessment, skip=2)
    last_two = _questions(framework, "cap-1")[-2:]
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/")
    page.get_by_role("link", name=re.compile("Continue")).click()
    page.wait_for_load_state()
    assert "/c/" not in page.url
    first = page.locator(f"#question-{last_two[0].pk}")
    expect(first).to_be_in_viewport()
    focused = page.evaluate("document.activeElement.closest('fieldset').id")
    assert focused == f"question-{last_two[0].pk}"


def test_the_questionnaire_fits_a_phone_screen(page, assessment, framework):
    page.set_viewport_size({"width": 375, "height": 800})
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
    question = _questions(framework, "cap-0")[0]
    _choose(page, question, "Level 2")
    expect(_status(page, question)).to_have_text("Saved")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1
    expect(page.locator("#capability-nav")).not_to_have_attribute("open", "")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "questionnaire.png"), full_page=True)
    assert page.console_errors == []


def test_the_options_are_keyboard_operable(page, assessment, framework):
    question = _questions(framework, "cap-0")[0]
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
    first_radio = page.locator(f"#question-{question.pk} input[type=radio]").first
    first_radio.focus()
    page.keyboard.press("ArrowDown")
    expect(_status(page, question)).to_have_text("Saved")
    assert Answer.objects.get(question=question).option.score == 1
    assert page.console_errors == []


def test_the_questionnaire_works_without_scripts(
    browser, live_server, assessment, framework
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        browser_login(page, "alice")
        page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
        question = _questions(framework, "cap-0")[0]
        _choose(page, question, "Level 1")
        page.fill(f"#q-{question.pk}-comment", "Saved without scripts")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("Your answers are saved.")).to_be_visible()
        expect(page.locator(f"#q-{question.pk}-comment")).to_have_value(
            "Saved without scripts"
        )
        answer = Answer.objects.get(question=question)
        assert (answer.option.score, answer.comment) == (1, "Saved without scripts")
    finally:
        context.close()


def test_a_field_error_shows_next_to_the_field_and_history_lists_changes(
    page, assessment, framework
):
    question = _questions(framework, "cap-0")[0]
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/")
    evidence = page.locator(f"#q-{question.pk}-evidence")
    evidence.fill("ftp://files.example.com/report")
    evidence.blur()
    expect(_status(page, question)).to_have_text("Not saved — check the field below")
    error = page.locator(f'#question-{question.pk} [data-error-for="evidence_url"]')
    expect(error).to_have_text("Enter a web address starting with http:// or https://.")
    # the error is explained next to the field; the retry banner is for network
    # failures only
    expect(page.locator("#save-banner")).to_be_hidden()

    evidence.fill("https://wiki.example.com/report")
    evidence.blur()
    expect(_status(page, question)).to_have_text("Saved")
    expect(error).to_be_hidden()
    _choose(page, question, "Level 2")
    expect(page.locator(f"#question-{question.pk}")).to_have_attribute(
        "data-version", "2"
    )
    page.locator(f"#question-{question.pk} details.history summary").click()
    history = page.locator(f"#question-{question.pk} [data-history-body]")
    expect(history).to_contain_text("v2")
    expect(history).to_contain_text("v1")
    assert Answer.objects.get(question=question).evidence_url == (
        "https://wiki.example.com/report"
    )
    assert _network_noise(page.console_errors) == []

"""The evidence pages in Chromium: a chunked upload with its progress and the
worker's, the mapping preview, suggestions accepted and overridden on the
questionnaire, claimed vs measured on the team report."""

import re

import pytest

from conftest import browser_login
from evidence.models import EvidencePeriod, TeamMapping
from evidence.tests.factories import team_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def in_process(eager_tasks):
    """The portal as ``make run`` serves it: tasks in the process."""


@pytest.fixture
def small_chunks(settings):
    settings.EVIDENCE_CHUNK_BYTES = 256 * 1024


def test_a_lead_uploads_a_file_in_chunks_and_follows_its_reading(
    page, org, lead, generated, tmp_path, small_chunks
):
    path = tmp_path / "focus-may-2026.csv"
    path.write_bytes(team_file(generated))
    chunks = []
    page.on(
        "request",
        lambda r: (
            chunks.append(r.headers.get("upload-offset")) if r.method == "PUT" else None
        ),
    )
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/evidence/{org.slug}/upload/")
    page.set_input_files("#upload-files", str(path))
    page.click("#upload-start")
    item = page.locator(".upload-item")
    item.locator("[data-status]", has_text=re.compile("^Uploaded$")).wait_for(
        timeout=30000
    )
    assert item.locator(".progress").get_attribute("aria-valuenow") == "100"
    assert len(chunks) == -(
        -path.stat().st_size // (256 * 1024)
    )  # every chunk sent once
    status = page.locator("#ingestion-slot [data-ingestion-status]")
    status.locator("[data-field=status]", has_text="Succeeded").wait_for(timeout=30000)
    assert "1,500 rows read" in status.locator("[data-field=rows]").inner_text()
    assert status.locator("[data-field=bar]").get_attribute("aria-valuenow") == "100"
    assert "2026-05-01" in status.locator("[data-field=done]").inner_text()
    assert EvidencePeriod.objects.filter(organization=org).count() == 1
    assert page.console_errors == []


def test_a_refused_file_shows_why_and_nothing_changes(page, org, lead, tmp_path):
    path = tmp_path / "not-focus.csv"
    path.write_text("Date,Amount\n2026-05-01,12.5\n")
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/evidence/{org.slug}/upload/")
    page.set_input_files("#upload-files", str(path))
    page.click("#upload-start")
    errors = page.locator("#ingestion-slot [data-field=errors]")
    errors.wait_for(state="visible", timeout=30000)
    assert "Nothing was changed" in errors.inner_text()
    assert (
        "not-focus.csv: not a FOCUS export: the required columns BillingAccountId"
        in errors.inner_text()
    )
    assert not EvidencePeriod.objects.exists()


def test_a_lead_previews_a_mapping_then_saves_it(
    page, org, lead, team_a, ingest, generated
):
    ingest(org, {"may.csv": team_file(generated)})
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/evidence/{org.slug}/mapping/")
    before = page.locator("#mapping-summary").inner_text()
    assert "0.0 %" in before
    page.select_option("#id_team", str(team_a.pk))
    page.select_option("#id_kind", "tag")
    page.fill("#id_key", "Owner")
    page.fill("#id_value", "team-payments")
    page.click("button[value=preview]")
    preview = page.locator("#mapping-preview")
    assert re.search(r"This rule catches \d[\d,]*\.\d\d", preview.inner_text())
    assert not TeamMapping.objects.exists()
    page.click("button[value=save]")
    page.wait_for_load_state()
    assert "Mapped tag Owner = team-payments to Team A." in page.content()
    assert "0.0 %" not in page.locator("#mapping-summary").inner_text()
    assert TeamMapping.objects.get().team == team_a
    assert page.console_errors == []


def test_the_overview_at_phone_width(page, org, lead, ingest, generated):
    ingest(org, {"may.csv": team_file(generated)})
    page.set_viewport_size({"width": 390, "height": 800})
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/evidence/{org.slug}/")
    assert page.locator(".measure-card").count() == 9
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page.console_errors == []


# --- suggestions and claimed vs measured ----------------------------------------------


@pytest.fixture
def measured_cycle(org, lead, team_a, ingest, generated):
    """An open cycle of a framework with measure blocks, and fresh evidence with
    team A mapped to a sub-account whose tags are half blanked."""
    from assessment.models import Assessment, Cycle
    from evidence import mappings, services
    from evidence.tests import focusdata
    from evidence.tests.factories import make_measured_framework
    from evidence.tests.test_suggestions import fresh

    framework = make_measured_framework()
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="2026 H2", status="open"
    )
    cycle.teams.set([team_a])
    assessment = Assessment.objects.create(cycle=cycle, team=team_a)
    data = fresh(team_file(generated, blank_share=0.5))
    account = focusdata.read_bytes(data)["SubAccountId"].dropna().iloc[0]
    ingest(org, {"export.csv": data})
    services.evidence_settings_update(
        organization=org,
        user=lead,
        required_tag_keys="CostCenter, Owner",
        max_age_days=90,
    )
    mappings.mapping_add(
        organization=org, user=lead, team=team_a, kind="sub_account", value=account
    )
    services.measures_recompute(organization_id=org.pk)
    return assessment


def suggested_score(assessment, key):
    from capabilities.models import Question
    from evidence import selectors

    question = Question.objects.prefetch_related("options").get(
        capability__framework=assessment.cycle.framework, key=key
    )
    return question, selectors.question_suggestion(
        assessment=assessment, question=question
    )


def test_a_respondent_accepts_a_suggestion_and_answers_another_otherwise(
    page, measured_cycle, respondent_a
):
    from assessment.models import Answer
    from conftest import axe_violations
    from evidence.models import SuggestionDecision

    assessment = measured_cycle
    tag_question, tag = suggested_score(assessment, "cap-0-metrics-0")
    other_question, other = suggested_score(assessment, "cap-0-adoption-0")
    browser_login(page, "alice")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/c/cap-0/")
    box = page.locator(f"#question-{tag_question.pk} [data-suggestion]")
    assert f"suggests score {tag.score}" in box.inner_text()
    assert "FOCUS 1.3 export (AWS)" in box.inner_text()
    assert axe_violations(page) == []
    box.locator("button", has_text=f"Use score {tag.score}").click()
    box.locator("[data-state]", has_text="Accepted").wait_for(timeout=15000)
    assert (
        page.locator(f"#question-{tag_question.pk} [data-status]").inner_text()
        == "Saved"
    )
    assert (
        Answer.objects.get(assessment=assessment, question=tag_question).option.score
        == tag.score
    )

    # Another option than the data suggests: the reason is asked for, and kept.
    other_box = page.locator(f"#question-{other_question.pk} [data-suggestion]")
    chosen = 4 if other.score != 4 else 0
    page.locator(
        f"#question-{other_question.pk} .option-card", has_text=f"Level {chosen}"
    ).click()
    page.locator(
        f"#question-{other_question.pk} [data-status]", has_text="Saved"
    ).wait_for(timeout=15000)
    reason = other_box.locator("[data-reason]")
    reason.wait_for(state="visible")
    reason.fill("Chargeback runs on our own allocation keys, not on tags.")
    other_box.locator("button", has_text="Save the reason").click()
    other_box.locator("[data-state]", has_text="Answered otherwise").wait_for(
        timeout=15000
    )
    decisions = {d.question_id: d for d in SuggestionDecision.objects.all()}
    assert decisions[tag_question.pk].decision == "accepted"
    assert decisions[other_question.pk].decision == "overridden"
    assert (
        decisions[other_question.pk].reason
        == "Chargeback runs on our own allocation keys, not on tags."
    )
    assert decisions[other_question.pk].answer_score == chosen
    assert page.console_errors == []


def test_the_team_report_and_the_dashboard_show_claimed_vs_measured(
    page, measured_cycle, respondent_a, lead
):
    from assessment.services import assessment_submit
    from assessment.tests.factories import answer_all
    from benchmarks.services import rollup_recompute
    from conftest import axe_violations

    assessment = measured_cycle
    _question, tag = suggested_score(assessment, "cap-0-metrics-0")
    answer_all(assessment, score=4)
    assessment_submit(assessment=assessment, user=respondent_a)
    rollup_recompute(cycle_id=assessment.cycle_id, force=True)
    browser_login(page, "lena")
    page.goto(f"{page.base_url}/assessments/{assessment.pk}/report/")
    section = page.locator(".claimed-team")
    assert "Claimed vs measured" in section.inner_text()
    assert f"+{4 - tag.score}" in section.inner_text()
    # The section evidence adds (the report's own charts are the report's business).
    assert axe_violations(page, exclude=(".chart",)) == []
    page.goto(
        f"{page.base_url}/org/{assessment.cycle.organization.slug}/dashboard/?cycle={assessment.cycle_id}"
    )
    dashboard = page.locator(".claimed-org")
    assert "Team A" in dashboard.inner_text()
    assert "Claimed above the data" in dashboard.inner_text()
    assert page.console_errors == []


def test_the_evidence_pages_have_no_serious_accessibility_violation(
    page, org, lead, ingest, generated
):
    from conftest import axe_violations

    ingestion = ingest(org, {"may.csv": team_file(generated)})
    browser_login(page, "lena")
    found = {}
    for path in (
        "",
        "upload/",
        "mapping/",
        "invoices/",
        "settings/",
        f"ingestions/{ingestion.pk}/",
    ):
        page.goto(f"{page.base_url}/evidence/{org.slug}/{path}")
        found[path] = axe_violations(page)
    assert found == dict.fromkeys(found, [])

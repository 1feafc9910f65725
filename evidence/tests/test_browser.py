"""The evidence pages in Chromium: a chunked upload with its progress and the
worker's, the mapping preview, suggestions accepted and overridden on the
questionnaire, claimed vs measured on the team report."""

import re

import pytest

from conftest import browser_login
from evidence.models import EvidencePeriod, TeamMapping
from evidence.tests.factories import team_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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

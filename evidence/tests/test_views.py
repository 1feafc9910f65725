"""The lead's evidence pages: what they show, their forms and their errors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence.models import InvoiceSum, InvoiceTotal, TeamMapping
from evidence.tests.factories import team_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_lead(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def with_evidence(org, ingest, generated):
    return ingest(org, {"may.csv": team_file(generated)})


def test_the_overview_invites_an_upload_when_there_is_no_evidence(as_lead, org):
    page = as_lead.get(reverse("evidence:overview", args=[org.slug])).content.decode()
    assert "No evidence yet" in page


def test_the_overview_shows_each_measure_with_its_formula(as_lead, org, with_evidence):
    page = as_lead.get(reverse("evidence:overview", args=[org.slug])).content.decode()
    assert "May 2026" in page
    assert "Tag coverage" in page
    assert "EffectiveCost of taggable rows carrying every required tag key" in page
    assert "SUM(EffectiveCost) FILTER (WHERE x_Taggable AND x_HasRequiredTags)" in page
    assert (
        "Not computable from this export: it has no x_CommitmentDiscountSpendEligibility column."
        in page
    )


def test_the_overview_uses_a_fixed_number_of_queries(
    as_lead, org, with_evidence, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        as_lead.get(reverse("evidence:overview", args=[org.slug]))


def test_the_upload_page_carries_the_chunk_size_and_limit(as_lead, org, settings):
    page = as_lead.get(reverse("evidence:upload", args=[org.slug])).content.decode()
    assert f'data-chunk-bytes="{settings.EVIDENCE_CHUNK_BYTES}"' in page
    assert "up to 10.7 GB each" in page


def test_the_mapping_page_previews_then_saves_a_rule(
    as_lead, org, team_a, with_evidence
):
    url = reverse("evidence:mapping", args=[org.slug])
    rule = {"team": team_a.pk, "kind": "tag", "key": "Owner", "value": "team-payments"}
    preview = as_lead.post(url, {**rule, "action": "preview"}).content.decode()
    assert "This rule catches" in preview
    assert not TeamMapping.objects.exists()
    saved = as_lead.post(url, {**rule, "action": "save"}, follow=True).content.decode()
    assert "Mapped tag Owner = team-payments to Team A." in saved
    assert "is attributed to a team" in saved


def test_the_mapping_page_names_a_rule_that_catches_nothing(
    as_lead, org, team_a, with_evidence
):
    response = as_lead.post(
        reverse("evidence:mapping", args=[org.slug]),
        {"team": team_a.pk, "kind": "sub_account", "value": "nope", "action": "save"},
    )
    assert response.status_code == 400
    assert (
        "SubAccountId = nope catches no spend in May 2026" in response.content.decode()
    )


def test_invoice_totals_are_entered_and_uploaded(as_lead, org, with_evidence):
    url = reverse("evidence:invoices", args=[org.slug])
    invoice = InvoiceSum.objects.first()
    as_lead.post(
        url, {"invoice_id": invoice.invoice_id, "total": str(invoice.billed_cost)}
    )
    assert InvoiceTotal.objects.get().invoice_id == invoice.invoice_id
    page = as_lead.get(url).content.decode()
    assert "Reconciled" in page
    upload = SimpleUploadedFile(
        "totals.csv", b"invoice_id,total\nINV-X,1.00\n", content_type="text/csv"
    )
    as_lead.post(url, {"csv": "1", "file": upload})
    assert InvoiceTotal.objects.count() == 2


def test_a_bad_invoice_total_is_named_next_to_the_field(as_lead, org):
    response = as_lead.post(
        reverse("evidence:invoices", args=[org.slug]),
        {"invoice_id": "INV-1", "total": "ten"},
    )
    assert response.status_code == 400
    assert (
        "Give the invoice total as a number, such as 12345.67."
        in response.content.decode()
    )


def test_settings_save_and_refuse_bad_values(as_lead, org):
    url = reverse("evidence:settings", args=[org.slug])
    response = as_lead.post(
        url, {"required_tag_keys": "CostCenter, Owner", "max_age_days": "60"}
    )
    assert response.status_code == 302
    bad = as_lead.post(url, {"required_tag_keys": "", "max_age_days": "0"})
    assert bad.status_code == 400


def test_the_export_holds_every_measure(as_lead, org, with_evidence):
    response = as_lead.get(reverse("evidence:export", args=[org.slug, "csv"]))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert (
        lines[0]
        == "period_start,period_end,scope,team,measure,value,numerator,denominator,note"
    )
    assert any(",tag_coverage," in line for line in lines[1:])
    assert (
        as_lead.get(reverse("evidence:export", args=[org.slug, "xlsx"])).status_code
        == 200
    )


def test_a_respondent_never_sees_the_evidence_pages(
    client, respondent_a, org, with_evidence
):
    client.force_login(respondent_a)
    for name in ("overview", "upload", "mapping", "invoices", "settings"):
        assert (
            client.get(reverse(f"evidence:{name}", args=[org.slug])).status_code == 404
        )

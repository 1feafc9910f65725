"""The evidence API end to end: a chunked, resumable upload over HTTP, the
ingestion and its progress, errors with field messages, the mapping preview."""

import pytest
from django.urls import reverse

from evidence.models import EvidencePeriod, Ingestion, TeamMapping, Upload
from evidence.tests.factories import team_file
from tests.api_support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(lead):
    return client_for(lead)


def put_chunk(api, upload_id, data: bytes, offset: int):
    return api.generic(
        "PUT",
        reverse("v1:evidence-upload-content", args=[upload_id]),
        data,
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def upload_over_http(api, org, data: bytes, name="may.csv", chunk=4096):
    created = api.post(
        reverse("v1:evidence-upload-list"),
        {"organization": org.slug, "name": name, "size": len(data)},
        format="json",
    )
    assert created.status_code == 201, created.json()
    upload_id = created.json()["id"]
    offset = 0
    while offset < len(data):
        response = put_chunk(api, upload_id, data[offset : offset + chunk], offset)
        assert response.status_code == 200, response.json()
        offset = response.json()["received"]
    return upload_id


def test_a_file_uploaded_in_chunks_is_read_into_evidence(
    api, org, generated, django_capture_on_commit_callbacks, eager_tasks
):
    data = team_file(generated)
    upload_id = upload_over_http(api, org, data)
    assert (
        api.get(reverse("v1:evidence-upload-detail", args=[upload_id])).json()["status"]
        == "complete"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("v1:evidence-ingestion-list"),
            {"organization": org.slug, "uploads": [upload_id]},
            format="json",
        )
    assert response.status_code == 201
    body = api.get(response.json()["url"]).json()
    assert body["status"] == "succeeded"
    assert body["stage"] == "done"
    assert body["rows_read"] == 1500
    assert body["rows_per_second"] > 0
    assert body["percent"] == 100
    assert body["periods"] == ["2026-05-01"]
    periods = api.get(
        reverse("v1:evidence-period-list"), {"organization": org.slug}
    ).json()
    assert [p["period_start"] for p in periods] == ["2026-05-01"]
    measures = api.get(
        reverse("v1:evidence-measure-list"), {"organization": org.slug}
    ).json()
    assert {m["measure"] for m in measures} >= {"tag_coverage", "chargeback_coverage"}


def test_an_interrupted_upload_resumes_at_the_servers_offset(api, org):
    data = b"z" * 10000
    created = api.post(
        reverse("v1:evidence-upload-list"),
        {"organization": org.slug, "name": "a.csv", "size": len(data)},
        format="json",
    ).json()
    assert put_chunk(api, created["id"], data[:4000], 0).status_code == 200
    # The client lost its place and sends from 0 again: told where to go on.
    stale = put_chunk(api, created["id"], data[:4000], 0)
    assert stale.status_code == 409
    assert stale.json() == {
        "detail": "The server has 4000 bytes of this file; send from there.",
        "received": 4000,
    }
    assert (
        api.get(reverse("v1:evidence-upload-detail", args=[created["id"]])).json()[
            "received"
        ]
        == 4000
    )
    assert (
        put_chunk(api, created["id"], data[4000:], 4000).json()["status"] == "complete"
    )


def test_an_upload_over_the_limit_is_refused_with_a_field_message(api, org):
    response = api.post(
        reverse("v1:evidence-upload-list"),
        {"organization": org.slug, "name": "huge.csv", "size": 20 * 10**9},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"size": ["The file is 20.0 GB; the limit is 10.7 GB."]}
    assert not Upload.objects.exists()


def test_a_chunk_larger_than_allowed_is_refused(api, org, settings):
    settings.EVIDENCE_CHUNK_BYTES = 1000
    created = api.post(
        reverse("v1:evidence-upload-list"),
        {"organization": org.slug, "name": "a.csv", "size": 5000},
        format="json",
    ).json()
    response = put_chunk(api, created["id"], b"x" * 2000, 0)
    assert response.status_code == 400
    assert response.json() == {"chunk": ["Send at most 1000 bytes per chunk."]}


def test_a_bad_file_fails_with_its_messages_in_the_api(
    api, org, django_capture_on_commit_callbacks, eager_tasks
):
    upload_id = upload_over_http(api, org, b"Date,Amount\n2026-05-01,1\n")
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            reverse("v1:evidence-ingestion-list"),
            {"organization": org.slug, "uploads": [upload_id]},
            format="json",
        ).json()
    body = api.get(created["url"]).json()
    assert body["status"] == "failed"
    assert body["errors"][0].startswith(
        "may.csv: not a FOCUS export: the required columns BillingAccountId,"
    )
    assert not EvidencePeriod.objects.exists()


def test_another_organisations_upload_cannot_be_read_into_mine(
    api, org, other_org, outsider_lead
):
    theirs = (
        client_for(outsider_lead)
        .post(
            reverse("v1:evidence-upload-list"),
            {"organization": other_org.slug, "name": "a.csv", "size": 3},
            format="json",
        )
        .json()
    )
    response = api.post(
        reverse("v1:evidence-ingestion-list"),
        {"organization": org.slug, "uploads": [theirs["id"]]},
        format="json",
    )
    assert response.status_code == 404
    assert not Ingestion.objects.exists()


def test_the_mapping_preview_and_a_rule_that_catches_nothing(
    api, org, team_a, ingest, generated
):
    ingest(org, {"may.csv": team_file(generated)})
    preview = api.post(
        reverse("v1:evidence-mapping-preview"),
        {
            "organization": org.slug,
            "team": team_a.pk,
            "kind": "tag",
            "key": "Owner",
            "value": "team-payments",
        },
        format="json",
    )
    assert preview.status_code == 200
    body = preview.json()
    assert float(body["candidate"]["caught"]) > 0
    assert float(body["unmapped"]) < float(body["total"])
    refused = api.post(
        reverse("v1:evidence-mapping-list"),
        {
            "organization": org.slug,
            "team": team_a.pk,
            "kind": "tag",
            "key": "Owner",
            "value": "nobody",
        },
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "value": [
            "tag Owner = nobody catches no spend in May 2026's evidence; check the value "
            "against the sub-accounts, tags and columns listed below."
        ]
    }
    assert not TeamMapping.objects.exists()


def test_settings_are_read_and_changed(api, org):
    url = reverse("v1:evidence-settings", args=[org.slug])
    assert api.get(url).json()["max_age_days"] == 90
    changed = api.patch(
        url, {"required_tag_keys": ["CostCenter"], "max_age_days": 30}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["required_tag_keys"] == ["CostCenter"]
    bad = api.patch(url, {"max_age_days": 0}, format="json")
    assert bad.status_code == 400
    assert bad.json() == {"max_age_days": ["Give a number of days from 1 to 3650."]}

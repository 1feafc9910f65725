"""The frameworks API: nested content for everyone signed in, drafts for staff only,
publish / new draft / export for staff."""

import pytest

from capabilities.models import Framework
from capabilities.services import PUBLISH_NOT_DRAFT_MSG
from capabilities.tests.factories import make_framework
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for

pytestmark = pytest.mark.django_db


def test_a_framework_reads_with_its_whole_content(respondent_a, framework):
    body = client_for(respondent_a).get(f"/api/v1/frameworks/{framework.pk}/").json()
    assert [lens["key"] for lens in body["lenses"]] == [
        "knowledge",
        "process",
        "metrics",
        "adoption",
        "automation",
    ]
    assert body["lenses"][0]["levels"][4] == "knowledge level 4"
    assert [level["key"] for level in body["levels"]] == [
        "not_started",
        "crawl",
        "walk",
        "run",
    ]
    capability = body["domains"][0]["capabilities"][0]
    assert capability["key"] == "cap-0"
    assert capability["questions"][0]["lens"] == "knowledge"
    assert [o["score"] for o in capability["questions"][0]["options"]] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert capability["recommendations"][0]["level"] == "not_started"


def test_drafts_are_hidden_from_everyone_but_staff(
    respondent_a, lead, staff, framework
):
    draft = make_framework(slug="draft-fw")
    for user in (respondent_a, lead):
        client = client_for(user)
        listed = client.get("/api/v1/frameworks/").json()
        assert [f["id"] for f in listed["results"]] == [framework.pk]
        assert client.get(f"/api/v1/frameworks/{draft.pk}/").status_code == 404
    staff_list = client_for(staff).get("/api/v1/frameworks/").json()
    assert {f["id"] for f in staff_list["results"]} == {framework.pk, draft.pk}


def test_frameworks_filter_by_status(staff, framework):
    make_framework(slug="draft-fw")
    body = client_for(staff).get("/api/v1/frameworks/", {"status": "draft"}).json()
    assert [f["slug"] for f in body["results"]] == ["draft-fw"]


def test_staff_publish_a_draft(staff):
    draft = make_framework(slug="draft-fw")
    response = client_for(staff).post(f"/api/v1/frameworks/{draft.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["status"] == "published"


def test_publishing_a_published_framework_is_refused(staff, framework):
    response = client_for(staff).post(f"/api/v1/frameworks/{framework.pk}/publish/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": PUBLISH_NOT_DRAFT_MSG.format(framework=framework, status="published")
    }


def test_staff_copy_a_framework_into_a_new_draft_and_export_it(staff, framework):
    client = client_for(staff)
    response = client.post(f"/api/v1/frameworks/{framework.pk}/new-draft/")
    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.json()["status"] == "draft"
    exported = client.get(f"/api/v1/frameworks/{framework.pk}/export/").json()
    assert exported["slug"] == framework.slug
    assert Framework.objects.filter(slug=framework.slug).count() == 2


def test_a_non_numeric_framework_id_answers_404(respondent_a, framework):
    response = client_for(respondent_a).get("/api/v1/frameworks/abc/")
    assert response.status_code == 404


def test_reading_a_framework_issues_the_same_queries_for_2_or_10_capabilities(
    respondent_a, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = make_framework(slug="small", capabilities=2, publish=True)
    large = make_framework(slug="large", capabilities=10, publish=True)
    client = client_for(respondent_a)
    client.get("/api/v1/frameworks/")
    with CaptureQueriesContext(connection) as baseline:
        client.get(f"/api/v1/frameworks/{small.pk}/")
    with django_assert_num_queries(len(baseline)):
        body = client.get(f"/api/v1/frameworks/{large.pk}/").json()
    assert len(body["domains"][0]["capabilities"]) == 10


def test_listing_frameworks_issues_the_same_queries_for_10_or_50(
    respondent_a, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def publish_many(n, prefix):
        Framework.objects.bulk_create(
            Framework(slug=f"{prefix}-{i}", title="T", status="published")
            for i in range(n)
        )

    client = client_for(respondent_a)
    client.get("/api/v1/frameworks/")  # records the token's first use
    publish_many(10, "a")
    with CaptureQueriesContext(connection) as ten:
        assert client.get("/api/v1/frameworks/").json()["count"] == 10
    publish_many(40, "b")
    with django_assert_num_queries(len(ten)):
        assert client.get("/api/v1/frameworks/").json()["count"] == 50

"""The admin site: sections in the order an editor needs them, records of what
happened read-only for everyone, the question pages naming their version, a favicon."""

import re

import pytest
from django.urls import reverse

from assessment.models import AnswerChange, AssessmentReopen
from finops_portal.audit import audit_record
from finops_portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    assert staff.is_superuser
    client.force_login(staff)
    return client


def section_names(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" class="section"[^>]*>([^<]+)</a>', html)


def test_the_index_lists_content_first_and_internal_tables_apart(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    names = section_names(html)
    assert names[0] == "Capability definitions"
    assert names[1] == "Assessment"
    assert names[-2:] == [
        "Audit trail and history (read-only)",
        "Internal state (computed, kept by the portal)",
    ]
    internal = html[html.index("Internal state (computed") :]
    for model in ["Rollup states", "Node stats", "Access attempts", "Team ranks"]:
        assert model in internal
    content = html[: html.index("Audit trail and history")]
    for model in ["Rollup states", "Node stats", "Access attempts", "Audit events"]:
        assert model not in content


def test_an_apps_own_page_still_lists_all_its_models(admin_client):
    html = admin_client.get(
        reverse("admin:app_list", args=["benchmarks"])
    ).content.decode()
    assert "Rollup states" in html
    assert "Node stats" in html


@pytest.mark.parametrize(
    "model", [AuditEvent, AnswerChange, AssessmentReopen], ids=lambda m: m.__name__
)
def test_the_audit_trail_is_read_only_even_for_a_superuser(admin_client, model):
    meta = model._meta
    changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert admin_client.get(changelist).status_code == 200
    add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
    assert admin_client.get(add).status_code == 403
    assert admin_client.post(add, {}).status_code == 403


def test_an_audit_event_cannot_be_changed_or_deleted(admin_client, org, lead):
    event = audit_record(
        action="cycle.open", summary="Opened Q1", actor=lead, organization=org
    )
    change = reverse("admin:finops_portal_auditevent_change", args=[event.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    admin_client.post(change, {"summary": "Rewritten", "action": "x"})
    delete = reverse("admin:finops_portal_auditevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:finops_portal_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    event.refresh_from_db()
    assert event.summary == "Opened Q1"


def test_the_question_list_shows_framework_and_version(admin_client, framework):
    html = admin_client.get(
        reverse("admin:capabilities_question_changelist")
    ).content.decode()
    assert "column-framework_version" in html
    assert f"{framework.title}, version {framework.version} (published)" in html


def test_the_question_page_says_which_version_it_belongs_to(admin_client, framework):
    from capabilities.models import Question

    question = Question.objects.filter(capability__framework=framework).first()
    html = admin_client.get(
        reverse("admin:capabilities_question_change", args=[question.pk])
    ).content.decode()
    assert f"{framework.title}, version {framework.version} (published)" in html


def test_inline_option_fields_have_their_own_labels(admin_client):
    from capabilities.tests.factories import make_framework

    draft = make_framework(slug="draft", capabilities=1, questions_per_lens=1)
    from capabilities.models import Question

    question = Question.objects.filter(capability__framework=draft).first()
    html = admin_client.get(
        reverse("admin:capabilities_question_change", args=[question.pk])
    ).content.decode()
    assert re.search(r'aria-label="Label, row 1"[^>]*name="options-0-label"', html) or (
        re.search(r'name="options-0-label"[^>]*aria-label="Label, row 1"', html)
    )
    assert 'aria-label="Score, row 5"' in html


def test_the_admin_and_the_site_have_a_favicon(admin_client, client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert 'rel="icon"' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")

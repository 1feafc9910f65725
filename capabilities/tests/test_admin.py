import pytest
import yaml
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from capabilities.importer import FILE_TOO_LARGE_MSG, framework_export
from capabilities.models import (
    PUBLISHED_IS_IMMUTABLE_MSG,
    Capability,
    Framework,
    Question,
)
from capabilities.services import MISSING_LENS_MSG
from capabilities.tests.factories import make_document, make_framework

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:capabilities_framework_changelist"


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def draft():
    return make_framework(slug="draft", capabilities=2)


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def form_data(response) -> dict:
    """The POST data a browser would send for an admin change form as rendered."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- pages load -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "admin:capabilities_framework_changelist",
        "admin:capabilities_framework_add",
        "admin:capabilities_framework_import",
        "admin:capabilities_capability_changelist",
        "admin:capabilities_capability_add",
        "admin:capabilities_question_changelist",
        "admin:capabilities_question_add",
    ],
)
def test_admin_pages_load_for_staff(admin_client, framework, draft, name):
    assert admin_client.get(reverse(name)).status_code == 200


def test_change_forms_load_for_drafts_and_published_versions(
    admin_client, framework, draft
):
    for fw in (framework, draft):
        assert admin_client.get(change_url(fw)).status_code == 200
        assert admin_client.get(change_url(fw.capabilities.first())).status_code == 200
        question = Question.objects.filter(capability__framework=fw).first()
        assert admin_client.get(change_url(question)).status_code == 200


def test_the_changelist_links_to_the_import_view(admin_client):
    response = admin_client.get(reverse(CHANGELIST))
    assert reverse("admin:capabilities_framework_import") in response.content.decode()


def test_a_new_question_starts_with_five_option_rows(admin_client, draft):
    response = admin_client.get(reverse("admin:capabilities_question_add"))
    formset = response.context["inline_admin_formsets"][0].formset
    assert [form.initial["score"] for form in formset.forms] == [0, 1, 2, 3, 4]


def test_non_staff_cannot_reach_the_admin(client, respondent_a, framework):
    client.force_login(respondent_a)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# --- drafts are editable, published versions are not ------------------------------------


def test_staff_can_edit_a_draft_capability_with_its_inlines(admin_client, draft):
    capability = draft.capabilities.get(key="cap-0")
    data = form_data(admin_client.get(change_url(capability)))
    data["name"] = "Renamed capability"
    data["questions-0-prompt"] = "A better prompt?"
    response = admin_client.post(change_url(capability), data)
    assert response.status_code == 302, response.context["errors"]
    capability.refresh_from_db()
    assert capability.name == "Renamed capability"
    assert capability.questions.order_by("order").first().prompt == "A better prompt?"


def test_staff_can_edit_a_draft_framework_with_its_inlines(admin_client, draft):
    data = form_data(admin_client.get(change_url(draft)))
    data["title"] = "Retitled"
    data["lenses-0-name"] = "Know-how"
    response = admin_client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["errors"]
    draft.refresh_from_db()
    assert draft.title == "Retitled"
    assert draft.lenses.get(key="knowledge").name == "Know-how"


def test_published_pages_are_read_only_and_say_why(admin_client, framework):
    for obj in (framework, framework.capabilities.first()):
        response = admin_client.get(change_url(obj))
        assert response.context["has_change_permission"] is False
        assert messages_of(response) == [
            PUBLISHED_IS_IMMUTABLE_MSG.format(framework=framework)
        ]
        assert 'name="_save"' not in response.content.decode()
        for inline in response.context["inline_admin_formsets"]:
            assert inline.has_add_permission is False
            assert inline.has_change_permission is False
            assert inline.has_delete_permission is False


def test_a_change_form_post_to_a_published_capability_is_refused(
    admin_client, framework, draft
):
    capability = framework.capabilities.get(key="cap-0")
    draft_capability = draft.capabilities.get(key="cap-0")
    data = form_data(admin_client.get(change_url(draft_capability)))
    data["name"] = "Sneaky"
    response = admin_client.post(change_url(capability), data)
    assert response.status_code == 403
    capability.refresh_from_db()
    assert capability.name == "Capability 0"


def test_a_change_form_post_to_a_published_framework_is_refused(
    admin_client, framework
):
    response = admin_client.post(
        change_url(framework), {"title": "Sneaky", "slug": "x", "version": 9}
    )
    assert response.status_code == 403
    framework.refresh_from_db()
    assert framework.title == "Test test-fw"


def test_deleting_a_published_question_is_refused(admin_client, framework):
    question = Question.objects.filter(capability__framework=framework).first()
    url = reverse("admin:capabilities_question_delete", args=[question.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Question.objects.filter(pk=question.pk).exists()


def test_bulk_delete_of_published_capabilities_is_refused(admin_client, framework):
    ids = list(framework.capabilities.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:capabilities_capability_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 200
    assert "Cannot delete capabilities" in response.content.decode()
    assert framework.capabilities.count() == 2


def test_staff_can_delete_a_draft_framework(admin_client, draft):
    url = reverse("admin:capabilities_framework_delete", args=[draft.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Framework.objects.filter(pk=draft.pk).exists()
    assert not Question.objects.exists()


def test_admin_offers_only_draft_frameworks_to_add_content_to(
    admin_client, framework, draft
):
    response = admin_client.get(reverse("admin:capabilities_capability_add"))
    choices = response.context["adminform"].form.fields["framework"].queryset
    assert list(choices) == [draft]


# --- actions --------------------------------------------------------------------------


def run_action(client, action, frameworks, follow=False, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [fw.pk for fw in frameworks], **extra},
        follow=follow,
    )


def test_the_new_draft_action_copies_a_published_version(admin_client, framework):
    response = run_action(admin_client, "new_draft", [framework])
    assert response.status_code == 302
    copy = Framework.objects.get(slug=framework.slug, version=2)
    assert copy.status == Framework.Status.DRAFT
    assert messages_of(response) == [
        f'<a href="{change_url(copy)}">Created {copy} from {framework}.</a>'
    ]


def test_the_publish_action_publishes_a_valid_draft(admin_client, draft):
    # First the consequences, nothing published yet ...
    response = run_action(admin_client, "publish", [draft])
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert f"{draft} becomes the current version of '{draft.slug}'" in page
    draft.refresh_from_db()
    assert draft.status == Framework.Status.DRAFT
    # ... then, confirmed, the publishing.
    response = run_action(admin_client, "publish", [draft], confirm="yes")
    draft.refresh_from_db()
    assert draft.status == Framework.Status.PUBLISHED
    assert messages_of(response) == [f"Published {draft}."]


def test_the_publish_action_lists_the_problems(admin_client, draft):
    Question.objects.filter(capability__key="cap-0", lens__key="metrics").delete()
    confirmation = run_action(admin_client, "publish", [draft])
    assert MISSING_LENS_MSG.format(capability="cap-0", lens="metrics") in (
        confirmation.content.decode().replace("&#x27;", "'")
    )
    response = run_action(admin_client, "publish", [draft], follow=True, confirm="yes")
    draft.refresh_from_db()
    assert draft.status == Framework.Status.DRAFT
    page = response.content.decode().replace("&#x27;", "'")
    assert f"{draft} was not published:<ul><li>" in page
    assert MISSING_LENS_MSG.format(capability="cap-0", lens="metrics") in page


def test_the_export_action_downloads_yaml(admin_client, framework):
    response = run_action(admin_client, "export_yaml", [framework])
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == ('attachment; filename="test-fw-v1.yaml"')
    assert yaml.safe_load(response.content) == framework_export(framework=framework)


def test_the_export_action_wants_exactly_one_framework(admin_client, framework, draft):
    response = run_action(admin_client, "export_yaml", [framework, draft])
    assert messages_of(response) == ["Select exactly one framework to export."]


# --- import view ----------------------------------------------------------------------

IMPORT = "admin:capabilities_framework_import"


def upload(text: str | bytes, name="framework.yaml") -> SimpleUploadedFile:
    content = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, content, content_type="application/yaml")


def test_the_import_view_imports_a_draft(admin_client):
    response = admin_client.post(
        reverse(IMPORT), {"file": upload(yaml.safe_dump(make_document()))}
    )
    framework = Framework.objects.get(slug="doc-fw")
    assert response.status_code == 302
    assert response.url == change_url(framework)
    assert framework.status == Framework.Status.DRAFT
    assert messages_of(response) == [f"Imported {framework} (draft)."]


def test_the_import_view_can_publish_and_replace(admin_client):
    admin_client.post(
        reverse(IMPORT), {"file": upload(yaml.safe_dump(make_document()))}
    )
    response = admin_client.post(
        reverse(IMPORT),
        {
            "file": upload(yaml.safe_dump(make_document(capabilities=3))),
            "replace": "on",
            "publish": "on",
        },
    )
    assert response.status_code == 302
    framework = Framework.objects.get(slug="doc-fw")
    assert framework.status == Framework.Status.PUBLISHED
    assert framework.capabilities.count() == 3


def test_the_import_view_lists_every_error_next_to_the_field(admin_client):
    doc = make_document()
    doc["capabilities"][0]["questions"][1]["lens"] = "foo"
    doc["capabilities"][1]["key"] = "cap-0"
    response = admin_client.post(reverse(IMPORT), {"file": upload(yaml.safe_dump(doc))})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "capabilities[1].key: duplicate key 'cap-0'",
        "capabilities[0].questions[1].lens: unknown lens 'foo'",
    ]
    assert 'id="id_file-errors"' in response.content.decode()
    assert not Framework.objects.exists()


def test_the_import_view_refuses_a_file_over_the_limit(admin_client, settings):
    settings.FRAMEWORK_FILE_MAX_BYTES = 100
    response = admin_client.post(reverse(IMPORT), {"file": upload(b"a: b\n" * 30)})
    assert response.context["file_errors"] == [
        FILE_TOO_LARGE_MSG.format(size=150, limit=100)
    ]


def test_the_import_view_refuses_a_huge_upload_before_reading_it(
    admin_client, settings
):
    settings.FRAMEWORK_FILE_MAX_BYTES = 10
    response = admin_client.post(reverse(IMPORT), {"file": upload(b"x" * 200_000)})
    [error] = response.context["file_errors"]
    assert error.startswith("file: the file is 200")
    assert error.endswith("bytes; the limit is 10 bytes")
    # The multipart body was never parsed.
    assert "_files" not in response.wsgi_request.__dict__
    assert not Framework.objects.exists()


def test_the_import_view_still_checks_csrf(staff):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(
        reverse(IMPORT), {"file": upload(yaml.safe_dump(make_document()))}
    )
    assert response.status_code == 403
    assert not Framework.objects.exists()


# --- bad input ------------------------------------------------------------------------


def test_html_in_capability_text_is_escaped_in_the_admin(admin_client, draft):
    capability = draft.capabilities.get(key="cap-0")
    capability.name = "<script>alert(1)</script>"
    capability.save()
    for url in (
        reverse("admin:capabilities_capability_changelist"),
        change_url(capability),
    ):
        page = admin_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_capability_admin_search_finds_by_key(admin_client, draft):
    response = admin_client.get(
        reverse("admin:capabilities_capability_changelist"), {"q": "cap-1"}
    )
    assert [c.key for c in response.context["cl"].result_list] == ["cap-1"]
    assert Capability.objects.count() == 2


def test_adding_a_capability_to_a_published_framework_is_refused(
    admin_client, framework, draft
):
    data = form_data(admin_client.get(reverse("admin:capabilities_capability_add")))
    data.update(
        framework=framework.pk,
        domain=framework.domains.get().pk,
        key="forged",
        name="Forged",
        order=9,
    )
    response = admin_client.post(reverse("admin:capabilities_capability_add"), data)
    assert response.status_code == 200
    assert "framework" in response.context["adminform"].form.errors
    assert not Capability.objects.filter(key="forged").exists()

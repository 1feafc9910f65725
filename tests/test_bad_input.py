"""Oversized bodies are refused with a clear 400 and change nothing."""

import json

import pytest

pytestmark = pytest.mark.django_db

TOO_BIG = 6 * 1024 * 1024  # over DATA_UPLOAD_MAX_MEMORY_SIZE (5 MiB)


@pytest.fixture
def open_assessment(org, team_a, framework):
    from assessment.models import Assessment, Cycle

    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="Q", status="open"
    )
    cycle.teams.set([team_a])
    return Assessment.objects.create(cycle=cycle, team=team_a)


def test_an_oversized_autosave_is_refused_and_saves_nothing(
    client, respondent_a, open_assessment
):
    from assessment.models import Answer

    client.force_login(respondent_a)
    question = open_assessment.cycle.framework.capabilities.first().questions.first()
    body = json.dumps({"comment": "x" * TOO_BIG, "expected_version": 0})
    response = client.post(
        f"/assessments/{open_assessment.pk}/answers/{question.pk}/",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_an_oversized_api_body_is_refused_and_saves_nothing(
    client, respondent_a, open_assessment
):
    from assessment.models import Answer

    client.force_login(respondent_a)
    question = open_assessment.cycle.framework.capabilities.first().questions.first()
    response = client.put(
        f"/api/v1/assessments/{open_assessment.pk}/answers/{question.pk}/",
        json.dumps({"comment": "x" * TOO_BIG, "version": 0}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_an_oversized_form_post_is_refused(client, lead, org):
    client.force_login(lead)
    response = client.post(f"/lead/{org.slug}/teams/", {"name": "x" * TOO_BIG})
    assert response.status_code == 400
    assert not org.teams.filter(name__startswith="xxx").exists()


# --- bad input that used to end in a server error ---------------------------------


def _question(assessment):
    return assessment.cycle.framework.capabilities.first().questions.first()


def test_a_null_character_in_an_autosave_comment_is_refused(
    client, respondent_a, open_assessment
):
    from assessment.models import Answer
    from assessment.services import NUL_CHARACTER_MSG

    client.force_login(respondent_a)
    response = client.post(
        f"/assessments/{open_assessment.pk}/answers/{_question(open_assessment).pk}/",
        json.dumps({"comment": "a\u0000b", "expected_version": 0}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"comment": [NUL_CHARACTER_MSG]}
    assert not Answer.objects.exists()


def test_a_null_character_in_a_bulk_evidence_url_names_the_item(
    client, respondent_a, open_assessment
):
    from assessment.models import Answer
    from assessment.services import NUL_CHARACTER_MSG

    client.force_login(respondent_a)
    question = _question(open_assessment)
    response = client.post(
        f"/api/v1/assessments/{open_assessment.pk}/answers/bulk/",
        json.dumps(
            {
                "items": [
                    {
                        "question": question.pk,
                        "option_score": 2,
                        "evidence_url": "https://x.example/\u0000",
                    }
                ]
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    # the API's field check (DRF) speaks first; the service refuses it too
    assert response.json()["items[0].evidence_url"] in (
        ["Null characters are not allowed."],
        [NUL_CHARACTER_MSG],
    )
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/assessments/{pk}/answers/abc%00def/",
        "/api/v1/teams/tree/?organization=north%00wind",
        "/api/v1/teams/?organization%00=x",
    ],
)
def test_a_null_character_in_the_address_is_a_400(
    client, lead, respondent_a, open_assessment, url
):
    from finops_portal.middleware import NUL_IN_ADDRESS_MSG

    client.force_login(lead)
    response = client.get(url.format(pk=open_assessment.pk))
    assert response.status_code == 400
    assert response.json() == {"detail": NUL_IN_ADDRESS_MSG}


def test_a_null_character_in_a_page_address_is_a_400(client, respondent_a):
    from finops_portal.middleware import NUL_IN_ADDRESS_MSG

    client.force_login(respondent_a)
    response = client.get("/assessments/?q=a%00b")
    assert response.status_code == 400
    assert response.content.decode() == NUL_IN_ADDRESS_MSG


@pytest.mark.parametrize("items", ["x", 7, {"a": 1}, None])
def test_bulk_answers_that_are_not_a_list_are_refused(
    client, respondent_a, open_assessment, items
):
    from assessment.models import Answer

    client.force_login(respondent_a)
    response = client.post(
        f"/api/v1/assessments/{open_assessment.pk}/answers/bulk/",
        json.dumps({"items": items}),
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["items"]
    assert body["items"][0] in {
        'Expected a list of items but got type "str".',
        'Expected a list of items but got type "int".',
        'Expected a list of items but got type "dict".',
        "This field may not be null.",
    }
    assert not Answer.objects.exists()


def test_a_target_for_an_unknown_capability_is_refused(client, lead, org, framework):
    from assessment.models import Target
    from assessment.targets import TARGET_UNKNOWN_CAPABILITY_MSG

    client.force_login(lead)
    response = client.post(
        "/api/v1/targets/",
        {"organization": org.slug, "capability_key": "no-such-thing", "percent": 50},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "capability_key": [TARGET_UNKNOWN_CAPABILITY_MSG.format(key="no-such-thing")]
    }
    assert not Target.objects.exists()
    ok = client.post(
        "/api/v1/targets/",
        {"organization": org.slug, "capability_key": "cap-0", "percent": 50},
        content_type="application/json",
    )
    assert ok.status_code == 200


# --- framework import ---------------------------------------------------------------


def _refused(data) -> list[str]:
    from capabilities.importer import FrameworkFileError
    from capabilities.models import Framework
    from capabilities.services import framework_import

    before = Framework.objects.count()
    with pytest.raises(FrameworkFileError) as caught:
        framework_import(data=data)
    assert Framework.objects.count() == before
    return caught.value.errors


def _document(**changes):
    from capabilities.tests.factories import make_document

    return {**make_document(), **changes}


@pytest.mark.parametrize("fmt", ["json", "yaml-flow", "yaml-block"])
def test_a_framework_nested_5000_deep_is_refused(fmt):
    from capabilities.importer import MAX_DEPTH, TOO_DEEP_MSG

    if fmt == "json":
        text = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
    elif fmt == "yaml-flow":
        text = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    else:
        # block style, one space a level (5,000 levels would pass the size limit)
        text = "a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(1500))
        text += " " * 1501 + "c: 1\n"
    assert _refused(text) == [TOO_DEEP_MSG.format(limit=MAX_DEPTH)]


def test_a_framework_nested_a_little_too_deep_as_a_dict_is_refused():
    from capabilities.importer import MAX_DEPTH, TOO_DEEP_MSG

    deep: list = []
    for _ in range(200):
        deep = [deep]
    assert _refused(_document(description=deep)) == [
        TOO_DEEP_MSG.format(limit=MAX_DEPTH)
    ]


@pytest.mark.parametrize("version", [2**31, 2**63, 2**64 + 1])
def test_a_framework_version_beyond_the_column_is_refused(version):
    assert _refused(json.dumps(_document(version=version))) == [
        f"version: {version} is above the maximum 2147483647"
    ]


def test_a_lone_surrogate_in_a_json_framework_is_refused():
    text = json.dumps(_document(title="Bad \ud800 title"))  # written as \\ud800
    assert "\\ud800" in text
    assert _refused(text) == [
        "title: holds a lone surrogate (U+D800), which is not valid text"
    ]


def test_a_null_character_in_a_framework_title_is_refused():
    assert _refused(json.dumps(_document(title="North\u0000wind"))) == [
        "title: holds a null character (U+0000), which cannot be stored"
    ]


def test_a_weight_below_the_stored_precision_is_refused():
    document = _document()
    document["capabilities"][0]["questions"][1]["weight"] = 0.001
    assert _refused(json.dumps(document)) == [
        "capabilities[0].questions[1].weight: 0.001 has more than 2 decimals; it is "
        "stored to 0.01 and would read back as 0.00"
    ]


def test_a_duplicate_key_in_a_json_framework_is_refused():
    text = json.dumps(_document())
    text = text.replace('"title": ', '"title": "First", "title": ', 1)
    assert _refused(text) == ["title: the key 'title' appears twice"]


def test_a_duplicate_key_in_a_yaml_framework_is_refused():
    import yaml

    text = yaml.safe_dump(_document(), sort_keys=False)
    text = text.replace("title:", "title: First\ntitle:", 1)
    errors = _refused(text)
    assert len(errors) == 1
    assert errors[0].startswith("file: malformed YAML at line ")
    assert errors[0].endswith(": the key 'title' appears twice in this mapping")


@pytest.mark.parametrize("bad", ["education\n", "education ", " education"])
def test_a_key_with_whitespace_is_refused(bad):
    document = _document()
    document["capabilities"][0]["key"] = bad
    errors = _refused(json.dumps(document))
    assert errors[0] == (
        f"capabilities[0].key: {bad!r} is not a valid key (letters, digits, - and _ "
        "only" + ("; no spaces or line breaks)" if bad.endswith("\n") else ")")
    )


def test_the_admin_import_shows_the_problem_next_to_the_file(client, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from capabilities.models import Framework

    client.force_login(staff)
    upload = SimpleUploadedFile(
        "fw.json",
        json.dumps(_document(title="x\ud800")).encode(),
    )
    response = client.post(
        reverse("admin:capabilities_framework_import"), {"file": upload}
    )
    assert response.status_code == 200
    assert "title: holds a lone surrogate (U+D800)" in response.content.decode()
    assert not Framework.objects.exists()

"""Editions: the v2 fields of the content file, validated on import, stored,
exported back exactly, and the mapping onto the derived-from version."""

import copy

import pytest
import yaml
from django.core.exceptions import ValidationError

from capabilities.editions import (
    CYCLE_MSG,
    SOURCE_MISSING_MSG,
    version_mapping,
)
from capabilities.importer import (
    FrameworkFileError,
    framework_dump,
    framework_export,
    framework_file_errors,
)
from capabilities.models import (
    DEFAULT_EDITION,
    Capability,
    Framework,
    MaturityLevel,
    PublishedFrameworkError,
    Question,
)
from capabilities.services import (
    framework_import,
    framework_new_draft,
    framework_publish,
    framework_validate,
)

from .editions import make_v2_document, v1_document

db = pytest.mark.django_db


def import_errors(document) -> list[str]:
    before = Framework.objects.count(), Question.objects.count()
    with pytest.raises(FrameworkFileError) as caught:
        framework_import(data=document)
    # Nothing is written when a file is refused.
    assert (Framework.objects.count(), Question.objects.count()) == before
    return caught.value.errors


def _cap(doc, key):
    return next(c for c in doc["capabilities"] if c["key"] == key)


def _q(doc, cap_key, q_key):
    return next(q for q in _cap(doc, cap_key)["questions"] if q["key"] == q_key)


def _cap_index(doc, key):
    return next(i for i, c in enumerate(doc["capabilities"]) if c["key"] == key)


# --- a v1 file is unchanged -------------------------------------------------------


@db
def test_v1_gets_the_default_edition_and_no_mapping(shipped_framework):
    assert shipped_framework.edition == DEFAULT_EDITION
    assert shipped_framework.derived_from is None
    exported = framework_export(framework=shipped_framework)
    for key in ("edition", "derived_from", "na_reasons", "retired"):
        assert key not in exported
    mapping = version_mapping(shipped_framework)
    assert set(mapping.question_kinds.values()) == {"new"}


# --- v2 import, storage and exact round trip --------------------------------------


@db
def test_v2_imports_with_every_new_field(shipped_framework):
    v2 = framework_import(data=make_v2_document())
    assert v2.edition["key"] == "foundation-2026"
    assert v2.derived_from == {"slug": "finops-practice", "version": 1}
    assert [r["key"] for r in v2.na_reasons] == [
        "not_in_scope",
        "central_only",
        "no_such_spend",
    ]
    assert v2.retired_capabilities == ["intersecting-frameworks"]
    assert v2.retired_questions == ["education-knowledge-2"]
    walk = MaturityLevel.objects.get(framework=v2, key="walk")
    assert float(walk.min_lens_score) == 1.0
    assert MaturityLevel.objects.get(framework=v2, key="crawl").min_lens_score is None
    assert Capability.objects.get(framework=v2, key="onboarding").status == "retired"
    assert Capability.objects.get(framework=v2, key="ai-cost").scopes == ["ai"]
    central = Question.objects.get(capability__framework=v2, key="assessment-process-1")
    assert central.audience == "central"
    tools = Question.objects.get(
        capability__framework=v2, key="tools-services-knowledge-1"
    )
    assert tools.allow_na is True
    assert tools.na_reasons == ["no_such_spend", "not_in_scope"]
    assert [r["key"] for r in tools.na_reason_choices()] == [
        "not_in_scope",
        "no_such_spend",
    ]
    assert tools.na_reason_required is True
    assert tools.evidence_prompt.startswith("The list of tools")


@db
def test_v2_exports_back_exactly(shipped_framework):
    document = make_v2_document()
    v2 = framework_import(data=document)
    assert framework_export(framework=v2) == document


@db
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_v2_round_trips_through_a_file(shipped_framework, fmt):
    v2 = framework_import(data=make_v2_document())
    text = framework_dump(v2, fmt=fmt)
    document = yaml.safe_load(text)  # JSON is YAML too
    again = framework_import(data={**document, "version": 3})
    second = framework_export(framework=again)
    assert second.pop("version") == 3
    document.pop("version")
    assert second == document


@db
def test_the_mapping_of_a_stored_v2(shipped_framework):
    v2 = framework_import(data=make_v2_document())
    mapping = version_mapping(v2)
    assert mapping.source == shipped_framework
    old_q = dict(
        Question.objects.filter(capability__framework=shipped_framework).values_list(
            "key", "id"
        )
    )
    new_q = dict(
        Question.objects.filter(capability__framework=v2).values_list("key", "id")
    )
    old_c = dict(shipped_framework.capabilities.values_list("key", "id"))
    new_c = dict(v2.capabilities.values_list("key", "id"))
    assert mapping.capabilities[new_c["education-enablement"]] == [old_c["education"]]
    assert mapping.capability_kinds[new_c["education-enablement"]] == "renamed"
    assert mapping.capabilities[new_c["ai-cost"]] == []
    assert mapping.capability_kinds[new_c["governance"]] == "same"
    assert mapping.retired_capabilities == [old_c["intersecting-frameworks"]]
    assert mapping.retired_questions == [old_q["education-knowledge-2"]]
    assert mapping.questions[new_q["operations-adoption"]] == [
        old_q["operations-adoption-1"],
        old_q["operations-adoption-2"],
    ]
    assert mapping.question_kinds[new_q["governance-process-1b"]] == "split"
    assert mapping.questions[new_q["education-knowledge-1"]] == [
        old_q["education-knowledge-1"]
    ]
    assert mapping.questions[new_q["ai-cost-knowledge-1"]] == []


@db
def test_a_new_draft_is_derived_from_its_source_and_maps_one_to_one(
    shipped_framework,
):
    draft = framework_new_draft(framework=shipped_framework)
    assert draft.derived_from == {"slug": "finops-practice", "version": 1}
    assert framework_validate(framework=draft) == []
    mapping = version_mapping(draft)
    assert set(mapping.question_kinds.values()) == {"same"}


# --- bad input: every problem named with its location, nothing written ----------


@db
def test_mapping_to_a_missing_capability_or_question_is_named(shipped_framework):
    doc = make_v2_document()
    c = _cap_index(doc, "education-enablement")
    doc["capabilities"][c]["maps_from"] = {"kind": "renamed", "from": ["educashun"]}
    g = _cap_index(doc, "governance")
    split = next(
        i
        for i, q in enumerate(doc["capabilities"][g]["questions"])
        if q["key"] == "governance-process-1a"
    )
    doc["capabilities"][g]["questions"][split]["maps_from"] = {
        "kind": "split",
        "from": ["governance-process-9"],
    }
    errors = import_errors(doc)
    assert (
        f"capabilities[{c}].maps_from.from[0]: unknown capability 'educashun' in "
        "finops-practice v1"
    ) in errors
    assert (
        f"capabilities[{g}].questions[{split}].maps_from.from[0]: unknown question "
        "'governance-process-9' in finops-practice v1"
    ) in errors
    # The old capability is now mapped by nothing: said too.
    assert (
        "retired.capabilities: capability 'education' of finops-practice v1 is "
        "neither mapped by any item nor retired"
    ) in errors


@db
def test_two_questions_onto_one_without_merged_is_refused(shipped_framework):
    doc = make_v2_document()
    o = _cap_index(doc, "operations")
    q = next(
        i
        for i, question in enumerate(doc["capabilities"][o]["questions"])
        if question["key"] == "operations-adoption"
    )
    doc["capabilities"][o]["questions"][q]["maps_from"]["kind"] = "same"
    errors = import_errors(doc)
    assert errors == [
        f"capabilities[{o}].questions[{q}].maps_from: kind 'same' maps from exactly "
        "one question; several sources need kind 'merged'"
    ]


@db
def test_one_source_shared_without_split_is_refused(shipped_framework):
    doc = make_v2_document()
    _q(doc, "governance", "governance-process-1b")["maps_from"]["kind"] = "renamed"
    errors = import_errors(doc)
    assert len(errors) == 1
    assert (
        "question 'governance-process-1' of finops-practice v1 is also mapped by"
        in (errors[0])
    )
    assert "need kind 'split'" in errors[0]


@db
def test_a_merged_item_needs_two_sources_and_new_needs_none(shipped_framework):
    doc = make_v2_document()
    _q(doc, "operations", "operations-adoption")["maps_from"]["from"] = [
        "operations-adoption-1"
    ]
    _cap(doc, "ai-cost")["maps_from"] = {"kind": "new", "from": ["assessment"]}
    errors = import_errors(doc)
    assert any("kind 'merged' needs at least two sources" in e for e in errors)
    assert any(
        e.endswith("maps_from: kind 'new' maps from nothing; remove 'from'")
        for e in errors
    )
    assert any(
        "'operations-adoption-2' of finops-practice v1 is neither" in e for e in errors
    )


@db
def test_an_unmapped_old_question_must_be_retired(shipped_framework):
    doc = make_v2_document()
    doc["retired"]["questions"] = []
    assert import_errors(doc) == [
        "retired.questions: question 'education-knowledge-2' of finops-practice v1 "
        "is neither mapped by any item nor retired"
    ]


@db
def test_retired_keys_must_exist_and_not_be_mapped(shipped_framework):
    doc = make_v2_document()
    doc["retired"]["questions"] += ["no-such-question", "operations-adoption-1"]
    errors = import_errors(doc)
    assert (
        "retired.questions[1]: unknown question 'no-such-question' in "
        "finops-practice v1"
    ) in errors
    assert any(
        e.startswith(
            "retired.questions[2]: question 'operations-adoption-1' is retired but"
        )
        for e in errors
    )


@db
def test_a_cycle_in_the_mapping_is_refused(shipped_framework):
    # v2 derived from v1 is fine; v1 cannot be re-derived from v2 (it is published,
    # so a third version makes the loop: v3 <- v2 <- v3).
    framework_import(data=make_v2_document())
    v2 = Framework.objects.get(version=2)
    Framework.objects.filter(pk=v2.pk).update(derived_from_version=3)
    doc = make_v2_document()
    doc["version"] = 3
    doc["derived_from"] = {"slug": "finops-practice", "version": 2}
    errors = import_errors(doc)
    assert errors == [
        CYCLE_MSG.format(slug="finops-practice", version=2, chain="finops-practice v3")
    ]


@db
def test_a_version_derived_from_itself_is_refused(shipped_framework):
    doc = make_v2_document()
    doc["derived_from"] = {"slug": "finops-practice", "version": 2}
    assert import_errors(doc) == [
        "derived_from: a version cannot be derived from itself"
    ]


@db
def test_a_missing_derived_from_version_is_named():
    doc = make_v2_document()
    assert import_errors(doc) == [
        SOURCE_MISSING_MSG.format(slug="finops-practice", version=1)
    ]


def test_mapping_without_derived_from_is_refused():
    doc = make_v2_document()
    del doc["derived_from"]
    errors = framework_file_errors(doc)
    c = _cap_index(doc, "education-enablement")
    assert (
        f"capabilities[{c}].maps_from: mapping needs 'derived_from' (the version it "
        "refers to)"
    ) in errors
    assert "retired: mapping needs 'derived_from' (the version it refers to)" in errors


def test_bad_shapes_of_the_new_fields_are_named():
    doc = make_v2_document()
    doc["edition"] = {"key": "bad key!", "name": ""}
    doc["maturity_levels"][2]["min_lens_score"] = 5
    tools = _cap_index(doc, "tools-services")
    doc["capabilities"][tools]["status"] = "gone"
    doc["capabilities"][tools]["questions"][0]["audience"] = "everyone"
    doc["capabilities"][tools]["questions"][0]["maps_from"] = {"kind": "moved"}
    errors = framework_file_errors(doc)
    assert (
        "edition.key: 'bad key!' is not a valid key (letters, digits, - and _ only)"
        in errors
    )
    assert "edition.name: must not be empty" in errors
    assert "maturity_levels[2].min_lens_score: 5 is above the maximum 4" in errors
    assert (
        f"capabilities[{tools}].status: expected one of active, retired, got 'gone'"
        in errors
    )
    assert (
        f"capabilities[{tools}].questions[0].audience: expected one of team, central, "
        "got 'everyone'"
    ) in errors
    assert any(
        e.startswith(
            f"capabilities[{tools}].questions[0].maps_from.kind: expected one of"
        )
        for e in errors
    )


def test_na_reasons_must_come_from_the_catalogue():
    doc = make_v2_document()
    tools = _cap_index(doc, "tools-services")
    question = doc["capabilities"][tools]["questions"][0]
    question["na"]["reasons"] = ["no_such_spend", "bored"]
    question["allow_na"] = True
    doc["na_reasons"].append(copy.deepcopy(doc["na_reasons"][0]))
    errors = framework_file_errors(doc)
    assert "na_reasons[3].key: duplicate key 'not_in_scope'" in errors
    assert (
        f"capabilities[{tools}].questions[0].na.reasons[1]: unknown N/A reason "
        "'bored' (not in na_reasons)"
    ) in errors
    assert (
        f"capabilities[{tools}].questions[0].na: give either allow_na or na, not both"
    ) in errors


# --- editable in the admin, immutable once published ------------------------------


@db
def test_admin_edits_of_a_draft_are_validated_before_publish(shipped_framework):
    draft = framework_import(data=make_v2_document())
    question = Question.objects.get(
        capability__framework=draft, key="governance-process-1b"
    )
    question.maps_from = {"kind": "split", "from": ["governance-process-7"]}
    question.save()
    problems = framework_validate(framework=draft)
    assert any("unknown question 'governance-process-7'" in p for p in problems)
    with pytest.raises(ValidationError, match="governance-process-7"):
        framework_publish(framework=draft)
    question.maps_from = {"kind": "split", "from": ["governance-process-1"]}
    question.save()
    framework_publish(framework=draft)


@db
def test_the_new_fields_of_a_published_version_are_immutable(shipped_framework):
    published = framework_import(data=make_v2_document(), publish=True)
    published.na_reasons = []
    with pytest.raises(PublishedFrameworkError):
        published.save()
    question = Question.objects.filter(capability__framework=published).first()
    question.audience = "central"
    with pytest.raises(PublishedFrameworkError):
        question.save()
    level = MaturityLevel.objects.get(framework=published, key="run")
    level.min_lens_score = 0
    with pytest.raises(PublishedFrameworkError):
        level.save()


@db
def test_admin_change_pages_show_the_new_fields(client, staff, shipped_framework):
    draft = framework_import(data=make_v2_document())
    client.force_login(staff)
    page = client.get(f"/admin/capabilities/framework/{draft.pk}/change/")
    assert page.status_code == 200
    for name in ("edition_key", "derived_from_slug", "na_reasons", "retired_questions"):
        assert f'name="{name}"' in page.content.decode()
    question = Question.objects.get(
        capability__framework=draft, key="tools-services-knowledge-1"
    )
    page = client.get(f"/admin/capabilities/question/{question.pk}/change/")
    html = page.content.decode()
    for name in ("audience", "na_reasons", "evidence_prompt", "maps_from", "scopes"):
        assert f'name="{name}"' in html
    capability = question.capability
    page = client.get(f"/admin/capabilities/capability/{capability.pk}/change/")
    html = page.content.decode()
    for name in ("status", "maps_from", "scopes"):
        assert f'name="{name}"' in html
    # And a change through the admin form is stored.
    response = client.post(
        f"/admin/capabilities/question/{question.pk}/change/",
        {
            "capability": capability.pk,
            "lens": question.lens_id,
            "key": question.key,
            "order": question.order,
            "weight": "1",
            "audience": "central",
            "prompt": question.prompt,
            "help_text": question.help_text,
            "evidence_prompt": "A dashboard link.",
            "allow_na": "on",
            "na_reasons": '["no_such_spend"]',
            "maps_from": "{}",
            "scopes": "[]",
            "measure_key": "",
            "measure_bands": "[]",
            "options-TOTAL_FORMS": "0",
            "options-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    assert (question.audience, question.na_reasons, question.evidence_prompt) == (
        "central",
        ["no_such_spend"],
        "A dashboard link.",
    )
    assert v1_document()["version"] == 1

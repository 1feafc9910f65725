import pytest
from django.core.exceptions import ValidationError

from capabilities.importer import framework_export
from capabilities.models import (
    AnswerOption,
    Capability,
    Framework,
    Question,
    Recommendation,
)
from capabilities.services import (
    BAND_ORDER_MSG,
    DELETE_NOT_DRAFT_MSG,
    DUPLICATE_KEY_MSG,
    FIRST_BAND_MSG,
    MISSING_LENS_MSG,
    NO_CAPABILITIES_MSG,
    NO_LENSES_MSG,
    NO_LEVELS_MSG,
    OPTIONS_MSG,
    PUBLISH_NOT_DRAFT_MSG,
    RETIRE_NOT_PUBLISHED_MSG,
    WEIGHT_MSG,
    framework_delete_draft,
    framework_load_shipped,
    framework_new_draft,
    framework_publish,
    framework_retire,
    framework_validate,
    publish_problems,
)
from capabilities.tests.factories import make_document, make_framework

db = pytest.mark.django_db


# --- publish validation: one test per problem (no database) ---------------------------


def test_a_complete_document_has_no_publish_problems():
    assert publish_problems(make_document()) == []


def test_publish_needs_capabilities():
    doc = make_document()
    doc["capabilities"] = []
    assert publish_problems(doc) == [NO_CAPABILITIES_MSG]


def test_publish_needs_lenses_and_levels():
    doc = make_document(capabilities=0)
    doc["lenses"], doc["maturity_levels"] = [], []
    assert publish_problems(doc) == [NO_LENSES_MSG, NO_LEVELS_MSG, NO_CAPABILITIES_MSG]


def test_publish_needs_a_question_in_every_lens():
    doc = make_document()
    del doc["capabilities"][1]["questions"][4]
    assert publish_problems(doc) == [
        "Capability 'cap-1' has no question in the automation lens."
    ]


def test_publish_needs_options_0_to_4():
    doc = make_document()
    del doc["capabilities"][0]["questions"][2]["options"][0]
    assert publish_problems(doc) == [
        OPTIONS_MSG.format(
            question="cap-0-metrics", capability="cap-0", scores="1, 2, 3, 4"
        )
    ]


def test_publish_needs_unique_question_keys_across_capabilities():
    doc = make_document()
    doc["capabilities"][1]["questions"][0]["key"] = "cap-0-knowledge"
    assert publish_problems(doc) == [
        DUPLICATE_KEY_MSG.format(kind="Question", key="cap-0-knowledge")
    ]


def test_publish_needs_unique_capability_keys():
    doc = make_document()
    doc["capabilities"][1]["key"] = "cap-0"
    assert publish_problems(doc) == [
        DUPLICATE_KEY_MSG.format(kind="Capability", key="cap-0")
    ]


def test_publish_needs_positive_weights():
    doc = make_document()
    doc["lenses"][2]["weight"] = 0
    doc["capabilities"][0]["questions"][0]["weight"] = -2
    assert publish_problems(doc) == [
        WEIGHT_MSG.format(kind="Lens", key="metrics", weight=0),
        WEIGHT_MSG.format(kind="Question", key="cap-0-knowledge", weight=-2),
    ]


def test_publish_needs_bands_starting_at_0():
    doc = make_document()
    doc["maturity_levels"][0]["min_percent"] = 10
    assert publish_problems(doc) == [FIRST_BAND_MSG.format(value=10)]


def test_publish_needs_strictly_increasing_bands():
    doc = make_document()
    doc["maturity_levels"][3]["min_percent"] = 50
    assert publish_problems(doc) == [
        BAND_ORDER_MSG.format(key="run", previous="walk", value=50, previous_value=50)
    ]


# --- validate and publish ------------------------------------------------------------


@db
def test_framework_validate_finds_problems_in_the_database():
    draft = make_framework(slug="draft")
    assert framework_validate(framework=draft) == []
    Question.objects.filter(capability__key="cap-1", lens__key="process").delete()
    assert framework_validate(framework=draft) == [
        MISSING_LENS_MSG.format(capability="cap-1", lens="process")
    ]


@db
def test_framework_publish_publishes_a_valid_draft(staff):
    from finops_portal.audit import AuditEvent

    draft = make_framework(slug="draft")
    published = framework_publish(framework=draft, user=staff)
    draft.refresh_from_db()
    assert draft.status == published.status == Framework.Status.PUBLISHED
    assert draft.published_at is not None
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.summary) == (
        "framework.publish",
        staff,
        "Published Test draft v1",
    )


@db
def test_framework_publish_refuses_with_every_problem():
    draft = make_framework(slug="draft")
    Question.objects.filter(capability__key="cap-0", lens__key="adoption").delete()
    AnswerOption.objects.filter(question__key="cap-1-metrics-0", score=3).delete()
    with pytest.raises(ValidationError) as caught:
        framework_publish(framework=draft)
    assert caught.value.messages == [
        MISSING_LENS_MSG.format(capability="cap-0", lens="adoption"),
        OPTIONS_MSG.format(
            question="cap-1-metrics-0", capability="cap-1", scores="0, 1, 2, 4"
        ),
    ]
    draft.refresh_from_db()
    assert draft.status == Framework.Status.DRAFT


@db
def test_framework_publish_refuses_a_published_framework(framework):
    with pytest.raises(ValidationError) as caught:
        framework_publish(framework=framework)
    assert caught.value.messages == [
        PUBLISH_NOT_DRAFT_MSG.format(framework=framework, status="published")
    ]


@db
def test_framework_retire_refuses_a_draft():
    draft = make_framework(slug="draft")
    with pytest.raises(ValidationError) as caught:
        framework_retire(framework=draft)
    assert caught.value.messages == [
        RETIRE_NOT_PUBLISHED_MSG.format(framework=draft, status="draft")
    ]


# --- new draft: a deep, independent copy ----------------------------------------------


@db
def test_framework_new_draft_copies_everything_into_the_next_version(framework):
    copy = framework_new_draft(framework=framework)
    assert (copy.slug, copy.version, copy.status) == (framework.slug, 2, "draft")
    original, copied = (
        framework_export(framework=framework),
        framework_export(framework=copy),
    )
    assert copied.pop("version") == 2
    assert copied.pop("derived_from") == {"slug": framework.slug, "version": 1}
    original.pop("version")
    assert copied == original
    for model, lookup in [
        (Capability, "framework"),
        (Question, "capability__framework"),
        (AnswerOption, "question__capability__framework"),
        (Recommendation, "capability__framework"),
    ]:
        assert (
            model.objects.filter(**{lookup: copy}).count()
            == model.objects.filter(**{lookup: framework}).count()
            > 0
        )


@db
def test_editing_the_new_draft_leaves_the_original_unchanged(framework):
    before = framework_export(framework=framework)
    copy = framework_new_draft(framework=framework)
    capability = copy.capabilities.get(key="cap-0")
    capability.name = "Renamed"
    capability.save()
    question = Question.objects.filter(capability=capability).first()
    question.options.filter(score=4).update(label="Changed")
    question.delete()
    copy.lenses.filter(key="knowledge").update(name="Know-how")
    assert framework_export(framework=framework) == before


@db
def test_framework_new_draft_takes_the_version_after_the_latest(framework):
    framework_new_draft(framework=framework)
    assert framework_new_draft(framework=framework).version == 3


# --- deleting drafts ------------------------------------------------------------------


@db
def test_framework_delete_draft_removes_all_its_content():
    draft = make_framework(slug="draft")
    framework_delete_draft(framework=draft)
    assert not Framework.objects.exists()
    assert not Question.objects.exists()
    assert not AnswerOption.objects.exists()


@db
def test_framework_delete_draft_refuses_a_published_framework(framework):
    with pytest.raises(ValidationError) as caught:
        framework_delete_draft(framework=framework)
    assert caught.value.messages == [
        DELETE_NOT_DRAFT_MSG.format(framework=framework, status="published")
    ]
    assert Question.objects.filter(capability__framework=framework).exists()


# --- the shipped content --------------------------------------------------------------


@db
def test_load_shipped_is_idempotent():
    first = framework_load_shipped()
    second = framework_load_shipped()
    assert [imported for _fw, imported in first] == [True, True]
    assert [imported for _fw, imported in second] == [False, False]
    assert Framework.objects.count() == 2
    v1, v2 = (fw for fw, _imported in first)
    assert (v1.version, v2.version) == (1, 2)
    v1.refresh_from_db()
    v2.refresh_from_db()
    # v1 stays published, pinned by its cycles, but v2 is current for new cycles.
    assert v1.status == v2.status == Framework.Status.PUBLISHED
    assert v1.is_superseded
    assert not v2.is_superseded
    assert Question.objects.filter(capability__framework=v1).count() == 52


@db
def test_load_shipped_can_load_v1_alone():
    loaded = framework_load_shipped(versions=[1])
    assert [(fw.version, imported) for fw, imported in loaded] == [(1, True)]
    assert not loaded[0][0].is_superseded


@db
def test_shipped_content_passes_publish_validation(shipped_framework):
    assert shipped_framework.status == Framework.Status.PUBLISHED
    assert framework_validate(framework=shipped_framework) == []


@db
def test_shipped_content_covers_8_capabilities_through_5_lenses(shipped_framework):
    doc = framework_export(framework=shipped_framework)
    lenses = [lens["key"] for lens in doc["lenses"]]
    assert lenses == ["knowledge", "process", "metrics", "adoption", "automation"]
    assert len(doc["capabilities"]) == 8
    questions = [q for c in doc["capabilities"] for q in c["questions"]]
    assert len(questions) >= 48
    for capability in doc["capabilities"]:
        assert {q["lens"] for q in capability["questions"]} == set(lenses)
    for question in questions:
        assert [o["score"] for o in question["options"]] == [0, 1, 2, 3, 4]


@db
def test_shipped_content_recommends_for_the_first_three_levels(shipped_framework):
    doc = framework_export(framework=shipped_framework)
    for capability in doc["capabilities"]:
        levels = {r["level"] for r in capability["recommendations"]}
        assert {"not_started", "crawl", "walk"} <= levels, capability["key"]

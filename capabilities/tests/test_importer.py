import json

import pytest
import yaml

from capabilities.importer import (
    EXISTS_DRAFT_MSG,
    EXISTS_PUBLISHED_MSG,
    FILE_EMPTY_MSG,
    FILE_TOO_LARGE_MSG,
    FrameworkFileError,
    framework_dump,
    framework_export,
    framework_file_errors,
    framework_parse,
)
from capabilities.models import AnswerOption, Framework, Question, Recommendation
from capabilities.services import CONTENT_DIR, MISSING_LENS_MSG, framework_import
from capabilities.tests.factories import make_document, make_framework

SHIPPED_FILE = CONTENT_DIR / "finops-practice-v1.yaml"


def errors_of(data) -> list[str]:
    with pytest.raises(FrameworkFileError) as caught:
        framework_import(data=data)
    return caught.value.errors


# --- file errors, with their key paths (no database needed) --------------------------


def test_a_valid_document_has_no_errors():
    assert framework_file_errors(make_document()) == []


def test_it_names_a_missing_option_score():
    doc = make_document()
    del doc["capabilities"][1]["questions"][2]["options"][4]
    assert framework_file_errors(doc) == [
        "capabilities[1].questions[2].options: no option with score 4"
    ]


def test_it_names_an_unknown_lens():
    doc = make_document()
    doc["capabilities"][0]["questions"][1]["lens"] = "foo"
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[1].lens: unknown lens 'foo'"
    ]


def test_it_names_unknown_domains_levels_and_recommendation_lenses():
    doc = make_document()
    doc["capabilities"][0]["domain"] = "nowhere"
    doc["capabilities"][1]["recommendations"][0]["level"] = "sprint"
    doc["capabilities"][1]["recommendations"][0]["lens"] = "vision"
    assert framework_file_errors(doc) == [
        "capabilities[0].domain: unknown domain 'nowhere'",
        "capabilities[1].recommendations[0].level: unknown maturity level 'sprint'",
        "capabilities[1].recommendations[0].lens: unknown lens 'vision'",
    ]


def test_it_names_duplicate_keys():
    doc = make_document(capabilities=3)
    doc["capabilities"][2]["key"] = "cap-0"
    doc["lenses"][1]["key"] = "knowledge"
    doc["capabilities"][0]["questions"][1]["key"] = "cap-0-knowledge"
    errors = framework_file_errors(doc)
    assert "capabilities[2].key: duplicate key 'cap-0'" in errors
    assert "lenses[1].key: duplicate key 'knowledge'" in errors
    assert "capabilities[0].questions[1].key: duplicate key 'cap-0-knowledge'" in errors


def test_it_names_duplicate_option_scores():
    doc = make_document()
    doc["capabilities"][0]["questions"][0]["options"][4]["score"] = 3
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[0].options[4].score: duplicate score 3",
        "capabilities[0].questions[0].options: no option with score 4",
    ]


def test_it_refuses_scores_outside_0_to_4():
    doc = make_document()
    doc["capabilities"][0]["questions"][0]["options"][4]["score"] = 5
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[0].options[4].score: score 5 is outside 0..4",
        "capabilities[0].questions[0].options: no option with score 4",
    ]


def test_it_refuses_weights_that_are_not_positive():
    doc = make_document()
    doc["lenses"][0]["weight"] = -1
    doc["capabilities"][0]["questions"][3]["weight"] = 0
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[3].weight: must be positive, got 0",
        "lenses[0].weight: must be positive, got -1",
    ]


def test_it_refuses_bands_that_do_not_increase():
    doc = make_document()
    doc["maturity_levels"][2]["min_percent"] = 20
    assert framework_file_errors(doc) == [
        "maturity_levels[2].min_percent: levels must have strictly increasing "
        "min_percent; 20 is not above 25"
    ]


def test_it_refuses_bands_that_do_not_start_at_0():
    doc = make_document()
    doc["maturity_levels"][0]["min_percent"] = 5
    assert framework_file_errors(doc) == [
        "maturity_levels[0].min_percent: the first level must start at 0, got 5"
    ]


def test_it_refuses_unknown_keys():
    doc = make_document()
    doc["extra"] = 1
    doc["capabilities"][0]["colour"] = "red"
    doc["capabilities"][1]["questions"][0]["options"][0]["hint"] = "?"
    assert framework_file_errors(doc) == [
        "capabilities[0].colour: unknown key 'colour'",
        "capabilities[1].questions[0].options[0].hint: unknown key 'hint'",
        "extra: unknown key 'extra'",
    ]


def test_it_refuses_wrong_types():
    doc = make_document()
    doc["version"] = "one"
    doc["capabilities"][0]["questions"][0]["allow_na"] = "yes"
    doc["lenses"][0]["levels"] = ["only one"]
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[0].allow_na: expected boolean, got string",
        "lenses[0].levels: expected exactly 5 level descriptions, got 1",
        "version: expected integer, got string",
    ]


def test_it_names_missing_keys():
    doc = make_document()
    del doc["title"]
    del doc["capabilities"][0]["questions"][0]["prompt"]
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[0]: missing key 'prompt'",
        "file: missing key 'title'",
    ]


def test_it_refuses_links_that_are_not_http():
    doc = make_document()
    doc["capabilities"][0]["recommendations"][0]["links"][0]["url"] = (
        "javascript:alert(1)"
    )
    assert framework_file_errors(doc) == [
        "capabilities[0].recommendations[0].links[0].url: 'javascript:alert(1)' "
        "is not an http(s) URL"
    ]


def test_it_reports_every_error_at_once():
    doc = make_document()
    doc["capabilities"][0]["questions"][1]["lens"] = "foo"
    doc["capabilities"][1]["key"] = "cap-0"
    doc["lenses"][0]["weight"] = 0
    del doc["capabilities"][1]["questions"][0]["options"][0]
    assert framework_file_errors(doc) == [
        "lenses[0].weight: must be positive, got 0",
        "capabilities[1].key: duplicate key 'cap-0'",
        "capabilities[0].questions[1].lens: unknown lens 'foo'",
        "capabilities[1].questions[0].options: no option with score 0",
    ]


# --- parsing --------------------------------------------------------------------------


def test_it_reports_malformed_yaml_with_line_and_column():
    with pytest.raises(FrameworkFileError) as caught:
        framework_parse("slug: x\nlenses: [a, b\ntitle: y\n")
    assert caught.value.errors == [
        "file: malformed YAML at line 3, column 6: expected ',' or ']', but got ':'"
    ]


def test_it_reports_malformed_json_with_line_and_column():
    with pytest.raises(FrameworkFileError) as caught:
        framework_parse('{"slug": "x",\n "version": }')
    assert caught.value.errors == [
        "file: malformed JSON at line 2, column 13: Expecting value"
    ]


@pytest.mark.parametrize("text", ["", "  \n", "# only a comment\n", b""])
def test_it_refuses_an_empty_file(text):
    with pytest.raises(FrameworkFileError) as caught:
        framework_parse(text)
    assert caught.value.errors == [FILE_EMPTY_MSG]


def test_it_refuses_a_top_level_list():
    with pytest.raises(FrameworkFileError) as caught:
        framework_parse("- a\n- b\n")
    assert caught.value.errors == [
        "file: expected a mapping at the top level, got array"
    ]


def test_it_refuses_yaml_aliases():
    with pytest.raises(FrameworkFileError) as caught:
        framework_parse("a: &x [1, 2]\nb: *x\n")
    assert caught.value.errors == [
        "file: malformed YAML at line 2, column 4: aliases (*name) are not supported"
    ]


def test_it_refuses_a_file_over_the_limit_before_parsing(settings, monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr("capabilities.importer.yaml.load", no_parsing)
    monkeypatch.setattr("capabilities.importer.json.loads", no_parsing)
    size = 50 * 1024 * 1024
    with pytest.raises(FrameworkFileError) as caught:
        framework_parse(b"a" * size)
    assert caught.value.errors == [
        FILE_TOO_LARGE_MSG.format(size=size, limit=settings.FRAMEWORK_FILE_MAX_BYTES)
    ]


def test_it_accepts_a_file_of_exactly_the_limit(settings):
    settings.FRAMEWORK_FILE_MAX_BYTES = 20
    assert framework_parse(b"slug: x\n" + b" " * 12) == {"slug": "x"}


def test_it_reads_json_as_well_as_yaml():
    doc = make_document()
    assert framework_parse(json.dumps(doc)) == doc
    assert framework_parse(yaml.safe_dump(doc).encode()) == doc


# --- import ---------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_import_creates_a_draft_by_default():
    framework = framework_import(data=make_document(capabilities=2))
    assert framework.status == Framework.Status.DRAFT
    assert framework.capabilities.count() == 2
    assert Question.objects.filter(capability__framework=framework).count() == 10
    assert (
        AnswerOption.objects.filter(question__capability__framework=framework).count()
        == 50
    )
    assert Recommendation.objects.filter(capability__framework=framework).count() == 2


@pytestmark_db
def test_import_uses_a_fixed_number_of_queries(
    django_assert_num_queries, django_assert_max_num_queries
):
    # savepoint, lookup, framework, lenses, levels, domains, capabilities,
    # questions, options, recommendations, release
    with django_assert_num_queries(11):
        framework_import(data=make_document(slug="small", capabilities=1))
    # SQLite splits an insert into batches of at most 999 parameters.
    with django_assert_max_num_queries(13):
        framework_import(data=make_document(slug="large", capabilities=8))


@pytestmark_db
def test_import_with_publish_publishes_and_records_an_audit_event(staff):
    from finops_portal.audit import AuditEvent

    framework = framework_import(data=make_document(), publish=True, user=staff)
    assert framework.status == Framework.Status.PUBLISHED
    assert framework.published_at is not None
    event = AuditEvent.objects.get(action="framework.publish")
    assert event.actor == staff
    assert event.detail["framework_id"] == framework.pk


@pytestmark_db
def test_import_is_all_or_nothing():
    doc = make_document()
    del doc["capabilities"][1]["questions"][2]
    with pytest.raises(FrameworkFileError) as caught:
        framework_import(data=doc, publish=True)
    assert caught.value.errors == [
        MISSING_LENS_MSG.format(capability="cap-1", lens="metrics")
    ]
    assert not Framework.objects.exists()
    assert not Question.objects.exists()


@pytestmark_db
def test_import_onto_a_published_version_is_refused():
    published = make_framework(slug="doc-fw", version=1, publish=True)
    assert errors_of(make_document(slug="doc-fw", version=1)) == [
        EXISTS_PUBLISHED_MSG.format(
            slug="doc-fw", version=1, status="published", next=2
        )
    ]
    with pytest.raises(FrameworkFileError):
        framework_import(data=make_document(slug="doc-fw", version=1), replace=True)
    published.refresh_from_db()
    assert published.capabilities.count() == 2
    assert published.title == "Test doc-fw"


@pytestmark_db
def test_import_onto_a_draft_needs_replace():
    framework_import(data=make_document(capabilities=1))
    assert errors_of(make_document(capabilities=3)) == [
        EXISTS_DRAFT_MSG.format(slug="doc-fw", version=1)
    ]


@pytestmark_db
def test_import_with_replace_overwrites_a_draft():
    first = framework_import(data=make_document(capabilities=1))
    second = framework_import(data=make_document(capabilities=3), replace=True)
    assert not Framework.objects.filter(pk=first.pk).exists()
    assert second.capabilities.count() == 3
    assert Question.objects.count() == 15


# --- export and round trip ------------------------------------------------------------


@pytestmark_db
def test_export_of_an_import_gives_back_the_document():
    doc = make_document()
    assert framework_export(framework=framework_import(data=doc)) == doc


@pytestmark_db
def test_export_uses_a_fixed_number_of_queries(django_assert_num_queries):
    small = make_framework(slug="small", capabilities=1)
    large = make_framework(slug="large", capabilities=4, questions_per_lens=3)
    with django_assert_num_queries(9):
        framework_export(framework=small)
    with django_assert_num_queries(9):
        framework_export(framework=large)


@pytestmark_db
def test_the_shipped_file_exports_back_unchanged(shipped_framework):
    shipped = yaml.safe_load(SHIPPED_FILE.read_text())
    assert framework_export(framework=shipped_framework) == shipped


@pytestmark_db
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_shipped_content_round_trips_through_a_file(shipped_framework, fmt):
    text = framework_dump(shipped_framework, fmt=fmt)
    again = framework_import(
        data=text.replace("version: 1\n", "version: 2\n", 1)
        if fmt == "yaml"
        else json.dumps({**json.loads(text), "version": 2})
    )
    first = framework_export(framework=shipped_framework)
    second = framework_export(framework=again)
    assert second.pop("version") == 2
    first.pop("version")
    assert second == first


@pytestmark_db
def test_round_trip_after_deleting_the_draft():
    from capabilities.services import framework_delete_draft

    draft = framework_import(data=make_document(capabilities=3))
    text = framework_dump(draft)
    exported = framework_export(framework=draft)
    framework_delete_draft(framework=draft)
    assert framework_export(framework=framework_import(data=text)) == exported


@pytestmark_db
def test_dump_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        framework_dump(make_framework(), fmt="xml")

"""The ``measure`` block on questions: schema, import errors with key paths,
export, immutability once published, the admin field, the API and band scores."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from capabilities.importer import SCHEMA_PATH, framework_export, framework_file_errors
from capabilities.measures import MEASURE_KEYS, band_score
from capabilities.models import PublishedFrameworkError, Question
from capabilities.services import (
    framework_import,
    framework_new_draft,
    framework_publish,
)
from capabilities.tests.factories import make_document
from capabilities.tests.test_admin import change_url, form_data

BANDS = [
    {"min": 0, "score": 1},
    {"min": 25, "score": 2},
    {"min": 60, "score": 3},
    {"min": 90, "score": 4},
]


def measured_document():
    doc = make_document()
    doc["capabilities"][0]["questions"][2]["measure"] = {
        "key": "chargeback_coverage",
        "bands": [dict(band) for band in BANDS],
    }
    return doc


# --- pure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "score"),
    [(None, None), (-1, None), (0, 1), (24.9, 1), (25, 2), (59, 2), (90, 4), (100, 4)],
)
def test_a_value_suggests_the_score_of_the_highest_band_it_reaches(value, score):
    assert band_score(BANDS, value) == score


def test_bands_may_fall_as_values_rise():
    falling = [{"min": 0, "score": 4}, {"min": 1, "score": 3}, {"min": 5, "score": 1}]
    assert [band_score(falling, v) for v in (0, 0.5, 2, 10)] == [4, 4, 3, 1]


def test_the_schema_lists_every_measure_key():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$defs"]["measure"]["properties"]["key"]["enum"] == list(MEASURE_KEYS)


# --- file errors ------------------------------------------------------------------------


def test_a_measure_block_is_valid():
    assert framework_file_errors(measured_document()) == []


def test_it_names_an_unknown_measure():
    doc = measured_document()
    doc["capabilities"][0]["questions"][2]["measure"]["key"] = "vibes"
    [error] = framework_file_errors(doc)
    assert error.startswith(
        "capabilities[0].questions[2].measure.key: expected one of tag_coverage, "
    )
    assert error.endswith(", got 'vibes'")


def test_it_names_bands_that_do_not_increase():
    doc = measured_document()
    doc["capabilities"][0]["questions"][2]["measure"]["bands"][2]["min"] = 20
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[2].measure.bands[2].min: bands must have strictly "
        "increasing min; 20 is not above 25"
    ]


def test_it_names_a_percent_band_outside_0_to_100():
    doc = measured_document()
    doc["capabilities"][0]["questions"][2]["measure"]["bands"][3]["min"] = 120
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[2].measure.bands[3].min: 120 is outside 0..100 for a percent measure"
    ]


def test_it_names_a_band_score_outside_0_to_4_and_missing_bands():
    doc = measured_document()
    doc["capabilities"][0]["questions"][2]["measure"]["bands"][0]["score"] = 7
    doc["capabilities"][1]["questions"][0]["measure"] = {
        "key": "tag_coverage",
        "bands": [],
    }
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[2].measure.bands[0].score: score 7 is outside 0..4",
        "capabilities[1].questions[0].measure.bands: must not be empty",
    ]


def test_it_names_unknown_keys_in_a_band():
    doc = measured_document()
    doc["capabilities"][0]["questions"][2]["measure"]["bands"][0]["max"] = 3
    assert framework_file_errors(doc) == [
        "capabilities[0].questions[2].measure.bands[0].max: unknown key 'max'"
    ]


# --- stored with the framework ----------------------------------------------------------


@pytest.mark.django_db
def test_a_measure_imports_and_exports_back_unchanged():
    doc = measured_document()
    framework = framework_import(data=doc)
    question = Question.objects.get(
        capability__framework=framework,
        key=doc["capabilities"][0]["questions"][2]["key"],
    )
    assert question.measure == {"key": "chargeback_coverage", "bands": BANDS}
    assert framework_export(framework=framework) == doc


@pytest.mark.django_db
def test_questions_without_a_measure_export_without_the_key():
    framework = framework_import(data=make_document())
    exported = framework_export(framework=framework)
    assert all(
        "measure" not in q for c in exported["capabilities"] for q in c["questions"]
    )


@pytest.mark.django_db
def test_a_published_measure_cannot_change_and_a_new_draft_carries_it():
    framework = framework_publish(framework=framework_import(data=measured_document()))
    question = (
        Question.objects.filter(capability__framework=framework)
        .exclude(measure_key="")
        .get()
    )
    question.measure_bands = [{"min": 0, "score": 4}]
    with pytest.raises(PublishedFrameworkError):
        question.save()
    draft = framework_new_draft(framework=framework)
    copied = Question.objects.get(capability__framework=draft, key=question.key)
    assert copied.measure == {"key": "chargeback_coverage", "bands": BANDS}


@pytest.mark.django_db
def test_the_model_refuses_bands_out_of_order():
    framework = framework_import(data=make_document())
    question = Question.objects.filter(capability__framework=framework).first()
    question.measure_key = "tag_coverage"
    question.measure_bands = [{"min": 50, "score": 2}, {"min": 10, "score": 3}]
    with pytest.raises(ValidationError) as error:
        question.full_clean()
    assert error.value.message_dict["measure_bands"] == [
        "measure.bands[1].min: bands must have strictly increasing min; 10 is not above 50"
    ]


@pytest.mark.django_db
def test_staff_set_a_measure_in_the_admin(client, staff):
    client.force_login(staff)
    framework = framework_import(data=make_document())
    question = Question.objects.filter(capability__framework=framework).first()
    data = form_data(client.get(change_url(question)))
    data["measure_key"] = "tag_coverage"
    data["measure_bands"] = json.dumps(BANDS)
    response = client.post(change_url(question), data)
    assert response.status_code == 302, response.context["errors"]
    question.refresh_from_db()
    assert question.measure == {"key": "tag_coverage", "bands": BANDS}


@pytest.mark.django_db
def test_the_admin_names_bad_bands_next_to_the_field(client, staff):
    client.force_login(staff)
    framework = framework_import(data=make_document())
    question = Question.objects.filter(capability__framework=framework).first()
    data = form_data(client.get(change_url(question)))
    data["measure_key"] = "tag_coverage"
    data["measure_bands"] = json.dumps([{"min": 0, "score": 9}])
    response = client.post(change_url(question), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["measure_bands"] == [
        "measure.bands[0].score: score 9 is outside 0..4"
    ]


@pytest.mark.django_db
def test_the_api_shows_a_questions_measure(client, respondent_a):
    framework = framework_publish(framework=framework_import(data=measured_document()))
    client.force_login(respondent_a)
    body = client.get(reverse("v1:framework-detail", args=[framework.pk])).json()
    questions = [
        q for d in body["domains"] for c in d["capabilities"] for q in c["questions"]
    ]
    measured = [q["measure"] for q in questions if q["measure"]]
    assert measured == [
        {
            "key": "chargeback_coverage",
            "bands": [
                {"min": 0.0, "score": 1},
                {"min": 25.0, "score": 2},
                {"min": 60.0, "score": 3},
                {"min": 90.0, "score": 4},
            ],
        }
    ]

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from capabilities.models import (
    COLOUR_MSG,
    LINKS_MSG,
    PUBLISHED_IS_IMMUTABLE_MSG,
    AnswerOption,
    Capability,
    Framework,
    Lens,
    MaturityLevel,
    PublishedFrameworkError,
    Question,
    Recommendation,
)
from capabilities.services import framework_retire
from capabilities.tests.factories import make_framework

pytestmark = pytest.mark.django_db


def refused(framework) -> str:
    return PUBLISHED_IS_IMMUTABLE_MSG.format(framework=framework)


@pytest.fixture
def draft():
    return make_framework(slug="draft", capabilities=2)


# --- constraints ----------------------------------------------------------------------


def test_option_scores_must_be_between_0_and_4(draft):
    question = Question.objects.filter(capability__framework=draft).first()
    question.options.filter(score=4).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        AnswerOption.objects.create(question=question, score=5, label="Beyond")


def test_option_scores_are_unique_per_question(draft):
    question = Question.objects.filter(capability__framework=draft).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AnswerOption.objects.create(question=question, score=2, label="Again")


def test_capability_keys_are_unique_per_framework(draft):
    domain = draft.domains.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Capability.objects.create(framework=draft, domain=domain, key="cap-0", name="x")
    other = make_framework(slug="other")
    Capability.objects.create(
        framework=other, domain=other.domains.get(), key="cap-9", name="fine"
    )


def test_question_keys_are_unique_per_capability(draft):
    question = Question.objects.filter(capability__framework=draft).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(
            capability=question.capability,
            lens=question.lens,
            key=question.key,
            prompt="Again?",
        )


def test_lens_keys_are_unique_per_framework(draft):
    with pytest.raises(IntegrityError), transaction.atomic():
        Lens.objects.create(framework=draft, key="knowledge", name="Again")


@pytest.mark.parametrize("weight", [0, -1])
def test_question_weight_must_be_positive(draft, weight):
    question = Question.objects.filter(capability__framework=draft).first()
    question.weight = weight
    with pytest.raises(IntegrityError), transaction.atomic():
        question.save()


def test_lens_weight_must_be_positive(draft):
    lens = draft.lenses.first()
    lens.weight = 0
    with pytest.raises(IntegrityError), transaction.atomic():
        lens.save()


def test_level_colour_must_be_a_hex_colour(draft):
    level = draft.levels.first()
    level.colour = "red;x"
    with pytest.raises(ValidationError) as caught:
        level.full_clean()
    assert caught.value.message_dict["colour"] == [COLOUR_MSG]


@pytest.mark.parametrize(
    "links",
    [
        [{"title": "x", "url": "javascript:alert(1)"}],
        [{"title": "x"}],
        {"title": "x", "url": "https://example.com"},
    ],
)
def test_recommendation_links_must_be_http_links(draft, links):
    recommendation = Recommendation.objects.filter(capability__framework=draft).first()
    recommendation.links = links
    with pytest.raises(ValidationError) as caught:
        recommendation.full_clean()
    assert caught.value.message_dict["links"] == [LINKS_MSG]


def test_question_lens_must_belong_to_the_same_framework(draft):
    other = make_framework(slug="other")
    question = Question.objects.filter(capability__framework=draft).first()
    question.lens = other.lenses.first()
    with pytest.raises(ValidationError) as caught:
        question.full_clean()
    assert caught.value.message_dict["lens"] == [
        "The lens belongs to another framework."
    ]


# --- immutability of published versions ----------------------------------------------


def test_a_published_framework_refuses_a_direct_save(framework):
    framework.title = "Changed"
    with pytest.raises(PublishedFrameworkError) as caught:
        framework.save()
    assert caught.value.messages == [refused(framework)]
    framework.refresh_from_db()
    assert framework.title != "Changed"


def test_a_published_framework_cannot_go_back_to_draft(framework):
    framework.status = Framework.Status.DRAFT
    with pytest.raises(PublishedFrameworkError):
        framework.save()


def test_a_published_framework_can_be_retired(framework):
    framework_retire(framework=framework)
    framework.refresh_from_db()
    assert framework.status == Framework.Status.RETIRED
    framework.title = "Changed"
    with pytest.raises(PublishedFrameworkError):
        framework.save()


def test_a_published_framework_refuses_delete(framework):
    with pytest.raises(PublishedFrameworkError):
        framework.delete()
    assert Framework.objects.filter(pk=framework.pk).exists()


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (Lens, "framework"),
        (MaturityLevel, "framework"),
        (Capability, "framework"),
        (Question, "capability__framework"),
        (AnswerOption, "question__capability__framework"),
        (Recommendation, "capability__framework"),
    ],
)
def test_children_of_a_published_framework_refuse_save_and_delete(
    framework, model, lookup
):
    child = model.objects.filter(**{lookup: framework}).first()
    with pytest.raises(PublishedFrameworkError) as caught:
        child.save()
    assert caught.value.messages == [refused(framework)]
    with pytest.raises(PublishedFrameworkError):
        child.delete()
    assert model.objects.filter(pk=child.pk).exists()


def test_nothing_can_be_added_under_a_published_framework(framework):
    with pytest.raises(PublishedFrameworkError):
        Lens.objects.create(framework=framework, key="vision", name="Vision")
    capability = framework.capabilities.first()
    with pytest.raises(PublishedFrameworkError):
        Question.objects.create(
            capability=capability, lens=framework.lenses.first(), key="new", prompt="?"
        )

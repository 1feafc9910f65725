import pytest

from assessment import organizations, selectors, services
from assessment.models import Answer, Assessment, Cycle
from assessment.tests.factories import answer_all, make_assessment, make_cycle
from capabilities.models import Capability, Question
from capabilities.tests.factories import make_framework

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(team_a, framework):
    return make_assessment(team=team_a, framework=framework)


def test_assessment_questions_groups_questions_by_capability_in_order(assessment):
    groups = selectors.assessment_questions(assessment=assessment)
    assert [g.capability.key for g in groups] == ["cap-0", "cap-1"]
    assert [q.lens.key for q in groups[0].questions] == [
        "knowledge",
        "process",
        "metrics",
        "adoption",
        "automation",
    ]


def test_assessment_questions_keeps_to_the_cycles_scope(team_a, framework):
    second = Capability.objects.get(framework=framework, key="cap-1")
    assessment = make_assessment(
        team=team_a, framework=framework, capabilities=[second]
    )
    groups = selectors.assessment_questions(assessment=assessment)
    assert [g.capability.key for g in groups] == ["cap-1"]


def test_assessment_questions_uses_two_queries_for_any_size(
    team_a, django_assert_num_queries
):
    big = make_framework(slug="big", capabilities=8, questions_per_lens=2, publish=True)
    assessment = make_assessment(team=team_a, framework=big)
    # Questions (the cycle's scope read inside the same query), options.
    with django_assert_num_queries(2):
        groups = selectors.assessment_questions(assessment=assessment)
        options = [o for g in groups for q in g.questions for o in q.options.all()]
        lenses = {q.lens.key for g in groups for q in g.questions}
    assert len(options) == 8 * 10 * 5
    assert len(lenses) == 5


def test_assessment_progress_counts_answers_per_capability(
    assessment, framework, respondent_a
):
    answer_all(assessment, skip=3)
    progress = selectors.assessment_progress(assessment=assessment)
    assert (progress["answered"], progress["total"], progress["percent"]) == (7, 10, 70)
    assert [
        (c["key"], c["answered"], c["total"]) for c in progress["capabilities"]
    ] == [
        ("cap-0", 5, 5),
        ("cap-1", 2, 5),
    ]
    assert progress["capabilities"][0]["complete"] is True
    assert progress["complete"] is False


def test_assessment_progress_is_one_query_and_counts_only_the_scope(
    team_a, framework, django_assert_num_queries
):
    second = Capability.objects.get(framework=framework, key="cap-1")
    assessment = make_assessment(
        team=team_a, framework=framework, capabilities=[second]
    )
    answer_all(assessment)
    assessment = Assessment.objects.select_related("cycle").get(pk=assessment.pk)
    with django_assert_num_queries(1):
        progress = selectors.assessment_progress(assessment=assessment)
    assert [c["key"] for c in progress["capabilities"]] == ["cap-1"]
    assert (progress["answered"], progress["total"]) == (5, 5)


def test_assessment_progress_counts_na_only_where_allowed(assessment, framework):
    questions = list(
        Question.objects.filter(capability__framework=framework).order_by("id")[:2]
    )
    Question.objects.filter(pk=questions[0].pk).update(allow_na=True)
    for q in questions:
        Answer.objects.create(assessment=assessment, question=q, not_applicable=True)
    assert selectors.assessment_progress(assessment=assessment)["answered"] == 1


def test_assessment_progress_ignores_other_teams_answers(
    team_a, team_b, org, framework
):
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a, team_b])
    mine, theirs = cycle.assessments.order_by("team__name")
    answer_all(theirs)
    assert selectors.assessment_progress(assessment=mine)["answered"] == 0


def test_assessments_for_user_splits_open_and_past(
    org, team_a, team_b, framework, respondent_a
):
    current = make_cycle(
        organization=org, framework=framework, teams=[team_a, team_b], name="Now"
    )
    old = make_cycle(
        organization=org,
        framework=framework,
        teams=[team_a],
        name="Before",
        status=Cycle.Status.CLOSED,
    )
    make_cycle(
        organization=org,
        framework=framework,
        teams=[team_a],
        name="Later",
        status=Cycle.Status.PLANNED,
    )
    answer_all(current.assessments.get(team=team_a), skip=5)
    rows = selectors.assessments_for_user(user=respondent_a)
    assert [(r.assessment.cycle.name, r.percent) for r in rows["open"]] == [("Now", 50)]
    assert [r.assessment.cycle_id for r in rows["past"]] == [old.pk]


def test_assessments_for_user_lists_submitted_ones_as_past(assessment, respondent_a):
    answer_all(assessment)
    Assessment.objects.filter(pk=assessment.pk).update(
        status=Assessment.Status.SUBMITTED
    )
    rows = selectors.assessments_for_user(user=respondent_a)
    assert rows["open"] == []
    assert [(r.assessment.pk, r.percent) for r in rows["past"]] == [
        (assessment.pk, 100)
    ]


def test_assessments_for_user_is_empty_without_a_team(lead, assessment):
    assert selectors.assessments_for_user(user=lead) == {"open": [], "past": []}


def test_assessments_for_user_uses_a_constant_number_of_queries(
    org, team_a, framework, respondent_a, django_assert_num_queries
):
    for n in range(6):
        cycle = make_cycle(
            organization=org, framework=framework, teams=[team_a], name=f"C{n}"
        )
        answer_all(cycle.assessments.get())
    selectors.assessments_for_user(user=respondent_a)  # warms the access cache
    # assessments, scope, questions, answers, reopenings
    with django_assert_num_queries(5):
        rows = selectors.assessments_for_user(user=respondent_a)
    assert len(rows["open"]) == 6


def test_access_of_a_team_respondent_is_one_query(
    respondent_a, team_a, django_assert_num_queries
):
    from assessment.access import access_for

    with django_assert_num_queries(1):
        access = access_for(respondent_a)
    assert access.team_ids == {team_a.pk}
    assert not access.is_lead


def test_access_of_a_business_unit_covers_every_team_under_it_in_two_queries(
    org, business_unit, team_a, team_b, django_assert_num_queries
):
    from django.contrib.auth import get_user_model

    from assessment.access import access_for
    from assessment.models import Membership

    inner = organizations.team_create(
        organization=org, name="Online", parent=business_unit, kind="business_unit"
    )
    web = organizations.team_create(organization=org, name="Web", parent=inner)
    deeper = organizations.team_create(
        organization=org, name="Deeper", parent=inner, kind="business_unit"
    )
    leaf = organizations.team_create(organization=org, name="Leaf", parent=deeper)
    elsewhere = organizations.team_create(organization=org, name="Elsewhere")
    user = get_user_model().objects.create_user("una", password="x")
    Membership.objects.create(user=user, organization=org, team=inner)
    with django_assert_num_queries(2):
        access = access_for(user)
    assert access.team_ids == {inner.pk, web.pk, deeper.pk, leaf.pk}
    assert elsewhere.pk not in access.team_ids
    other = get_user_model().objects.create_user("ulf", password="x")
    Membership.objects.create(user=other, organization=org, team=business_unit)
    assert access_for(other).team_ids == {
        business_unit.pk,
        team_a.pk,
        team_b.pk,
        inner.pk,
        web.pk,
        deeper.pk,
        leaf.pk,
    }


def test_answer_history_lists_changes_newest_first(assessment, framework, respondent_a):
    question = Question.objects.filter(capability__framework=framework).first()
    options = list(question.options.order_by("score"))
    for version, score in enumerate([1, 2, 3]):
        answer = services.answer_record(
            assessment=assessment,
            question=question,
            user=respondent_a,
            option=options[score],
            expected_version=version,
        )
    history = list(selectors.answer_history(answer=answer))
    assert [c.version for c in history] == [3, 2, 1]
    assert [c.new["option_score"] for c in history] == [3, 2, 1]


@pytest.mark.parametrize("scoped", [False, True])
@pytest.mark.parametrize("central", [False, True])
def test_assessment_progress_sql_agrees_with_the_orm(
    team_a, team_b, org, framework, scoped, central
):
    """The progress query written in SQL counts what the ORM's does: the scope,
    the audience rule (central questions for the central team only), N/A where
    allowed, this assessment's answers only."""
    questions = list(Question.objects.filter(capability__framework=framework))
    Question.objects.filter(pk=questions[0].pk).update(audience="central")
    Question.objects.filter(pk__in=[q.pk for q in questions[1:3]]).update(allow_na=True)
    if central:
        org.central_team = team_a
        org.save(update_fields=["central_team"])
    capabilities = (
        [Capability.objects.get(framework=framework, key="cap-0")] if scoped else None
    )
    cycle = make_cycle(
        organization=org,
        framework=framework,
        teams=[team_a, team_b],
        capabilities=capabilities,
    )
    mine, theirs = cycle.assessments.order_by("team__name")
    answer_all(theirs)
    answer_all(mine, skip=4)
    Answer.objects.filter(assessment=mine, question__in=questions[1:4]).update(
        option=None, not_applicable=True
    )
    for assessment in (mine, theirs):
        assessment = Assessment.objects.select_related("cycle").get(pk=assessment.pk)
        sql = selectors.assessment_progress(assessment=assessment)
        orm = selectors.assessment_progress_orm(assessment=assessment)
        assert sql == orm
        assert sql["total"] > 0

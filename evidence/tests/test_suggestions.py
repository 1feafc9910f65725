"""Suggestions from fresh evidence on the questions that carry a measure, the
team's decisions, and claimed vs measured for a team and the organisation."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from assessment.models import Answer, Assessment, Cycle
from capabilities.measures import band_score
from capabilities.models import Question
from evidence import decisions, integration, mappings, selectors, services
from evidence.models import SuggestionDecision
from evidence.tests.factories import (
    TAG_BANDS,
    make_measured_framework,
    shifted,
    team_file,
)

pytestmark = pytest.mark.django_db


def fresh(data: bytes) -> bytes:
    """The generated May 2026 export moved to last month, so it is fresh today."""
    now = timezone.now()
    months = (now.year - 2026) * 12 + now.month - 1 - 5
    return shifted(data, months=months)


@pytest.fixture
def measured(org, team_a, team_b):
    framework = make_measured_framework()
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="2026 H2", status="open"
    )
    cycle.teams.set([team_a, team_b])
    Assessment.objects.bulk_create(
        Assessment(cycle=cycle, team=t) for t in (team_a, team_b)
    )
    return cycle


@pytest.fixture
def evidence(org, lead, team_a, ingest, generated, django_capture_on_commit_callbacks):
    from evidence.tests import focusdata

    data = fresh(team_file(generated, blank_share=0.5))
    account = focusdata.read_bytes(data)["SubAccountId"].dropna().iloc[0]
    ingest(org, {"export.csv": data})
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_settings_update(
            organization=org,
            user=lead,
            required_tag_keys="CostCenter, Owner",
            max_age_days=90,
        )
        mappings.mapping_add(
            organization=org, user=lead, team=team_a, kind="sub_account", value=account
        )


def assessment_of(cycle, team):
    return Assessment.objects.select_related("cycle", "team").get(
        cycle=cycle, team=team
    )


def questions_of(cycle):
    return list(
        Question.objects.filter(capability__framework=cycle.framework)
        .prefetch_related("options")
        .order_by("id")
    )


def question(cycle, key):
    return Question.objects.prefetch_related("options").get(
        capability__framework=cycle.framework, key=key
    )


def answer(assessment, q, score, user):
    from assessment.services import answer_record

    current = Answer.objects.filter(assessment=assessment, question=q).first()
    return answer_record(
        assessment=assessment,
        question=q,
        user=user,
        option=q.options.get(score=score),
        expected_version=current.version if current else 0,
    )


def test_the_team_sees_suggestions_on_the_questions_that_carry_a_measure(
    measured, evidence, team_a
):
    found = selectors.suggestions_for(
        assessment=assessment_of(measured, team_a), questions=questions_of(measured)
    )
    assert {
        question(measured, k).pk
        for k in (
            "cap-0-metrics-0",
            "cap-0-adoption-0",
            "cap-1-process-0",
            "cap-1-automation-0",
        )
    } == set(found)
    tag = found[question(measured, "cap-0-metrics-0").pk]
    assert tag.scope == "team"
    assert tag.score == band_score(TAG_BANDS, tag.value)
    assert tag.source == "FOCUS 1.3 export (AWS)"
    providers = found[question(measured, "cap-1-automation-0").pk]
    assert (providers.scope, providers.value, providers.score) == (
        "organisation",
        1.0,
        2,
    )


def test_a_team_without_attributed_cost_gets_no_team_suggestion(
    measured, evidence, team_b
):
    found = selectors.suggestions_for(
        assessment=assessment_of(measured, team_b), questions=questions_of(measured)
    )
    assert question(measured, "cap-0-metrics-0").pk not in found
    assert question(measured, "cap-1-automation-0").pk in found  # organisation-wide


def test_stale_evidence_stops_suggesting(measured, evidence, team_a):
    later = timezone.now() + dt.timedelta(days=200)
    with time_machine.travel(later):
        found = selectors.suggestions_for(
            assessment=assessment_of(measured, team_a), questions=questions_of(measured)
        )
    assert found == {}


def test_the_questionnaire_shows_the_figure_period_and_source(
    measured, evidence, team_a, respondent_a
):
    request = RequestFactory().get("/")
    request.user = respondent_a
    html = integration.questionnaire_suggestions(
        request,
        assessment=assessment_of(measured, team_a),
        questions=questions_of(measured),
    )
    tag_html = html[question(measured, "cap-0-metrics-0").pk]
    assert "Your cost data: tag coverage" in tag_html
    assert "FOCUS 1.3 export (AWS)" in tag_html
    assert "Use score" in tag_html
    assert "suggestion.js" in next(iter(html.values()))


def test_accepting_needs_the_suggested_answer_saved(
    measured, evidence, team_a, respondent_a
):
    assessment = assessment_of(measured, team_a)
    q = question(measured, "cap-0-metrics-0")
    suggestion = selectors.question_suggestion(assessment=assessment, question=q)
    with pytest.raises(ValidationError) as error:
        decisions.suggestion_decide(
            assessment=assessment,
            question=q,
            user=respondent_a,
            decision="accepted",
            suggestion=suggestion,
        )
    assert error.value.message_dict == {
        "decision": [
            f"Save the suggested answer (score {suggestion.score}) first; the saved answer is not given."
        ]
    }
    answer(assessment, q, suggestion.score, respondent_a)
    record = decisions.suggestion_decide(
        assessment=assessment,
        question=q,
        user=respondent_a,
        decision="accepted",
        suggestion=suggestion,
    )
    assert (record.decision, record.answer_score) == ("accepted", suggestion.score)


def test_accepting_without_scripts_records_the_answer_through_the_answer_service(
    client, measured, evidence, team_a, respondent_a
):
    assessment = assessment_of(measured, team_a)
    q = question(measured, "cap-0-metrics-0")
    client.force_login(respondent_a)
    response = client.post(
        reverse("evidence:suggestion_decide", args=[assessment.pk, q.pk]),
        {"decision": "accepted", "version": "0"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#question-{q.pk}")
    saved = Answer.objects.get(assessment=assessment, question=q)
    suggestion = selectors.question_suggestion(assessment=assessment, question=q)
    assert saved.option.score == suggestion.score
    assert saved.changes.count() == 1  # kept in the answer's history like any save
    assert SuggestionDecision.objects.get().decision == "accepted"


def test_answering_otherwise_needs_a_reason_and_keeps_it(
    client, measured, evidence, team_a, respondent_a
):
    assessment = assessment_of(measured, team_a)
    q = question(measured, "cap-0-metrics-0")
    url = reverse("evidence:suggestion_decide", args=[assessment.pk, q.pk])
    client.force_login(respondent_a)
    refused = client.post(
        url, {"decision": "overridden", "reason": "  "}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "reason": ["Say why the team's answer differs from its cost data."]
    }
    answer(assessment, q, 4, respondent_a)
    kept = client.post(
        url,
        {
            "decision": "overridden",
            "reason": "Untagged spend is a migration sandbox, deleted in January.",
        },
        content_type="application/json",
    )
    assert kept.status_code == 200
    record = SuggestionDecision.objects.get()
    assert (record.decision, record.answer_score) == ("overridden", 4)
    assert record.reason == "Untagged spend is a migration sandbox, deleted in January."


def test_a_respondent_of_another_team_cannot_decide(
    client, measured, evidence, team_a, respondent_b
):
    assessment = assessment_of(measured, team_a)
    q = question(measured, "cap-0-metrics-0")
    client.force_login(respondent_b)
    response = client.post(
        reverse("evidence:suggestion_decide", args=[assessment.pk, q.pk]),
        {"decision": "accepted"},
    )
    assert response.status_code == 404
    assert not SuggestionDecision.objects.exists()


def test_claimed_vs_measured_shows_where_the_team_claims_more(
    measured, evidence, team_a, respondent_a, lead
):
    assessment = assessment_of(measured, team_a)
    q = question(measured, "cap-0-metrics-0")
    suggested = selectors.question_suggestion(assessment=assessment, question=q).score
    claimed = min(4, suggested + 2)
    answer(assessment, q, claimed, respondent_a)
    rows = {
        r["question"].key: r
        for r in selectors.claimed_vs_measured(assessment=assessment)
    }
    assert rows["cap-0-metrics-0"]["gap"] == claimed - suggested
    request = RequestFactory().get("/")
    request.user = lead
    html = integration.team_report_section(request, assessment=assessment, is_lead=True)
    assert f"+{claimed - suggested}" in html
    summary = selectors.org_claimed_vs_measured(
        organization=measured.organization, cycle_id=measured.pk
    )
    assert summary["compared"] == 1
    [capability] = summary["capabilities"]
    assert (capability["above"], capability["mean_excess"]) == (1, claimed - suggested)
    assert summary["teams"][0]["team"] == team_a
    dashboard = integration.dashboard_section(
        request, organization=measured.organization, cycle_id=measured.pk, unit_id=None
    )
    assert "Claimed vs measured" in dashboard
    assert "Team A" in dashboard


def test_the_dashboard_keeps_claimed_vs_measured_until_a_submission(
    measured, evidence, team_a, respondent_a, lead, django_assert_num_queries
):
    from django.core.cache import cache

    cache.clear()
    assessment = assessment_of(measured, team_a)
    q = question(measured, "cap-0-metrics-0")
    suggested = selectors.question_suggestion(assessment=assessment, question=q).score
    request = RequestFactory().get("/")
    request.user = lead
    where = {"organization": measured.organization, "cycle_id": measured.pk}
    assert integration.dashboard_section(request, **where, unit_id=None) is None
    answer(assessment, q, min(4, suggested + 2), respondent_a)
    # kept: one query says nothing it depends on has changed
    with django_assert_num_queries(1):
        assert integration.dashboard_section(request, **where, unit_id=None) is None
    # a submission moves the cycle's scores generation on: built anew
    Cycle.objects.filter(pk=measured.pk).update(scores_generation=5)
    html = integration.dashboard_section(request, **where, unit_id=None)
    assert "Claimed vs measured" in html
    assert "Team A" in html
    cache.clear()


def test_claimed_vs_measured_says_when_the_framework_has_no_measures(
    org, team_a, framework
):
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="Q", status="open"
    )
    summary = selectors.org_claimed_vs_measured(organization=org, cycle_id=cycle.pk)
    assert summary["no_measures"] is True


def test_a_decision_cannot_change_a_submitted_assessment(
    measured, evidence, team_a, respondent_a
):
    assessment = assessment_of(measured, team_a)
    q = question(measured, "cap-0-metrics-0")
    suggestion = selectors.question_suggestion(assessment=assessment, question=q)
    Assessment.objects.filter(pk=assessment.pk).update(status="submitted")
    assessment.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        decisions.suggestion_decide(
            assessment=assessment,
            question=q,
            user=respondent_a,
            decision="overridden",
            reason="x",
            suggestion=suggestion,
        )
    assert error.value.message_dict == {
        "assessment": ["This assessment cannot be changed any more."]
    }


@time_machine.travel("2026-12-01T09:00:00Z")
def test_the_suggestions_use_a_fixed_number_of_queries(
    measured, evidence, team_a, django_assert_num_queries
):
    assessment = assessment_of(measured, team_a)
    questions = questions_of(measured)
    with django_assert_num_queries(2):
        selectors.suggestions_for(assessment=assessment, questions=questions)


@time_machine.travel("2026-12-01T09:00:00Z")
def test_claimed_vs_measured_reads_the_options_in_one_query(
    measured, evidence, team_a, django_assert_num_queries
):
    """Measured questions, settings, latest values, every option at once (not one
    query per question), answers, decisions."""
    assessment = assessment_of(measured, team_a)
    assert assessment.cycle.framework  # read with the assessment on the report
    selectors._measured.clear()
    with django_assert_num_queries(6):
        rows = selectors.claimed_vs_measured(assessment=assessment)
    assert rows


def test_claimed_vs_measured_without_evidence_stops_after_the_values(
    measured, team_a, django_assert_num_queries
):
    """No fresh evidence (the usual team report): measured questions, settings and
    latest values, then nothing more to read; the measured questions of a
    published framework are read once per process."""
    from django.utils import timezone

    from evidence.models import EvidenceSettings

    assessment = assessment_of(measured, team_a)
    EvidenceSettings.objects.create(
        organization=assessment.cycle.organization, computed_at=timezone.now()
    )
    framework = assessment.cycle.framework  # read with the assessment on the report
    assert framework.published_at is not None
    selectors._measured.clear()
    with django_assert_num_queries(3):
        assert selectors.claimed_vs_measured(assessment=assessment) == []
    with django_assert_num_queries(2):
        assert selectors.claimed_vs_measured(assessment=assessment) == []


def test_claimed_vs_measured_before_any_recompute_reads_only_the_settings(
    measured, team_a, django_assert_num_queries
):
    """Measures are written only by a recompute, which stamps the organisation's
    evidence settings: without that stamp there are no values to read."""
    from evidence.models import EvidenceSettings

    assessment = assessment_of(measured, team_a)
    assert assessment.cycle.framework.published_at is not None
    selectors._measured.clear()
    with django_assert_num_queries(2):  # measured questions, settings
        assert selectors.claimed_vs_measured(assessment=assessment) == []
    EvidenceSettings.objects.create(organization=assessment.cycle.organization)
    with django_assert_num_queries(1):  # settings, never computed
        assert selectors.claimed_vs_measured(assessment=assessment) == []

"""Action items, why scores moved (against the stored scores), initiatives."""

import datetime as dt
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError

from assessment.models import Assessment, CapabilityScore
from finops_portal.audit import AuditEvent
from finops_portal.events import Event
from improvement import selectors, services
from improvement.models import ActionItem, ActionItemChange, Initiative
from improvement.tests.conftest import submitted_cycle

pytestmark = pytest.mark.django_db


def _create(team, user, **extra):
    values = {
        "team": team,
        "user": user,
        "capability_key": "cap-0",
        "title": "Monthly chargeback report",
        "owner_id": user.pk,
        "due_on": dt.date.today() + dt.timedelta(days=30),
    }
    return services.action_create(**(values | extra))


def test_action_create_keeps_history_audit_and_an_event(
    team_a, respondent_a, framework
):
    saved = _create(team_a, respondent_a, expected_effect="Process 1 -> 3")
    item = saved.item
    assert saved.warnings == []
    assert item.capability_name == "Capability 0"
    assert item.changes.count() == 1
    assert AuditEvent.objects.filter(action="action_item.create").count() == 1
    event = Event.objects.get(topic="action_item.created")
    assert event.payload["title"] == "Monthly chargeback report"
    assert event.payload["owner"] == "alice"


def test_an_owner_who_is_not_a_member_is_refused(
    team_a, respondent_a, respondent_b, framework
):
    with pytest.raises(ValidationError) as caught:
        _create(team_a, respondent_a, owner_id=respondent_b.pk)
    assert caught.value.message_dict == {
        "owner": ["bob is not a member of Team A: choose one of its members."]
    }
    assert not ActionItem.objects.exists()


def test_a_lead_may_own_an_item(team_a, respondent_a, lead, framework):
    assert _create(team_a, respondent_a, owner_id=lead.pk).item.owner == lead


def test_a_past_due_date_warns_and_saves(team_a, respondent_a, framework):
    saved = _create(team_a, respondent_a, due_on=dt.date(2020, 1, 31))
    assert saved.warnings == [
        "The due date 2020-01-31 is in the past; the item was saved anyway."
    ]
    assert ActionItem.objects.count() == 1


def test_bad_fields_are_named_and_nothing_is_written(team_a, respondent_a, framework):
    with pytest.raises(ValidationError) as caught:
        _create(
            team_a,
            respondent_a,
            title=" ",
            capability_key="nope",
            status="dropped",
            links="javascript:alert(1)",
        )
    assert set(caught.value.message_dict) == {
        "title",
        "capability_key",
        "drop_reason",
        "links",
    }
    assert not ActionItem.objects.exists()


def test_action_update_records_each_change_and_publishes_done(
    team_a, respondent_a, lead, framework
):
    item = _create(team_a, respondent_a).item
    saved = services.action_update(
        item=item, user=lead, version=1, status="in_progress"
    )
    saved = services.action_update(item=saved.item, user=lead, status="done")
    assert saved.item.version == 3
    assert saved.item.closed_at is not None
    changes = list(ActionItemChange.objects.filter(item=item).order_by("version"))
    assert [c.changes for c in changes[1:]] == [
        {"status": ["planned", "in_progress"]},
        {"status": ["in_progress", "done"]},
    ]
    assert Event.objects.filter(topic="action_item.done").count() == 1
    assert Event.objects.filter(topic="action_item.changed").count() == 1


def test_a_stale_version_is_a_conflict(team_a, respondent_a, framework):
    item = _create(team_a, respondent_a).item
    services.action_update(item=item, user=respondent_a, title="Renamed")
    with pytest.raises(services.ActionConflict):
        services.action_update(item=item, user=respondent_a, version=1, title="Again")


def test_dropping_needs_a_reason(team_a, respondent_a, framework):
    item = _create(team_a, respondent_a).item
    with pytest.raises(ValidationError) as caught:
        services.action_update(item=item, user=respondent_a, status="dropped")
    assert caught.value.message_dict == {
        "drop_reason": ["Say why the item is dropped."]
    }
    saved = services.action_update(
        item=item, user=respondent_a, status="dropped", drop_reason="Tool retired"
    )
    assert saved.item.drop_reason == "Tool retired"


# --- why the score moved, against the stored scores --------------------------------


def _stored(assessment, key):
    return CapabilityScore.objects.get(
        assessment=assessment, capability__key=key
    ).percent


def test_the_movement_matches_the_stored_scores(two_cycles, team_a):
    (_c1, first), (_c2, second) = two_cycles
    result = selectors.movements(assessment=second[team_a.pk])
    assert result["previous"] == first[team_a.pk]
    row = next(r for r in result["rows"] if r["capability_key"] == "cap-0")
    observed = _stored(second[team_a.pk], "cap-0") - _stored(first[team_a.pk], "cap-0")
    assert float(row["movement"].change) == pytest.approx(observed)
    assert observed == pytest.approx(10.0)  # process 1 -> 3 with equal weights: +2/4/5
    assert row["summary"].startswith("+10: Process 1 -> 3 on How is process 0")
    assert row["summary"].endswith("weights unchanged")
    assert [c["by"] for c in row["causes"]] == ["alice"]


def test_an_edition_and_a_weight_change_explain_the_movement(
    org, team_a, respondent_a, framework
):
    """Version 2 of the framework drops the automation question of cap-0 and adds
    a metrics one; the second cycle also weighs the lenses differently. Nobody
    changed an answer that both cycles asked."""
    from capabilities.models import AnswerOption, Framework, Question
    from capabilities.tests.factories import make_framework

    v2 = make_framework(slug="test-fw", version=2)
    cap = v2.capabilities.get(key="cap-0")
    cap.questions.get(lens__key="automation").delete()
    extra = Question.objects.create(
        capability=cap,
        lens=v2.lenses.get(key="metrics"),
        key="cap-0-metrics-extra",
        prompt="Are unit costs reported?",
        order=9,
    )
    AnswerOption.objects.bulk_create(
        AnswerOption(question=extra, score=s, label=f"L{s}", order=s) for s in range(5)
    )
    Framework.objects.filter(pk=v2.pk).update(status="published")
    v2.refresh_from_db()

    _c1, first = submitted_cycle(
        org=org,
        framework=framework,
        teams=[team_a],
        name="v1",
        opens_on=dt.date(2025, 1, 1),
        score_of=lambda t, q: 2,
        user=respondent_a,
    )
    weights = {
        "knowledge": 30,
        "process": 25,
        "metrics": 20,
        "adoption": 20,
        "automation": 5,
    }
    _c2, second = submitted_cycle(
        org=org,
        framework=v2,
        teams=[team_a],
        name="v2",
        opens_on=dt.date(2026, 1, 1),
        user=respondent_a,
        lens_weights=weights,
        score_of=lambda t, q: 4 if q.key == "cap-0-metrics-extra" else 2,
    )
    rows = selectors.movements(assessment=second[team_a.pk])["rows"]
    row = next(r for r in rows if r["capability_key"] == "cap-0")
    moved = row["movement"]
    observed = _stored(second[team_a.pk], "cap-0") - _stored(first[team_a.pk], "cap-0")
    assert float(moved.change) == pytest.approx(observed)
    assert sum((c.delta for c in moved.causes), Fraction(0)) == moved.change
    assert [c.kind for c in moved.causes] == [
        "question_removed",
        "question_added",
        "weights",
    ]
    assert "weights changed" in row["summary"]


def test_a_target_change_between_cycles_is_reported(two_cycles, org, team_a, lead):
    from assessment.targets import target_set

    (_c1, first), (_c2, second) = two_cycles
    a1, a2 = first[team_a.pk], second[team_a.pk]
    target_set(
        organization=org, capability_key="cap-0", percent=50, team=None, user=lead
    )
    target_set(
        organization=org, capability_key="cap-0", percent=60, team=team_a, user=lead
    )
    set_50, set_60 = AuditEvent.objects.filter(action="target.set").order_by("id")
    # the first cycle was submitted ten days ago; 50 was set before it, 60 after
    Assessment.objects.filter(pk=a1.pk).update(
        submitted_at=a2.submitted_at - dt.timedelta(days=10)
    )
    AuditEvent.objects.filter(pk=set_50.pk).update(
        at=a2.submitted_at - dt.timedelta(days=11)
    )
    AuditEvent.objects.filter(pk=set_60.pk).update(
        at=a2.submitted_at - dt.timedelta(days=1)
    )
    row = next(
        r
        for r in selectors.movements(assessment=a2)["rows"]
        if r["capability_key"] == "cap-0"
    )
    assert (row["movement"].target_before, row["movement"].target_after) == (50, 60)
    assert row["summary"].endswith("weights unchanged, target +10")
    # the score's causes leave the target out: they still sum to the change
    assert sum(c.delta for c in row["movement"].causes) == row["movement"].change


# --- initiatives --------------------------------------------------------------------


def _rolled_up(*cycles):
    from benchmarks.services import rollup_recompute

    for cycle in cycles:
        rollup_recompute(cycle_id=cycle.pk, force=True)


def test_initiative_progress_equals_a_direct_count(
    two_cycles, org, business_unit, team_a, team_b, lead
):
    (c1, _a1), (c2, _a2) = two_cycles
    _rolled_up(c1, c2)
    initiative = services.initiative_create(
        organization=org,
        user=lead,
        name="Retail at 50",
        capability_key="cap-0",
        target_percent="50",
        due_on=dt.date(2027, 6, 30),
        scope_ids=[business_unit.pk],
    )
    progress = selectors.initiative_progress(initiative=initiative)
    for row in progress:
        direct = CapabilityScore.objects.filter(
            assessment__cycle_id=row["cycle_id"],
            assessment__team__in=[team_a, team_b],
            capability__key="cap-0",
            percent__gte=50,
        ).count()
        assert row["at_target"] == direct
        assert row["teams"] == 2
    assert [(r["cycle"], r["at_target"]) for r in progress] == [
        ("2025", 0),
        ("2026", 1),
    ]


def test_initiative_over_another_orgs_team_is_not_found(
    org, other_team, lead, framework
):
    with pytest.raises(services.ScopeNotFound):
        services.initiative_create(
            organization=org,
            user=lead,
            name="Sneaky",
            capability_key="cap-0",
            target_percent=50,
            due_on=dt.date(2027, 1, 1),
            scope_ids=[other_team.pk],
        )
    assert not Initiative.objects.exists()


def test_initiative_bad_fields(org, team_a, lead, framework):
    with pytest.raises(ValidationError) as caught:
        services.initiative_create(
            organization=org,
            user=lead,
            name="",
            capability_key="cap-0",
            target_percent="120",
            due_on=None,
            scope_ids=[],
        )
    assert set(caught.value.message_dict) == {
        "name",
        "target_percent",
        "due_on",
        "scope",
    }


def test_reached_and_due_soon_are_published_once(two_cycles, org, team_a, lead):
    from improvement.initiatives import (
        initiatives_check_reached,
        initiatives_due_publish,
    )

    (c1, _a1), (c2, _a2) = two_cycles
    _rolled_up(c1, c2)
    initiative = services.initiative_create(
        organization=org,
        user=lead,
        name="Team A at 50",
        capability_key="cap-0",
        target_percent=50,
        due_on=dt.date(2027, 1, 10),
        scope_ids=[team_a.pk],
    )
    assert initiatives_check_reached(organization_id=org.pk, cycle_id=c1.pk) == []
    assert initiatives_check_reached(organization_id=org.pk, cycle_id=c2.pk) == [
        initiative.pk
    ]
    assert initiatives_check_reached(organization_id=org.pk, cycle_id=c2.pk) == []
    assert Event.objects.filter(topic="initiative.reached").count() == 1
    other = services.initiative_create(
        organization=org,
        user=lead,
        name="Later",
        capability_key="cap-1",
        target_percent=90,
        due_on=dt.date(2027, 1, 10),
        scope_ids=[team_a.pk],
    )
    assert initiatives_due_publish(today=dt.date(2026, 12, 1)) == 0
    assert initiatives_due_publish(today=dt.date(2027, 1, 1)) == 1
    assert initiatives_due_publish(today=dt.date(2027, 1, 2)) == 0
    other.refresh_from_db()
    assert other.due_soon_published_on == dt.date(2027, 1, 1)
    [notice] = Event.objects.filter(topic="initiative.due_soon")
    assert notice.payload["team_id"] == team_a.pk  # short of 90 %: told so
    assert notice.payload["title"] == "Due 10 Jan 2027: Later"

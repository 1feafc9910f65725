"""Services and selectors of assessment/cycles.py: teams, memberships, cycles."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessment import cycles, organizations, selectors
from assessment.models import (
    Answer,
    Assessment,
    AssessmentReopen,
    Cycle,
    Membership,
    Organization,
    Team,
)
from capabilities.models import Capability, Question
from capabilities.tests.factories import make_framework
from finops_portal.audit import AuditEvent

pytestmark = pytest.mark.django_db


def error_of(exc: pytest.ExceptionInfo, field: str | None = None) -> list[str]:
    error = exc.value
    if field is None:
        return error.messages
    return error.message_dict[field]


# --- organisations ----------------------------------------------------------------


def test_organization_create_makes_the_lead_a_lead(lead):
    org = organizations.organization_create(name="Acme", slug="acme", lead=lead)

    assert org.anonymity_threshold == 5
    assert Membership.objects.get(organization=org, user=lead).role == "lead"
    assert (
        AuditEvent.objects.get(organization_id=org.pk).action == "organization.create"
    )


def test_organization_create_refuses_a_taken_slug(org):
    with pytest.raises(ValidationError) as exc:
        organizations.organization_create(name="Again", slug=org.slug)

    assert error_of(exc, "slug") == [organizations.SLUG_TAKEN_MSG]


def test_organization_list_for_lead_lists_only_led_orgs(lead, outsider_lead, staff):
    assert [o.slug for o in selectors.organization_list_for_lead(user=lead)] == [
        "org-one"
    ]
    assert [o.slug for o in selectors.organization_list_for_lead(user=staff)] == [
        "org-one",
        "org-two",
    ]


# --- teams ------------------------------------------------------------------------


def test_team_create_adds_a_team_under_a_unit_and_audits(org, business_unit, lead):
    team = organizations.team_create(
        organization=org, name="Team C", parent=business_unit, user=lead
    )

    assert team.parent == business_unit
    assert team.kind == Team.Kind.TEAM
    event = AuditEvent.objects.get(action="team.create")
    assert (event.actor, event.organization_id, event.summary) == (
        lead,
        org.pk,
        "Added team Team C",
    )


def test_team_create_refuses_a_parent_in_another_org(org, other_org):
    foreign_unit = Team.objects.create(
        organization=other_org, name="Far", kind=Team.Kind.BUSINESS_UNIT
    )

    with pytest.raises(ValidationError) as exc:
        organizations.team_create(organization=org, name="X", parent=foreign_unit)

    assert error_of(exc, "parent") == [organizations.PARENT_OTHER_ORG_MSG]


def test_team_create_refuses_a_team_as_parent(org, team_a):
    with pytest.raises(ValidationError) as exc:
        organizations.team_create(organization=org, name="Sub", parent=team_a)

    assert error_of(exc, "parent") == [organizations.PARENT_NOT_UNIT_MSG]


def test_team_create_refuses_a_duplicate_name_in_any_case(org, team_a):
    with pytest.raises(ValidationError) as exc:
        organizations.team_create(organization=org, name="team a")

    assert error_of(exc, "name") == [
        "The organisation already has a team or unit named “team a”."
    ]


def test_team_create_allows_the_same_name_in_another_org(other_org, team_a):
    assert organizations.team_create(organization=other_org, name="Team A").pk


def test_team_create_refuses_a_blank_name_and_an_unknown_kind(org):
    with pytest.raises(ValidationError) as exc:
        organizations.team_create(organization=org, name="  ")
    assert error_of(exc, "name") == [organizations.NAME_REQUIRED_MSG]

    with pytest.raises(ValidationError) as exc:
        organizations.team_create(organization=org, name="X", kind="tribe")
    assert error_of(exc, "kind") == [organizations.TEAM_KIND_INVALID_MSG]


def test_team_update_renames_and_moves(org, business_unit, team_a, lead):
    other_unit = organizations.team_create(
        organization=org, name="Wholesale", kind=Team.Kind.BUSINESS_UNIT
    )

    organizations.team_update(
        team=team_a, name="Team Alpha", parent=other_unit, user=lead
    )

    team_a.refresh_from_db()
    assert (team_a.name, team_a.parent) == ("Team Alpha", other_unit)
    event = AuditEvent.objects.get(action="team.update")
    assert event.detail["changes"]["name"] == ["Team A", "Team Alpha"]


def test_team_update_moves_to_the_top_level(team_a):
    organizations.team_update(team=team_a, to_root=True)

    team_a.refresh_from_db()
    assert team_a.parent is None


def test_team_update_refuses_moving_a_unit_under_its_descendant(org, business_unit):
    inner = organizations.team_create(
        organization=org,
        name="Online",
        parent=business_unit,
        kind=Team.Kind.BUSINESS_UNIT,
    )
    deepest = organizations.team_create(
        organization=org, name="Web", parent=inner, kind=Team.Kind.BUSINESS_UNIT
    )

    with pytest.raises(ValidationError) as exc:
        organizations.team_update(team=business_unit, parent=deepest)

    assert error_of(exc, "parent") == [organizations.PARENT_IS_DESCENDANT_MSG]


def test_team_update_refuses_moving_a_unit_under_itself(business_unit):
    with pytest.raises(ValidationError) as exc:
        organizations.team_update(team=business_unit, parent=business_unit)

    assert error_of(exc, "parent") == [organizations.PARENT_IS_SELF_MSG]


def test_team_update_refuses_a_name_taken_by_another_node(team_a, team_b):
    with pytest.raises(ValidationError) as exc:
        organizations.team_update(team=team_a, name="Team B")

    assert error_of(exc, "name") == [
        "The organisation already has a team or unit named “Team B”."
    ]


def test_team_delete_refuses_a_unit_with_children(business_unit, team_a, team_b):
    with pytest.raises(ValidationError) as exc:
        organizations.team_delete(team=business_unit)

    assert error_of(exc) == [
        "“Retail” still contains 2 unit(s) or team(s). Move or delete them first."
    ]


def test_team_delete_refuses_a_team_with_assessments(org, team_a, framework):
    cycle = cycles.cycle_create(organization=org, framework=framework, name="Q1")
    cycles.cycle_open(cycle=cycle)

    with pytest.raises(ValidationError) as exc:
        organizations.team_delete(team=team_a)

    assert error_of(exc) == [
        "“Team A” has assessments in 1 cycle(s), so it cannot be deleted."
    ]


def test_team_delete_removes_an_empty_team_and_audits(org, team_a, lead):
    organizations.team_delete(team=team_a, user=lead)

    assert not Team.objects.filter(pk=team_a.pk).exists()
    assert AuditEvent.objects.get(action="team.delete").summary == "Deleted Team A"


def test_team_tree_is_depth_first_with_counts_in_one_query(
    org, business_unit, team_a, team_b, respondent_a, django_assert_num_queries
):
    inner = organizations.team_create(
        organization=org,
        name="Online",
        parent=business_unit,
        kind=Team.Kind.BUSINESS_UNIT,
    )
    organizations.team_create(organization=org, name="Web", parent=inner)
    organizations.team_create(organization=org, name="Alone")

    with django_assert_num_queries(1):
        nodes = selectors.team_tree(organization=org)

    assert [(n.team.name, n.depth, n.path) for n in nodes] == [
        ("Retail", 0, ""),
        ("Online", 1, "Retail"),
        ("Web", 2, "Retail / Online"),
        ("Team A", 1, "Retail"),
        ("Team B", 1, "Retail"),
        ("Alone", 0, ""),
    ]
    retail = nodes[0]
    assert (retail.children, retail.teams_below) == (3, 3)
    assert nodes[3].members == 1


# --- memberships ------------------------------------------------------------------


@pytest.fixture
def carol(org):
    """One of Org One's people (she signed in through its single sign-on), with
    no role yet."""
    from django.contrib.auth import get_user_model

    from assessment.models import Affiliation

    user = get_user_model().objects.create_user(
        username="carol", email="Carol@Example.com", password="pw-carol"
    )
    Affiliation.objects.create(organization=org, user=user, source="sso")
    return user


def test_membership_add_finds_a_user_by_email_and_audits(org, team_a, carol, lead):
    membership = organizations.membership_add(
        organization=org,
        identifier="carol@example.com",
        role="respondent",
        team=team_a,
        by=lead,
    )

    assert (membership.user, membership.team) == (carol, team_a)
    event = AuditEvent.objects.get(action="membership.add")
    assert (event.actor, event.summary) == (lead, "Added carol as Respondent of Team A")


def test_membership_add_refuses_an_unknown_user(org, team_a):
    with pytest.raises(ValidationError) as exc:
        organizations.membership_add(
            organization=org, identifier="nobody", role="respondent", team=team_a
        )

    assert error_of(exc, "identifier") == [
        "No one in Org One has that username. To add someone new, enter their email "
        "address: they get an invitation to accept."
    ]


def test_membership_add_refuses_a_respondent_without_team(org, carol):
    with pytest.raises(ValidationError) as exc:
        organizations.membership_add(
            organization=org, identifier="carol", role="respondent"
        )

    assert error_of(exc, "team") == ["A respondent needs a team."]


def test_membership_add_refuses_a_team_of_another_org(org, carol, other_team):
    with pytest.raises(ValidationError) as exc:
        organizations.membership_add(
            organization=org, identifier="carol", role="respondent", team=other_team
        )

    assert error_of(exc, "team") == [organizations.TEAM_OTHER_ORG_MSG]


def test_membership_add_refuses_a_duplicate(org, team_a, respondent_a):
    with pytest.raises(ValidationError) as exc:
        organizations.membership_add(
            organization=org, identifier="alice", role="respondent", team=team_a
        )

    assert error_of(exc, "identifier") == ["alice is already a member of Team A."]


def test_membership_add_refuses_an_unknown_role(org, carol):
    with pytest.raises(ValidationError) as exc:
        organizations.membership_add(organization=org, identifier="carol", role="owner")

    assert error_of(exc, "role") == [organizations.ROLE_INVALID_MSG]


def test_membership_update_role_makes_a_respondent_a_lead(respondent_a, lead):
    membership = respondent_a.memberships.get()

    organizations.membership_update_role(membership=membership, role="lead", by=lead)

    membership.refresh_from_db()
    assert membership.role == "lead"
    assert AuditEvent.objects.get(action="membership.update_role").detail == {
        "membership_id": membership.id,
        "old": "respondent",
        "new": "lead",
    }


def test_membership_update_role_keeps_the_last_lead(lead, team_a):
    membership = lead.memberships.get()
    Membership.objects.filter(pk=membership.pk).update(team=team_a)
    membership.refresh_from_db()

    with pytest.raises(ValidationError) as exc:
        organizations.membership_update_role(membership=membership, role="respondent")

    assert error_of(exc, "role") == ["The organisation needs at least one lead."]


def test_membership_update_role_refuses_a_respondent_without_team(lead, staff):
    with pytest.raises(ValidationError) as exc:
        organizations.membership_update_role(
            membership=lead.memberships.get(), role="respondent", by=staff
        )

    assert error_of(exc, "team") == [organizations.RESPONDENT_NEEDS_TEAM_MSG]


def test_membership_remove_refuses_the_last_lead(lead):
    with pytest.raises(ValidationError) as exc:
        organizations.membership_remove(membership=lead.memberships.get())

    assert error_of(exc) == [organizations.LAST_LEAD_MSG]


def test_membership_remove_deletes_and_audits(respondent_a, lead):
    organizations.membership_remove(membership=respondent_a.memberships.get(), by=lead)

    assert not Membership.objects.filter(user=respondent_a).exists()
    assert (
        AuditEvent.objects.get(action="membership.remove").summary
        == "Removed alice from Team A"
    )


# --- cycles -----------------------------------------------------------------------


def test_cycle_create_defaults_to_every_team_and_capability(
    org, business_unit, team_a, team_b, framework, lead
):
    cycle = cycles.cycle_create(
        organization=org, framework=framework, name="2026 Q1", user=lead
    )

    assert cycle.status == Cycle.Status.PLANNED
    assert set(cycle.teams.all()) == {team_a, team_b}
    assert cycle.capabilities.count() == 0
    assert cycle.lens_weights == {}
    assert AuditEvent.objects.get(action="cycle.create").actor == lead


def test_cycle_create_refuses_a_draft_framework(org, team_a):
    draft = make_framework(slug="draft-fw")

    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(organization=org, framework=draft, name="Q1")

    assert error_of(exc, "framework") == ["Only a published framework can be used."]


def test_cycle_create_refuses_teams_of_another_org(org, team_a, other_team, framework):
    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(
            organization=org,
            framework=framework,
            name="Q1",
            team_ids=[team_a.id, other_team.id],
        )

    assert error_of(exc, "team_ids") == [cycles.TEAMS_OTHER_ORG_MSG]


def test_cycle_create_refuses_a_business_unit_in_scope(org, business_unit, framework):
    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(
            organization=org,
            framework=framework,
            name="Q1",
            team_ids=[business_unit.id],
        )

    assert error_of(exc, "team_ids") == [cycles.TEAMS_NOT_TEAMS_MSG]


def test_cycle_create_refuses_an_org_without_teams(org, framework):
    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(organization=org, framework=framework, name="Q1")

    assert error_of(exc, "team_ids") == [cycles.NO_TEAMS_MSG]


def test_cycle_create_refuses_capabilities_of_another_framework(org, team_a, framework):
    other = make_framework(slug="other-fw", publish=True)
    foreign_cap = Capability.objects.filter(framework=other).first()

    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(
            organization=org,
            framework=framework,
            name="Q1",
            capability_ids=[foreign_cap.id],
        )

    assert error_of(exc, "capability_ids") == [cycles.CAPABILITIES_OTHER_FRAMEWORK_MSG]


def test_cycle_create_refuses_unknown_lens_keys(org, team_a, framework):
    weights = {**cycles.FOUNDATION_LENS_WEIGHTS, "speed": 10}

    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(
            organization=org, framework=framework, name="Q1", lens_weights=weights
        )

    assert error_of(exc, "lens_weights") == [
        "Unknown lens key(s): speed. The framework's lenses are "
        "knowledge, process, metrics, adoption, automation."
    ]


@pytest.mark.parametrize("bad", [0, -5, None, True, float("nan"), [1]])
def test_cycle_create_refuses_non_positive_lens_weights(org, team_a, framework, bad):
    weights = {**cycles.FOUNDATION_LENS_WEIGHTS, "metrics": bad}

    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(
            organization=org, framework=framework, name="Q1", lens_weights=weights
        )

    assert error_of(exc, "lens_weights") == [
        "The weight of metrics must be a positive number."
    ]


def test_cycle_create_refuses_missing_lens_keys(org, team_a, framework):
    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(
            organization=org,
            framework=framework,
            name="Q1",
            lens_weights={"knowledge": 50, "process": 50},
        )

    assert error_of(exc, "lens_weights") == [
        "Give a weight for every lens; missing: metrics, adoption, automation."
    ]


def test_cycle_create_keeps_the_foundation_weights(org, team_a, framework):
    cycle = cycles.cycle_create(
        organization=org,
        framework=framework,
        name="Q1",
        lens_weights=cycles.LENS_WEIGHT_PRESETS["foundation"],
    )

    assert cycle.lens_weights == {
        "knowledge": 30,
        "process": 25,
        "metrics": 20,
        "adoption": 20,
        "automation": 5,
    }


def test_cycle_create_refuses_a_due_date_before_opening(org, team_a, framework):
    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(
            organization=org,
            framework=framework,
            name="Q1",
            opens_on=date(2026, 3, 1),
            closes_on=date(2026, 2, 1),
        )

    assert error_of(exc, "closes_on") == [cycles.CLOSES_BEFORE_OPENS_MSG]


def test_cycle_create_refuses_a_duplicate_name(org, team_a, framework):
    cycles.cycle_create(organization=org, framework=framework, name="Q1")

    with pytest.raises(ValidationError) as exc:
        cycles.cycle_create(organization=org, framework=framework, name="q1")

    assert error_of(exc, "name") == ["The organisation already has a cycle named “q1”."]


@pytest.fixture
def planned(org, team_a, team_b, framework):
    return cycles.cycle_create(organization=org, framework=framework, name="Q1")


def test_cycle_open_creates_one_assessment_per_team_and_audits(planned, lead):
    cycle = cycles.cycle_open(cycle=planned, user=lead)

    assert cycle.status == Cycle.Status.OPEN
    assert cycle.opened_at is not None
    assert sorted(a.team.name for a in cycle.assessments.all()) == [
        "Team A",
        "Team B",
    ]
    event = AuditEvent.objects.get(action="cycle.open")
    assert event.summary == "Opened cycle Q1 for 2 teams"


def test_cycle_open_twice_is_idempotent(planned):
    cycles.cycle_open(cycle=planned)
    cycles.cycle_open(cycle=planned)

    assert Assessment.objects.filter(cycle=planned).count() == 2
    assert AuditEvent.objects.filter(action="cycle.open").count() == 1


def test_cycle_open_refuses_a_closed_cycle(planned):
    cycles.cycle_open(cycle=planned)
    cycles.cycle_close(cycle=planned)

    with pytest.raises(ValidationError) as exc:
        cycles.cycle_open(cycle=planned)

    assert error_of(exc) == [cycles.CYCLE_OPEN_CLOSED_MSG]


def test_cycle_close_refuses_a_planned_cycle(planned):
    with pytest.raises(ValidationError) as exc:
        cycles.cycle_close(cycle=planned)

    assert error_of(exc) == ["Only an open cycle can be closed."]


def test_cycle_close_closes_an_open_cycle_and_audits(planned, lead):
    cycles.cycle_open(cycle=planned)

    cycle = cycles.cycle_close(cycle=planned, user=lead)

    assert (cycle.status, cycle.closed_at is not None) == (Cycle.Status.CLOSED, True)
    assert AuditEvent.objects.get(action="cycle.close").actor == lead


def test_cycle_update_changes_scope_while_planned(planned, team_a, framework):
    cap = Capability.objects.filter(framework=framework).first()

    cycles.cycle_update(
        cycle=planned,
        name="Q1 bis",
        team_ids=[team_a.id],
        capability_ids=[cap.id],
        lens_weights=cycles.FOUNDATION_LENS_WEIGHTS,
    )

    planned.refresh_from_db()
    assert planned.name == "Q1 bis"
    assert list(planned.teams.all()) == [team_a]
    assert list(planned.capabilities.all()) == [cap]
    assert planned.lens_weights["knowledge"] == 30


def test_cycle_update_refuses_scope_changes_once_open(planned, team_a):
    cycles.cycle_open(cycle=planned)

    with pytest.raises(ValidationError) as exc:
        cycles.cycle_update(cycle=planned, team_ids=[team_a.id])

    assert error_of(exc) == [cycles.CYCLE_NOT_PLANNED_MSG]


def test_cycle_update_allows_a_new_due_date_while_open(planned):
    cycles.cycle_open(cycle=planned)

    cycles.cycle_update(cycle=planned, closes_on=date(2026, 12, 31))

    planned.refresh_from_db()
    assert planned.closes_on == date(2026, 12, 31)


# --- completion board -------------------------------------------------------------


def _answer(assessment, question, score=2):
    return Answer.objects.create(
        assessment=assessment,
        question=question,
        option=question.options.get(score=score),
    )


def test_cycle_completion_counts_answers_and_orders_by_unit(planned, framework, org):
    organizations.team_create(organization=org, name="Aardvarks")  # not in scope
    cycles.cycle_open(cycle=planned)
    a = planned.assessments.get(team__name="Team A")
    b = planned.assessments.get(team__name="Team B")
    questions = list(Question.objects.filter(capability__framework=framework))
    for q in questions[:3]:
        _answer(a, q)
    # N/A counts where the question allows it (set on the row: the framework is
    # published, and its save() refuses changes)
    Question.objects.filter(pk=questions[3].pk).update(allow_na=True)
    Answer.objects.create(assessment=a, question=questions[3], not_applicable=True)
    Answer.objects.create(assessment=a, question=questions[4])  # comment only
    now = timezone.now()
    Assessment.objects.filter(pk=b.pk).update(
        status=Assessment.Status.SUBMITTED, submitted_at=now
    )

    rows = selectors.cycle_completion(cycle=planned)

    assert [
        (r["unit_path"], r["team_name"], r["status"], r["answered"], r["total"])
        for r in rows
    ] == [
        ("Retail", "Team A", "not_started", 4, 10),
        ("Retail", "Team B", "submitted", 0, 10),
    ]
    assert rows[0]["percent"] == 40
    assert rows[0]["last_activity_at"] is not None
    assert rows[1]["submitted_at"] == now
    assert selectors.completion_summary(rows) == {
        "total": 2,
        "submitted": 1,
        "in_progress": 0,
        "not_started": 1,
        "percent": 50,
    }


def test_cycle_completion_counts_only_capabilities_in_scope(org, team_a, framework):
    cap = Capability.objects.filter(framework=framework).order_by("order").first()
    cycle = cycles.cycle_create(
        organization=org, framework=framework, name="Q1", capability_ids=[cap.id]
    )
    cycles.cycle_open(cycle=cycle)
    a = cycle.assessments.get()
    for q in Question.objects.filter(capability__framework=framework):
        _answer(a, q)

    (row,) = selectors.cycle_completion(cycle=cycle)

    assert (row["answered"], row["total"], row["percent"]) == (5, 5, 100)


def _cycle_with_teams(org, framework, n: int) -> Cycle:
    unit = Team.objects.create(
        organization=org, name=f"Unit {n}", kind=Team.Kind.BUSINESS_UNIT
    )
    teams = Team.objects.bulk_create(
        Team(organization=org, parent=unit, name=f"T{n}-{i}") for i in range(n)
    )
    cycle = cycles.cycle_create(
        organization=org,
        framework=framework,
        name=f"C{n}",
        team_ids=[t.id for t in teams],
    )
    cycles.cycle_open(cycle=cycle)
    question = Question.objects.filter(capability__framework=framework).first()
    for assessment in cycle.assessments.all()[: n // 2]:
        _answer(assessment, question)
    return cycle


def test_cycle_completion_uses_a_constant_number_of_queries(
    org, framework, django_assert_num_queries
):
    small = _cycle_with_teams(org, framework, 10)
    large = _cycle_with_teams(org, framework, 40)

    with django_assert_num_queries(4):
        assert len(selectors.cycle_completion(cycle=small)) == 10
    with django_assert_num_queries(4):
        assert len(selectors.cycle_completion(cycle=large)) == 40


def test_completion_csv_rows_defuse_formulas(planned):
    cycles.cycle_open(cycle=planned)
    Team.objects.filter(name="Team A").update(name="=HYPERLINK(1)")
    Team.objects.filter(name="Retail").update(name="@cmd")

    rows = selectors.completion_csv_rows(selectors.cycle_completion(cycle=planned))

    assert rows[0] == selectors.COMPLETION_CSV_HEADER
    assert [r[:3] for r in rows[1:]] == [
        ["'@cmd", "'=HYPERLINK(1)", "Not started"],
        ["'@cmd", "Team B", "Not started"],
    ]


def test_cycle_list_counts_teams_and_submissions(planned):
    cycles.cycle_open(cycle=planned)
    Assessment.objects.filter(cycle=planned, team__name="Team A").update(
        status=Assessment.Status.SUBMITTED
    )

    (cycle,) = selectors.cycle_list(organization=planned.organization)

    assert (cycle.team_count, cycle.assessment_count, cycle.submitted_count) == (
        2,
        2,
        1,
    )


def test_cycle_reopen_list_shows_reasons_of_this_cycle_only(planned, lead):
    cycles.cycle_open(cycle=planned)
    a = planned.assessments.first()
    AssessmentReopen.objects.create(assessment=a, reopened_by=lead, reason="Typo")

    assert [r.reason for r in selectors.cycle_reopen_list(cycle=planned)] == ["Typo"]


def test_audit_event_list_is_newest_first_and_per_org(org, other_org, lead):
    organizations.team_create(organization=org, name="First", user=lead)
    organizations.team_create(organization=org, name="Second", user=lead)
    organizations.team_create(organization=other_org, name="Theirs")

    summaries = [e.summary for e in selectors.audit_event_list(organization=org)]

    assert summaries == ["Added team Second", "Added team First"]
    assert Organization.objects.count() == 2


# --- due dates ----------------------------------------------------------------------


def test_today_is_the_organisations_date(org):
    from datetime import UTC, datetime

    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    org.time_zone = "Asia/Tokyo"
    assert cycles.organization_today(org, late_evening) == date(2026, 3, 2)
    org.time_zone = "America/New_York"
    assert cycles.organization_today(org, late_evening) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("status", "closes_on", "state"),
    [
        ("planned", date(2026, 3, 1), "planned"),
        ("open", None, "open"),
        ("open", date(2026, 3, 2), "open"),
        ("open", date(2026, 3, 1), "due_today"),
        ("open", date(2026, 2, 28), "overdue"),
        ("closed", date(2026, 2, 28), "closed"),
    ],
)
def test_cycle_due_state(status, closes_on, state):
    cycle = Cycle(status=status, closes_on=closes_on)
    assert cycles.cycle_due_state(cycle, date(2026, 3, 1)) == state


def test_an_unknown_time_zone_is_refused(org):
    from assessment.models import TIME_ZONE_MSG

    org.time_zone = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError) as error:
        org.full_clean()
    assert error.value.message_dict == {"time_zone": [TIME_ZONE_MSG]}

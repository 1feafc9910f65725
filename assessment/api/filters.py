import django_filters

from assessment.models import Answer, Assessment, Cycle, Invitation, Membership, Team
from finops_portal.api import IdFilter


class AssessmentFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id", help_text="Cycle id.")
    team = IdFilter(field_name="team_id", help_text="Team id.")
    status = django_filters.ChoiceFilter(
        choices=Assessment.Status.choices,
        help_text="not_started, in_progress or submitted.",
    )
    organization = django_filters.CharFilter(
        field_name="cycle__organization__slug", help_text="Organisation slug."
    )

    class Meta:
        model = Assessment
        fields = ["cycle", "team", "status", "organization"]


class CycleFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(
        field_name="organization__slug", help_text="Organisation slug."
    )
    status = django_filters.ChoiceFilter(
        choices=Cycle.Status.choices, help_text="planned, open or closed."
    )

    class Meta:
        model = Cycle
        fields = ["organization", "status"]


class TeamFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(
        field_name="organization__slug", help_text="Organisation slug."
    )
    parent = IdFilter(
        field_name="parent_id", help_text="Id of the parent business unit."
    )
    kind = django_filters.ChoiceFilter(
        choices=Team.Kind.choices, help_text="business_unit or team."
    )

    class Meta:
        model = Team
        fields = ["organization", "parent", "kind"]


class MembershipFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(
        field_name="organization__slug", help_text="Organisation slug."
    )
    team = IdFilter(field_name="team_id", help_text="Team id.")
    role = django_filters.ChoiceFilter(
        choices=Membership.Role.choices, help_text="respondent or lead."
    )

    class Meta:
        model = Membership
        fields = ["organization", "team", "role"]


class InvitationFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(
        field_name="organization__slug", help_text="Organisation slug."
    )
    team = IdFilter(field_name="team_id", help_text="Team id.")
    role = django_filters.ChoiceFilter(
        choices=Membership.Role.choices, help_text="respondent or lead."
    )
    email = django_filters.CharFilter(
        field_name="email", lookup_expr="iexact", help_text="Invited address."
    )

    class Meta:
        model = Invitation
        fields = ["organization", "team", "role", "email"]


class AnswerFilter(django_filters.FilterSet):
    capability = django_filters.CharFilter(
        field_name="question__capability__key", help_text="Capability key."
    )
    lens = django_filters.CharFilter(
        field_name="question__lens__key", help_text="Lens key."
    )

    class Meta:
        model = Answer
        fields = ["capability", "lens"]

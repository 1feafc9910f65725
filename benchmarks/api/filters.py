import django_filters

from assessment.models import CapabilityScore, Target, Team
from finops_portal.api import IdFilter


class TeamScoreFilter(django_filters.FilterSet):
    business_unit = IdFilter(
        method="under_unit", help_text="Business unit id: teams under it, any depth."
    )
    team = IdFilter(field_name="assessment__team_id", help_text="Team id.")
    capability = django_filters.CharFilter(
        field_name="capability__key", help_text="Capability key."
    )

    class Meta:
        model = CapabilityScore
        fields = ["business_unit", "team", "capability"]

    def under_unit(self, queryset, name, value):
        links = Team.objects.filter(
            organization_id__in=queryset.values("assessment__cycle__organization_id")
        ).values_list("id", "parent_id")
        children: dict[int, list[int]] = {}
        for pk, parent_id in links:
            children.setdefault(parent_id, []).append(pk)
        found, frontier = set(), [int(value)]
        while frontier:
            for child in children.get(frontier.pop(), ()):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
        return queryset.filter(assessment__team_id__in=found)


class TargetFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(
        field_name="organization__slug", help_text="Organisation slug."
    )
    team = IdFilter(field_name="team_id", help_text="Team id.")
    defaults = django_filters.BooleanFilter(
        field_name="team", lookup_expr="isnull", help_text="Only organisation defaults."
    )
    capability_key = django_filters.CharFilter(help_text="Capability key.")

    class Meta:
        model = Target
        fields = ["organization", "team", "defaults", "capability_key"]

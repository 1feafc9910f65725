"""Read-only admin for roll-up snapshots, with an action to recompute them."""

from django.contrib import admin, messages

from .models import NodeStat, RollupState, TeamRank
from .services import rollup_recompute

RECOMPUTED_MSG = "Recomputed {count} roll-ups."


class ReadOnlyAdmin(admin.ModelAdmin):
    """Snapshots are derived data: written only by the roll-up."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = [
        "cycle",
        "scores_generation",
        "computed_generation",
        "is_stale",
        "computed_at",
        "duration_ms",
        "teams_scored",
        "runs",
    ]
    list_select_related = ["cycle"]
    search_fields = ["cycle__name", "cycle__organization__name"]
    actions = ["recompute"]

    @admin.display(description="scores generation")
    def scores_generation(self, obj):
        return obj.cycle.scores_generation

    @admin.display(boolean=True, description="stale")
    def is_stale(self, obj):
        return obj.is_stale

    @admin.action(description="Recompute the selected roll-ups now")
    def recompute(self, request, queryset):
        cycle_ids = list(queryset.values_list("cycle_id", flat=True))
        for cycle_id in cycle_ids:
            rollup_recompute(cycle_id=cycle_id, force=True)
        self.message_user(
            request, RECOMPUTED_MSG.format(count=len(cycle_ids)), messages.SUCCESS
        )


@admin.register(NodeStat)
class NodeStatAdmin(ReadOnlyAdmin):
    list_display = ["cycle", "node", "capability", "n", "mean", "median", "p25", "p75"]
    list_select_related = ["cycle", "node", "capability"]
    list_filter = ["cycle"]


@admin.register(TeamRank)
class TeamRankAdmin(ReadOnlyAdmin):
    list_display = ["cycle", "assessment", "capability", "percent", "percentile"]
    list_select_related = [
        "cycle",
        "assessment__team",
        "assessment__cycle",
        "capability",
    ]
    list_filter = ["cycle"]

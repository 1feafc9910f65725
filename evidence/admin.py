"""Admin for support staff: evidence is read, never edited, here (leads manage it
on the evidence pages, where every change is checked and audited)."""

from django.contrib import admin

from .models import EvidencePeriod, EvidenceSettings, Ingestion, TeamMapping


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Ingestion)
class IngestionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "organization",
        "status",
        "stage",
        "rows_read",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "organization"]
    list_select_related = ["organization"]


@admin.register(EvidencePeriod)
class EvidencePeriodAdmin(ReadOnlyAdmin):
    list_display = [
        "organization",
        "period_start",
        "focus_version",
        "rows",
        "effective_cost",
    ]
    list_filter = ["organization"]
    list_select_related = ["organization"]


@admin.register(TeamMapping)
class TeamMappingAdmin(ReadOnlyAdmin):
    list_display = ["organization", "position", "kind", "key", "value", "team"]
    list_filter = ["organization", "kind"]
    list_select_related = ["organization", "team"]


@admin.register(EvidenceSettings)
class EvidenceSettingsAdmin(ReadOnlyAdmin):
    list_display = ["organization", "max_age_days", "computed_at"]

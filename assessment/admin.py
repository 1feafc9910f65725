"""Django admin for organisations, cycles and answers: read-mostly, for support work."""

from django.contrib import admin

from finops_portal.admin import ReadOnlyAdminMixin

from .models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentReopen,
    CapabilityScore,
    Cycle,
    Membership,
    Organization,
    RespondentAnswer,
    Settlement,
    Target,
    Team,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "anonymity_threshold", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["central_team"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organization", "parent"]
    list_filter = ["kind", "organization"]
    search_fields = ["name"]
    raw_id_fields = ["organization", "parent"]
    list_select_related = ["organization", "parent"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "team", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "team__name"]
    raw_id_fields = ["user", "organization", "team"]
    list_select_related = ["user", "organization", "team"]


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "framework",
        "status",
        "opens_on",
        "closes_on",
    ]
    list_filter = ["status", "organization"]
    search_fields = ["name"]
    raw_id_fields = ["organization", "framework"]
    filter_horizontal = ["teams", "capabilities"]
    readonly_fields = ["created_at", "opened_at", "closed_at", "mode"]
    list_select_related = ["organization", "framework"]


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = [
        "question",
        "option",
        "not_applicable",
        "answered_by",
        "version",
        "updated_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "mode",
        "submitted_at",
        "submitted_by",
        "last_activity_at",
    ]
    list_filter = ["status", "mode", "cycle__organization", "cycle"]
    search_fields = ["team__name", "cycle__name"]
    raw_id_fields = ["cycle", "team", "submitted_by", "facilitator"]
    readonly_fields = [
        # changed through the lead's cycle page, which refuses it once answers exist
        "mode",
        "status",
        "submitted_at",
        "submitted_by",
        "last_activity_at",
        "created_at",
    ]
    list_select_related = ["cycle", "team", "submitted_by"]
    inlines = [AnswerInline]


class AnswerChangeInline(admin.TabularInline):
    model = AnswerChange
    fields = ["version", "changed_at", "changed_by", "old", "new"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    """Answers change only through the questionnaire, so that history is kept."""

    list_display = [
        "__str__",
        "question",
        "option",
        "not_applicable",
        "version",
        "updated_at",
    ]
    list_filter = ["not_applicable", "assessment__cycle"]
    search_fields = ["question__key", "assessment__team__name", "comment"]
    raw_id_fields = ["assessment", "question", "option", "answered_by"]
    list_select_related = ["question", "option"]
    inlines = [AnswerChangeInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(AnswerChange)
class AnswerChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["answer", "version", "changed_by", "changed_at"]
    search_fields = ["answer__question__key", "changed_by__username"]
    raw_id_fields = ["answer", "changed_by"]
    list_select_related = ["answer", "changed_by"]


@admin.register(AssessmentReopen)
class AssessmentReopenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["assessment", "reopened_by", "reopened_at", "reason"]
    search_fields = ["assessment__team__name", "reason"]
    raw_id_fields = ["assessment", "reopened_by"]
    list_select_related = ["assessment__team", "assessment__cycle", "reopened_by"]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["organization", "team", "capability_key", "percent", "updated_at"]
    list_filter = ["organization"]
    search_fields = ["capability_key", "team__name"]
    raw_id_fields = ["organization", "team"]


@admin.register(CapabilityScore)
class CapabilityScoreAdmin(admin.ModelAdmin):
    list_display = [
        "assessment",
        "capability",
        "percent",
        "level_key",
        "answered",
        "total",
    ]
    list_filter = ["level_key"]
    raw_id_fields = ["assessment", "capability"]
    list_select_related = ["assessment__team", "assessment__cycle", "capability"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RespondentAnswer)
class RespondentAnswerAdmin(admin.ModelAdmin):
    """Members' individual answers of consensus mode: read-only, for support."""

    list_display = ["__str__", "respondent", "option", "not_applicable", "updated_at"]
    list_filter = ["assessment__cycle__organization", "assessment__cycle"]
    search_fields = ["respondent__username", "assessment__team__name"]
    list_select_related = ["respondent", "option"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    """How facilitators settled their teams' answers: read-only, for support."""

    list_display = ["__str__", "used_default", "spread", "settled_by", "settled_at"]
    list_filter = ["used_default", "assessment__cycle"]
    list_select_related = ["settled_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

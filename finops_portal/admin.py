from django.contrib import admin

from .models import AuditEvent, PersonalToken


class ReadOnlyAdminMixin:
    """A record of what happened (the audit trail, answer history, reopenings):
    viewable, never added, changed or deleted by hand, not even by a superuser."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    """Staff may see and revoke (delete) tokens; keys are never shown or created here."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail, read-only for everyone: events are never added, changed or
    deleted by hand."""

    list_display = ["at", "action", "actor", "organization_id", "summary"]
    list_filter = ["action"]
    search_fields = ["summary", "actor__username"]
    raw_id_fields = ["actor"]
    date_hierarchy = "at"

from django.contrib import admin

from .models import ManagedMembership, RoleMapping, SsoConnection, SsoIdentity


class RoleMappingInline(admin.TabularInline):
    model = RoleMapping
    extra = 1
    autocomplete_fields = ["team"]


@admin.register(SsoConnection)
class SsoConnectionAdmin(admin.ModelAdmin):
    """Which organisation signs in through which provider; groups -> roles."""

    list_display = [
        "organization",
        "provider",
        "email_domains",
        "password_sign_in",
        "enabled",
    ]
    list_filter = ["provider", "enabled", "password_sign_in"]
    search_fields = ["organization__name", "email_domains"]
    inlines = [RoleMappingInline]


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Provider accounts linked to portal users; delete one to unlink it."""

    list_display = ["email", "user", "issuer", "last_sign_in_at"]
    search_fields = ["email", "user__username", "subject"]
    readonly_fields = [
        "user",
        "issuer",
        "subject",
        "email",
        "created_at",
        "last_sign_in_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(ManagedMembership)
class ManagedMembershipAdmin(admin.ModelAdmin):
    list_display = ["membership", "connection", "granted_at"]
    readonly_fields = ["membership", "connection", "granted_at"]

    def has_add_permission(self, request):
        return False

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns: list = [
    path("notifications/", views.inbox, name="inbox"),
    path("notifications/<int:pk>/open/", views.notification_open, name="open"),
    path("notifications/read-all/", views.notifications_read_all, name="read_all"),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path(
        "notifications/unsubscribe/<str:token>/",
        views.unsubscribe,
        name="unsubscribe",
    ),
    path(
        "notifications/cycles/<int:cycle_id>/schedule/",
        views.cycle_schedule,
        name="cycle_schedule",
    ),
    path(
        "notifications/cycles/<int:cycle_id>/remind/",
        views.cycle_remind,
        name="cycle_remind",
    ),
    path(
        "notifications/cycles/<int:cycle_id>/preview/<slug:kind>/",
        views.cycle_preview,
        name="cycle_preview",
    ),
    path(
        "notifications/cycles/<int:cycle_id>/preview/<slug:kind>/mail.html",
        views.cycle_preview_html,
        name="cycle_preview_html",
    ),
    path(
        "notifications/org/<slug:org_slug>/deliveries/",
        views.org_deliveries,
        name="org_deliveries",
    ),
    path(
        "notifications/org/<slug:org_slug>/",
        views.org_settings,
        name="org_settings",
    ),
]

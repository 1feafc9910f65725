from django.urls import path

from . import views

app_name = "improvement"

urlpatterns = [
    path("improvement/", views.home, name="home"),
    path(
        "improvement/assessments/<int:assessment_pk>/actions/new/",
        views.action_new,
        name="action_new",
    ),
    path("improvement/actions/<int:pk>/", views.action_edit, name="action"),
    path(
        "improvement/actions/<int:pk>/status/",
        views.action_status,
        name="action_status",
    ),
    path("improvement/<slug:slug>/initiatives/", views.initiatives, name="initiatives"),
    path(
        "improvement/<slug:slug>/initiatives/<int:pk>/",
        views.initiative_detail,
        name="initiative",
    ),
    path(
        "improvement/<slug:slug>/initiatives/<int:pk>/delete/",
        views.initiative_delete,
        name="initiative_delete",
    ),
    path("improvement/<slug:slug>/summary/", views.summary, name="summary"),
    path("improvement/<slug:slug>/actions.csv", views.plan_export, name="export"),
    path("improvement/<slug:slug>/webhooks/", views.webhook_list, name="webhooks"),
    path(
        "improvement/<slug:slug>/webhooks/<int:pk>/",
        views.webhook_detail,
        name="webhook",
    ),
    path(
        "improvement/<slug:slug>/webhooks/<int:pk>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "improvement/<slug:slug>/deliveries/<int:pk>/replay/",
        views.delivery_replay,
        name="delivery_replay",
    ),
]

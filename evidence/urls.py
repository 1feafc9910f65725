from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("evidence/", views.home, name="home"),
    path("evidence/<slug:org_slug>/", views.overview, name="overview"),
    path("evidence/<slug:org_slug>/upload/", views.upload, name="upload"),
    path(
        "evidence/<slug:org_slug>/ingestions/<int:ingestion_id>/",
        views.ingestion_detail,
        name="ingestion",
    ),
    path("evidence/<slug:org_slug>/mapping/", views.mapping, name="mapping"),
    path(
        "evidence/<slug:org_slug>/mapping/<int:mapping_id>/delete/",
        views.mapping_delete,
        name="mapping_delete",
    ),
    path("evidence/<slug:org_slug>/invoices/", views.invoices, name="invoices"),
    path(
        "evidence/<slug:org_slug>/invoices/<int:invoice_total_id>/delete/",
        views.invoice_delete,
        name="invoice_delete",
    ),
    path("evidence/<slug:org_slug>/settings/", views.settings_edit, name="settings"),
    path(
        "evidence/<slug:org_slug>/folders/<int:folder_id>/scan/",
        views.folder_scan,
        name="folder_scan",
    ),
    path("evidence/<slug:org_slug>/export.<str:fmt>", views.export, name="export"),
    path(
        "assessments/<int:pk>/suggestions/<int:question_id>/",
        views.suggestion_decide,
        name="suggestion_decide",
    ),
]

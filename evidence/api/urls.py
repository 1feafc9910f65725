from django.urls import path

from . import views

e = "evidence/"
urlpatterns = [
    path(e + "uploads/", views.UploadListApi.as_view(), name="evidence-upload-list"),
    path(
        e + "uploads/<uuid:pk>/",
        views.UploadDetailApi.as_view(),
        name="evidence-upload-detail",
    ),
    path(
        e + "uploads/<uuid:pk>/content/",
        views.UploadContentApi.as_view(),
        name="evidence-upload-content",
    ),
    path(
        e + "ingestions/",
        views.IngestionListApi.as_view(),
        name="evidence-ingestion-list",
    ),
    path(
        e + "ingestions/<int:pk>/",
        views.IngestionDetailApi.as_view(),
        name="evidence-ingestion-detail",
    ),
    path(e + "mappings/", views.MappingListApi.as_view(), name="evidence-mapping-list"),
    path(
        e + "mappings/preview/",
        views.MappingPreviewApi.as_view(),
        name="evidence-mapping-preview",
    ),
    path(
        e + "mappings/<int:pk>/",
        views.MappingDetailApi.as_view(),
        name="evidence-mapping-detail",
    ),
    path(e + "periods/", views.PeriodListApi.as_view(), name="evidence-period-list"),
    path(e + "measures/", views.MeasureListApi.as_view(), name="evidence-measure-list"),
    path(
        e + "settings/<slug:slug>/",
        views.SettingsApi.as_view(),
        name="evidence-settings",
    ),
    path(
        e + "invoice-totals/",
        views.InvoiceTotalListApi.as_view(),
        name="evidence-invoice-total-list",
    ),
    path(
        e + "invoice-totals/<int:pk>/",
        views.InvoiceTotalDetailApi.as_view(),
        name="evidence-invoice-total-detail",
    ),
    path(e + "folders/", views.FolderListApi.as_view(), name="evidence-folder-list"),
    path(
        e + "folders/<int:pk>/scan/",
        views.FolderScanApi.as_view(),
        name="evidence-folder-scan",
    ),
    path(
        "assessments/<int:assessment_pk>/suggestions/",
        views.SuggestionListApi.as_view(),
        name="suggestion-list",
    ),
    path(
        "assessments/<int:assessment_pk>/suggestions/<int:question>/decision/",
        views.SuggestionDecisionApi.as_view(),
        name="suggestion-decision",
    ),
]

from django.urls import path

from . import views

urlpatterns = [
    path("action-items/", views.ActionItemListApi.as_view(), name="action-item-list"),
    path(
        "action-items/<int:pk>/",
        views.ActionItemDetailApi.as_view(),
        name="action-item-detail",
    ),
    path(
        "assessments/<int:assessment_pk>/movements/",
        views.MovementsApi.as_view(),
        name="assessment-movements",
    ),
    path("initiatives/", views.InitiativeListApi.as_view(), name="initiative-list"),
    path("webhooks/", views.WebhookListApi.as_view(), name="webhook-list"),
    path(
        "webhooks/<int:pk>/deliveries/",
        views.WebhookDeliveryListApi.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "webhook-deliveries/<int:pk>/replay/",
        views.WebhookDeliveryReplayApi.as_view(),
        name="webhook-delivery-replay",
    ),
]

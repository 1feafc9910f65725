from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("sso/callback/", views.CallbackView.as_view(), name="callback"),
    path("sso/<slug:provider_key>/", views.StartView.as_view(), name="start"),
]

from django.urls import path

from . import views

app_name = "capabilities"

urlpatterns = [
    path("", views.framework_index, name="index"),
    path("<slug:slug>/v<int:version>/", views.framework_detail, name="framework"),
]

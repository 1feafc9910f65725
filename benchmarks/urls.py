from django.urls import path

from . import views

app_name = "benchmarks"

urlpatterns = [
    path("assessments/<int:pk>/report/", views.team_report, name="team_report"),
    path(
        "assessments/<int:pk>/benchmark/",
        views.team_benchmark,
        name="team_benchmark",
    ),
    path("dashboard/", views.dashboard_home, name="dashboard_home"),
    path("org/<slug:slug>/dashboard/", views.org_dashboard, name="org_dashboard"),
    path("org/<slug:slug>/targets/", views.targets_edit, name="targets"),
    path(
        "cycles/<int:pk>/export/team-scores.<str:fmt>",
        views.export_team_scores,
        name="export_team_scores",
    ),
    path(
        "cycles/<int:pk>/export/rollup.<str:fmt>",
        views.export_rollup,
        name="export_rollup",
    ),
]

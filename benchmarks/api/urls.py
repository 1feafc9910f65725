from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("targets", views.TargetViewSet, basename="target")

urlpatterns = [
    *router.urls,
    path(
        "assessments/<int:assessment_pk>/scores/",
        views.AssessmentScoresView.as_view(),
        name="assessment-scores",
    ),
    path(
        "cycles/<int:pk>/benchmarks/",
        views.CycleBenchmarksView.as_view(),
        name="cycle-benchmarks",
    ),
    path(
        "cycles/<int:pk>/team-scores/",
        views.CycleTeamScoresView.as_view(),
        name="cycle-team-scores",
    ),
]

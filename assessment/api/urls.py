from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("teams", views.TeamViewSet, basename="team")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("assessments", views.AssessmentViewSet, basename="assessment")

answers = "assessments/<int:assessment_pk>/answers/"
urlpatterns = [
    *router.urls,
    path(
        answers,
        views.AnswerViewSet.as_view({"get": "list"}),
        name="answer-list",
    ),
    path(
        answers + "bulk/",
        views.AnswerViewSet.as_view({"post": "bulk"}),
        name="answer-bulk",
    ),
    path(
        answers + "<str:question>/",
        views.AnswerViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="answer-detail",
    ),
    path(
        answers + "<str:question>/history/",
        views.AnswerViewSet.as_view({"get": "history"}),
        name="answer-history",
    ),
]

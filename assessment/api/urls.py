from django.urls import path
from rest_framework.routers import SimpleRouter

from . import answers, views

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("teams", views.TeamViewSet, basename="team")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("assessments", answers.AssessmentViewSet, basename="assessment")

prefix = "assessments/<int:assessment_pk>/answers/"
urlpatterns = [
    *router.urls,
    path(
        prefix,
        answers.AnswerViewSet.as_view({"get": "list"}),
        name="answer-list",
    ),
    path(
        prefix + "bulk/",
        answers.AnswerViewSet.as_view({"post": "bulk"}),
        name="answer-bulk",
    ),
    path(
        prefix + "<str:question>/",
        answers.AnswerViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="answer-detail",
    ),
    path(
        prefix + "<str:question>/history/",
        answers.AnswerViewSet.as_view({"get": "history"}),
        name="answer-history",
    ),
]

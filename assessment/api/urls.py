from django.urls import path
from rest_framework.routers import SimpleRouter

from . import answers, consensus, dry_runs, views

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("teams", views.TeamViewSet, basename="team")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("assessments", answers.AssessmentViewSet, basename="assessment")

prefix = "assessments/<int:assessment_pk>/answers/"
urlpatterns = [
    *router.urls,
    path(
        "assessments/<int:assessment_pk>/individual-answers/",
        consensus.IndividualAnswersView.as_view(),
        name="individual-answers",
    ),
    path(
        "assessments/<int:assessment_pk>/individual-answers/submit/",
        consensus.OwnSubmitView.as_view(),
        name="individual-submit",
    ),
    path(
        "assessments/<int:assessment_pk>/settle/",
        consensus.SettleView.as_view(),
        name="settle",
    ),
    path(
        "assessments/<int:assessment_pk>/disagreement/",
        consensus.DisagreementView.as_view(),
        name="disagreement",
    ),
    path(
        "frameworks/<int:pk>/dry-run/",
        dry_runs.FrameworkDryRunStartView.as_view(),
        name="framework-dry-run",
    ),
    path("dry-runs/<int:pk>/", dry_runs.DryRunView.as_view(), name="dry-run-detail"),
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

from django.urls import path

from . import consensus_views, dry_run_views, invitation_views, lead_urls, views

app_name = "assessment"

# Respondent pages here; the lead's pages in lead_urls.py.
urlpatterns: list = [
    path("assessments/", views.my_assessments, name="my_assessments"),
    path("assessments/<int:pk>/", views.questionnaire, name="questionnaire"),
    path(
        "assessments/<int:pk>/c/<slug:capability_key>/",
        views.questionnaire,
        name="questionnaire_capability",
    ),
    path(
        "assessments/<int:pk>/answers/<int:question_id>/",
        views.answer_save,
        name="answer_save",
    ),
    path(
        "assessments/<int:pk>/answers/<int:question_id>/history/",
        views.answer_history,
        name="answer_history",
    ),
    path("assessments/<int:pk>/review/", views.review, name="review"),
    path("assessments/<int:pk>/submit/", views.submit, name="submit"),
    path("assessments/<int:pk>/summary/", views.summary, name="summary"),
    path(
        "assessments/<int:pk>/answers.<str:fmt>",
        views.answers_export,
        name="answers_export",
    ),
    path("assessments/<int:pk>/reopen/", views.reopen, name="reopen"),
    path(
        "assessments/<int:pk>/team-answers/",
        consensus_views.team_answers,
        name="team_answers",
    ),
    path(
        "assessments/<int:pk>/team-answers/<int:question_id>/settle/",
        consensus_views.settle,
        name="settle",
    ),
    path(
        "assessments/<int:pk>/team-answers/defaults/",
        consensus_views.settle_defaults,
        name="settle_defaults",
    ),
    path(
        "assessments/<int:pk>/team-answers/submit/",
        consensus_views.team_submit,
        name="team_submit",
    ),
    path(
        "assessments/<int:pk>/team-answers/facilitator/",
        consensus_views.facilitator_set,
        name="facilitator_set",
    ),
    path(
        "assessments/<int:pk>/my-submission/",
        consensus_views.own_submit,
        name="own_submit",
    ),
    path(
        "staff/frameworks/<int:pk>/dry-run/",
        dry_run_views.dry_run_start,
        name="dry_run_start",
    ),
    path("staff/dry-runs/<int:run_id>/", dry_run_views.dry_run, name="dry_run"),
    path("invitations/<str:key>/", invitation_views.invitation, name="invitation"),
] + lead_urls.urlpatterns

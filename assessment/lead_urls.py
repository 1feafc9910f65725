"""URLs of the lead's pages (teams, members, cycles, completion board)."""

from django.urls import path

from . import consensus_views, lead_views

urlpatterns: list = [
    path("lead/", lead_views.lead_home, name="lead_home"),
    path("lead/cycles/<int:cycle_id>/", lead_views.cycle_detail, name="cycle_detail"),
    path(
        "lead/cycles/<int:cycle_id>/completion.csv",
        lead_views.cycle_completion_csv,
        name="cycle_completion_csv",
    ),
    path(
        "lead/cycles/<int:cycle_id>/edit/",
        lead_views.cycle_edit,
        name="cycle_edit",
    ),
    path(
        "lead/cycles/<int:cycle_id>/mode/",
        consensus_views.cycle_mode,
        name="cycle_mode",
    ),
    path(
        "lead/cycles/<int:cycle_id>/<str:action>/",
        lead_views.cycle_transition,
        name="cycle_transition",
    ),
    path(
        "lead/assessments/<int:assessment_id>/reopen/",
        lead_views.lead_assessment_reopen,
        name="lead_assessment_reopen",
    ),
    path("lead/<slug:org_slug>/", lead_views.lead_org, name="lead_org"),
    path("lead/<slug:org_slug>/teams/", lead_views.lead_teams, name="lead_teams"),
    path(
        "lead/<slug:org_slug>/teams/<int:team_id>/edit/",
        lead_views.lead_team_edit,
        name="lead_team_edit",
    ),
    path(
        "lead/<slug:org_slug>/teams/<int:team_id>/delete/",
        lead_views.lead_team_delete,
        name="lead_team_delete",
    ),
    path("lead/<slug:org_slug>/members/", lead_views.lead_members, name="lead_members"),
    path(
        "lead/<slug:org_slug>/members/<int:membership_id>/role/",
        lead_views.lead_member_role,
        name="lead_member_role",
    ),
    path(
        "lead/<slug:org_slug>/members/<int:membership_id>/remove/",
        lead_views.lead_member_remove,
        name="lead_member_remove",
    ),
    path(
        "lead/<slug:org_slug>/invitations/<int:invitation_id>/revoke/",
        lead_views.lead_invitation_revoke,
        name="lead_invitation_revoke",
    ),
    path("lead/<slug:org_slug>/cycles/", lead_views.lead_cycles, name="lead_cycles"),
    path("lead/<slug:org_slug>/audit/", lead_views.lead_audit, name="lead_audit"),
]

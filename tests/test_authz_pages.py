"""Every page route, requested by every persona, answers as the policy declares.

The routes come from the URL configuration (the API has its own matrix in
tests/test_api_matrix.py), so a new page without a policy entry
fails ``test_every_page_route_has_a_policy``.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "respondent_a",
    "respondent_b",
    "lead",
    "outsider_lead",
    "staff",
]

# What each persona gets. "ok": served (2xx, or a redirect that is not to the login
# page, or a 4xx form error on POST); "login": redirected to sign in; 404: not found.
PUBLIC = dict.fromkeys(PERSONAS, "ok")
SIGNED_IN = {**dict.fromkeys(PERSONAS, "ok"), "anonymous": "login"}
TEAM_A = {
    "anonymous": "login",
    "respondent_a": "ok",
    "respondent_b": 404,
    "lead": "ok",
    "outsider_lead": 404,
    "staff": "ok",
}
ORG_LEAD = {
    "anonymous": "login",
    "respondent_a": 404,
    "respondent_b": 404,
    "lead": "ok",
    "outsider_lead": 404,
    "staff": "ok",
}
ANY_LEAD = {**ORG_LEAD, "outsider_lead": "ok"}
# Consensus mode: the team's facilitator (here no member is named: the leads).
FACILITATOR = ORG_LEAD
SIGNED_OUT = dict.fromkeys(PERSONAS, "login")
STAFF_ONLY = {**dict.fromkeys(PERSONAS, 404), "anonymous": "login", "staff": "ok"}
TOKEN_OWNER = {
    **dict.fromkeys(PERSONAS, 404),
    "anonymous": "login",
    "respondent_a": "ok",
}

GET, POST = "GET", "POST"

# route name -> (expectations, methods to try)
POLICY = {
    "home": (SIGNED_IN, [GET]),
    "healthz": (PUBLIC, [GET]),
    "favicon": (PUBLIC, [GET]),
    "login": (PUBLIC, [GET]),
    "logout": (SIGNED_OUT, [POST]),
    "capabilities:index": (SIGNED_IN, [GET]),
    "capabilities:framework": (SIGNED_IN, [GET]),
    "assessment:my_assessments": (SIGNED_IN, [GET]),
    "assessment:questionnaire": (TEAM_A, [GET, POST]),
    "assessment:questionnaire_capability": (TEAM_A, [GET, POST]),
    "assessment:answer_save": (TEAM_A, [POST]),
    "assessment:answer_history": (TEAM_A, [GET]),
    "assessment:review": (TEAM_A, [GET]),
    "assessment:submit": (TEAM_A, [POST]),
    "assessment:summary": (TEAM_A, [GET]),
    "assessment:answers_export": (TEAM_A, [GET]),
    "assessment:reopen": (ORG_LEAD, [POST]),
    # Consensus pages, on a consensus-mode assessment of team A (see ``_kwargs``);
    # who sees individual answers: tests/test_consensus_access.py.
    "assessment:team_answers": (TEAM_A, [GET]),
    "assessment:settle": (FACILITATOR, [POST]),
    "assessment:settle_defaults": (FACILITATOR, [POST]),
    "assessment:team_submit": (FACILITATOR, [POST]),
    "assessment:facilitator_set": (ORG_LEAD, [POST]),
    "assessment:own_submit": (TEAM_A, [POST]),
    "assessment:cycle_mode": (ORG_LEAD, [POST]),
    "assessment:lead_home": (ANY_LEAD, [GET]),
    "assessment:cycle_detail": (ORG_LEAD, [GET]),
    "assessment:cycle_edit": (ORG_LEAD, [GET, POST]),
    "assessment:cycle_completion_csv": (ORG_LEAD, [GET]),
    "assessment:cycle_transition": (ORG_LEAD, [GET, POST]),
    "assessment:lead_assessment_reopen": (ORG_LEAD, [GET, POST]),
    "assessment:lead_org": (ORG_LEAD, [GET]),
    "assessment:lead_teams": (ORG_LEAD, [GET, POST]),
    "assessment:lead_team_edit": (ORG_LEAD, [GET, POST]),
    "assessment:lead_team_delete": (ORG_LEAD, [GET, POST]),
    "assessment:lead_members": (ORG_LEAD, [GET, POST]),
    "assessment:lead_member_role": (ORG_LEAD, [POST]),
    "assessment:lead_member_remove": (ORG_LEAD, [GET, POST]),
    "assessment:lead_invitation_revoke": (ORG_LEAD, [POST]),
    "assessment:lead_cycles": (ORG_LEAD, [GET, POST]),
    "assessment:lead_audit": (ORG_LEAD, [GET]),
    # A framework version's dry run: staff only (404 for everyone else).
    "assessment:dry_run_start": (STAFF_ONLY, [GET, POST]),
    "assessment:dry_run": (STAFF_ONLY, [GET]),
    # An invitation's page opens only with its link's key: 404 for any other.
    "assessment:invitation": (dict.fromkeys(PERSONAS, 404), [GET, POST]),
    "benchmarks:team_report": (TEAM_A, [GET]),
    "benchmarks:team_benchmark": (TEAM_A, [GET]),
    "benchmarks:dashboard_home": (ANY_LEAD, [GET]),
    "benchmarks:org_dashboard": (ORG_LEAD, [GET]),
    "benchmarks:targets": (ORG_LEAD, [GET, POST]),
    "benchmarks:export_team_scores": (ORG_LEAD, [GET]),
    "benchmarks:export_rollup": (ORG_LEAD, [GET]),
    "notifications:inbox": (SIGNED_IN, [GET]),
    "notifications:open": (TOKEN_OWNER, [POST]),
    "notifications:read_all": (SIGNED_IN, [POST]),
    "notifications:preferences": (SIGNED_IN, [GET, POST]),
    # Signed links from mails: no sign-in, the token is the authority (a bad one: 400).
    "notifications:unsubscribe": (PUBLIC, [GET, POST]),
    "notifications:cycle_schedule": (ORG_LEAD, [GET, POST]),
    "notifications:cycle_remind": (ORG_LEAD, [POST]),
    "notifications:cycle_preview": (ORG_LEAD, [GET]),
    "notifications:cycle_preview_html": (ORG_LEAD, [GET]),
    "notifications:org_deliveries": (ORG_LEAD, [GET]),
    "notifications:org_settings": (ORG_LEAD, [GET, POST]),
    "evidence:home": (ANY_LEAD, [GET]),
    "evidence:overview": (ORG_LEAD, [GET]),
    "evidence:upload": (ORG_LEAD, [GET]),
    "evidence:ingestion": (ORG_LEAD, [GET]),
    "evidence:mapping": (ORG_LEAD, [GET, POST]),
    "evidence:mapping_delete": (ORG_LEAD, [GET, POST]),
    "evidence:invoices": (ORG_LEAD, [GET, POST]),
    "evidence:invoice_delete": (ORG_LEAD, [POST]),
    "evidence:settings": (ORG_LEAD, [GET, POST]),
    "evidence:folder_scan": (ORG_LEAD, [POST]),
    "evidence:export": (ORG_LEAD, [GET]),
    "evidence:suggestion_decide": (TEAM_A, [POST]),
    # Improvement: a team's action items for its respondents and the leads; the
    # rest (initiatives, summary, webhooks, exports) for the organisation's leads.
    "improvement:home": (ANY_LEAD, [GET]),
    "improvement:action_new": (TEAM_A, [GET, POST]),
    "improvement:action": (TEAM_A, [GET, POST]),
    "improvement:action_status": (TEAM_A, [POST]),
    "improvement:initiatives": (ORG_LEAD, [GET, POST]),
    "improvement:initiative": (ORG_LEAD, [GET]),
    "improvement:initiative_delete": (ORG_LEAD, [POST]),
    "improvement:summary": (ORG_LEAD, [GET]),
    "improvement:export": (ORG_LEAD, [GET]),
    "improvement:webhooks": (ORG_LEAD, [GET, POST]),
    "improvement:webhook": (ORG_LEAD, [GET]),
    "improvement:webhook_delete": (ORG_LEAD, [POST]),
    "improvement:delivery_replay": (ORG_LEAD, [POST]),
    "tokens": (SIGNED_IN, [GET, POST]),
    # Single sign-on: starting one with a provider that no organisation uses is
    # 404 for everyone; a callback without a pending sign-in is refused (400).
    "sso:start": (dict.fromkeys(PERSONAS, 404), [GET]),
    "sso:callback": (PUBLIC, [GET]),
    "token_revoke": (TOKEN_OWNER, [POST]),
    # The API's description is public; its data is not.
    "api-schema": (PUBLIC, [GET]),
    "api-docs": (PUBLIC, [GET]),
}


CONSENSUS_PAGES = {
    "assessment:team_answers",
    "assessment:settle",
    "assessment:settle_defaults",
    "assessment:team_submit",
    "assessment:facilitator_set",
    "assessment:own_submit",
}


def page_routes() -> dict[str, str]:
    """route name -> path pattern, for every route outside /admin/ and /api/v1/."""
    found: dict[str, str] = {}

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name:
                found[namespace + p.name] = prefix + str(p.pattern)

    walk(get_resolver().url_patterns)
    return {
        name: path
        for name, path in found.items()
        if not path.startswith(("admin/", "api/v1/")) and not name.startswith("v1:")
    }


def test_every_page_route_has_a_policy():
    assert sorted(set(page_routes()) - set(POLICY)) == []
    assert sorted(set(POLICY) - set(page_routes())) == []


@pytest.fixture
def world(
    org,
    team_a,
    team_b,
    respondent_a,
    respondent_b,
    lead,
    outsider_lead,
    staff,
    framework,
):
    from assessment.models import Assessment, Cycle, Invitation, Membership

    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="Q1", status="open"
    )
    cycle.teams.set([team_a, team_b])
    assessment = Assessment.objects.create(cycle=cycle, team=team_a)
    Assessment.objects.create(cycle=cycle, team=team_b)
    consensus_cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name="Q1 consensus",
        status="open",
        mode="consensus",
    )
    consensus_cycle.teams.set([team_a])
    consensus_assessment = Assessment.objects.create(
        cycle=consensus_cycle, team=team_a, mode="consensus"
    )
    capability = framework.capabilities.order_by("order").first()
    token_pk = None
    try:
        from finops_portal.models import PersonalToken

        token_pk = PersonalToken.objects.create(
            user=respondent_a, name="ci", key_hash="x" * 64
        ).pk
    except Exception:  # noqa: BLE001 - the token model's fields are the API's business
        token_pk = None
    from notifications.models import Notification

    notice = Notification.objects.create(
        user=respondent_a, key="authz", category="reminder", title="Reminder"
    )
    from assessment.models import FrameworkDryRun
    from evidence.tests.factories import evidence_objects
    from improvement.tests.factories import improvement_objects

    dry_run = FrameworkDryRun.objects.create(
        framework=framework, organization=org, state="done", result={}
    )
    return {
        **evidence_objects(org=org, team=team_a, user=lead),
        "improvement": improvement_objects(org=org, team=team_a, user=lead),
        "dry_run": dry_run,
        "org": org,
        "cycle": cycle,
        "notification_pk": notice.pk,
        "assessment": assessment,
        "consensus_assessment": consensus_assessment,
        "framework": framework,
        "capability": capability,
        "question": capability.questions.order_by("order").first(),
        "team": team_a,
        "membership": Membership.objects.get(user=respondent_a),
        "invitation": Invitation.objects.create(
            organization=org,
            email="new@org-one.example",
            team=team_a,
            key_hash="k" * 64,
            expires_at=timezone.now() + timedelta(days=1),
        ),
        "token_pk": token_pk,
        "users": {
            "respondent_a": respondent_a,
            "respondent_b": respondent_b,
            "lead": lead,
            "outsider_lead": outsider_lead,
            "staff": staff,
        },
    }


def _kwargs(name: str, path: str, w: dict) -> dict:
    values = {
        "pk": w["assessment"].pk if path.startswith("assessments/") else w["cycle"].pk,
        "slug": w["framework"].slug if path.startswith("framework/") else w["org"].slug,
        "version": w["framework"].version,
        "org_slug": w["org"].slug,
        "cycle_id": w["cycle"].pk,
        "assessment_id": w["assessment"].pk,
        "team_id": w["team"].pk,
        "membership_id": w["membership"].pk,
        "invitation_id": w["invitation"].pk,
        "question_id": w["question"].pk,
        "capability_key": w["capability"].key,
        "action": "close",
        "fmt": "csv",
        "kind": "reminder",
        "token": "not-a-signed-token",
        "provider_key": "nowhere",
        "key": "not-an-invitation-key",
        "ingestion_id": w["ingestion"].pk,
        "mapping_id": w["mapping"].pk,
        "invoice_total_id": w["invoice_total"].pk,
        "folder_id": w["folder"].pk,
    }
    if name in CONSENSUS_PAGES:
        values["pk"] = w["consensus_assessment"].pk
    values["assessment_pk"] = w["assessment"].pk
    improvement_pks = {
        "improvement:action": "item",
        "improvement:action_status": "item",
        "improvement:initiative": "initiative",
        "improvement:initiative_delete": "initiative",
        "improvement:webhook": "webhook",
        "improvement:webhook_delete": "webhook",
        "improvement:delivery_replay": "delivery",
    }
    if name in improvement_pks:
        values["pk"] = w["improvement"][improvement_pks[name]].pk
    values["run_id"] = w["dry_run"].pk
    if name == "assessment:dry_run_start":
        values["pk"] = w["framework"].pk
    if name == "token_revoke":
        values["pk"] = w["token_pk"]
    if name == "notifications:open":
        values["pk"] = w["notification_pk"]
    return {k: v for k, v in values.items() if f"<{k}>" in path or f":{k}>" in path}


def _outcome(response) -> object:
    if response.status_code in (301, 302) and "/accounts/login/" in response.get(
        "Location", ""
    ):
        return "login"
    if response.status_code == 404:
        return 404
    if response.status_code in (403, 405) or response.status_code >= 500:
        return response.status_code
    return "ok"


@pytest.mark.parametrize("name", sorted(POLICY))
def test_each_persona_gets_the_declared_answer(client, world, name):
    expectations, methods = POLICY[name]
    path = page_routes()[name]
    url = reverse(name, kwargs=_kwargs(name, path, world))
    seen = {}
    for method in methods:
        for persona in PERSONAS:
            with transaction.atomic():
                client.logout()
                if persona != "anonymous":
                    client.force_login(world["users"][persona])
                response = client.get(url) if method == GET else client.post(url, {})
                seen[(method, persona)] = _outcome(response)
                transaction.set_rollback(True)
    expected = {(m, p): expectations[p] for m in methods for p in PERSONAS}
    # A POST-only route answers GET with 405, which leaks nothing either.
    assert seen == expected, {
        k: (seen[k], expected[k]) for k in seen if seen[k] != expected[k]
    }


def test_the_admin_is_for_staff_only(client, world):
    for persona in ["respondent_a", "lead", "outsider_lead"]:
        client.force_login(world["users"][persona])
        response = client.get("/admin/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    client.force_login(world["users"]["staff"])
    assert client.get("/admin/").status_code == 200

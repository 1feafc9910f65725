"""Who may call what: every route under /api/v1/, every method its view declares,
requested as each persona. A route or method missing from POLICY fails the test, so
a new endpoint cannot ship without saying who may use it."""

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assessment.invitations import invitation_create
from assessment.models import Membership, Target
from capabilities.models import Question
from tests.api_support import *  # noqa: F403
from tests.api_support import client_for

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "respondent_a",
    "respondent_b",
    "lead",
    "outsider_lead",
    "staff",
]

# (route name, method) -> expected status per persona, in PERSONAS order.
# Objects requested: organisation 1's team A, its assessment, cycle, membership of
# alice, an organisation default target; bodies are valid, so 400 means the service
# refused (for example submitting an unanswered assessment).
POLICY = {
    ("framework-list", "get"): (401, 200, 200, 200, 200, 200),
    ("framework-detail", "get"): (401, 200, 200, 200, 200, 200),
    ("framework-publish", "post"): (401, 403, 403, 403, 403, 400),
    ("framework-new-draft", "post"): (401, 403, 403, 403, 403, 201),
    ("framework-export", "get"): (401, 403, 403, 403, 403, 200),
    # Authoring (staff): no body refuses the import; the dry run needs a closed
    # cycle, which the matrix organisation has not.
    ("framework-import-file", "post"): (401, 403, 403, 403, 403, 400),
    ("framework-validate", "get"): (401, 403, 403, 403, 403, 200),
    ("framework-diff", "get"): (401, 403, 403, 403, 403, 200),
    ("framework-retire", "post"): (401, 403, 403, 403, 403, 200),
    ("framework-dry-run", "post"): (401, 403, 403, 403, 403, 400),
    ("dry-run-detail", "get"): (401, 403, 403, 403, 403, 200),
    ("organization-list", "get"): (401, 200, 200, 200, 200, 200),
    ("organization-detail", "get"): (401, 200, 200, 200, 404, 200),
    ("team-list", "get"): (401, 200, 200, 200, 200, 200),
    ("team-list", "post"): (401, 403, 403, 201, 404, 201),
    ("team-detail", "get"): (401, 200, 404, 200, 404, 200),
    ("team-detail", "patch"): (401, 403, 404, 200, 404, 200),
    ("team-detail", "delete"): (401, 403, 404, 400, 404, 400),
    ("team-tree", "get"): (401, 403, 403, 200, 404, 200),
    ("membership-list", "get"): (401, 200, 200, 200, 200, 200),
    ("membership-list", "post"): (401, 403, 403, 201, 404, 201),
    ("membership-detail", "get"): (401, 200, 404, 200, 404, 200),
    ("membership-detail", "patch"): (401, 403, 404, 200, 404, 200),
    ("membership-detail", "delete"): (401, 403, 404, 204, 404, 204),
    # Invitations waiting: only the organisation's leads (and staff) see any.
    ("invitation-list", "get"): (401, 200, 200, 200, 200, 200),
    ("invitation-detail", "get"): (401, 404, 404, 200, 404, 200),
    ("invitation-detail", "delete"): (401, 404, 404, 204, 404, 204),
    ("cycle-list", "get"): (401, 200, 200, 200, 200, 200),
    ("cycle-list", "post"): (401, 403, 403, 201, 404, 201),
    ("cycle-detail", "get"): (401, 200, 200, 200, 404, 200),
    ("cycle-detail", "patch"): (401, 403, 403, 200, 404, 200),
    ("cycle-open", "post"): (401, 403, 403, 200, 404, 200),
    ("cycle-close", "post"): (401, 403, 403, 200, 404, 200),
    ("cycle-completion", "get"): (401, 403, 403, 200, 404, 200),
    ("cycle-benchmarks", "get"): (401, 200, 200, 200, 404, 200),
    ("cycle-team-scores", "get"): (401, 403, 403, 200, 404, 200),
    ("assessment-list", "get"): (401, 200, 200, 200, 200, 200),
    ("assessment-detail", "get"): (401, 200, 404, 200, 404, 200),
    ("assessment-submit", "post"): (401, 400, 404, 400, 404, 400),
    ("assessment-reopen", "post"): (401, 403, 404, 400, 404, 400),
    ("assessment-scores", "get"): (401, 200, 404, 200, 404, 200),
    ("answer-list", "get"): (401, 200, 404, 200, 404, 200),
    ("answer-bulk", "post"): (401, 200, 404, 200, 404, 200),
    ("answer-detail", "get"): (401, 200, 404, 200, 404, 200),
    ("answer-detail", "put"): (401, 200, 404, 200, 404, 200),
    ("answer-history", "get"): (401, 200, 404, 200, 404, 200),
    # Consensus endpoints on the matrix's single-mode assessment: 403 (no individual
    # answers) within reach, 404 outside. Consensus-mode access:
    # tests/test_consensus_access.py.
    ("individual-answers", "get"): (401, 403, 404, 403, 404, 403),
    ("individual-answers", "put"): (401, 403, 404, 403, 404, 403),
    ("individual-submit", "post"): (401, 403, 404, 403, 404, 403),
    ("settle", "post"): (401, 403, 404, 403, 404, 403),
    ("disagreement", "get"): (401, 403, 404, 403, 404, 403),
    ("target-list", "get"): (401, 200, 200, 200, 200, 200),
    ("target-list", "post"): (401, 403, 403, 200, 404, 200),
    ("target-detail", "delete"): (401, 403, 403, 204, 404, 204),
    # Evidence: the organisation's leads; respondents never see uploads or mappings.
    ("evidence-upload-list", "get"): (401, 403, 403, 200, 404, 200),
    ("evidence-upload-list", "post"): (401, 403, 403, 201, 404, 201),
    ("evidence-upload-detail", "get"): (401, 404, 404, 200, 404, 200),
    ("evidence-upload-detail", "delete"): (401, 404, 404, 204, 404, 204),
    # The matrix sends no body (no Content-Length): refused once authorised.
    ("evidence-upload-content", "put"): (401, 404, 404, 411, 404, 411),
    ("evidence-ingestion-list", "get"): (401, 403, 403, 200, 404, 200),
    ("evidence-ingestion-list", "post"): (401, 403, 403, 201, 404, 201),
    ("evidence-ingestion-detail", "get"): (401, 404, 404, 200, 404, 200),
    ("evidence-mapping-list", "get"): (401, 403, 403, 200, 404, 200),
    # No evidence file on disk in the matrix: the mapping catches nothing.
    ("evidence-mapping-list", "post"): (401, 403, 403, 400, 404, 400),
    ("evidence-mapping-detail", "delete"): (401, 404, 404, 204, 404, 204),
    ("evidence-mapping-preview", "post"): (401, 403, 403, 400, 404, 400),
    ("evidence-period-list", "get"): (401, 403, 403, 200, 404, 200),
    ("evidence-measure-list", "get"): (401, 403, 403, 200, 404, 200),
    ("evidence-settings", "get"): (401, 403, 403, 200, 404, 200),
    ("evidence-settings", "patch"): (401, 403, 403, 200, 404, 200),
    ("evidence-invoice-total-list", "get"): (401, 403, 403, 200, 404, 200),
    ("evidence-invoice-total-list", "post"): (401, 403, 403, 200, 404, 200),
    ("evidence-invoice-total-detail", "delete"): (401, 404, 404, 204, 404, 204),
    ("evidence-folder-list", "get"): (401, 403, 403, 200, 404, 200),
    # Folder sources are off without EVIDENCE_IMPORT_ROOTS.
    ("evidence-folder-list", "post"): (401, 403, 403, 400, 404, 400),
    ("evidence-folder-scan", "post"): (401, 404, 404, 204, 404, 204),
    ("suggestion-list", "get"): (401, 200, 404, 200, 404, 200),
    # The matrix framework carries no measure: nothing to decide on.
    ("suggestion-decision", "post"): (401, 400, 404, 400, 404, 400),
    # Improvement: action items for the team's respondents and the leads; why the
    # scores moved as the assessment; initiatives and webhooks for leads only.
    ("action-item-list", "get"): (401, 200, 404, 200, 404, 200),
    ("action-item-list", "post"): (401, 201, 404, 201, 404, 201),
    ("action-item-detail", "get"): (401, 200, 404, 200, 404, 200),
    ("action-item-detail", "patch"): (401, 200, 404, 200, 404, 200),
    ("assessment-movements", "get"): (401, 200, 404, 200, 404, 200),
    ("initiative-list", "get"): (401, 403, 403, 200, 404, 200),
    ("initiative-list", "post"): (401, 403, 403, 201, 404, 201),
    ("webhook-list", "get"): (401, 403, 403, 200, 404, 200),
    ("webhook-list", "post"): (401, 403, 403, 201, 404, 201),
    ("webhook-delivery-list", "get"): (401, 404, 404, 200, 404, 200),
    ("webhook-delivery-replay", "post"): (401, 404, 404, 202, 404, 202),
    # Open to everyone: it signs in with the body's credentials (wrong ones here).
    ("token-create", "post"): (400, 400, 400, 400, 400, 400),
}

HTTP_METHODS = ["get", "post", "put", "patch", "delete"]


def api_routes():
    """(route name, path pattern, methods) of every route under /api/v1/."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace or namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if not route.startswith("api/v1/") or pattern.name is None:
                    continue
                callback = pattern.callback
                if hasattr(callback, "actions"):
                    # DRF adds "head" to a viewset's actions once it has served a GET.
                    methods = [m for m in HTTP_METHODS if m in callback.actions]
                else:
                    view = callback.view_class
                    methods = [m for m in HTTP_METHODS if hasattr(view, m)]
                found.append((pattern.name, f"{namespace}:{pattern.name}", methods))

    walk(get_resolver().url_patterns, "", None)
    return found


def test_every_api_route_has_a_policy(db):
    missing = [
        (name, method)
        for name, _full, methods in api_routes()
        for method in methods
        if (name, method) not in POLICY
    ]
    assert missing == []
    declared = {(name, m) for name, _f, methods in api_routes() for m in methods}
    assert set(POLICY) - declared == set()


@pytest.fixture
def matrix_data(
    org,
    framework,
    team_a,
    assessment_a,
    respondent_a,
    respondent_b,
    lead,
    outsider_lead,
    staff,
):
    question = Question.objects.filter(capability__framework=framework).first()
    target = Target.objects.create(organization=org, capability_key="cap-0", percent=60)
    membership = Membership.objects.get(user=respondent_a)
    invitation = invitation_create(
        organization=org,
        email="new@org-one.example",
        role="respondent",
        team=team_a,
        by=lead,
        site_url="https://finops.example.com",
    )
    personas = {
        "anonymous": None,
        "respondent_a": respondent_a,
        "respondent_b": respondent_b,
        "lead": lead,
        "outsider_lead": outsider_lead,
        "staff": staff,
    }
    from assessment.models import FrameworkDryRun

    dry_run = FrameworkDryRun.objects.create(framework=framework, organization=org)
    kwargs = {
        "framework": {"pk": framework.pk},
        "dry-run-detail": {"pk": dry_run.pk},
        "framework-import-file": {},
        "organization": {"slug": org.slug},
        "team": {"pk": team_a.pk},
        "membership": {"pk": membership.pk},
        "cycle": {"pk": assessment_a.cycle_id},
        "assessment": {"pk": assessment_a.pk},
        "answer": {"assessment_pk": assessment_a.pk, "question": question.key},
        "target": {"pk": target.pk},
        "invitation": {"pk": invitation.pk},
    }
    bodies = {
        ("team-list", "post"): {"organization": org.slug, "name": "New team"},
        ("team-detail", "patch"): {"name": "Team A renamed"},
        ("membership-list", "post"): {
            "organization": org.slug,
            "user": "bob",
            "role": "respondent",
            "team": team_a.pk,
        },
        ("membership-detail", "patch"): {"role": "respondent"},
        ("cycle-list", "post"): {
            "organization": org.slug,
            "framework": framework.pk,
            "name": "New cycle",
        },
        ("cycle-detail", "patch"): {"name": "Renamed cycle"},
        ("framework-dry-run", "post"): {"organization": org.pk},
        ("assessment-reopen", "post"): {"reason": "Wrong team answered."},
        ("answer-bulk", "post"): {
            "items": [{"question": question.key, "option_score": 2, "version": 0}]
        },
        ("answer-detail", "put"): {"option_score": 3, "version": 0},
        ("token-create", "post"): {"username": "alice", "password": "no", "name": "x"},
        ("target-list", "post"): {
            "organization": org.slug,
            "capability_key": "cap-1",
            "percent": 70,
        },
    }
    from evidence.tests.factories import evidence_objects

    evidence = evidence_objects(org=org, team=team_a, user=lead)
    by_org = {"organization": org.slug}
    query = {
        ("team-tree", "get"): {"organization": org.slug},
        **{
            (name, "get"): by_org
            for name in (
                "evidence-upload-list",
                "evidence-ingestion-list",
                "evidence-mapping-list",
                "evidence-period-list",
                "evidence-measure-list",
                "evidence-invoice-total-list",
                "evidence-folder-list",
            )
        },
    }
    kwargs |= {
        **{
            name: {}
            for name in (
                "evidence-upload-list",
                "evidence-ingestion-list",
                "evidence-mapping-list",
                "evidence-mapping-preview",
                "evidence-period-list",
                "evidence-measure-list",
                "evidence-invoice-total-list",
                "evidence-folder-list",
            )
        },
        "evidence-upload-detail": {"pk": evidence["upload"].pk},
        "evidence-upload-content": {"pk": evidence["upload"].pk},
        "evidence-ingestion-detail": {"pk": evidence["ingestion"].pk},
        "evidence-mapping-detail": {"pk": evidence["mapping"].pk},
        "evidence-settings": {"slug": org.slug},
        "evidence-invoice-total-detail": {"pk": evidence["invoice_total"].pk},
        "evidence-folder-scan": {"pk": evidence["folder"].pk},
        "suggestion-list": {"assessment_pk": assessment_a.pk},
        **{
            name: {"assessment_pk": assessment_a.pk}
            for name in (
                "individual-answers",
                "individual-submit",
                "settle",
                "disagreement",
            )
        },
        "suggestion-decision": {
            "assessment_pk": assessment_a.pk,
            "question": question.pk,
        },
    }
    bodies |= {
        ("evidence-upload-list", "post"): {
            "organization": org.slug,
            "name": "b.csv",
            "size": 10,
        },
        ("evidence-ingestion-list", "post"): {
            "organization": org.slug,
            "uploads": [str(evidence["upload"].pk)],
        },
        ("evidence-mapping-list", "post"): {
            "organization": org.slug,
            "team": team_a.pk,
            "kind": "tag",
            "key": "Owner",
            "value": "team-a",
        },
        ("evidence-mapping-preview", "post"): {"organization": org.slug},
        ("evidence-settings", "patch"): {"max_age_days": 60},
        ("evidence-invoice-total-list", "post"): {
            "organization": org.slug,
            "invoice_id": "INV-2",
            "total": "12.50",
        },
        ("evidence-folder-list", "post"): {"organization": org.slug, "path": "/tmp"},
        ("suggestion-decision", "post"): {"decision": "accepted"},
    }
    from improvement.tests.factories import improvement_objects

    improvement = improvement_objects(org=org, team=team_a, user=lead)
    kwargs |= {
        "action-item-list": {},
        "action-item-detail": {"pk": improvement["item"].pk},
        "assessment-movements": {"assessment_pk": assessment_a.pk},
        "initiative-list": {},
        "webhook-list": {},
        "webhook-delivery-list": {"pk": improvement["webhook"].pk},
        "webhook-delivery-replay": {"pk": improvement["delivery"].pk},
    }
    query |= {
        ("action-item-list", "get"): {"team": team_a.pk},
        ("initiative-list", "get"): by_org,
        ("webhook-list", "get"): by_org,
    }
    bodies |= {
        ("action-item-list", "post"): {
            "team": team_a.pk,
            "capability_key": "cap-0",
            "title": "Tag every account",
        },
        ("action-item-detail", "patch"): {"status": "in_progress"},
        ("initiative-list", "post"): {
            "organization": org.slug,
            "name": "All at 60",
            "capability_key": "cap-0",
            "target_percent": "60",
            "due_on": "2027-06-30",
            "scope": [team_a.pk],
        },
        ("webhook-list", "post"): {
            "organization": org.slug,
            "url": "https://hooks.example.com/finops",
        },
    }
    clients = {name: client_for(user) for name, user in personas.items()}
    return {"clients": clients, "kwargs": kwargs, "bodies": bodies, "query": query}


def _kwargs_for(name: str, kwargs: dict) -> dict:
    if name in kwargs:
        return kwargs[name]
    if name.startswith("answer-"):
        return (
            kwargs["answer"]
            if name != "answer-list" and name != "answer-bulk"
            else {"assessment_pk": kwargs["answer"]["assessment_pk"]}
        )
    if name == "assessment-scores":
        return {"assessment_pk": kwargs["assessment"]["pk"]}
    resource, _, kind = name.partition("-")
    if kind == "list" or name in ("team-tree", "token-create"):
        return {}
    return kwargs[resource]


def test_each_persona_gets_the_declared_status_on_every_route(matrix_data):
    got, expected = {}, {}
    for name, full_name, methods in api_routes():
        url = reverse(full_name, kwargs=_kwargs_for(name, matrix_data["kwargs"]))
        for method in methods:
            body = matrix_data["bodies"].get((name, method))
            query = matrix_data["query"].get((name, method))
            for persona, status in zip(PERSONAS, POLICY[(name, method)], strict=True):
                client = matrix_data["clients"][persona]
                with transaction.atomic():
                    if method == "get":
                        response = client.get(url, query)
                    else:
                        response = getattr(client, method)(url, body, format="json")
                    # Every request sees the same data: writes are rolled back.
                    transaction.set_rollback(True)
                got[(name, method, persona)] = response.status_code
                expected[(name, method, persona)] = status
    assert len(got) == sum(len(m) for _n, _f, m in api_routes()) * len(PERSONAS)
    mismatches = {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}
    assert mismatches == {}

"""Property-based checks of the whole API against its own OpenAPI schema.

schemathesis generates requests for every operation from /api/schema/ and sends each
as a lead and as a respondent (token header). No response may be a server error,
and every documented response must match its schema. Path ids are mostly replaced
by ids of real objects, so the operations reach the services rather than a 404.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from assessment.services import assessment_submit
from assessment.tests.factories import answer_all
from benchmarks.services import rollup_recompute
from tests.api_support import *  # noqa: F403
from tests.api_support import token_for

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, response_schema_conformance]
# Examples per operation: valid requests, and requests the schema says are invalid.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}


@pytest.fixture
def seeded(
    org,
    framework,
    team_a,
    team_b,
    api_cycle,
    assessment_a,
    assessment_b,
    lead,
    respondent_a,
    respondent_b,
):
    """Teams A (in progress) and B (submitted, rolled up) in an open cycle."""
    from assessment.models import Membership, Target

    answer_all(assessment_b, score=3)
    assessment_submit(assessment=assessment_b, user=respondent_b)
    rollup_recompute(cycle_id=api_cycle.pk, force=True)
    target = Target.objects.create(organization=org, capability_key="cap-0", percent=60)
    membership = Membership.objects.get(user=respondent_a)
    return {
        "keys": [token_for(lead), token_for(respondent_a)],
        "ids": {
            "assessment_pk": assessment_a.pk,
            "assessments": assessment_a.pk,
            "cycles": api_cycle.pk,
            "teams": team_a.pk,
            "memberships": membership.pk,
            "frameworks": framework.pk,
            "targets": target.pk,
            "organizations": org.slug,
            "question": "cap-0-knowledge-0",
        },
    }


def _use_real_ids(case, ids: dict) -> None:
    """Point most generated path parameters at the seeded objects."""
    parameters = case.path_parameters or {}
    parts = [part for part in case.path.split("/") if part]
    for name, value in list(parameters.items()):
        if isinstance(value, int) and value % 3 == 0:
            continue  # keep some random ids: they must answer 404, never 500
        if name in ids:
            parameters[name] = ids[name]
        elif name in ("id", "slug"):
            resource = parts[parts.index("{" + name + "}") - 1]
            parameters[name] = ids.get(resource, value)


def _check_operation(operation, mode, seeded) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        _use_real_ids(case, seeded["ids"])
        for key in seeded["keys"]:
            response = case.call(headers={"Authorization": f"Token {key}"})
            case.validate_response(response, checks=CHECKS)

    check()


@pytest.fixture
def keep_the_test_connection():
    """Calling the WSGI app directly would close the test's connection after each
    request (Django's test client avoids this the same way)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_operation_conforms_to_the_schema(seeded, keep_the_test_connection):
    from finops_portal.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 90
    for operation in operations:
        for mode in EXAMPLES:
            _check_operation(operation, mode, seeded)

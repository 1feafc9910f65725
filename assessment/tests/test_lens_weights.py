"""Lens weights are validated by one validator on every way in: the cycle form, the
API and ``import_org``; a bad weight is a clear error and nothing is written."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from assessment import cycles
from assessment.backup import org_export
from assessment.models import Cycle, Organization
from tests.api_support import client_for as api_client

pytestmark = pytest.mark.django_db

FOUNDATION = cycles.FOUNDATION_LENS_WEIGHTS
NEGATIVE = {**FOUNDATION, "process": -25}
ALL_ZERO = dict.fromkeys(FOUNDATION, 0)
MISSING = {k: v for k, v in FOUNDATION.items() if k != "automation"}
TEXT = {**FOUNDATION, "metrics": "twenty"}

BAD = {
    "negative": (NEGATIVE, "The weight of process must be a positive number."),
    "all zero": (ALL_ZERO, "The weight of knowledge must be a positive number."),
    "missing lens": (MISSING, "Give a weight for every lens; missing: automation."),
    "text": (TEXT, "The weight of metrics must be a number, not “twenty”."),
}


@pytest.mark.parametrize("case", list(BAD))
def test_the_validator_refuses(case, framework):
    weights, message = BAD[case]
    with pytest.raises(cycles.ValidationError) as exc:
        cycles.lens_weights_clean(framework=framework, lens_weights=weights)
    assert exc.value.message_dict == {"lens_weights": [message]}


def test_the_validator_keeps_good_weights(framework):
    assert cycles.lens_weights_clean(framework=framework, lens_weights=FOUNDATION) == (
        FOUNDATION
    )
    assert cycles.lens_weights_clean(framework=framework, lens_weights={}) == {}


FORM_ERRORS = {
    # the form's own field check puts this one next to the field
    "negative": {
        "weight_process": ["Ensure this value is greater than or equal to 0."]
    },
    "all zero": {"lens_weights": [BAD["all zero"][1]]},
    "missing lens": {"lens_weights": [BAD["missing lens"][1]]},
}


@pytest.mark.parametrize("case", list(FORM_ERRORS))
def test_the_cycle_form_shows_the_error_and_writes_nothing(
    case, lead, org, team_a, framework
):
    weights = BAD[case][0]
    client = Client()
    client.force_login(lead)
    response = client.post(
        f"/lead/{org.slug}/cycles/",
        {
            "name": "Weighted",
            "framework": framework.pk,
            "team_ids": [team_a.pk],
            "lens_weights": "custom",
            **{f"weight_{k}": v for k, v in weights.items()},
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors == FORM_ERRORS[case]
    assert not Cycle.objects.filter(name="Weighted").exists()


def test_the_cycle_form_refuses_text_next_to_the_field(lead, org, team_a, framework):
    client = Client()
    client.force_login(lead)
    response = client.post(
        f"/lead/{org.slug}/cycles/",
        {
            "name": "Weighted",
            "framework": framework.pk,
            "team_ids": [team_a.pk],
            "lens_weights": "custom",
            **{f"weight_{k}": v for k, v in TEXT.items()},
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["weight_metrics"] == ["Enter a number."]
    assert not Cycle.objects.filter(name="Weighted").exists()


@pytest.mark.parametrize("case", ["negative", "all zero", "missing lens"])
def test_the_api_answers_400_and_writes_nothing(case, lead, org, team_a, framework):
    weights, message = BAD[case]
    response = api_client(lead).post(
        "/api/v1/cycles/",
        {
            "organization": org.slug,
            "framework": framework.pk,
            "name": "Weighted",
            "teams": [team_a.pk],
            "lens_weights": weights,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"lens_weights": [message]}
    assert not Cycle.objects.filter(name="Weighted").exists()


def test_the_api_refuses_text(lead, org, framework):
    response = api_client(lead).post(
        "/api/v1/cycles/",
        {
            "organization": org.slug,
            "framework": framework.pk,
            "name": "Weighted",
            "lens_weights": TEXT,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "lens_weights": {"metrics": ["A valid number is required."]}
    }
    assert not Cycle.objects.filter(name="Weighted").exists()


@pytest.mark.parametrize("case", list(BAD))
def test_import_org_refuses_and_writes_nothing(case, org, team_a, framework, tmp_path):
    weights, message = BAD[case]
    cycle = Cycle.objects.create(organization=org, framework=framework, name="2026 Q1")
    cycle.teams.set([team_a])
    data = org_export(organization=org)
    data["cycles"][0]["lens_weights"] = weights
    path = tmp_path / "org.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as exc:
        call_command("import_org", str(path), "--slug", "imported")
    assert str(exc.value) == f"Cycle “2026 Q1”, lens_weights: {message}"
    assert not Organization.objects.filter(slug="imported").exists()
    assert Cycle.objects.count() == 1


def test_import_org_keeps_good_weights(org, team_a, framework, tmp_path):
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="2026 Q1", lens_weights=FOUNDATION
    )
    cycle.teams.set([team_a])
    path = tmp_path / "org.json"
    path.write_text(json.dumps(org_export(organization=org)))
    call_command("import_org", str(path), "--slug", "imported")
    assert Cycle.objects.get(organization__slug="imported").lens_weights == FOUNDATION

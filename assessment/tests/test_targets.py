import math

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from assessment.models import Target
from assessment.targets import (
    TARGET_NOT_A_NUMBER_MSG,
    TARGET_RANGE_MSG,
    TARGET_TEAM_ELSEWHERE_MSG,
    resolve_targets,
    target_clear,
    target_set,
    targets_frame,
    targets_version,
    team_targets,
)
from finops_portal.audit import AuditEvent


@pytest.mark.django_db
def test_target_set_stores_the_default_and_audits_it(org, lead):
    target = target_set(organization=org, capability_key="cap-0", percent=75, user=lead)
    assert (target.team, target.percent) == (None, 75)
    event = AuditEvent.objects.get(action="target.set")
    assert event.actor == lead
    assert event.summary == "Target for cap-0 (organisation default) set to 75.00%"


@pytest.mark.django_db
def test_target_set_updates_instead_of_duplicating(org):
    target_set(organization=org, capability_key="cap-0", percent=50)
    target_set(organization=org, capability_key="cap-0", percent="60.5")
    assert list(Target.objects.values_list("percent", flat=True)) == [60.5]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, "0.5", 101, -1])
def test_target_set_refuses_values_outside_1_to_100(org, value):
    with pytest.raises(ValidationError) as error:
        target_set(organization=org, capability_key="cap-0", percent=value)
    assert error.value.messages == [TARGET_RANGE_MSG]
    assert not Target.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "abc", "nan", "inf"])
def test_target_set_refuses_what_is_not_a_number(org, value):
    with pytest.raises(ValidationError) as error:
        target_set(organization=org, capability_key="cap-0", percent=value)
    assert error.value.messages == [TARGET_NOT_A_NUMBER_MSG]


@pytest.mark.django_db
def test_target_set_refuses_a_team_of_another_organisation(org, other_team):
    with pytest.raises(ValidationError) as error:
        target_set(
            organization=org, capability_key="cap-0", percent=50, team=other_team
        )
    assert error.value.messages == [TARGET_TEAM_ELSEWHERE_MSG]


@pytest.mark.django_db
def test_team_override_beats_the_default(org, team_a, team_b):
    target_set(organization=org, capability_key="cap-0", percent=50)
    target_set(organization=org, capability_key="cap-0", percent=80, team=team_a)
    pairs = pd.DataFrame(
        {
            "team_id": [team_a.id, team_b.id, team_a.id],
            "capability_key": ["cap-0", "cap-0", "cap-1"],
        }
    )
    resolved = resolve_targets(pairs, targets_frame(organization=org))
    assert resolved.iloc[:2].tolist() == [80.0, 50.0]
    assert math.isnan(resolved.iloc[2])


@pytest.mark.django_db
def test_team_targets_agree_with_resolve_targets(org, team_a, team_b):
    target_set(organization=org, capability_key="cap-0", percent=50)
    target_set(organization=org, capability_key="cap-1", percent=60)
    target_set(organization=org, capability_key="cap-0", percent=80, team=team_a)
    target_set(organization=org, capability_key="cap-2", percent=90, team=team_b)
    keys = ["cap-0", "cap-1", "cap-2"]
    frame = targets_frame(organization=org)
    for team in (team_a, team_b):
        pairs = pd.DataFrame({"team_id": team.id, "capability_key": keys})
        expected = resolve_targets(pairs, frame).tolist()
        got = team_targets(organization_id=org.id, team_id=team.id)
        assert [got.get(k, math.nan) for k in keys] == pytest.approx(
            expected, nan_ok=True
        )
    assert team_targets(organization_id=org.id, team_id=team_a.id) == {
        "cap-0": 80.0,
        "cap-1": 60.0,
    }


@pytest.mark.django_db
def test_target_clear_removes_only_that_target(org, team_a, lead):
    target_set(organization=org, capability_key="cap-0", percent=50)
    target_set(organization=org, capability_key="cap-0", percent=80, team=team_a)
    assert target_clear(organization=org, capability_key="cap-0", team=team_a)
    assert not target_clear(organization=org, capability_key="cap-0", team=team_a)
    assert list(Target.objects.values_list("team", "percent")) == [(None, 50)]
    assert AuditEvent.objects.filter(action="target.clear").count() == 1


@pytest.mark.django_db
def test_targets_frame_keeps_its_columns_when_empty(org):
    frame = targets_frame(organization=org)
    assert list(frame.columns) == ["team_id", "capability_key", "percent"]
    assert frame.empty


@pytest.mark.django_db(transaction=True)
def test_a_target_change_bumps_the_cache_version(org):
    before = targets_version(organization_id=org.id)
    target_set(organization=org, capability_key="cap-0", percent=50)
    assert targets_version(organization_id=org.id) == before + 1


def test_resolve_targets_without_targets_gives_nan():
    pairs = pd.DataFrame({"team_id": [1], "capability_key": ["a"]})
    empty = pd.DataFrame(
        {
            "team_id": pd.Series(dtype="Int64"),
            "capability_key": pd.Series(dtype=object),
            "percent": pd.Series(dtype=float),
        }
    )
    assert math.isnan(resolve_targets(pairs, empty).iloc[0])

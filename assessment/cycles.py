"""Assessment cycles: plan, change, open and close them.

Services take keyword arguments, validate, write and record an audit event for
every administrative action. Errors are ``ValidationError``s keyed by the argument
name, so forms and API serializers can place each message next to its field.
Reads (cycle lists, the completion board) are in ``selectors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from capabilities.models import Capability, Framework
from capabilities.selectors import framework_lenses
from finops_portal.audit import audit_record
from finops_portal.events import event_publish
from finops_portal.queue import enqueue

from .models import (
    Assessment,
    Cycle,
    Organization,
    Team,
)
from .organizations import NAME_REQUIRED_MSG

# --- messages ---------------------------------------------------------------------

FRAMEWORK_NOT_PUBLISHED_MSG = "Only a published framework can be used."
FRAMEWORK_SUPERSEDED_MSG = (
    "{framework} has been superseded by a later version; new cycles use the "
    "current version."
)
CYCLE_NAME_TAKEN_MSG = "The organisation already has a cycle named “{name}”."
CLOSES_BEFORE_OPENS_MSG = "The due date cannot be before the opening date."
TEAMS_OTHER_ORG_MSG = "Some teams do not belong to this organisation."
TEAMS_NOT_TEAMS_MSG = "Only teams can be assessed, not business units."
NO_TEAMS_MSG = "Choose at least one team (add teams to the organisation first)."
CAPABILITIES_OTHER_FRAMEWORK_MSG = "Some capabilities are not in the chosen framework."
LENS_WEIGHTS_NOT_A_MAPPING_MSG = "Lens weights must map lens keys to numbers."
LENS_WEIGHTS_UNKNOWN_MSG = (
    "Unknown lens key(s): {keys}. The framework's lenses are {known}."
)
LENS_WEIGHTS_MISSING_MSG = "Give a weight for every lens; missing: {keys}."
LENS_WEIGHT_NOT_POSITIVE_MSG = "The weight of {key} must be a positive number."
LENS_WEIGHT_NOT_A_NUMBER_MSG = "The weight of {key} must be a number, not “{value}”."
CYCLE_NOT_PLANNED_MSG = (
    "Teams, capabilities and lens weights can only change while the cycle is planned."
)
CYCLE_CLOSED_MSG = "A closed cycle cannot be changed."
CYCLE_OPEN_CLOSED_MSG = "A closed cycle cannot be opened again."
CYCLE_CLOSE_PLANNED_MSG = "Only an open cycle can be closed."

# The FinOps Foundation's example weighting (Knowledge 30, Process 25, Metrics 20,
# Adoption 20, Automation 5).
FOUNDATION_LENS_WEIGHTS = {
    "knowledge": 30,
    "process": 25,
    "metrics": 20,
    "adoption": 20,
    "automation": 5,
}
LENS_WEIGHT_PRESETS = {
    "default": {},
    "foundation": FOUNDATION_LENS_WEIGHTS,
}
# What a change of a cycle's scores starts (a task of a higher app, by its name).
ROLLUP_TASK = "benchmarks.tasks.rollup_cycle"


# --- cycles -------------------------------------------------------------------------


def lens_weights_clean(*, framework: Framework, lens_weights) -> dict:
    """The one validator of a cycle's lens weights, on every way in (the cycle form
    and the API through the cycle services, ``import_org`` directly):
    ``{lens key: positive number}`` for every lens of the framework, nothing else;
    empty means the framework default. Raises ``ValidationError`` keyed
    ``lens_weights``; returns the weights as ints where whole."""
    if lens_weights is None or lens_weights == {}:
        return {}
    if not isinstance(lens_weights, dict):
        raise ValidationError({"lens_weights": LENS_WEIGHTS_NOT_A_MAPPING_MSG})
    known = [lens["key"] for lens in framework_lenses(framework_id=framework.pk)]
    unknown = sorted(set(map(str, lens_weights)) - set(known))
    if unknown:
        raise ValidationError(
            {
                "lens_weights": LENS_WEIGHTS_UNKNOWN_MSG.format(
                    keys=", ".join(map(str, unknown)), known=", ".join(known)
                )
            }
        )
    missing = [k for k in known if k not in lens_weights]
    if missing:
        raise ValidationError(
            {"lens_weights": LENS_WEIGHTS_MISSING_MSG.format(keys=", ".join(missing))}
        )
    weights: dict = {}
    for key in known:
        value = lens_weights[key]
        if isinstance(value, str):
            raise ValidationError(
                {
                    "lens_weights": LENS_WEIGHT_NOT_A_NUMBER_MSG.format(
                        key=key, value=str(value)[:40]
                    )
                }
            )
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            number = None
        if isinstance(value, bool) or number is None or not number.is_finite():
            number = None
        if number is None or number <= 0:
            raise ValidationError(
                {"lens_weights": LENS_WEIGHT_NOT_POSITIVE_MSG.format(key=key)}
            )
        weights[key] = int(number) if number == number.to_integral() else float(number)
    return weights


def _check_dates(opens_on: date | None, closes_on: date | None) -> None:
    if opens_on and closes_on and closes_on < opens_on:
        raise ValidationError({"closes_on": CLOSES_BEFORE_OPENS_MSG})


def _scope_teams(*, organization: Organization, team_ids) -> list[int]:
    if team_ids is None:
        ids = list(
            Team.objects.filter(
                organization=organization, kind=Team.Kind.TEAM
            ).values_list("id", flat=True)
        )
    else:
        wanted = {int(pk) for pk in team_ids}
        rows = list(
            Team.objects.filter(pk__in=wanted).values_list(
                "id", "organization_id", "kind"
            )
        )
        if len(rows) != len(wanted) or any(
            org_id != organization.id for _pk, org_id, _kind in rows
        ):
            raise ValidationError({"team_ids": TEAMS_OTHER_ORG_MSG})
        if any(kind != Team.Kind.TEAM for _pk, _org, kind in rows):
            raise ValidationError({"team_ids": TEAMS_NOT_TEAMS_MSG})
        ids = [pk for pk, _org, _kind in rows]
    if not ids:
        raise ValidationError({"team_ids": NO_TEAMS_MSG})
    return ids


def _scope_capabilities(*, framework: Framework, capability_ids) -> list[int]:
    """Capability ids in scope; an empty list means every capability."""
    if not capability_ids:
        return []
    wanted = {int(pk) for pk in capability_ids}
    found = set(
        Capability.objects.filter(pk__in=wanted, framework=framework).values_list(
            "id", flat=True
        )
    )
    if found != wanted:
        raise ValidationError({"capability_ids": CAPABILITIES_OTHER_FRAMEWORK_MSG})
    return sorted(found)


@transaction.atomic
def cycle_create(
    *,
    organization: Organization,
    framework: Framework,
    name: str,
    opens_on: date | None = None,
    closes_on: date | None = None,
    team_ids=None,
    capability_ids=None,
    lens_weights=None,
    user=None,
) -> Cycle:
    """Plan a cycle. Teams default to every team of the organisation (not business
    units), capabilities to all of the framework, lens weights to its default."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": NAME_REQUIRED_MSG})
    if framework is None or framework.status != Framework.Status.PUBLISHED:
        raise ValidationError({"framework": FRAMEWORK_NOT_PUBLISHED_MSG})
    if framework.is_superseded:
        raise ValidationError(
            {"framework": FRAMEWORK_SUPERSEDED_MSG.format(framework=framework)}
        )
    if Cycle.objects.filter(organization=organization, name__iexact=name).exists():
        raise ValidationError({"name": CYCLE_NAME_TAKEN_MSG.format(name=name)})
    _check_dates(opens_on, closes_on)
    teams = _scope_teams(organization=organization, team_ids=team_ids)
    capabilities = _scope_capabilities(
        framework=framework, capability_ids=capability_ids
    )
    weights = lens_weights_clean(framework=framework, lens_weights=lens_weights)
    cycle = Cycle.objects.create(
        organization=organization,
        framework=framework,
        name=name,
        opens_on=opens_on,
        closes_on=closes_on,
        lens_weights=weights,
    )
    cycle.teams.set(teams)
    if capabilities:
        cycle.capabilities.set(capabilities)
    audit_record(
        organization=organization,
        actor=user,
        action="cycle.create",
        summary=f"Planned cycle {cycle.name} ({framework}, {len(teams)} teams)",
        cycle_id=cycle.id,
        framework_id=framework.id,
        teams=len(teams),
        capabilities=len(capabilities) or "all",
        lens_weights=weights,
    )
    return cycle


_UNCHANGED = object()


@transaction.atomic
def cycle_update(
    *,
    cycle: Cycle,
    name: str | None = None,
    opens_on=_UNCHANGED,
    closes_on=_UNCHANGED,
    team_ids=None,
    capability_ids=None,
    lens_weights=None,
    user=None,
) -> Cycle:
    """Edit a cycle. Name and dates change until it closes; teams, capabilities and
    lens weights only while it is planned. ``None`` leaves a value as it is;
    ``capability_ids=[]`` means all capabilities, ``lens_weights={}`` the default."""
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.is_closed:
        raise ValidationError(CYCLE_CLOSED_MSG)
    scope_change = any(v is not None for v in (team_ids, capability_ids, lens_weights))
    if scope_change and cycle.status != Cycle.Status.PLANNED:
        raise ValidationError(CYCLE_NOT_PLANNED_MSG)
    changes: dict = {}
    fields: list[str] = []
    if name is not None and name.strip() != cycle.name:
        new_name = name.strip()
        if not new_name:
            raise ValidationError({"name": NAME_REQUIRED_MSG})
        if (
            Cycle.objects.filter(
                organization_id=cycle.organization_id, name__iexact=new_name
            )
            .exclude(pk=cycle.pk)
            .exists()
        ):
            raise ValidationError({"name": CYCLE_NAME_TAKEN_MSG.format(name=new_name)})
        changes["name"] = [cycle.name, new_name]
        cycle.name = new_name
        fields.append("name")
    new_opens = cycle.opens_on if opens_on is _UNCHANGED else opens_on
    new_closes = cycle.closes_on if closes_on is _UNCHANGED else closes_on
    _check_dates(new_opens, new_closes)
    if new_opens != cycle.opens_on:
        changes["opens_on"] = [str(cycle.opens_on), str(new_opens)]
        cycle.opens_on = new_opens
        fields.append("opens_on")
    if new_closes != cycle.closes_on:
        changes["closes_on"] = [str(cycle.closes_on), str(new_closes)]
        cycle.closes_on = new_closes
        fields.append("closes_on")
    if lens_weights is not None:
        weights = lens_weights_clean(
            framework=cycle.framework, lens_weights=lens_weights
        )
        if weights != cycle.lens_weights:
            changes["lens_weights"] = [cycle.lens_weights, weights]
            cycle.lens_weights = weights
            fields.append("lens_weights")
    if fields:
        cycle.save(update_fields=fields)
    if team_ids is not None:
        teams = _scope_teams(organization=cycle.organization, team_ids=team_ids)
        cycle.teams.set(teams)
        changes["teams"] = len(teams)
    if capability_ids is not None:
        caps = _scope_capabilities(
            framework=cycle.framework, capability_ids=capability_ids
        )
        cycle.capabilities.set(caps)
        changes["capabilities"] = len(caps) or "all"
    if changes:
        audit_record(
            organization=cycle.organization,
            actor=user,
            action="cycle.update",
            summary=f"Changed cycle {cycle.name}",
            cycle_id=cycle.id,
            changes=changes,
        )
    return cycle


@transaction.atomic
def cycle_open(*, cycle: Cycle, user=None, carry_forward: bool = False) -> Cycle:
    """Open a planned cycle: one assessment per team in scope. Idempotent: opening an
    open cycle only adds assessments that are missing. With ``carry_forward``, each
    team's answers are pre-filled from its last submitted assessment (through the
    mapping when the framework version changed), marked until confirmed."""
    cycle = (
        Cycle.objects.select_for_update()
        .select_related("organization", "framework")
        .get(pk=cycle.pk)
    )
    if cycle.is_closed:
        raise ValidationError(CYCLE_OPEN_CLOSED_MSG)
    team_ids = list(cycle.teams.values_list("id", flat=True))
    if not team_ids:
        raise ValidationError(NO_TEAMS_MSG)
    created = Assessment.objects.bulk_create(
        [Assessment(cycle=cycle, team_id=pk, mode=cycle.mode) for pk in team_ids],
        ignore_conflicts=True,
    )
    if cycle.status == Cycle.Status.PLANNED:
        cycle.status = Cycle.Status.OPEN
        cycle.opened_at = timezone.now()
        cycle.save(update_fields=["status", "opened_at"])
        audit_record(
            organization=cycle.organization,
            actor=user,
            action="cycle.open",
            summary=f"Opened cycle {cycle.name} for {len(created)} teams",
            cycle_id=cycle.id,
            teams=len(team_ids),
        )
        event_publish(
            topic="cycle.opened",
            organization_id=cycle.organization_id,
            actor=user,
            payload={"cycle_id": cycle.id},
        )
    if carry_forward:
        from .editions import carry_forward as carry

        carried = carry(cycle=cycle)
        if carried["answers"]:
            audit_record(
                organization=cycle.organization,
                actor=user,
                action="cycle.carry_forward",
                summary=f"Carried {carried['answers']} answers forward into "
                f"{carried['assessments']} assessments of {cycle.name}",
                cycle_id=cycle.id,
                **carried,
            )
    return cycle


CLOSE_NOTHING_SUBMITTED_MSG = (
    "No team has submitted yet. Closing now ends the cycle with no results: teams "
    "can no longer answer or submit, and the reports and dashboard stay empty for "
    "this cycle (saved answers are kept, unscored)."
)
OPEN_OVERLAPS_MSG = (
    "“{other}” is still open{due}. Opening this cycle as well gives the teams in "
    "both two assessments to answer at the same time, and each cycle's results "
    "count only the answers given in it."
)


def _overlaps(cycle: Cycle, other: Cycle) -> bool:
    """Whether ``other``'s period overlaps ``cycle``'s (a missing date is open-ended;
    a cycle opened without a start date starts today)."""
    start = cycle.opens_on or organization_today(cycle.organization)
    other_start = other.opens_on or date.min
    end = cycle.closes_on or date.max
    other_end = other.closes_on or date.max
    return other_start <= end and start <= other_end


def cycle_transition_warnings(*, cycle: Cycle, action: str) -> list[str]:
    """What the lead should know before opening or closing ``cycle``: closing with
    nothing submitted, opening while another open cycle overlaps it."""
    warnings = []
    if (
        action == "close"
        and not cycle.assessments.filter(status=Assessment.Status.SUBMITTED).exists()
    ):
        warnings.append(CLOSE_NOTHING_SUBMITTED_MSG)
    if action == "open":
        others = Cycle.objects.filter(
            organization_id=cycle.organization_id, status=Cycle.Status.OPEN
        ).exclude(pk=cycle.pk)
        for other in others.order_by("closes_on", "pk"):
            if _overlaps(cycle, other):
                due = f" (due {other.closes_on:%-d %b %Y})" if other.closes_on else ""
                warnings.append(OPEN_OVERLAPS_MSG.format(other=other.name, due=due))
    return warnings


@transaction.atomic
def cycle_close(*, cycle: Cycle, user=None) -> Cycle:
    """Close an open cycle: nothing more is written to it. Closing twice is a no-op."""
    cycle = (
        Cycle.objects.select_for_update()
        .select_related("organization")
        .get(pk=cycle.pk)
    )
    if cycle.is_closed:
        return cycle
    if cycle.status != Cycle.Status.OPEN:
        raise ValidationError(CYCLE_CLOSE_PLANNED_MSG)
    cycle.status = Cycle.Status.CLOSED
    cycle.closed_at = timezone.now()
    cycle.save(update_fields=["status", "closed_at"])
    audit_record(
        organization=cycle.organization,
        actor=user,
        action="cycle.close",
        summary=f"Closed cycle {cycle.name}",
        cycle_id=cycle.id,
    )
    event_publish(
        topic="cycle.closed",
        organization_id=cycle.organization_id,
        actor=user,
        payload={"cycle_id": cycle.id},
    )
    return cycle


DUE_PLANNED = "planned"
DUE_OPEN = "open"
DUE_TODAY = "due_today"
DUE_OVERDUE = "overdue"
DUE_CLOSED = "closed"


def organization_today(organization: Organization, now=None) -> date:
    """The date it is now in the organisation's time zone (what "due today" means)."""
    moment = now or timezone.now()
    return moment.astimezone(ZoneInfo(organization.time_zone or "UTC")).date()


def cycle_due_state(cycle: Cycle, today: date) -> str:
    """Where a cycle stands against its due date on ``today`` (the organisation's
    date): planned, open, due_today, overdue (open past its due date) or closed."""
    if cycle.status == Cycle.Status.CLOSED:
        return DUE_CLOSED
    if cycle.status == Cycle.Status.PLANNED:
        return DUE_PLANNED
    if cycle.closes_on is None or today < cycle.closes_on:
        return DUE_OPEN
    return DUE_TODAY if today == cycle.closes_on else DUE_OVERDUE


def cycle_scores_changed(
    *, cycle_id: int, assessment_ids: Sequence[int] | None = None
) -> None:
    """Record, in the caller's transaction, that the cycle's stored team scores
    changed (a submit, a reopen, an import): its ``scores_generation`` goes up and,
    after commit, its roll-up is enqueued by task name. A broker outage only
    delays it: the roll-up's beat sweeper recomputes every cycle whose generation
    is ahead of its snapshot.

    The changed assessments (all of the cycle's when ``assessment_ids`` is None)
    take the new generation, so the roll-up can update only what they move. The
    cycle row's lock, held to commit, orders concurrent changes of one cycle."""
    Cycle.objects.filter(pk=cycle_id).update(
        scores_generation=F("scores_generation") + 1,
        scores_changed_at=timezone.now(),
    )
    changed = Assessment.objects.filter(cycle_id=cycle_id)
    if assessment_ids is not None:
        changed = changed.filter(pk__in=list(assessment_ids))
    changed.update(
        scores_generation=Subquery(
            Cycle.objects.filter(pk=cycle_id).values("scores_generation")[:1]
        )
    )
    transaction.on_commit(
        partial(
            enqueue, ROLLUP_TASK, cycle_id, what=f"the roll-up of cycle {cycle_id}"
        ),
        robust=True,
    )

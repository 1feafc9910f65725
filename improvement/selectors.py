"""Reads for improvement pages: a team's plan beside its gaps, why each score
moved since the team's previous cycle, initiatives' progress from the roll-up
snapshot, and the executive summary. Every function issues a fixed number of
queries, whatever the number of teams or answers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from fractions import Fraction

from django.db.models import F
from django.utils import timezone

from assessment import scoring
from assessment.models import Answer, Assessment, CapabilityScore, Cycle, Team
from assessment.selectors import questions_in_scope
from assessment.targets import resolve_targets, targets_frame, team_targets
from benchmarks.models import TeamRank
from capabilities.selectors import framework_lenses, lens_weights
from finops_portal.audit import AuditEvent

from . import movement
from .models import ActionItem, Initiative

TARGET_ACTIONS = ("target.set", "target.clear")


# --- plans ------------------------------------------------------------------------


def plan_items(*, team_ids) -> list[ActionItem]:
    """The teams' action items, open ones first, with owners (one query)."""
    return list(
        ActionItem.objects.filter(team_id__in=list(team_ids))
        .select_related("owner", "team")
        .order_by(
            "team__name", "capability_key", F("due_on").asc(nulls_last=True), "id"
        )
    )


def items_by_capability(items) -> dict[str, list[ActionItem]]:
    grouped: dict[str, list[ActionItem]] = defaultdict(list)
    for item in items:
        grouped[item.capability_key].append(item)
    return dict(grouped)


def assessment_gaps(*, assessment: Assessment) -> list[dict]:
    """Per capability of a submitted assessment: percent, target and gap, largest
    gap first (two queries)."""
    rows = (
        CapabilityScore.objects.filter(assessment=assessment)
        .order_by("capability__order")
        .values("capability__key", "capability__name", "percent", "level_key")
    )
    targets = team_targets(
        organization_id=assessment.cycle.organization_id, team_id=assessment.team_id
    )
    out = []
    for row in rows:
        target = targets.get(row["capability__key"])
        percent = row["percent"]
        gap = None
        if target is not None and percent is not None:
            gap = round(target - percent, 1)
        out.append(
            {
                "key": row["capability__key"],
                "name": row["capability__name"],
                "percent": None if percent is None else round(percent, 1),
                "target": target,
                "gap": gap,
                "level_key": row["level_key"],
            }
        )
    return out


# --- why the score moved ----------------------------------------------------------


def previous_assessment(*, assessment: Assessment) -> Assessment | None:
    """The team's submitted assessment of the cycle before this one (by opening
    date, then id), if any."""
    earlier = Assessment.objects.filter(
        team_id=assessment.team_id, status=Assessment.Status.SUBMITTED
    ).exclude(pk=assessment.pk)
    opens = assessment.cycle.opens_on
    if opens is not None:
        earlier = earlier.filter(cycle__opens_on__lt=opens)
    else:
        earlier = earlier.filter(cycle_id__lt=assessment.cycle_id)
    return (
        earlier.select_related("cycle", "team")
        .order_by(F("cycle__opens_on").desc(nulls_last=True), "-cycle_id")
        .first()
    )


def _moment(assessment: Assessment) -> dt.datetime:
    return assessment.submitted_at or assessment.cycle.closed_at or timezone.now()


def targets_at(
    *, assessment: Assessment, capability_keys: list[str]
) -> dict[str, Fraction | None]:
    """The team's target per capability as it stood when the assessment was
    submitted, replayed from the audit trail of target changes (the team's own
    target beats the default, as ``assessment.targets`` resolves them): none
    when the trail's first change of the key came later; keys the trail never
    mentions take today's target (one or two queries)."""
    organization_id = assessment.cycle.organization_id
    moment = _moment(assessment)
    events = (
        AuditEvent.objects.filter(
            organization_id=organization_id, action__in=TARGET_ACTIONS
        )
        .order_by("at", "id")
        .values_list("action", "detail", "at")
    )
    own: dict[str, float | None] = {}
    default: dict[str, float | None] = {}
    seen: set[str] = set()
    for action, detail, at in events:
        key = detail.get("capability_key")
        if key not in capability_keys:
            continue
        seen.add(key)
        if at > moment:
            continue
        value = float(detail["percent"]) if action == "target.set" else None
        if detail.get("team_id") == assessment.team_id:
            own[key] = value
        elif detail.get("team_id") is None:
            default[key] = value
    current = {}
    if set(capability_keys) - seen:
        current = team_targets(
            organization_id=organization_id, team_id=assessment.team_id
        )
    out: dict[str, Fraction | None] = {}
    for key in capability_keys:
        if key in seen:
            value = own.get(key)
            if value is None:
                value = default.get(key)
        else:
            value = current.get(key)
        out[key] = None if value is None else movement.exact(value)
    return out


def capability_states(
    *, assessment: Assessment
) -> tuple[dict[str, movement.CapabilityState], dict[str, str], dict[str, str]]:
    """Each capability in scope of the assessment's cycle as ``movement`` reads it:
    its questions (keyed by question key, with the team's answers), the cycle's
    lens weights and the target then. Also capability key -> name and lens key ->
    name. Four to six queries."""
    cycle = assessment.cycle
    questions = list(
        questions_in_scope(cycle=cycle).values_list(
            "id",
            "key",
            "capability__key",
            "capability__name",
            "lens__key",
            "weight",
            "prompt",
        )
    )
    answers = {
        row[0]: row[1:]
        for row in Answer.objects.filter(assessment=assessment).values_list(
            "question_id",
            "option__score",
            "option__label",
            "not_applicable",
            "answered_by__username",
        )
    }
    lenses = framework_lenses(framework_id=cycle.framework_id)
    weights = scoring.lens_weights_for(cycle.lens_weights, lens_weights(lenses))
    exact_weights = {k: movement.exact(v) for k, v in weights.items()}
    per_cap: dict[str, dict[str, movement.QuestionState]] = defaultdict(dict)
    names: dict[str, str] = {}
    for qid, key, cap_key, cap_name, lens, weight, prompt in questions:
        names[cap_key] = cap_name
        score, label, _na, by = answers.get(qid, (None, "", False, ""))
        per_cap[cap_key][key] = movement.QuestionState(
            key=key,
            lens=lens,
            weight=movement.exact(weight),
            score=score,
            prompt=prompt,
            label=label or ("N/A" if _na else ""),
            answered_by=by or "",
        )
    targets = targets_at(assessment=assessment, capability_keys=list(per_cap))
    states = {
        key: movement.CapabilityState(
            questions=qs, lens_weights=exact_weights, target=targets.get(key)
        )
        for key, qs in per_cap.items()
    }
    return states, names, {lens["key"]: lens["name"] for lens in lenses}


def movements(*, assessment: Assessment) -> dict:
    """Why each capability's score moved since the team's previous submitted
    cycle: ``{"previous": assessment | None, "rows": [...]}`` with one row per
    capability asked in the later cycle (its movement, one-line summary, causes)."""
    previous = previous_assessment(assessment=assessment)
    if previous is None:
        return {"previous": None, "rows": []}
    after, names, lens_names = capability_states(assessment=assessment)
    before, _names, _lens = capability_states(assessment=previous)
    empty = movement.CapabilityState(questions={}, lens_weights={})
    rows = []
    for key, state in after.items():
        moved = movement.explain(before.get(key, empty), state)
        rows.append(
            {
                "capability_key": key,
                "capability": names[key],
                "movement": moved,
                "summary": movement.summary(moved, lens_names),
                "causes": [
                    {**c.as_dict(), "text": movement.describe_cause(c, lens_names)}
                    for c in moved.main_causes(5)
                ],
            }
        )
    return {"previous": previous, "rows": rows}


def movement_payload(row: dict) -> dict:
    """A movement row as plain JSON (the API's shape)."""
    moved: movement.Movement = row["movement"]

    def num(value):
        return None if value is None else round(float(value), 2)

    return {
        "capability_key": row["capability_key"],
        "capability": row["capability"],
        "before": num(moved.before),
        "after": num(moved.after),
        "change": num(moved.change),
        "target_before": num(moved.target_before),
        "target_after": num(moved.target_after),
        "weights_changed": moved.weights_changed,
        "summary": row["summary"],
        "causes": [c.as_dict() for c in moved.causes],
    }


# --- initiatives ------------------------------------------------------------------


def scope_team_ids(*, initiative: Initiative) -> set[int]:
    """The teams an initiative covers: those named and every team under a named
    business unit (two queries)."""
    named = set(initiative.scope.values_list("id", flat=True))
    nodes = list(
        Team.objects.filter(organization_id=initiative.organization_id).values_list(
            "id", "parent_id", "kind"
        )
    )
    children: dict[int | None, list[int]] = defaultdict(list)
    kinds = {}
    for pk, parent, kind in nodes:
        children[parent].append(pk)
        kinds[pk] = kind
    found: set[int] = set()
    stack = list(named)
    while stack:
        pk = stack.pop()
        if pk in found:
            continue
        found.add(pk)
        stack.extend(children.get(pk, ()))
    return {pk for pk in found if kinds.get(pk) == Team.Kind.TEAM}


def initiative_progress(*, initiative: Initiative, team_ids: set[int] | None = None):
    """Per cycle of the organisation (oldest first): how many of the teams in scope
    that take part in the cycle are at the initiative's target or better in its
    capability, read from the roll-up snapshot (``TeamRank``); teams without a
    snapshot row (not submitted) are short. Three queries (four without
    ``team_ids``)."""
    if team_ids is None:
        team_ids = scope_team_ids(initiative=initiative)
    cycles = list(
        Cycle.objects.filter(organization_id=initiative.organization_id)
        .order_by(F("opens_on").asc(nulls_last=True), "id")
        .values("id", "name", "opens_on")
    )
    taking_part: dict[int, set[int]] = defaultdict(set)
    for cycle_id, team_id in Assessment.objects.filter(
        cycle__organization_id=initiative.organization_id, team_id__in=team_ids
    ).values_list("cycle_id", "team_id"):
        taking_part[cycle_id].add(team_id)
    target = float(initiative.target_percent)
    at_target: dict[int, set[int]] = defaultdict(set)
    for cycle_id, team_id, percent in TeamRank.objects.filter(
        cycle__organization_id=initiative.organization_id,
        capability__key=initiative.capability_key,
        assessment__team_id__in=team_ids,
    ).values_list("cycle_id", "assessment__team_id", "percent"):
        if percent is not None and round(percent, 9) >= target:
            at_target[cycle_id].add(team_id)
    rows = []
    for cycle in cycles:
        teams = taking_part.get(cycle["id"], set())
        if not teams:
            continue
        reached = at_target.get(cycle["id"], set()) & teams
        rows.append(
            {
                "cycle_id": cycle["id"],
                "cycle": cycle["name"],
                "at_target": len(reached),
                "teams": len(teams),
                "short": len(teams) - len(reached),
                "short_ids": sorted(teams - reached),
            }
        )
    return rows


def short_teams(*, initiative: Initiative, progress: list[dict]) -> list[dict]:
    """The teams still short in the latest cycle, with their open action items in
    the initiative's capability (two queries)."""
    if not progress:
        return []
    ids = progress[-1]["short_ids"]
    teams = {t.pk: t for t in Team.objects.filter(pk__in=ids).order_by("name")}
    items = items_by_team(
        ActionItem.objects.filter(
            team_id__in=ids, capability_key=initiative.capability_key
        )
        .select_related("owner")
        .order_by("due_on", "id")
    )
    return [{"team": team, "items": items.get(pk, [])} for pk, team in teams.items()]


def items_by_team(items) -> dict[int, list[ActionItem]]:
    grouped: dict[int, list[ActionItem]] = defaultdict(list)
    for item in items:
        grouped[item.team_id].append(item)
    return dict(grouped)


# --- executive summary ------------------------------------------------------------


def executive_summary(*, organization, cycle: Cycle) -> dict:
    """What leadership reads for one cycle: per capability the median team score
    against the median target, the movement of the mean since the previous cycle,
    the initiatives' progress, and the largest gaps with their owners. A fixed
    number of queries."""
    scores = list(
        CapabilityScore.objects.filter(
            assessment__cycle=cycle, assessment__status=Assessment.Status.SUBMITTED
        ).values(
            "assessment__team_id",
            "assessment__team__name",
            "capability__key",
            "capability__name",
            "capability__order",
            "percent",
        )
    )
    previous = (
        Cycle.objects.filter(organization=organization)
        .exclude(pk=cycle.pk)
        .filter(opens_on__lt=cycle.opens_on)
        .order_by("-opens_on")
        .first()
        if cycle.opens_on
        else None
    )
    prev_means: dict[str, float] = {}
    if previous is not None:
        groups: dict[str, list[float]] = defaultdict(list)
        for key, percent in CapabilityScore.objects.filter(
            assessment__cycle=previous, assessment__status=Assessment.Status.SUBMITTED
        ).values_list("capability__key", "percent"):
            if percent is not None:
                groups[key].append(percent)
        prev_means = {k: sum(v) / len(v) for k, v in groups.items()}
    import pandas as pd

    frame = pd.DataFrame(
        scores,
        columns=[
            "assessment__team_id",
            "assessment__team__name",
            "capability__key",
            "capability__name",
            "capability__order",
            "percent",
        ],
    ).rename(
        columns={
            "assessment__team_id": "team_id",
            "assessment__team__name": "team",
            "capability__key": "capability_key",
            "capability__name": "capability",
            "capability__order": "order",
        }
    )
    frame["target"] = resolve_targets(frame, targets_frame(organization=organization))
    frame["gap"] = frame["target"] - frame["percent"]
    capabilities = []
    for (_order, key, name), rows in frame.groupby(
        ["order", "capability_key", "capability"], sort=True
    ):
        mean = rows["percent"].mean()
        capabilities.append(
            {
                "key": key,
                "name": name,
                "teams": int(rows["percent"].notna().sum()),
                "mean": None if pd.isna(mean) else round(float(mean), 1),
                "median_target": None
                if rows["target"].isna().all()
                else round(float(rows["target"].median()), 1),
                "at_target": int((rows["gap"] <= 0).sum()),
                "change": None
                if key not in prev_means or pd.isna(mean)
                else round(float(mean) - prev_means[key], 1),
            }
        )
    names = dict(zip(frame["capability_key"], frame["capability"], strict=True))
    gaps = frame[frame["gap"] > 0].sort_values("gap", ascending=False).head(8)
    owners = {}
    if not gaps.empty:
        for item in (
            ActionItem.objects.filter(
                team_id__in=list(gaps["team_id"]),
                status__in=["planned", "in_progress"],
            )
            .select_related("owner")
            .order_by("due_on")
        ):
            owners.setdefault((item.team_id, item.capability_key), item)
    largest = [
        {
            "team": row.team,
            "capability": row.capability,
            "percent": round(float(row.percent), 1),
            "target": round(float(row.target), 1),
            "gap": round(float(row.gap), 1),
            "item": owners.get((row.team_id, row.capability_key)),
        }
        for row in gaps.itertuples(index=False)
    ]
    causes = (
        movement_causes(cycle=cycle, previous=previous, names=names)
        if previous is not None
        else []
    )
    initiatives = []
    for initiative in Initiative.objects.filter(organization=organization):
        progress = initiative_progress(initiative=initiative)
        row = next((p for p in progress if p["cycle_id"] == cycle.pk), None)
        initiatives.append({"initiative": initiative, "row": row})
    return {
        "previous": previous,
        "capabilities": capabilities,
        "largest_gaps": largest,
        "initiatives": initiatives,
        "causes": causes,
        "teams": int(frame["team_id"].nunique()),
    }


def movement_causes(*, cycle: Cycle, previous: Cycle, names: dict) -> list[str]:
    """The main causes of the organisation's movement between two cycles, in
    words, per capability: answers that rose or fell (by lens, across the teams
    that submitted both), questions an edition added or removed, lens weights.
    Four queries, whatever the number of teams."""
    import pandas as pd

    fields = [
        "assessment__team_id",
        "question__key",
        "question__capability__key",
        "question__lens__key",
        "question__lens__name",
        "option__score",
    ]
    columns = ["team", "question", "capability", "lens", "lens_name", "score"]

    def answers(of: Cycle) -> pd.DataFrame:
        rows = Answer.objects.filter(
            assessment__cycle=of, assessment__status=Assessment.Status.SUBMITTED
        ).values_list(*fields)
        return pd.DataFrame(list(rows), columns=columns)

    later, earlier = answers(cycle), answers(previous)
    merged = later.merge(
        earlier[["team", "question", "score"]],
        on=["team", "question"],
        how="inner",
        suffixes=("", "_before"),
    )
    merged = merged[merged["team"].isin(set(earlier["team"]))]
    diff = merged["score"].astype(float) - merged["score_before"].astype(float)
    merged = merged.assign(up=(diff > 0).astype(int), down=(diff < 0).astype(int))
    lines = []
    grouped = merged.groupby(["capability", "lens_name"], sort=True)[
        ["up", "down"]
    ].sum()
    for capability, rows in grouped.groupby(level=0, sort=True):
        moves = [
            f"{int(r.up)} up, {int(r.down)} down in {lens}"
            for (_cap, lens), r in rows.iterrows()
            if r.up or r.down
        ]
        if moves:
            lines.append(
                f"{names.get(capability, capability)}: answers " + "; ".join(moves[:3])
            )
    if cycle.framework_id != previous.framework_id:
        asked_now = set(zip(later["capability"], later["question"], strict=True))
        asked_then = set(zip(earlier["capability"], earlier["question"], strict=True))
        added, removed = len(asked_now - asked_then), len(asked_then - asked_now)
        if added or removed:
            lines.append(
                f"A new framework version: {added} question(s) added, {removed} removed"
            )
    lines.append(
        "Lens weights unchanged"
        if (cycle.lens_weights or {}) == (previous.lens_weights or {})
        else "Lens weights changed between the cycles"
    )
    return lines

"""What improvement adds to the pages of lower apps, through their slots (the
plan and "why it moved" on the team report, initiatives on the lead home, a
navigation link), and the event subscribers (webhooks, initiatives reached).
``apps.ImprovementConfig.ready`` calls ``register``."""

from django.template.loader import render_to_string
from django.urls import reverse

from finops_portal.slots import NavLink

from . import selectors, webhooks
from .models import Initiative
from .report_section_html import section_html

# Published content never changes: its next steps are kept per process.
_next_steps: dict[int, list[dict]] = {}
NEXT_STEPS_KEPT = 16
MOVEMENTS_TTL_S = 24 * 3600


def _framework_next_steps(framework) -> list[dict]:
    """The framework's recommendations as plain rows (one query, then kept per
    process once the framework is published)."""
    from capabilities.models import Framework, Recommendation

    found = _next_steps.get(framework.pk)
    if found is None:
        found = list(
            Recommendation.objects.filter(capability__framework_id=framework.pk)
            .order_by("capability__order", "order", "id")
            .values("id", "title", "capability__key", "level__key")
        )
        if framework.status != Framework.Status.DRAFT:
            if len(_next_steps) >= NEXT_STEPS_KEPT:
                _next_steps.clear()
            _next_steps[framework.pk] = found
    return found


def _section_key(assessment) -> str | None:
    """The cache key of what the section shows besides the team's action items,
    or None for a draft framework (its content can change). The scores are the
    submission's (a reopen or a submission in any cycle moves the team's
    ``history_version``, which also moves the movements), the targets the
    organisation's (``targets_version``)."""
    from capabilities.models import Framework

    framework = assessment.cycle.framework
    if framework.status == Framework.Status.DRAFT:
        return None
    submitted = assessment.submitted_at
    return SECTION_KEY.format(
        assessment=assessment.pk,
        status=assessment.status,
        submitted=submitted.timestamp() if submitted is not None else 0,
        history=assessment.team.history_version,
        targets=assessment.cycle.organization.targets_version,
        framework=framework.pk,
    )


SECTION_KEY = (
    "improvement:report-section:v1:{assessment}:{status}:{submitted}:{history}:"
    "{targets}:{framework}"
)


def _section_base(assessment) -> dict:
    """The gaps (largest first), movements and candidate next steps of the
    section, cached under ``_section_key``: one cache read on a visit instead of
    the scores, targets and movements."""
    from django.core.cache import cache

    key = _section_key(assessment)
    found = cache.get(key) if key is not None else None
    if found is None:
        found = _section_base_read(assessment)
        if key is not None:
            cache.set(key, found, MOVEMENTS_TTL_S)
    return found


def _section_base_read(assessment) -> dict:
    gaps = selectors.assessment_gaps(assessment=assessment)
    moved = selectors.movements(assessment=assessment)
    levels = {gap["key"]: gap["level_key"] for gap in gaps}
    next_steps: dict[str, list] = {}
    for rec in _framework_next_steps(assessment.cycle.framework):
        key = rec["capability__key"]
        if key in levels and rec["level__key"] in (None, levels[key]):
            next_steps.setdefault(key, []).append(
                {"pk": rec["id"], "title": rec["title"]}
            )
    return {"gaps": gaps, "moved": moved, "next_steps": next_steps}


def team_report_section(request, *, assessment, is_lead) -> str | None:
    """The team's plan beside each gap, next steps to plan, why scores moved
    (one query, its action items, once the rest is cached)."""
    rows, previous = section_rows(assessment)
    return section_html(request, assessment=assessment, rows=rows, previous=previous)


def section_rows(assessment) -> tuple[list[dict], object]:
    """The section's rows, largest gap first, and the previous assessment."""
    base = _section_base(assessment)
    items = selectors.items_by_capability(
        selectors.plan_items(team_ids=[assessment.team_id])
    )
    moved = base["moved"]
    by_key = {row["capability_key"]: row for row in moved["rows"]}
    planned = {item.recommendation_id for group in items.values() for item in group}
    rows = [
        {
            **gap,
            "items": items.get(gap["key"], []),
            "movement": by_key.get(gap["key"]),
            "next_steps": [
                {**rec, "planned": rec["pk"] in planned}
                for rec in base["next_steps"].get(gap["key"], [])
            ][:2],
        }
        for gap in base["gaps"]
    ]
    rows.sort(key=lambda row: -(row["gap"] or -1000))
    return rows, moved["previous"]


def lead_home_section(request, *, organization) -> str | None:
    """The organisation's initiatives at a glance."""
    initiatives = []
    for initiative in Initiative.objects.filter(organization=organization)[:5]:
        progress = selectors.initiative_progress(initiative=initiative)
        initiatives.append(
            {"initiative": initiative, "last": progress[-1] if progress else None}
        )
    return render_to_string(
        "improvement/_lead_home.html",
        {"org": organization, "initiatives": initiatives},
        request=request,
    )


def lead_nav_links(request, *, access) -> list[NavLink]:
    if not (access.is_lead or access.is_staff):
        return []
    return [NavLink("Improvement", reverse("improvement:home"), "lead")]


def on_webhook_event(event) -> None:
    webhooks.deliveries_for_event(event)


def on_rollup_computed(event) -> None:
    from .initiatives import initiatives_check_reached

    cycle_id = (event.payload or {}).get("cycle_id")
    if event.organization_id and cycle_id:
        initiatives_check_reached(
            organization_id=event.organization_id, cycle_id=int(cycle_id)
        )


def register() -> None:
    from assessment.slots import LEAD_HOME_SECTIONS, NAV_LINKS
    from benchmarks.slots import TEAM_REPORT_SECTIONS
    from finops_portal.events import subscribe

    TEAM_REPORT_SECTIONS.register(team_report_section)
    LEAD_HOME_SECTIONS.register(lead_home_section)
    NAV_LINKS.register(lead_nav_links)
    subscribe("rollup.computed", on_rollup_computed)
    for topic in webhooks.TOPICS:
        subscribe(topic, on_webhook_event)

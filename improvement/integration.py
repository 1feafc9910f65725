"""What improvement adds to the pages of lower apps, through their slots (the
plan and "why it moved" on the team report, initiatives on the lead home, a
navigation link), and the event subscribers (webhooks, initiatives reached).
``apps.ImprovementConfig.ready`` calls ``register``."""

from django.template.loader import render_to_string
from django.urls import reverse

from finops_portal.slots import NavLink

from . import selectors, webhooks
from .models import Initiative


def team_report_section(request, *, assessment, is_lead) -> str | None:
    """The team's plan beside each gap, next steps to plan, why scores moved."""
    from capabilities.models import Recommendation

    gaps = selectors.assessment_gaps(assessment=assessment)
    items = selectors.items_by_capability(
        selectors.plan_items(team_ids=[assessment.team_id])
    )
    moved = selectors.movements(assessment=assessment)
    by_key = {row["capability_key"]: row for row in moved["rows"]}
    levels = dict(assessment.scores.values_list("capability__key", "level_key"))
    steps = list(
        Recommendation.objects.filter(
            capability__framework_id=assessment.cycle.framework_id,
            capability__key__in=list(levels),
        )
        .select_related("capability", "level", "lens")
        .order_by("capability__order", "order", "id")
    )
    planned = {item.recommendation_id for group in items.values() for item in group}
    next_steps: dict[str, list] = {}
    for rec in steps:
        rec.planned = rec.pk in planned
        level_key = levels.get(rec.capability.key)
        if rec.level_id is None or rec.level.key == level_key:
            next_steps.setdefault(rec.capability.key, []).append(rec)
    rows = [
        {
            **gap,
            "items": items.get(gap["key"], []),
            "movement": by_key.get(gap["key"]),
            "next_steps": next_steps.get(gap["key"], [])[:2],
        }
        for gap in gaps
    ]
    rows.sort(key=lambda row: -(row["gap"] or -1000))
    return render_to_string(
        "improvement/_team_report_section.html",
        {
            "assessment": assessment,
            "rows": rows,
            "previous": moved["previous"],
            "is_lead": is_lead,
        },
        request=request,
    )


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

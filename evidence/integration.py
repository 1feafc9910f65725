"""What the evidence app adds to the pages of lower apps, through their slots:
suggestions under the questions they inform, claimed vs measured on the team
report and the lead dashboard, and the lead's navigation link.

Each provider renders a template and returns its HTML (or None when there is
nothing to show); ``apps.EvidenceConfig.ready`` registers them.
"""

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse

from finops_portal.slots import NavLink

from . import selectors


def questionnaire_suggestions(request, *, assessment, questions) -> dict[int, str]:
    """question id -> the measured suggestion shown under its options."""
    found = selectors.suggestions_for(assessment=assessment, questions=questions)
    if not found:
        return {}
    decisions = selectors.decisions_for(assessment=assessment, question_ids=list(found))
    answers = {
        a.question_id: a for a in assessment.answers.filter(question_id__in=list(found))
    }
    options = {
        (q.pk, o.score): o for q in questions if q.pk in found for o in q.options.all()
    }
    html = {}
    for position, (question_id, suggestion) in enumerate(found.items()):
        answer = answers.get(question_id)
        html[question_id] = render_to_string(
            "evidence/_suggestion.html",
            {
                "assessment": assessment,
                "suggestion": suggestion,
                "option": options.get((question_id, suggestion.score)),
                "decision": decisions.get(question_id),
                "version": answer.version if answer else 0,
                "with_script": position == 0,
            },
            request=request,
        )
    return html


def team_report_section(request, *, assessment, is_lead) -> str | None:
    """Claimed vs measured for one team: where its answers are above its data."""
    rows = selectors.claimed_vs_measured(assessment=assessment)
    if not rows:
        return None
    return render_to_string(
        "evidence/_claimed_team.html",
        {
            "rows": rows,
            "capabilities": selectors.capability_gaps(rows),
            "above": sum(1 for r in rows if r["gap"] and r["gap"] > 0),
            "is_lead": is_lead,
            "assessment": assessment,
        },
        request=request,
    )


def dashboard_section(request, *, organization, cycle_id, unit_id) -> str | None:
    """Claimed vs measured across the organisation's teams in a cycle.

    Reading it goes through every answer of the cycle to a measured question: at
    10,000 teams that is most of the dashboard's time. It is kept rendered for
    ``DASHBOARD_SECTION_CACHE_SECONDS``, and built anew at once when a submission
    (the cycle's scores generation), new measures or the evidence settings change
    it; answers still in progress show within that time."""
    if cycle_id is None:
        return None
    key = selectors.dashboard_section_key(
        organization=organization, cycle_id=cycle_id, unit_id=unit_id
    )
    if key is None:
        return None  # no measured question: nothing to compare
    html = cache.get(key)
    if html is None:
        html = _dashboard_section_html(
            request, organization=organization, cycle_id=cycle_id, unit_id=unit_id
        )
        cache.set(key, html, DASHBOARD_SECTION_CACHE_SECONDS)
    return html or None


DASHBOARD_SECTION_CACHE_SECONDS = 60


def _dashboard_section_html(request, *, organization, cycle_id, unit_id) -> str:
    claimed = selectors.org_claimed_vs_measured(
        organization=organization, cycle_id=cycle_id, unit_id=unit_id
    )
    if (
        claimed.get("no_measures")
        or not claimed.get("capabilities")
        and not claimed.get("compared")
    ):
        # Nothing to compare: the evidence overview says why.
        return ""
    return render_to_string(
        "evidence/_dashboard_section.html",
        {"claimed": claimed, "org": organization},
        request=request,
    )


def lead_nav_links(request, *, access) -> list[NavLink]:
    """The lead's "Evidence" link in the navigation (no query: the link opens
    the first organisation they lead)."""
    if not (access.is_lead or access.is_staff):
        return []
    return [NavLink("Evidence", reverse("evidence:home"), "lead")]


def lead_home_section(request, *, organization) -> str | None:
    """The organisation's evidence at a glance on its lead home page."""
    periods = selectors.periods_list(organization=organization)
    latest = periods[0] if periods else None
    values = {}
    if latest is not None:
        values = {
            v["measure"].key: v["value"].value if v["value"] else None
            for v in selectors.measures_table(period=latest["period"])["organization"]
        }
    return render_to_string(
        "evidence/_lead_home.html",
        {"org": organization, "latest": latest, "values": values},
        request=request,
    )


def register() -> None:
    """Add the providers to the slots of the lower apps' pages."""
    from assessment.slots import LEAD_HOME_SECTIONS, NAV_LINKS, QUESTIONNAIRE_QUESTIONS
    from benchmarks.slots import DASHBOARD_SECTIONS, TEAM_REPORT_SECTIONS

    QUESTIONNAIRE_QUESTIONS.register(questionnaire_suggestions)
    TEAM_REPORT_SECTIONS.register(team_report_section)
    DASHBOARD_SECTIONS.register(dashboard_section)
    NAV_LINKS.register(lead_nav_links)
    LEAD_HOME_SECTIONS.register(lead_home_section)

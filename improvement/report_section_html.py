"""The improvement plan on the team report, built in Python.

The section is rendered on every visit of a team report (outside the report
cache: it holds the visitor's CSRF token), and rendering it through the template
engine cost more than the rest of a prebuilt report (measured in
``bench/dashboard.py``). ``_team_report_section.html`` stays the reference: a test
holds the two to the same markup. Every value is escaped, localized and filtered
as the template does.
"""

from django.middleware.csrf import get_token
from django.template.defaultfilters import date, floatformat, stringformat, urlencode
from django.templatetags.static import static
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


def _text(value) -> str:
    """``{{ value }}``: localized, then escaped."""
    return conditional_escape(str(localize(value)))


def _figures(row: dict) -> str:
    parts = [
        f"{_text(row['percent'])}%" if row["percent"] is not None else "not scored"
    ]
    if row["target"] is not None:
        parts.append(f" · target {_text(floatformat(row['target'], 0))}%")
    if row["gap"] is not None and row["gap"] > 0:
        parts.append(f" · <strong>gap {_text(row['gap'])}</strong>")
    elif row["gap"] is not None:
        parts.append(" · at target")
    return "".join(parts)


def _movement(row: dict) -> str:
    moved = row["movement"]
    if not moved:
        return ""
    html = (
        f'<p class="movement" data-capability="{_text(row["key"])}">'
        '<span class="visually-hidden">Why the score moved: </span>'
        f"{_text(moved['summary'])}</p>"
    )
    if len(moved["causes"]) > 1:
        causes = "".join(
            f"<li>{_text(stringformat(cause['delta'], '+.1f'))}: {_text(cause['text'])}"
            + (f" (answered by {_text(cause['by'])})" if cause.get("by") else "")
            + "</li>"
            for cause in moved["causes"]
        )
        html += (
            "<details><summary>All causes</summary>"
            f'<ul class="causes">{causes}</ul></details>'
        )
    return html


def _item(item, token: str) -> str:
    title = _text(item.title)
    status = _text(item.status)
    owner = item.owner
    who = (
        _text(owner.get_full_name() or owner.username)
        if owner is not None
        else "no owner"
    )
    if item.due_on:
        who += f" · due {_text(date(item.due_on, 'j M Y'))}"
    if item.expected_effect:
        who += f" · {_text(item.expected_effect)}"
    html = (
        f'<li class="action-item status-{status}">'
        f'<a href="{_text(reverse("improvement:action", args=[item.pk]))}">{title}</a> '
        f'<span class="badge badge-{status}">{_text(item.get_status_display())}</span> '
        f'<span class="muted small">{who}</span>'
    )
    if item.is_open:
        # The spaces between inline elements are the template's line breaks.
        action = _text(reverse("improvement:action_status", args=[item.pk]))
        html += (
            f' <form method="post" action="{action}" class="inline-form"> '
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{_text(token)}"> '
            '<input type="hidden" name="status" value="done"> '
            '<button type="submit" class="link-button">Mark done'
            f'<span class="visually-hidden">: {title}</span></button> </form>'
        )
    return html + "</li>"


def _row(row: dict, new_url: str, token: str) -> str:
    html = (
        f'<li class="plan-row"><h3>{_text(row["name"])}</h3>'
        f'<p class="plan-figures">{_figures(row)}</p>{_movement(row)}'
    )
    if row["items"]:
        items = "".join(_item(item, token) for item in row["items"])
        html += f'<ul class="action-items">{items}</ul>'
    elif row["gap"] is not None and row["gap"] > 0:
        html += (
            '<p class="muted small">No action planned for this gap yet. '
            f'<a href="{new_url}?capability={_text(urlencode(row["key"]))}'
            f'&amp;gap={_text(row["gap"])}">Plan one'
            f'<span class="visually-hidden"> for {_text(row["name"])}</span></a></p>'
        )
    if row["next_steps"]:
        steps = "".join(
            f"<li>Next step: {_text(rec['title'])} · "
            + (
                '<span class="muted">in the plan</span>'
                if rec["planned"]
                else f'<a href="{new_url}?recommendation={_text(rec["pk"])}" '
                f'data-next-step="{_text(rec["pk"])}">Plan this'
                f'<span class="visually-hidden">: {_text(rec["title"])}</span></a>'
            )
            + "</li>"
            for rec in row["next_steps"]
        )
        html += f'<ul class="next-steps">{steps}</ul>'
    return html + "</li>"


def section_html(request, *, assessment, rows: list[dict], previous) -> str:
    """``improvement/_team_report_section.html`` for these rows."""
    new_url = _text(reverse("improvement:action_new", args=[assessment.pk]))
    since = _text(previous.cycle.name) if previous else "the previous cycle"
    if rows:
        token = get_token(request)
        body = (
            '<ul class="plan-rows">'
            + "".join(_row(row, new_url, token) for row in rows)
            + "</ul>"
        )
    else:
        body = (
            '<p class="empty">No scores are stored yet, so there is no gap to plan '
            "against.</p>"
        )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<link rel="stylesheet" href="{_text(static("improvement/css/improvement.css"))}">'
        '<section class="card improvement-plan" id="improvement-plan" '
        'aria-labelledby="plan-heading">'
        '<h2 id="plan-heading">Improvement plan</h2>'
        '<p class="muted small">The work that closes each gap, and why each score '
        f"moved since {since}. Largest gap first.</p>"
        f'<p><a class="button" href="{new_url}">Add an action item</a></p>'
        f"{body}</section>"
    )

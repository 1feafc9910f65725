"""Mails from templates: subject, plain text and HTML, with signed unsubscribe
links and stable headers.

Each kind has three templates, ``notifications/email/<kind>.subject.txt``,
``<kind>.txt`` and ``<kind>.html``. Contexts are built here from what a batch
needs, read in a fixed number of queries per batch (not per mail). Dates are the
organisation's: rendering happens in its time zone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from assessment.cycles import (
    DUE_OVERDUE,
    DUE_TODAY,
    cycle_due_state,
    organization_today,
)
from assessment.models import Assessment, Cycle
from assessment.selectors import assessments_progress, completion_summary

from .models import Category, Delivery
from .signing import unsubscribe_token

DEFAULT_PORTAL_URL = "http://127.0.0.1:8000"
SUBMITTED_MEANWHILE_MSG = "Every team of this person submitted before the mail went."
CYCLE_NOT_OPEN_MSG = "The cycle is no longer open."
DIGEST_LIST_MAX = 25
# What a preview shows for a cycle that has no assessment yet (planned).
SAMPLE_TEAMS = [
    {
        "name": "Your team",
        "url": "",
        "answered": 12,
        "total": 52,
        "status": "In progress",
    }
]


def portal_url() -> str:
    return getattr(settings, "PORTAL_URL", "") or DEFAULT_PORTAL_URL


def absolute(path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return portal_url() + path


def unsubscribe_url(*, user_id: int, category: str) -> str:
    token = unsubscribe_token(user_id=user_id, category=category)
    return absolute(reverse("notifications:unsubscribe", args=[token]))


def show_date(day: date | None) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}" if day else ""


def due_phrase(cycle: Cycle, today: date) -> str:
    """ "due in 3 days", "due today", "overdue by 2 days" or ""."""
    if cycle.closes_on is None:
        return ""
    state = cycle_due_state(cycle, today)
    days = (cycle.closes_on - today).days
    if state == DUE_TODAY:
        return "due today"
    if state == DUE_OVERDUE:
        late = -days
        return f"overdue by {late} day{'s' if late != 1 else ''}"
    if days == 1:
        return "due tomorrow"
    return f"due in {days} days"


@dataclass
class BatchContext:
    """What a batch of mails refers to, read once: assessments with their teams and
    progress, the cycles' completion."""

    assessments: dict[int, Assessment] = field(default_factory=dict)
    progress: dict[int, dict] = field(default_factory=dict)
    cycles: dict[int, dict] = field(default_factory=dict)
    unsubscribe_urls: dict[int, str] = field(default_factory=dict)
    todays: dict[int, date] = field(default_factory=dict)

    def unsubscribe_url(self, row: Delivery) -> str:
        if row.pk not in self.unsubscribe_urls:
            self.unsubscribe_urls[row.pk] = unsubscribe_url(
                user_id=row.user_id, category=row.category
            )
        return self.unsubscribe_urls[row.pk]

    def today(self, organization) -> date:
        if organization.pk not in self.todays:
            self.todays[organization.pk] = organization_today(organization)
        return self.todays[organization.pk]

    @classmethod
    def load(cls, rows: list[Delivery]) -> BatchContext:
        wanted: set[int] = set()
        for row in rows:
            wanted.update(int(pk) for pk in row.context.get("assessment_ids", []))
            if row.context.get("assessment_id"):
                wanted.add(int(row.context["assessment_id"]))
        found = cls()
        if wanted:
            assessments = list(
                Assessment.objects.filter(pk__in=wanted).select_related("team", "cycle")
            )
            found.assessments = {a.pk: a for a in assessments}
            if any(row.kind == "reminder" for row in rows):
                found.progress = assessments_progress(assessments)
        for cycle_id in {r.cycle_id for r in rows if r.kind == "digest"}:
            found.cycles[cycle_id] = digest_facts(cycle_id=cycle_id)
        return found

    def teams(self, row: Delivery, *, unsubmitted: bool = False) -> list[dict]:
        out = []
        for pk in row.context.get("assessment_ids", []):
            assessment = self.assessments.get(int(pk))
            if assessment is None or (unsubmitted and assessment.is_submitted):
                continue
            progress = self.progress.get(assessment.pk, {})
            out.append(
                {
                    "name": assessment.team.name,
                    "url": absolute(reverse("assessment:questionnaire", args=[pk])),
                    "answered": progress.get("answered"),
                    "total": progress.get("total"),
                    "status": assessment.get_status_display(),
                }
            )
        return out

    def skip_reason(self, row: Delivery) -> str:
        if row.cycle is not None and not row.cycle.is_open:
            return CYCLE_NOT_OPEN_MSG
        return SUBMITTED_MEANWHILE_MSG


def digest_facts(*, cycle_id: int, since: str | None = None) -> dict:
    """Completion, overdue teams and submissions of a cycle, for digests."""
    rows = list(
        Assessment.objects.filter(cycle_id=cycle_id)
        .select_related("team")
        .order_by("team__name")
        .values("team__name", "status", "submitted_at")
    )
    counts = completion_summary([{"status": r["status"]} for r in rows])
    return {
        "summary": counts,
        "late": [r["team__name"] for r in rows if r["status"] != "submitted"],
        "submissions": [
            (r["team__name"], r["submitted_at"])
            for r in rows
            if r["status"] == "submitted" and r["submitted_at"] is not None
        ],
    }


def _context(row: Delivery, batch: BatchContext, *, strict: bool = True) -> dict | None:
    """The template context of one mail; None when it no longer has a reason to go."""
    cycle = row.cycle
    org = cycle.organization if cycle is not None else None
    person = row.user
    name = (f"{person.first_name} {person.last_name}".strip()) or person.username
    base = {
        "name": name,
        "portal_url": portal_url(),
        "category_label": Category(row.category).label,
        "unsubscribe_url": batch.unsubscribe_url(row),
        "preferences_url": absolute(reverse("notifications:preferences")),
        "cycle": cycle,
        "organization": org,
        **row.context,
    }
    if org is not None and cycle is not None:
        today = batch.today(org)
        base.update(
            {
                "due_date": show_date(cycle.closes_on),
                "due_phrase": due_phrase(cycle, today),
                "time_zone": org.time_zone,
            }
        )
    if row.kind == "invitation":
        if strict and (cycle is None or not cycle.is_open):
            return None
        teams = batch.teams(row) or ([] if strict else SAMPLE_TEAMS)
        return {**base, "teams": teams} if teams else None
    if row.kind == "reminder":
        if strict and (cycle is None or not cycle.is_open):
            return None
        teams = batch.teams(row, unsubmitted=True) or ([] if strict else SAMPLE_TEAMS)
        if not teams:
            return None
        return {**base, "teams": teams, "step": row.context.get("step", "")}
    if row.kind == "digest":
        if strict and (cycle is None or not cycle.is_open):
            return None
        facts = batch.cycles.get(cycle.pk) or digest_facts(cycle_id=cycle.pk)
        since = row.context.get("since")
        since_day = date.fromisoformat(since) if since else None
        tz = timezone.get_current_timezone()
        fresh = [
            team
            for team, at in facts["submissions"]
            if since_day is None or at.astimezone(tz).date() >= since_day
        ]
        overdue = base.get("due_phrase", "").startswith("overdue")
        return {
            **base,
            "summary": facts["summary"],
            "late": facts["late"][:DIGEST_LIST_MAX],
            "late_more": max(len(facts["late"]) - DIGEST_LIST_MAX, 0),
            "late_count": len(facts["late"]),
            "overdue": overdue,
            "fresh": fresh[:DIGEST_LIST_MAX],
            "fresh_count": len(fresh),
            "since": show_date(since_day) if since_day else "",
            "board_url": absolute(reverse("assessment:cycle_detail", args=[cycle.pk])),
        }
    if row.kind in {"reopen", "submission"}:
        assessment = batch.assessments.get(int(row.context.get("assessment_id", 0)))
        if assessment is None:
            if strict:
                return None
            return {**base, "team": SAMPLE_TEAMS[0]["name"], "url": portal_url()}
        return {
            **base,
            "team": assessment.team.name,
            "url": absolute(reverse("assessment:questionnaire", args=[assessment.pk])),
        }
    url = row.context.get("url", "")
    return {**base, "url": absolute(url) if url else ""}


def render(
    row: Delivery, batch: BatchContext, *, strict: bool = True
) -> tuple[str, str, str] | None:
    """(subject, text, html) of a mail, in the organisation's time zone; None when
    the mail has no reason to go any more (``strict``: the preview shows it anyway)."""
    org = row.cycle.organization if row.cycle is not None else None
    with timezone.override(org.time_zone if org else "UTC"):
        context = _context(row, batch, strict=strict)
        if context is None:
            return None
        subject = render_to_string(
            f"notifications/email/{row.kind}.subject.txt", context
        )
        text = render_to_string(f"notifications/email/{row.kind}.txt", context)
        html = render_to_string(f"notifications/email/{row.kind}.html", context)
    return " ".join(subject.split())[:200], text, html


def message_id(row: Delivery) -> str:
    """Stable per mail, so a receiving server can tell a resend from a new mail."""
    host = urlsplit(portal_url()).hostname or "localhost"
    digest = hashlib.sha256(row.key.encode()).hexdigest()[:16]
    return f"<{row.kind}.{row.pk}.{digest}@{host}>"


def build(row: Delivery, batch: BatchContext) -> EmailMultiAlternatives | None:
    rendered = render(row, batch)
    if rendered is None:
        return None
    subject, text, html = rendered
    unsubscribe = batch.unsubscribe_urls[row.pk]
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to_address],
        headers={
            "Message-ID": message_id(row),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Portal-Category": row.category,
            "X-Portal-Key": row.key,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def preview(*, kind: str, cycle: Cycle, user) -> tuple[str, str, str]:
    """A mail of ``kind`` for ``cycle`` as ``user`` would get it now (nothing is
    stored or sent): the lead's preview."""
    assessments = list(
        Assessment.objects.filter(cycle=cycle)
        .select_related("team")
        .order_by("team__name")[:1]
    )
    ids = [a.pk for a in assessments]
    contexts = {
        "invitation": {"assessment_ids": ids},
        "reminder": {"assessment_ids": ids, "step": "7 days before the due date"},
        "digest": {"since": None},
        "reopen": {
            "assessment_id": ids[0] if ids else 0,
            "reason": "Please add evidence for the chargeback answers.",
            "by": user.get_username(),
        },
        "submission": {
            "assessment_id": ids[0] if ids else 0,
            "by": user.get_username(),
        },
    }
    row = Delivery(
        pk=0,
        key=f"preview:{kind}:{cycle.pk}",
        kind=kind,
        category=PREVIEW_CATEGORIES[kind],
        user=user,
        user_id=user.pk,
        organization_id=cycle.organization_id,
        cycle=cycle,
        context=contexts[kind],
    )
    batch = BatchContext.load([row])
    # The preview shows the mail even when its team has submitted already.
    for assessment in batch.assessments.values():
        assessment.status = Assessment.Status.IN_PROGRESS
    if kind == "reminder":
        batch.progress = assessments_progress(list(batch.assessments.values()))
    rendered = render(row, batch, strict=False)
    if rendered is None:
        raise LookupError(kind)
    return rendered


PREVIEW_CATEGORIES = {
    "invitation": Category.INVITATION,
    "reminder": Category.REMINDER,
    "digest": Category.DIGEST,
    "reopen": Category.REOPEN,
    "submission": Category.SUBMISSION,
}

"""The audit trail: who did which administrative action, when, in which organisation.

``audit_record`` is the one writer, used by every app (cycles, teams, members,
targets, reopens, framework publishing). Events are append-only: the admin shows
them read-only, and nothing in the portal edits or deletes one except deleting
the organisation they belong to.
"""

from django.conf import settings
from django.db import models

SUMMARY_MAX_LENGTH = 500


class AuditEvent(models.Model):
    """An administrative action (cycle open/close, reopen, membership, targets, publish).

    ``organization_id`` is a plain indexed number rather than a foreign key: this
    module sits below the app that defines organisations, and an event of a
    framework (staff) action belongs to none."""

    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=60)
    summary = models.CharField(max_length=SUMMARY_MAX_LENGTH)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


def audit_record(
    *,
    action: str,
    summary: str,
    actor=None,
    organization=None,
    organization_id: int | None = None,
    **detail,
) -> AuditEvent:
    """Record one event of ``organization`` (any object with a ``pk``, or give
    ``organization_id``); an anonymous or missing actor is stored as none, and the
    summary is cut to its column's length. ``detail`` is kept as JSON."""
    if organization is not None:
        organization_id = organization.pk
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        summary=summary[:SUMMARY_MAX_LENGTH],
        detail=detail,
    )

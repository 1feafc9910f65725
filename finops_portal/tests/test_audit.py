"""The one writer of the audit trail."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from finops_portal.audit import SUMMARY_MAX_LENGTH, AuditEvent, audit_record

pytestmark = pytest.mark.django_db


def test_it_records_the_organisation_actor_and_detail(lead, org):
    event = audit_record(
        organization=org, actor=lead, action="x.do", summary="Did x", n=1
    )
    assert AuditEvent.objects.get() == event
    assert (event.organization_id, event.actor, event.detail) == (
        org.pk,
        lead,
        {"n": 1},
    )


def test_it_takes_an_id_too_and_an_anonymous_actor_is_none():
    event = audit_record(
        organization_id=42, actor=AnonymousUser(), action="x", summary="s"
    )
    assert (event.organization_id, event.actor) == (42, None)


def test_it_cuts_a_long_summary():
    event = audit_record(action="x", summary="y" * 600)
    assert len(event.summary) == SUMMARY_MAX_LENGTH


def test_an_object_with_a_pk_names_the_organisation():
    event = audit_record(organization=SimpleNamespace(pk=9), action="x", summary="s")
    assert event.organization_id == 9

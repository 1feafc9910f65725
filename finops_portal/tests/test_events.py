"""The outbox of domain events: written with the change, dispatched after commit,
swept up after an outage, handlers run once per successful dispatch."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from finops_portal import events
from finops_portal.events import Event, event_dispatch, event_publish, events_sweep

pytestmark = pytest.mark.django_db

TOPIC = "test.happened"


@pytest.fixture
def seen():
    calls = []

    def handler(event):
        calls.append((event.topic, event.payload))

    events.subscribe(TOPIC, handler)
    yield calls
    events._subscribers[TOPIC].remove(handler)


def test_an_event_without_subscribers_is_not_written():
    assert event_publish(topic="nobody.listens", payload={"x": 1}) is None
    assert not Event.objects.exists()


@pytest.mark.usefixtures("eager_tasks")
def test_an_event_is_dispatched_after_commit(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = event_publish(topic=TOPIC, organization_id=7, payload={"id": 3})
        assert seen == []

    assert seen == [(TOPIC, {"id": 3})]
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert (event.organization_id, event.attempts) == (7, 1)


def _publish_then_fail() -> None:
    with transaction.atomic():
        event_publish(topic=TOPIC, payload={})
        raise RuntimeError("the change fails")


def test_a_rolled_back_change_publishes_nothing(seen):
    with pytest.raises(RuntimeError):
        _publish_then_fail()
    assert not Event.objects.exists()
    assert seen == []


def test_a_dispatched_event_is_not_dispatched_again(seen):
    event = event_publish(topic=TOPIC, payload={})  # on_commit never fires here
    assert event_dispatch(event_id=event.pk) == "dispatched"
    assert event_dispatch(event_id=event.pk) == "done"
    assert len(seen) == 1


def test_a_failing_handler_keeps_the_event_for_the_sweeper(seen):
    def broken(event):
        raise ValueError("receiver down")

    events.subscribe(TOPIC, broken)
    try:
        event = event_publish(topic=TOPIC, payload={})
        assert event_dispatch(event_id=event.pk) == "failed"
    finally:
        events._subscribers[TOPIC].remove(broken)
    event.refresh_from_db()
    assert event.dispatched_at is None
    assert event.attempts == 1
    assert "receiver down" in event.last_error
    assert "broken" in event.last_error


@pytest.mark.usefixtures("eager_tasks")
def test_the_sweeper_dispatches_what_was_left_behind(seen):
    old = event_publish(topic=TOPIC, payload={"n": 1})
    young = event_publish(topic=TOPIC, payload={"n": 2})
    Event.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )

    # Without a broker the dispatch runs in-process.
    assert events_sweep() == 1
    assert seen == [(TOPIC, {"n": 1})]
    young.refresh_from_db()
    assert young.dispatched_at is None


def test_the_sweeper_has_the_name_beat_schedules():
    from django.conf import settings

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "finops_portal.tasks.events_sweep" in scheduled

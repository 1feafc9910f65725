"""Starting a task by its registered name."""

import logging

import pytest

from finops_portal.queue import enqueue, task_named


def test_a_task_is_found_by_name_even_before_its_module_is_imported():
    assert task_named("benchmarks.tasks.rollup_cycle").name == (
        "benchmarks.tasks.rollup_cycle"
    )


def test_an_unknown_name_is_a_programming_error():
    with pytest.raises(KeyError):
        task_named("nothing.tasks.here")


def test_enqueue_runs_in_process_without_a_broker():
    assert enqueue("finops_portal.ping", "hello") is True


def test_a_broker_outage_is_logged_not_raised(caplog, monkeypatch):
    task = task_named("finops_portal.ping")

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(task, "apply_async", refuse)
    with caplog.at_level(logging.WARNING, logger="finops_portal.queue"):
        assert enqueue("finops_portal.ping", what="the ping") is False
    assert "Could not enqueue the ping: broker down" in caplog.text

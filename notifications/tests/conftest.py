"""Fixtures of the notifications tests: an open cycle of two teams, and a real SMTP
server (aiosmtpd) in the test process on 127.0.0.1."""

import asyncio
import email
import email.policy
import socket
import threading

import pytest


@pytest.fixture
def cycle(org, framework, team_a, team_b, respondent_a, respondent_b, lead):
    """An open cycle of teams A and B (assessments created, no event sent)."""
    from datetime import UTC, date, datetime

    from assessment.models import Assessment, Cycle

    cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name="2026 Q4",
        status=Cycle.Status.OPEN,
        opens_on=date(2026, 10, 5),
        closes_on=date(2026, 11, 20),
        opened_at=datetime(2026, 10, 5, 8, 0, tzinfo=UTC),
    )
    cycle.teams.set([team_a, team_b])
    Assessment.objects.create(cycle=cycle, team=team_a)
    Assessment.objects.create(cycle=cycle, team=team_b)
    return cycle


@pytest.fixture
def planned_cycle(org, framework, team_a, team_b, respondent_a, respondent_b, lead):
    from datetime import date

    from assessment.models import Cycle

    cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name="2027 Q1",
        opens_on=date(2027, 1, 11),
        closes_on=date(2027, 2, 12),
    )
    cycle.teams.set([team_a, team_b])
    return cycle


class Recorder:
    """An aiosmtpd handler that keeps every message it accepts, and can refuse some
    recipients (5xx), fail for a while (4xx), or signal when the ``pause_at``-th
    RCPT starts and hold it ``hold`` seconds (to kill a sender mid-conversation)."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.tempfail_times = 0
        self.rcpt_seen = 0
        self.pause_at = 0
        self.hold = 0.0
        self.reached = threading.Event()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen += 1
        if self.pause_at and self.rcpt_seen == self.pause_at:
            self.reached.set()
            await asyncio.sleep(self.hold)
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        with self.lock:
            if self.tempfail_times > 0:
                self.tempfail_times -= 1
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 in this process; ``.port``, ``.handler``."""
    from aiosmtpd.controller import Controller

    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.handler = handler
    yield controller
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    """This process's mail goes to ``smtp_server``."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_server


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached unread counts and domain rates are per person and domain: a test's
    ids can be an earlier test's, so each starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

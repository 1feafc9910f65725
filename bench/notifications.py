"""A cycle of 10,000 teams x 5 members opening: invitations queued and sent.

    .venv/bin/python bench/notifications.py [--teams 10000] [--members 5]

Opens the cycle through ``cycle_open`` (as the lead's button does) with two Celery
worker processes running, and an SMTP server (aiosmtpd) on 127.0.0.1 in this
process counting what it receives. Measures the time until every invitation is
queued (one ``Delivery`` row per person), until the SMTP server has received
every one, the send rate, and checks that no person got two. Baseline: the same
number of mails rendered nowhere and sent straight through Django's SMTP backend
from one process (the floor of "sending a mail"), scaled from a sample.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import format_table, progress, row  # noqa: E402

TEAMS = 10_000
MEMBERS = 5
WORKERS = 2
TIMEOUT_SECONDS = 1800
BASELINE_SAMPLE = 2000
KEY = re.compile(rb"^X-Portal-Key: (.+?)\r?$", re.MULTILINE)
ORG_SLUG = "bench-notifications"


class Counting:
    """An aiosmtpd handler that counts messages by their idempotency key."""

    def __init__(self):
        self.keys: Counter = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        found = KEY.search(envelope.original_content or envelope.content)
        with self.lock:
            self.keys[found.group(1).decode() if found else "?"] += 1
        return "250 OK"

    @property
    def total(self) -> int:
        return sum(self.keys.values())


def _organisation(teams: int, members: int):
    """A fresh organisation of ``teams`` teams x ``members`` respondents and a
    planned cycle of all of them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from assessment.demo import published_framework
    from assessment.models import Cycle, Membership, Organization, Team
    from assessment.organizations import organization_delete

    User = get_user_model()
    existing = Organization.objects.filter(slug=ORG_SLUG).first()
    if existing:
        organization_delete(organization=existing)
    User.objects.filter(username__startswith="bn-").delete()
    hashed = make_password(common.BENCH_PASSWORD)
    with transaction.atomic():
        org = Organization.objects.create(name="Bench notifications", slug=ORG_SLUG)
        Team.objects.bulk_create(
            (Team(organization=org, name=f"Team {i:05d}") for i in range(teams)),
            batch_size=5000,
        )
        team_ids = list(
            Team.objects.filter(organization=org)
            .order_by("name")
            .values_list("id", flat=True)
        )
        User.objects.bulk_create(
            (
                User(
                    username=f"bn-{t:05d}-{m}",
                    email=f"bn-{t:05d}-{m}@bench{t % 50}.example",
                    password=hashed,
                )
                for t in range(teams)
                for m in range(members)
            ),
            batch_size=5000,
        )
        users = dict(
            User.objects.filter(username__startswith="bn-").values_list(
                "username", "id"
            )
        )
        Membership.objects.bulk_create(
            (
                Membership(
                    user_id=users[f"bn-{t:05d}-{m}"],
                    organization=org,
                    team_id=team_ids[t],
                    role=Membership.Role.RESPONDENT,
                )
                for t in range(teams)
                for m in range(members)
            ),
            batch_size=5000,
        )
        cycle = Cycle.objects.create(
            organization=org, framework=published_framework(), name="Bench wave"
        )
        through = Cycle.teams.through
        through.objects.bulk_create(
            (through(cycle_id=cycle.id, team_id=t) for t in team_ids), batch_size=5000
        )
    return org, cycle


def _baseline(port: int, n: int) -> float:
    """Seconds to send ``n`` small two-part mails through Django's SMTP backend."""
    from django.core.mail import EmailMultiAlternatives, get_connection

    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=port,
        use_tls=False,
    )
    started = time.perf_counter()
    with connection:
        for i in range(n):
            message = EmailMultiAlternatives(
                "Baseline",
                "Hello\n" * 40,
                "bench@localhost",
                [f"base-{i}@floor.example"],
                headers={"X-Portal-Key": f"baseline:{i}"},
                connection=connection,
            )
            message.attach_alternative("<p>Hello</p>" * 40, "text/html")
            message.send()
    return time.perf_counter() - started


def run(*, teams: int = TEAMS, members: int = MEMBERS) -> list[dict]:
    common.setup_django()
    import logging

    from aiosmtpd.controller import Controller

    from assessment.cycles import cycle_open
    from bench.submit_delay import Worker
    from finops_portal.celery import app
    from notifications.models import Delivery

    logging.getLogger("mail.log").setLevel(
        logging.WARNING
    )  # aiosmtpd's per-command log
    handler = Counting()
    port = common.free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    people = teams * members
    try:
        print(f"generating {teams:,} teams x {members} members ...", file=sys.stderr)
        _org, cycle = _organisation(teams, members)
        base_seconds = _baseline(port, BASELINE_SAMPLE) * people / BASELINE_SAMPLE
        handler.keys.clear()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")
        os.environ.update(
            {
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(port),
                "EMAIL_USE_TLS": "false",
                "PORTAL_URL": "http://portal.bench",
                # 50 recipient domains; the per-domain rate is lifted so that the
                # figure is the portal's own speed.
                "NOTIFICATIONS_DOMAIN_RATE": "1000000/min",
            }
        )
        with Worker(concurrency=WORKERS):
            started = time.perf_counter()
            cycle_open(cycle=cycle)
            opened = time.perf_counter() - started
            queued_at = sent_at = None
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while sent_at is None:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"only {handler.total:,} of {people:,} mails after "
                        f"{TIMEOUT_SECONDS} s"
                    )
                if queued_at is None:
                    rows = Delivery.objects.filter(cycle=cycle).count()
                    if rows >= people:
                        queued_at = time.perf_counter() - started
                if handler.total >= people:
                    sent_at = time.perf_counter() - started
                progress(handler.total, people, "sent", stream=sys.stderr)
                time.sleep(0.5)
            time.sleep(2)  # anything sent twice would arrive now
        statuses = Counter(
            Delivery.objects.filter(cycle=cycle).values_list("status", flat=True)
        )
    finally:
        server.stop()
    twice = sum(1 for n in handler.keys.values() if n > 1)
    if twice or len(handler.keys) != people:
        raise RuntimeError(
            f"{twice} people got two invitations; {len(handler.keys):,} of "
            f"{people:,} distinct"
        )
    sending = sent_at - queued_at
    note = f"{teams:,} teams x {members}, {WORKERS} workers, local SMTP"
    return [
        row("notifications: cycle_open (assessments, event)", opened, "s", note=note),
        row("notifications: every invitation queued", queued_at, "s", note=note),
        row(
            "notifications: every invitation received by SMTP",
            sent_at,
            "s",
            base_seconds,
            f"{note}; baseline: bare SMTP sends from one process",
        ),
        row(
            "notifications: send rate",
            people / sent_at,
            "mails/s",
            people / base_seconds,
            note,
        ),
        row(
            "notifications: sending after queued",
            sending,
            "s",
            note=f"{people / sending:,.0f} mails/s once queued",
        ),
        row(
            "notifications: duplicates",
            twice,
            "mails",
            note=f"{len(handler.keys):,} people, each once; log {dict(statuses)}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=TEAMS)
    parser.add_argument("--members", type=int, default=MEMBERS)
    args = parser.parse_args()
    print(format_table(run(teams=args.teams, members=args.members)))


if __name__ == "__main__":
    main()

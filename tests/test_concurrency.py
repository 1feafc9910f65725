"""Twenty clients autosave the same assessment at once through a live server.

Afterwards every question holds the last acknowledged write, every stale write got a
conflict, the history holds every change, there are no duplicate rows and no 500s.
"""

import itertools
import threading
from collections import Counter, defaultdict

import httpx
import pytest

from conftest import skip_or_fail

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CLIENTS = 20
WRITES_PER_CLIENT = 12


@pytest.fixture
def shared_assessment(org, team_a, framework):
    from django.db import connection

    from assessment.models import Assessment, Cycle

    if connection.vendor != "postgresql":
        skip_or_fail("the concurrency test runs on PostgreSQL (set DATABASE_URL)")
    cycle = Cycle.objects.create(
        organization=org, framework=framework, name="Busy", status=Cycle.Status.OPEN
    )
    cycle.teams.set([team_a])
    return Assessment.objects.create(cycle=cycle, team=team_a)


def _signed_in_client(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        data={"username": username, "password": "pw-" + username},
        headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": base_url + "/"},
    )
    assert response.status_code == 302, response.text[:500]
    return client


def test_twenty_concurrent_autosaves_lose_nothing(
    live_server, shared_assessment, team_a
):
    from assessment.models import Answer, AnswerChange, Membership
    from conftest import _member

    users = [
        _member(f"writer{i}", team_a.organization, Membership.Role.RESPONDENT, team_a)
        for i in range(4)
    ]
    questions = list(
        shared_assessment.cycle.framework.capabilities.first().questions.order_by("id")[
            :3
        ]
    )
    options = {
        q.id: list(q.options.order_by("score").values_list("id", flat=True))
        for q in questions
    }
    clients = [
        _signed_in_client(live_server.url, users[i % len(users)].username)
        for i in range(CLIENTS)
    ]

    results: list[
        tuple[int, int, int, str, int | None]
    ] = []  # client, question, status, comment, version
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def write(n: int, client: httpx.Client) -> None:
        known = defaultdict(int)
        start.wait()
        for i, question in zip(
            range(WRITES_PER_CLIENT), itertools.cycle(questions), strict=False
        ):
            comment = f"client {n} write {i}"
            response = client.post(
                f"/assessments/{shared_assessment.pk}/answers/{question.id}/",
                json={
                    "option": options[question.id][(n + i) % 5],
                    "comment": comment,
                    "expected_version": known[question.id],
                },
                headers={
                    "X-CSRFToken": client.cookies["csrftoken"],
                    "Referer": live_server.url + "/",
                },
            )
            body = (
                response.json()
                if response.headers.get("content-type", "").startswith(
                    "application/json"
                )
                else {}
            )
            if response.status_code == 200:
                known[question.id] = body["version"]
            elif response.status_code == 409:
                known[question.id] = body["current"]["version"]
            with lock:
                results.append(
                    (n, question.id, response.status_code, comment, body.get("version"))
                )

    threads = [
        threading.Thread(target=write, args=(n, c)) for n, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in clients:
        c.close()

    statuses = Counter(r[2] for r in results)
    print(f"concurrent autosaves: {dict(statuses)} over {CLIENTS} clients")
    assert len(results) == CLIENTS * WRITES_PER_CLIENT
    assert set(statuses) <= {200, 409}, statuses
    assert statuses[200] > 0
    assert statuses[409] > 0, "stale writes must be refused with a conflict"

    for question in questions:
        acknowledged = [r for r in results if r[1] == question.id and r[2] == 200]
        last = max(acknowledged, key=lambda r: r[4])
        answer = Answer.objects.get(assessment=shared_assessment, question=question)
        # The stored answer is the last acknowledged write, and versions are unique.
        assert answer.version == last[4]
        assert answer.comment == last[3]
        assert len({r[4] for r in acknowledged}) == len(acknowledged)
        # Every acknowledged write is in the history, once, with no gaps.
        versions = list(
            AnswerChange.objects.filter(answer=answer)
            .order_by("version")
            .values_list("version", flat=True)
        )
        assert versions == list(range(1, answer.version + 1))
        assert len(acknowledged) == answer.version
    assert Answer.objects.filter(assessment=shared_assessment).count() == len(questions)

"""Autosave of one answer under 20 concurrent clients, against ``/healthz``.

    .venv/bin/python bench/autosave.py [--teams 1000]

Each client saves answers (``POST /assessments/<id>/answers/<question id>/``, the
questionnaire's JSON autosave) on its own open assessments, cycling through their
questions and sending the version it last saw, as the browser does. Targets: p95
under 50 ms and over 300 saves per second.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import format_table, row  # noqa: E402

ASSESSMENTS_PER_CLIENT = 5


def _work(org, clients: int):
    """The open cycle's unsubmitted assessments, the questions with their options
    (by score), and the current (version, option position) of every answer."""
    from assessment.models import Answer, Assessment, Cycle
    from capabilities.models import AnswerOption

    cycle = Cycle.objects.get(organization=org, status="open")
    open_ids = list(
        Assessment.objects.filter(cycle=cycle)
        .exclude(status="submitted")
        .order_by("id")
        .values_list("id", flat=True)[: clients * ASSESSMENTS_PER_CLIENT]
    )
    if len(open_ids) < clients:
        raise RuntimeError("not enough open assessments for the autosave benchmark")
    options: dict[int, list[int]] = {}
    for question_id, option_id in (
        # The team questions only: a central one is the central team's to answer.
        AnswerOption.objects.filter(
            question__capability__framework=cycle.framework, question__audience="team"
        )
        .order_by("question_id", "score")
        .values_list("question_id", "id")
    ):
        options.setdefault(question_id, []).append(option_id)
    state = {}
    for a, q, v, option_id in Answer.objects.filter(
        assessment_id__in=open_ids
    ).values_list("assessment_id", "question_id", "version", "option_id"):
        if q not in options:
            continue
        position = options[q].index(option_id) if option_id in options[q] else -1
        state[(a, q)] = (v, position)
    return open_ids, sorted(options), options, state


def run(
    *,
    teams: int = 1000,
    clients: int = common.CLIENTS,
    per_client: int = 50,
    portal: common.Portal | None = None,
) -> list[dict]:
    """Saves per second and latency of the autosave endpoint under load."""
    common.setup_django()
    org, _ = common.bench_org(teams)
    if portal is None:
        with common.Portal() as own:
            return run(teams=teams, clients=clients, per_client=per_client, portal=own)
    open_ids, questions, options, state = _work(org, clients)
    cookies = common.login(portal, f"{org.slug}-lead", common.BENCH_PASSWORD)
    mine = {c: open_ids[c::clients] for c in range(clients)}

    def save(c: int, i: int):
        # Client c owns its assessments, so versions never race between clients.
        assessments = mine[c]
        assessment = assessments[i % len(assessments)]
        question = questions[(i // len(assessments) + c * 7) % len(questions)]
        # Always the next option, so every save is a real change (a new version).
        version, position = state.get((assessment, question), (0, -1))
        position = (position + 1) % len(options[question])
        state[(assessment, question)] = (version + 1, position)
        option = options[question][position]
        url = f"/assessments/{assessment}/answers/{question}/"
        return ("POST", url, {"option": option, "expected_version": version})

    kw = {"clients": clients, "per_client": per_client}
    healthz = common.load(portal, "healthz", common.get("/healthz"), **kw)
    saves = common.load(portal, "autosave", save, cookies=cookies, **kw)
    note = (
        f"{teams:,} teams, {clients} clients x {per_client}, "
        f"{portal.workers} gunicorn workers"
    )
    return [
        row("autosave p50", saves.p50, "ms", healthz.p50, note),
        row("autosave p95", saves.p95, "ms", healthz.p95, note),
        row(
            "autosave throughput", saves.per_second, "saves/s", healthz.per_second, note
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=common.CLIENTS)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    rows = run(teams=args.teams, clients=args.clients, per_client=args.requests)
    print(format_table(rows))


if __name__ == "__main__":
    main()

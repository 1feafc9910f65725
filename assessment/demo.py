"""Demo and load data: a fictional organisation whose teams answer like real ones.

``demo_plan()`` describes the small demo organisation shown by ``make run``;
``load_plan()`` the same shape at any size, for benchmarks. ``build()`` writes a plan
with bulk inserts (COPY on PostgreSQL) and then stores team scores and roll-ups, so
the dashboards are full at once. Everything random comes from one seed, so the same
plan always yields the same answers.

Bulk answers carry ``answered_by`` but no ``AnswerChange`` history: they were never
edited through the questionnaire.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils.text import slugify

from capabilities.models import AnswerOption, Capability, Framework, Question
from finops_portal.bulk_sql import bulk_insert

from .cycles import cycle_scores_changed
from .demo_consensus import CONSENSUS_RESPONDENTS, consensus_team_seed
from .editions import carry_forward
from .models import (
    Answer,
    Assessment,
    CapabilityScore,
    Cycle,
    Membership,
    Organization,
    Target,
    Team,
)
from .organizations import organization_delete
from .scores import scores_store_many

DEMO_ORG_NAME = "Northwind Traders"
DEMO_ORG_SLUG = "northwind"
SHIPPED_FRAMEWORK_SLUG = "finops-practice"
DEMO_PRESENT_MSG = "Demo organisation already present"
NO_FRAMEWORK_MSG = (
    "No published framework to assess against: run load_shipped_content first."
)
ORG_EXISTS_MSG = "Organisation {slug} already exists: pass --replace to rebuild it."
BATCH_SIZE = 5000

# Who the demo's teams are: four business units, thirty teams.
DEMO_UNITS: list[tuple[str, list[str]]] = [
    (
        "Commerce",
        [
            "Payments API",
            "Checkout Web",
            "Storefront Search",
            "Promotions Engine",
            "Order Management",
            "Mobile App",
            "Loyalty Platform",
            "Product Catalog",
        ],
    ),
    (
        "Platform",
        [
            "Data Platform",
            "Identity and Access",
            "Kubernetes Platform",
            "Observability",
            "Network Edge",
            "Developer Experience",
            "Release Engineering",
            "Shared Databases",
        ],
    ),
    (
        "Supply Chain",
        [
            "Warehouse Systems",
            "Route Planning",
            "Supplier Portal",
            "Inventory Forecasting",
            "Returns Processing",
            "Fleet Telemetry",
            "Procurement Apps",
        ],
    ),
    (
        "Corporate",
        [
            "Finance Systems",
            "HR Systems",
            "Analytics and BI",
            "Security Operations",
            "Customer Support Tools",
            "Marketing Automation",
            "Legal and Compliance",
        ],
    ),
]
# username -> (first name, last name, team); ``respondent`` is the demo sign-in.
DEMO_RESPONDENTS: dict[str, tuple[str, str, str]] = {
    "respondent": ("Rosa", "Respondent", "Payments API"),
    "amira": ("Amira", "Haddad", "Data Platform"),
    "ben": ("Ben", "Okafor", "Checkout Web"),
    "chloe": ("Chloe", "Martin", "Warehouse Systems"),
    "diego": ("Diego", "Santos", "Finance Systems"),
    "emma": ("Emma", "Larsen", "Observability"),
}
# The central FinOps team, set as the organisation's central team: it answers the
# questions of the central audience (new in the 2026 edition) for everyone.
CENTRAL_TEAM = "Cloud FinOps Office"
CENTRAL_UNIT = "Corporate"
CENTRAL_RESPONDENT = ("farah", "Farah", "Nasser")
# Teams of the open cycle left with their carried-forward answers unconfirmed (the
# demo respondent's), and teams kept from submitting (answered in other ways later).
CARRIED_UNTOUCHED_TEAMS = ("Payments API",)
NOT_SUBMITTED_TEAMS = ("Payments API", "Data Platform")
# Of the carried answers a team in progress has reviewed: share confirmed as they
# are, and of those the share changed by a level.
CONFIRMED_SHARE = 0.55
CHANGED_SHARE = 0.2
DEMO_LEAD = "lead"
DEMO_ADMIN = "admin"
# Targets (percent) per capability key; teams without an override use these.
DEMO_TARGETS = {
    "education": 75,
    "operations": 70,
    "onboarding": 65,
    "governance": 70,
    "invoicing-chargeback": 60,
    "assessment": 65,
    "tools-services": 70,
    "intersecting-frameworks": 60,
}
DEMO_TARGET_DEFAULT = 65
DEMO_TEAM_TARGETS = [
    ("Payments API", "invoicing-chargeback", 75),
    ("Data Platform", "tools-services", 80),
    ("Finance Systems", "invoicing-chargeback", 80),
]

# How strong an organisation tends to be per capability and lens (0-4 points).
CAPABILITY_BIAS = {
    "education": 0.5,
    "tools-services": 0.2,
    "operations": 0.1,
    "assessment": 0.05,
    "governance": 0.0,
    "onboarding": -0.1,
    "intersecting-frameworks": -0.35,
    "invoicing-chargeback": -0.6,
}
LENS_BIAS = {
    "knowledge": 0.35,
    "process": 0.1,
    "adoption": 0.0,
    "metrics": -0.15,
    "automation": -0.45,
}
LOW_COMMENTS = [
    "Nobody owns this yet; raised at the last retro.",
    "Planned for next quarter once the platform migration is done.",
    "Done by hand in a spreadsheet when someone remembers.",
    "We rely on the central FinOps team for this today.",
]
MID_COMMENTS = [
    "Works for the main services, not yet for the batch jobs.",
    "Agreed in the team charter; about half of us follow it.",
    "Monthly review with finance, figures pulled manually.",
    "Trialled with two squads, rolling out to the rest.",
]
HIGH_COMMENTS = [
    "Automated through the nightly cost export and alerts.",
    "Part of the definition of done for every new service.",
    "Reviewed in the weekly ops meeting with clear owners.",
    "We run the internal training on this for other teams.",
]
LOAD_TEAM_NAMES = [name for _unit, names in DEMO_UNITS for name in names]

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class CyclePlan:
    """One cycle of a plan; ``submitted``/``in_progress`` are shares of teams."""

    name: str
    opens_on: dt.date
    closes_on: dt.date
    status: str
    submitted: float = 1.0
    in_progress: float = 0.0


@dataclass
class Plan:
    """What to build: the organisation, its tree, cycles, people and targets."""

    org_name: str
    slug: str
    units: list[tuple[str, list[str]]]
    cycles: list[CyclePlan]
    seed: int = 42
    anonymity_threshold: int = 5
    lead_username: str = DEMO_LEAD
    # username -> (first name, last name, team name)
    respondents: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    one_respondent_per_team: bool = False
    # team name forced to be in progress (not submitted) in the open cycle
    in_progress_team: str | None = None
    targets: dict[str, int] = field(default_factory=dict)
    target_default: int = DEMO_TARGET_DEFAULT
    team_targets: list[tuple[str, str, int]] = field(default_factory=list)
    comment_share: float = 0.06
    evidence_share: float = 0.03
    na_share: float = 0.15

    @property
    def team_count(self) -> int:
        return sum(len(names) for _unit, names in self.units)


@dataclass
class BuildResult:
    """What ``build`` wrote and how long it took."""

    organization: Organization
    teams: int = 0
    assessments: int = 0
    answers: int = 0
    users: int = 0
    elapsed: float = 0.0
    scored: bool = False
    # the cycles written, whose roll-ups were enqueued
    cycle_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # seconds per phase: "people", "answers", "scores"
    phases: dict[str, float] = field(default_factory=dict)

    def add_phase(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    @property
    def rows_per_second(self) -> float:
        return self.answers / self.elapsed if self.elapsed else 0.0


def demo_plan(*, seed: int = 42) -> Plan:
    """The demo organisation: 4 business units, 30 teams, two closed cycles and an
    open one with about half of the teams submitted."""
    return Plan(
        org_name=DEMO_ORG_NAME,
        slug=DEMO_ORG_SLUG,
        units=DEMO_UNITS,
        cycles=[
            CyclePlan("2026 Q1", dt.date(2026, 1, 12), dt.date(2026, 2, 13), "closed"),
            CyclePlan("2026 Q2", dt.date(2026, 4, 6), dt.date(2026, 5, 8), "closed"),
            CyclePlan(
                "2026 Q3",
                dt.date(2026, 7, 6),
                dt.date(2026, 9, 30),
                "open",
                submitted=0.5,
                in_progress=0.3,
            ),
        ],
        seed=seed,
        respondents=DEMO_RESPONDENTS,
        in_progress_team="Payments API",
        targets=DEMO_TARGETS,
        team_targets=DEMO_TEAM_TARGETS,
    )


def load_plan(
    *, teams: int, cycles: int, org_name: str | None = None, seed: int = 42
) -> Plan:
    """``teams`` teams over about teams/25 business units and ``cycles`` quarterly
    cycles: all closed and submitted but the last, which is open with ~60% submitted."""
    if teams < 1 or cycles < 1:
        raise ValueError("teams and cycles must be at least 1")
    name = org_name or f"Load {teams} teams"
    n_units = max(1, round(teams / 25))
    units: list[tuple[str, list[str]]] = [
        (f"Business unit {u + 1:03d}", []) for u in range(n_units)
    ]
    base = len(LOAD_TEAM_NAMES)
    for i in range(teams):
        team = f"{LOAD_TEAM_NAMES[i % base]} {i // base + 1:03d}"
        units[i % n_units][1].append(team)
    first = dt.date(2025, 1, 6)
    plans = []
    for c in range(cycles):
        opens = first + dt.timedelta(weeks=13 * c)
        last = c == cycles - 1
        plans.append(
            CyclePlan(
                f"Cycle {c + 1}",
                opens,
                opens + dt.timedelta(weeks=5),
                "open" if last else "closed",
                submitted=0.6 if last else 1.0,
                in_progress=0.25 if last else 0.0,
            )
        )
    slug = slugify(name)[:80]
    return Plan(
        org_name=name,
        slug=slug,
        units=units,
        cycles=plans,
        seed=seed,
        lead_username=f"{slug}-lead"[:150],
        one_respondent_per_team=True,
        targets=DEMO_TARGETS,
    )


# --- pure generation ------------------------------------------------------------


@dataclass(frozen=True)
class Questions:
    """The framework's questions as arrays, in questionnaire order."""

    ids: np.ndarray
    capability_keys: list[str]
    lens_keys: list[str]
    allow_na: np.ndarray
    options: np.ndarray  # (questions, 5): option id per score 0..4

    def __len__(self) -> int:
        return len(self.ids)


def team_traits(rng: np.random.Generator, n_teams: int, questions: Questions):
    """Per team: skill (0-4 scale) and growth per cycle; per team x question: a
    lasting tendency, so a team's weak spots stay weak-ish across cycles."""
    skill = np.clip(rng.normal(1.7, 0.6, n_teams), 0.3, 3.3)
    growth = np.clip(rng.normal(0.3, 0.15, n_teams), -0.1, 0.7)
    bias = np.array(
        [
            CAPABILITY_BIAS.get(c, 0.0) + LENS_BIAS.get(lens, 0.0)
            for c, lens in zip(
                questions.capability_keys, questions.lens_keys, strict=True
            )
        ]
    )
    latent = rng.normal(0.0, 0.55, (n_teams, len(questions))) + bias
    return skill, growth, latent


def cycle_scores(
    rng: np.random.Generator,
    skill: np.ndarray,
    growth: np.ndarray,
    latent: np.ndarray,
    cycle_index: int,
) -> np.ndarray:
    """Scores 0..4 per team x question for one cycle; later cycles score higher."""
    noise = rng.normal(0.0, 0.35, latent.shape)
    mean = skill[:, None] + growth[:, None] * cycle_index + latent + noise
    return np.clip(np.rint(mean), 0, 4).astype(np.int8)


def assessment_statuses(
    rng: np.random.Generator, n_teams: int, plan: CyclePlan, forced: int | None
) -> np.ndarray:
    """Status per team: 2 submitted, 1 in progress, 0 not started."""
    status = np.zeros(n_teams, dtype=np.int8)
    order = rng.permutation(n_teams)
    n_sub = round(n_teams * plan.submitted)
    n_prog = round(n_teams * plan.in_progress)
    status[order[:n_sub]] = 2
    status[order[n_sub : n_sub + n_prog]] = 1
    if forced is not None:
        status[forced] = 1
    return status


# --- writing ----------------------------------------------------------------------


def _questions(framework: Framework) -> Questions:
    rows = list(
        Question.objects.filter(capability__framework=framework)
        .order_by("capability__order", "order", "id")
        .values_list("id", "capability__key", "lens__key", "allow_na")
    )
    index = {qid: i for i, (qid, *_rest) in enumerate(rows)}
    options = np.zeros((len(rows), 5), dtype=np.int64)
    for qid, score, oid in AnswerOption.objects.filter(
        question__capability__framework=framework
    ).values_list("question_id", "score", "id"):
        options[index[qid], score] = oid
    # A question without an option for some score gets the nearest lower one.
    for col in range(1, 5):
        missing = options[:, col] == 0
        options[missing, col] = options[missing, col - 1]
    for col in range(3, -1, -1):
        missing = options[:, col] == 0
        options[missing, col] = options[missing, col + 1]
    return Questions(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        capability_keys=[r[1] for r in rows],
        lens_keys=[r[2] for r in rows],
        allow_na=np.array([r[3] for r in rows], dtype=bool),
        options=options,
    )


def published_framework(slug: str = SHIPPED_FRAMEWORK_SLUG) -> Framework | None:
    """The newest published version of ``slug``, or of any framework if none."""
    published = Framework.objects.filter(status=Framework.Status.PUBLISHED)
    return (
        published.filter(slug=slug).order_by("-version").first()
        or published.order_by("-published_at", "-id").first()
    )


ANSWER_COLUMNS = (
    "assessment",
    "question",
    "option",
    "not_applicable",
    "comment",
    "evidence_url",
    "answered_by",
    "updated_at",
    "version",
)
# Answers of the open cycle on the current edition, as respondents reviewed them.
REVIEWED_COLUMNS = (
    "assessment",
    "question",
    "option",
    "not_applicable",
    "na_reason",
    "comment",
    "evidence_url",
    "answered_by",
    "updated_at",
    "version",
    "carried_forward",
)


def _at(day: dt.date, minutes: int) -> dt.datetime:
    start = dt.datetime.combine(day, dt.time(8, 0), tzinfo=dt.UTC)
    return start + dt.timedelta(minutes=int(minutes))


def _answer_rows(
    rng: np.random.Generator,
    plan: Plan,
    questions: Questions,
    scores: np.ndarray,
    status: np.ndarray,
    assessment_ids: list[int],
    answerer_ids: list[int],
    cycle: CyclePlan,
    teams_done: Progress,
):
    """Yield answer tuples (``ANSWER_COLUMNS``) for one cycle."""
    n_teams, n_q = scores.shape
    # Everything random is drawn up front, as arrays, so the loop stays cheap.
    na = (rng.random((n_teams, n_q)) < plan.na_share) & questions.allow_na
    commented = rng.random((n_teams, n_q)) < plan.comment_share
    evidenced = rng.random((n_teams, n_q)) < plan.evidence_share
    pick = rng.integers(0, 4, (n_teams, n_q))
    answered_upto = np.where(
        status == 2, n_q, np.where(status == 1, rng.integers(1, n_q, n_teams), 0)
    )
    window = max(1, (cycle.closes_on - cycle.opens_on).days) * 24 * 60
    minute = rng.integers(0, window, n_teams)
    option_of = questions.options[np.arange(n_q)[None, :], scores]
    qids = questions.ids.tolist()
    caps = questions.capability_keys
    evidence_base = f"https://wiki.{plan.slug}.example/finops/"
    every = max(1, n_teams // 20)
    for t in range(n_teams):
        if t % every == 0:
            teams_done(t / n_teams, "")
        upto = int(answered_upto[t])
        if not upto:
            continue
        at = _at(cycle.opens_on, minute[t])
        who = answerer_ids[t]
        aid = assessment_ids[t]
        na_t, com_t, ev_t = na[t], commented[t], evidenced[t]
        opt_t, sc_t, pick_t = option_of[t], scores[t], pick[t]
        for q in range(upto):
            is_na = bool(na_t[q])
            comment = ""
            if com_t[q]:
                s = sc_t[q]
                pool = (
                    LOW_COMMENTS
                    if s <= 1
                    else MID_COMMENTS
                    if s <= 2
                    else HIGH_COMMENTS
                )
                comment = pool[pick_t[q]]
            yield (
                aid,
                qids[q],
                None if is_na else int(opt_t[q]),
                is_na,
                comment,
                evidence_base + caps[q] if ev_t[q] else "",
                who,
                at,
                1,
            )


def _make_users(plan: Plan, teams_by_name: dict[str, Team], password: str):
    """Create the plan's lead and respondents with one password hash; returns
    (lead, {team id: respondent user id}, users created)."""
    User = get_user_model()
    hashed = make_password(password)
    lead, _ = User.objects.update_or_create(
        username=plan.lead_username,
        defaults={
            "password": hashed,
            "first_name": "Lena",
            "last_name": "Lead",
            "email": f"{plan.lead_username}@{plan.slug}.example",
        },
    )
    created = 1
    answerer: dict[int, int] = {}
    if plan.one_respondent_per_team:
        users = [
            User(
                username=f"{plan.slug}-t{i + 1:05d}"[:150],
                password=hashed,
                email=f"t{i + 1:05d}@{plan.slug}.example",
            )
            for i in range(len(teams_by_name))
        ]
        User.objects.bulk_create(users, batch_size=BATCH_SIZE)
        users = list(
            User.objects.filter(username__in=[u.username for u in users]).order_by(
                "username"
            )
        )
        teams = sorted(teams_by_name.values(), key=lambda t: t.id)
        pairs = list(zip(users, teams, strict=True))
        created += len(users)
    else:
        pairs = []
        for username, (first, last, team_name) in plan.respondents.items():
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "password": hashed,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@{plan.slug}.example",
                },
            )
            pairs.append((user, teams_by_name[team_name]))
            created += 1
    Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                organization_id=team.organization_id,
                team=team,
                role=Membership.Role.RESPONDENT,
            )
            for user, team in pairs
        ],
        batch_size=BATCH_SIZE,
    )
    for user, team in pairs:
        answerer.setdefault(team.id, user.id)
    return lead, answerer, created


def _store_scores(cycle_id: int, assessment_ids: list[int], result: BuildResult):
    """Team scores of one cycle, computed now; its roll-up follows (enqueued after
    commit, as after a submit)."""
    with transaction.atomic():
        if assessment_ids:
            scores_store_many(assessment_ids=assessment_ids)
        cycle_scores_changed(cycle_id=cycle_id)
    result.scored = True
    result.cycle_ids.append(cycle_id)


def build(
    plan: Plan,
    *,
    framework: Framework,
    password: str,
    progress: Progress | None = None,
) -> BuildResult:
    """Write ``plan`` against ``framework`` and compute its scores and roll-ups."""
    started = time.perf_counter()
    report = progress or (lambda _fraction, _label: None)
    rng = np.random.default_rng(plan.seed)
    questions = _questions(framework)
    n_cycles = len(plan.cycles)
    # Share of the work: 10% tree and people, then per cycle 75% answers, 15% scores.
    step = 0.9 / n_cycles

    with transaction.atomic():
        org = Organization.objects.create(
            name=plan.org_name,
            slug=plan.slug,
            anonymity_threshold=plan.anonymity_threshold,
        )
        result = BuildResult(organization=org)
        units = Team.objects.bulk_create(
            [
                Team(organization=org, name=name, kind=Team.Kind.BUSINESS_UNIT)
                for name, _teams in plan.units
            ]
        )
        teams = Team.objects.bulk_create(
            [
                Team(organization=org, parent=unit, name=name)
                for unit, (_unit, names) in zip(units, plan.units, strict=True)
                for name in names
            ],
            batch_size=BATCH_SIZE,
        )
        if connection.vendor != "postgresql" and teams and teams[0].pk is None:
            teams = list(Team.objects.filter(organization=org, kind=Team.Kind.TEAM))
        teams_by_name = {t.name: t for t in teams}
        result.teams = len(teams)
        lead, answerer, result.users = _make_users(plan, teams_by_name, password)
        Membership.objects.create(
            user=lead, organization=org, role=Membership.Role.LEAD
        )
        answerer_ids = [answerer.get(t.id, lead.id) for t in teams]
        _make_targets(plan, org, framework, teams_by_name)
    result.add_phase("people", time.perf_counter() - started)
    report(0.1, "people and teams")

    skill, growth, latent = team_traits(rng, len(teams), questions)
    forced = None
    if plan.in_progress_team:
        forced = next(i for i, t in enumerate(teams) if t.name == plan.in_progress_team)
    for c, cycle_plan in enumerate(plan.cycles):
        label = f"cycle {c + 1}/{n_cycles}"
        base = 0.1 + c * step
        phase = time.perf_counter()

        def teams_done(fraction, _label, base=base, label=label):
            report(base + step * 0.75 * fraction, label)

        with transaction.atomic():
            cycle, assessment_ids, submitted_ids, n_answers = _write_cycle(
                rng,
                plan,
                org,
                framework,
                teams,
                questions,
                cycle_plan,
                cycle_scores(rng, skill, growth, latent, c),
                forced if cycle_plan.status == Cycle.Status.OPEN else None,
                answerer_ids,
                teams_done,
            )
        result.assessments += len(assessment_ids)
        result.answers += n_answers
        result.add_phase("answers", time.perf_counter() - phase)
        report(base + step * 0.75, label)
        phase = time.perf_counter()
        _store_scores(cycle.id, submitted_ids, result)
        result.add_phase("scores", time.perf_counter() - phase)
        report(base + step, label)
    _analyze_after_bulk_load()
    result.elapsed = time.perf_counter() - started
    return result


def _analyze_after_bulk_load() -> None:
    """Refresh PostgreSQL's planner statistics: after a bulk load they describe empty
    tables until autovacuum gets round to them (never, where it is switched off), and
    the planner then picks slow plans for every page."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Team, Assessment, Answer, CapabilityScore):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _write_cycle(
    rng,
    plan: Plan,
    org: Organization,
    framework: Framework,
    teams: list[Team],
    questions: Questions,
    cycle_plan: CyclePlan,
    scores: np.ndarray,
    forced: int | None,
    answerer_ids: list[int],
    teams_done: Progress,
):
    """One cycle, its assessments and their answers; returns (cycle, assessment
    ids, submitted ids, answers written)."""
    is_open = cycle_plan.status == Cycle.Status.OPEN
    opened_at = _at(cycle_plan.opens_on, 0)
    cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name=cycle_plan.name,
        opens_on=cycle_plan.opens_on,
        closes_on=cycle_plan.closes_on,
        status=cycle_plan.status,
        opened_at=opened_at,
        closed_at=None if is_open else _at(cycle_plan.closes_on, 9 * 60),
    )
    through = Cycle.teams.through
    through.objects.bulk_create(
        [through(cycle_id=cycle.id, team_id=t.id) for t in teams],
        batch_size=BATCH_SIZE,
    )
    status = assessment_statuses(rng, len(teams), cycle_plan, forced)
    names = {
        2: Assessment.Status.SUBMITTED,
        1: Assessment.Status.IN_PROGRESS,
        0: Assessment.Status.NOT_STARTED,
    }
    submit_day = cycle_plan.closes_on - dt.timedelta(days=3)
    late = rng.integers(0, 3 * 24 * 60, len(teams))
    assessments = [
        Assessment(
            cycle=cycle,
            team=team,
            status=names[int(s)],
            submitted_at=_at(submit_day, late[i]) if s == 2 else None,
            submitted_by_id=answerer_ids[i] if s == 2 else None,
            last_activity_at=_at(submit_day, late[i]) if s else None,
        )
        for i, (team, s) in enumerate(zip(teams, status, strict=True))
    ]
    created = Assessment.objects.bulk_create(assessments, batch_size=BATCH_SIZE)
    if created and created[0].pk is None:
        by_team = dict(
            Assessment.objects.filter(cycle=cycle).values_list("team_id", "id")
        )
        ids = [by_team[t.id] for t in teams]
    else:
        ids = [a.pk for a in created]
    n = bulk_insert(
        Answer,
        ANSWER_COLUMNS,
        _answer_rows(
            rng,
            plan,
            questions,
            scores,
            status,
            ids,
            answerer_ids,
            cycle_plan,
            teams_done,
        ),
    )
    submitted = [aid for aid, s in zip(ids, status, strict=True) if s == 2]
    return cycle, ids, submitted, n


def _make_targets(
    plan: Plan, org: Organization, framework: Framework, teams_by_name: dict[str, Team]
):
    """Organisation default targets for every capability, and a few team overrides."""
    keys = sorted(
        Capability.objects.filter(framework=framework).values_list("key", flat=True)
    )
    rows = [
        Target(
            organization=org,
            capability_key=key,
            percent=plan.targets.get(key, plan.target_default),
        )
        for key in keys
    ]
    rows += [
        Target(
            organization=org, team=teams_by_name[team], capability_key=key, percent=pct
        )
        for team, key, pct in plan.team_targets
        if team in teams_by_name
    ]
    Target.objects.bulk_create(rows)


def demo_users(plan: Plan) -> list[str]:
    return [
        plan.lead_username,
        *plan.respondents,
        *CONSENSUS_RESPONDENTS,
        CENTRAL_RESPONDENT[0],
    ]


def demo_editions(slug: str = SHIPPED_FRAMEWORK_SLUG) -> tuple[Framework, Framework]:
    """(past, current): the version new cycles use, and the one it was derived from
    (the demo's past cycles pin it). Both are the same when there is one edition."""
    current = published_framework(slug)
    if current is None:
        raise LookupError(NO_FRAMEWORK_MSG)
    source = current.derived_from or {}
    past = (
        Framework.objects.filter(
            slug=source.get("slug"),
            version=source.get("version"),
            status=Framework.Status.PUBLISHED,
        ).first()
        if source
        else None
    )
    return past or current, current


def _central_team(plan: Plan, org: Organization, password: str) -> Team:
    """The central FinOps team under the Corporate unit, set on the organisation,
    with its respondent."""
    unit = Team.objects.filter(
        organization=org, kind=Team.Kind.BUSINESS_UNIT, name=CENTRAL_UNIT
    ).first()
    team = Team.objects.create(organization=org, parent=unit, name=CENTRAL_TEAM)
    org.central_team = team
    org.save(update_fields=["central_team"])
    username, first, last = CENTRAL_RESPONDENT
    user = get_user_model().objects.create(
        username=username,
        first_name=first,
        last_name=last,
        email=f"{username}@{plan.slug}.example",
        # the demo's one password, hashed once (as for the other sign-ins)
        password=get_user_model()
        .objects.filter(username=plan.lead_username)
        .values_list("password", flat=True)
        .first()
        or make_password(password),
    )
    Membership.objects.create(
        user=user, organization=org, team=team, role=Membership.Role.RESPONDENT
    )
    return team


def open_on_current_edition(
    plan: Plan,
    result: BuildResult,
    *,
    framework: Framework,
    password: str,
) -> Cycle:
    """The plan's open cycle on ``framework`` (the current edition): every team's
    answers carried forward from its last submitted assessment (the one code path
    of ``cycle_open(carry_forward=True)``), then reviewed as teams do: about half
    confirmed everything (a few changed) and submitted, others confirmed part, the
    demo respondent's team left to confirm. The central team answers its own
    questions (and the team ones) and submits."""
    started = time.perf_counter()
    cycle_plan = plan.cycles[-1]
    org = result.organization
    rng = np.random.default_rng(plan.seed + 2026)
    with transaction.atomic():
        central = _central_team(plan, org, password)
        teams = list(
            Team.objects.filter(organization=org, kind=Team.Kind.TEAM).order_by("id")
        )
        cycle = Cycle.objects.create(
            organization=org,
            framework=framework,
            name=cycle_plan.name,
            opens_on=cycle_plan.opens_on,
            closes_on=cycle_plan.closes_on,
            status=Cycle.Status.OPEN,
            opened_at=_at(cycle_plan.opens_on, 0),
        )
        through = Cycle.teams.through
        through.objects.bulk_create(
            [through(cycle_id=cycle.id, team_id=t.id) for t in teams],
            batch_size=BATCH_SIZE,
        )
        Assessment.objects.bulk_create(
            [Assessment(cycle=cycle, team=t) for t in teams], batch_size=BATCH_SIZE
        )
        carried = carry_forward(cycle=cycle)
        assessments = {a.team_id: a for a in Assessment.objects.filter(cycle=cycle)}
        answerer = dict(
            Membership.objects.filter(organization=org, team__isnull=False)
            .order_by("-id")
            .values_list("team_id", "user_id")
        )
        lead_id = (
            Membership.objects.filter(organization=org, role=Membership.Role.LEAD)
            .values_list("user_id", flat=True)
            .first()
        )
        questions = _questions(framework)
        index = {int(q): i for i, q in enumerate(questions.ids)}
        audience = dict(
            Question.objects.filter(capability__framework=framework).values_list(
                "id", "audience"
            )
        )
        catalogue = [r["key"] for r in framework.na_reason_catalogue]
        reasons = {
            qid: (list(keys) if keys else catalogue)
            for qid, keys in Question.objects.filter(
                capability__framework=framework
            ).values_list("id", "na_reasons")
        }
        by_assessment: dict[int, list[Answer]] = {}
        for answer in Answer.objects.filter(assessment__cycle=cycle).select_related(
            "option"
        ):
            by_assessment.setdefault(answer.assessment_id, []).append(answer)
        status = assessment_statuses(rng, len(teams), cycle_plan, None)
        submit_day = cycle_plan.closes_on - dt.timedelta(days=3)
        reviewed: list[int] = []  # carried answers confirmed or changed
        rows: list[tuple] = []  # their new rows and the new answers (ANSWER_ROW)
        submitted: list[int] = []
        for i, team in enumerate(teams):
            assessment = assessments[team.id]
            answers = by_assessment.get(assessment.pk, [])
            who = answerer.get(team.id, lead_id)
            at = _at(submit_day, int(rng.integers(0, 3 * 24 * 60)))
            state = 2 if team.id == central.id else int(status[i])
            if team.name in NOT_SUBMITTED_TEAMS:
                state = min(state, 1)
            if team.name in CARRIED_UNTOUCHED_TEAMS or (state == 0 and answers):
                continue
            scores = [a.option.score for a in answers if a.option is not None]
            level = float(np.mean(scores)) if scores else 2.0
            for answer in answers:
                if state == 1 and rng.random() >= CONFIRMED_SHARE:
                    continue
                reviewed.append(answer.pk)
                option_id = answer.option_id
                if answer.option is not None and rng.random() < CHANGED_SHARE:
                    score = answer.option.score + int(rng.choice([-1, 1]))
                    option_id = int(
                        questions.options[
                            index[answer.question_id], int(np.clip(score, 0, 4))
                        ]
                    )
                na_reason = answer.na_reason
                if answer.not_applicable and not na_reason:
                    na_reason = reasons[answer.question_id][0]
                rows.append(
                    (
                        assessment.pk,
                        answer.question_id,
                        option_id,
                        answer.not_applicable,
                        na_reason,
                        answer.comment,
                        answer.evidence_url,
                        who,
                        at,
                        2,
                        False,
                    )
                )
            have = {a.question_id for a in answers}
            for qid in questions.ids.tolist():
                if qid in have or (
                    audience[qid] == "central" and team.id != central.id
                ):
                    continue
                if state == 1 and rng.random() < 0.5:
                    continue
                score = int(np.clip(np.rint(level + rng.normal(0, 0.7)), 0, 4))
                option_id = int(questions.options[index[qid], score])
                rows.append(
                    (
                        assessment.pk,
                        qid,
                        option_id,
                        False,
                        "",
                        "",
                        "",
                        who,
                        at,
                        1,
                        False,
                    )
                )
            if state == 2:
                submitted.append(assessment.pk)
                Assessment.objects.filter(pk=assessment.pk).update(
                    status=Assessment.Status.SUBMITTED,
                    submitted_at=at,
                    submitted_by_id=who,
                    last_activity_at=at,
                )
            else:
                Assessment.objects.filter(pk=assessment.pk).update(
                    status=Assessment.Status.IN_PROGRESS, last_activity_at=at
                )
        for start in range(0, len(reviewed), BATCH_SIZE):
            Answer.objects.filter(pk__in=reviewed[start : start + BATCH_SIZE]).delete()
        bulk_insert(Answer, REVIEWED_COLUMNS, rows)
        _extra_targets(org, framework)
    result.teams += 1
    result.users += 1
    result.assessments += len(teams)
    result.answers += carried["answers"] + len(rows) - len(reviewed)
    result.add_phase("answers", time.perf_counter() - started)
    phase = time.perf_counter()
    _store_scores(cycle.id, submitted, result)
    result.add_phase("scores", time.perf_counter() - phase)
    _analyze_after_bulk_load()
    return cycle


def _extra_targets(org: Organization, framework: Framework) -> None:
    """Organisation default targets for the capabilities an edition added."""
    have = set(
        Target.objects.filter(organization=org, team=None).values_list(
            "capability_key", flat=True
        )
    )
    Target.objects.bulk_create(
        [
            Target(
                organization=org,
                capability_key=key,
                percent=DEMO_TARGETS.get(key, DEMO_TARGET_DEFAULT),
            )
            for key in Capability.objects.filter(framework=framework)
            .exclude(key__in=have)
            .values_list("key", flat=True)
        ]
    )


def demo_seed(
    *,
    password: str,
    reset: bool = False,
    seed: int = 42,
    progress: Progress | None = None,
) -> BuildResult | None:
    """Build the demo organisation and its sign-ins (``admin``, ``lead``,
    ``respondent`` and a few more). Returns None when it is already there."""
    plan = demo_plan(seed=seed)
    existing = Organization.objects.filter(slug=plan.slug).first()
    if existing and not reset:
        return None
    past, current = demo_editions()
    User = get_user_model()
    if existing:
        organization_delete(organization=existing)
    User.objects.filter(username__in=demo_users(plan)).delete()
    admin, _ = User.objects.get_or_create(
        username=DEMO_ADMIN, defaults={"email": f"admin@{plan.slug}.example"}
    )
    admin.is_staff = admin.is_superuser = True
    admin.set_password(password)
    admin.save()
    if past == current:
        result = build(plan, framework=current, password=password, progress=progress)
    else:
        # Past cycles on the edition they were answered on; the open one on the
        # current edition, with answers carried forward (see open_on_current_edition).
        past_plan = dataclasses.replace(plan, cycles=plan.cycles[:-1])
        result = build(past_plan, framework=past, password=password, progress=progress)
        open_on_current_edition(plan, result, framework=current, password=password)
    consensus_team_seed(organization=result.organization, password=password, seed=seed)
    result.users += 1 + len(CONSENSUS_RESPONDENTS)
    return result


def load_generate(
    *,
    teams: int,
    cycles: int,
    org_name: str | None = None,
    seed: int = 42,
    password: str,
    replace: bool = False,
    framework: Framework | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build an organisation of ``teams`` teams x ``cycles`` cycles for benchmarks."""
    plan = load_plan(teams=teams, cycles=cycles, org_name=org_name, seed=seed)
    framework = framework or published_framework()
    if framework is None:
        raise LookupError(NO_FRAMEWORK_MSG)
    existing = Organization.objects.filter(slug=plan.slug).first()
    if existing:
        if not replace:
            raise ValueError(ORG_EXISTS_MSG.format(slug=plan.slug))
        organization_delete(organization=existing)
        get_user_model().objects.filter(username__startswith=f"{plan.slug}-").delete()
    return build(plan, framework=framework, password=password, progress=progress)


def progress_bar(write: Callable[[str], None], title: str, width: int = 30) -> Progress:
    """A plain one-line progress bar: ``Seeding demo  [#####-----] 50%  (cycle 2/3)``."""

    def report(fraction: float, label: str) -> None:
        filled = int(round(width * min(1.0, fraction)))
        bar = "#" * filled + "-" * (width - filled)
        write(f"\r{title}  [{bar}] {fraction * 100:.0f}%  ({label})")

    return report

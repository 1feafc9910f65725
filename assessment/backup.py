"""Move an organisation between installations as one JSON document.

The document holds the organisation's team tree, memberships (by username), cycles
(by framework slug and version, teams by name, capabilities by key), assessments,
answers (by question key and option score), reopen reasons and targets; for
consensus-mode assessments also the members' individual answers, their
submissions and the facilitator's settlements. Scores and
roll-ups are not stored: they are recomputed from the answers on import.
"""

from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from capabilities.models import AnswerOption, Capability, Framework, Question

from .cycles import cycle_scores_changed, lens_weights_clean
from .models import (
    Answer,
    Assessment,
    AssessmentReopen,
    Cycle,
    Membership,
    Organization,
    RespondentAnswer,
    RespondentSubmission,
    Settlement,
    Target,
    Team,
)
from .scores import scores_store_many

FORMAT = "finops-portal/organisation"
FORMAT_VERSION = 1
CYCLE_LENS_WEIGHTS_MSG = "Cycle “{cycle}”, lens_weights: {error}"
ORG_EXISTS_MSG = "An organisation with the slug {slug!r} exists already."
WRONG_FORMAT_MSG = "This is not an organisation export (format {found!r})."
FRAMEWORK_MISSING_MSG = (
    "Cycle {cycle!r} uses framework {slug} v{version}, which is not installed."
)
QUESTION_MISSING_MSG = (
    "Question {key!r} of cycle {cycle!r} is not in framework {slug} v{version}."
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def org_export(*, organization: Organization) -> dict:
    """The whole organisation as plain JSON-ready data, in a stable order."""
    teams = list(organization.teams.select_related("parent").order_by("name"))
    team_names = {t.id: t.name for t in teams}
    cycles = []
    for cycle in (
        organization.cycles.select_related("framework")
        .prefetch_related("teams", "capabilities")
        .order_by("name")
    ):
        assessments = []
        for a in (
            cycle.assessments.select_related("team", "submitted_by")
            .prefetch_related("reopens__reopened_by")
            .order_by("team__name")
        ):
            answers = (
                Answer.objects.filter(assessment=a)
                .select_related("question", "option", "answered_by")
                .order_by("question__key")
            )
            assessments.append(
                {
                    "team": a.team.name,
                    "status": a.status,
                    "submitted_at": _iso(a.submitted_at),
                    "submitted_by": a.submitted_by.username if a.submitted_by else None,
                    "last_activity_at": _iso(a.last_activity_at),
                    "answers": [
                        {
                            "question": ans.question.key,
                            "score": ans.option.score if ans.option_id else None,
                            "not_applicable": ans.not_applicable,
                            "comment": ans.comment,
                            "evidence_url": ans.evidence_url,
                            "answered_by": ans.answered_by.username
                            if ans.answered_by
                            else None,
                            "version": ans.version,
                        }
                        for ans in answers
                    ],
                    "reopens": [
                        {
                            "by": r.reopened_by.username if r.reopened_by else None,
                            "at": _iso(r.reopened_at),
                            "reason": r.reason,
                        }
                        for r in a.reopens.order_by("reopened_at")
                    ],
                    **_consensus_export(a),
                }
            )
        cycles.append(
            {
                "name": cycle.name,
                "framework": {
                    "slug": cycle.framework.slug,
                    "version": cycle.framework.version,
                },
                "status": cycle.status,
                "opens_on": _iso(cycle.opens_on),
                "closes_on": _iso(cycle.closes_on),
                "opened_at": _iso(cycle.opened_at),
                "closed_at": _iso(cycle.closed_at),
                "teams": sorted(t.name for t in cycle.teams.all()),
                "capabilities": sorted(c.key for c in cycle.capabilities.all()),
                "lens_weights": cycle.lens_weights,
                "mode": cycle.mode,
                "assessments": assessments,
            }
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "organization": {
            "name": organization.name,
            "slug": organization.slug,
            "anonymity_threshold": organization.anonymity_threshold,
        },
        "teams": [
            {"name": t.name, "kind": t.kind, "parent": team_names.get(t.parent_id)}
            for t in teams
        ],
        "memberships": [
            {
                "user": m.user.username,
                "email": m.user.email,
                "role": m.role,
                "team": team_names.get(m.team_id),
            }
            for m in organization.memberships.select_related("user").order_by(
                "user__username", "team__name"
            )
        ],
        "targets": [
            {
                "team": team_names.get(t.team_id),
                "capability": t.capability_key,
                "percent": str(t.percent),
            }
            for t in organization.targets.order_by("team__name", "capability_key")
        ],
        "cycles": cycles,
    }


def _consensus_export(a: Assessment) -> dict:
    """A consensus-mode assessment's mode, facilitator, individual answers,
    submissions and settlements (nothing for a single-mode one)."""
    if not a.is_consensus:
        return {}
    return {
        "mode": a.mode,
        "facilitator": a.facilitator.username if a.facilitator else None,
        "individual_answers": [
            {
                "question": x.question.key,
                "respondent": x.respondent.username,
                "score": x.option.score if x.option_id else None,
                "not_applicable": x.not_applicable,
                "comment": x.comment,
                "private_note": x.private_note,
                "evidence_url": x.evidence_url,
                "version": x.version,
            }
            for x in RespondentAnswer.objects.filter(assessment=a)
            .select_related("question", "option", "respondent")
            .order_by("question__key", "respondent__username")
        ],
        "respondent_submissions": [
            {"respondent": x.respondent.username, "at": _iso(x.submitted_at)}
            for x in RespondentSubmission.objects.filter(assessment=a)
            .select_related("respondent")
            .order_by("respondent__username")
        ],
        "settlements": [
            {
                "question": x.question.key,
                "note": x.note,
                "used_default": x.used_default,
                "spread": x.spread,
                "respondents": x.respondents,
                "by": x.settled_by.username if x.settled_by else None,
            }
            for x in Settlement.objects.filter(assessment=a)
            .select_related("question", "settled_by")
            .order_by("question__key")
        ],
    }


@transaction.atomic
def org_import(
    *, data: dict, slug: str | None = None
) -> tuple[Organization, list[str]]:
    """Create the organisation described by ``data`` (from ``org_export``).

    All or nothing. Users are matched by username; a missing one is created inactive
    with no usable password (listed in the returned notes). Returns the organisation
    and notes for the person importing.
    """
    if data.get("format") != FORMAT:
        raise ValidationError(WRONG_FORMAT_MSG.format(found=data.get("format")))
    org_data = data["organization"]
    slug = slug or org_data["slug"]
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError(ORG_EXISTS_MSG.format(slug=slug))
    notes: list[str] = []
    users = _users(data, notes)
    org = Organization.objects.create(
        name=org_data["name"],
        slug=slug,
        anonymity_threshold=org_data["anonymity_threshold"],
    )
    teams: dict[str, Team] = {}
    pending = list(data["teams"])
    while pending:  # parents before children
        ready = [t for t in pending if t["parent"] is None or t["parent"] in teams]
        if not ready:
            raise ValidationError("The team tree has a loop or a missing parent.")
        for t in ready:
            teams[t["name"]] = Team.objects.create(
                organization=org,
                name=t["name"],
                kind=t["kind"],
                parent=teams.get(t["parent"]),
            )
            pending.remove(t)
    Membership.objects.bulk_create(
        Membership(
            organization=org,
            user=users[m["user"]],
            role=m["role"],
            team=teams.get(m["team"]),
        )
        for m in data["memberships"]
    )
    Target.objects.bulk_create(
        Target(
            organization=org,
            team=teams.get(t["team"]),
            capability_key=t["capability"],
            percent=t["percent"],
        )
        for t in data["targets"]
    )
    for c in data["cycles"]:
        _import_cycle(org, c, teams, users)
    _rescore(org)
    return org, notes


def _rescore(org: Organization) -> None:
    """Scores and roll-ups are derived data: rebuild the scores from the imported
    answers and record that every cycle's scores changed (its roll-up follows)."""
    submitted = Assessment.objects.filter(
        cycle__organization=org, status=Assessment.Status.SUBMITTED
    ).values_list("id", flat=True)
    scores_store_many(assessment_ids=list(submitted))
    for cycle_id in org.cycles.values_list("id", flat=True):
        cycle_scores_changed(cycle_id=cycle_id)


def _users(data: dict, notes: list[str]) -> dict:
    User = get_user_model()
    names = {m["user"]: m.get("email", "") for m in data["memberships"]}
    for c in data["cycles"]:
        for a in c["assessments"]:
            for name in [
                a["submitted_by"],
                *(x["answered_by"] for x in a["answers"]),
                *(r["by"] for r in a["reopens"]),
                a.get("facilitator"),
                *(x["respondent"] for x in a.get("individual_answers", [])),
                *(x["respondent"] for x in a.get("respondent_submissions", [])),
                *(x["by"] for x in a.get("settlements", [])),
            ]:
                if name:
                    names.setdefault(name, "")
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    for name, email in sorted(names.items()):
        if name not in users:
            user = User(username=name, email=email, is_active=False)
            user.set_unusable_password()
            user.save()
            users[name] = user
            notes.append(
                f"Created inactive user {name!r}: set a password to let them sign in."
            )
    return users


def _import_cycle(org: Organization, c: dict, teams: dict, users: dict) -> None:
    fw_ref = c["framework"]
    framework = Framework.objects.filter(
        slug=fw_ref["slug"], version=fw_ref["version"]
    ).first()
    if framework is None:
        raise ValidationError(FRAMEWORK_MISSING_MSG.format(cycle=c["name"], **fw_ref))
    try:
        weights = lens_weights_clean(
            framework=framework, lens_weights=c["lens_weights"]
        )
    except ValidationError as error:
        raise ValidationError(
            CYCLE_LENS_WEIGHTS_MSG.format(cycle=c["name"], error=error.messages[0])
        ) from None
    cycle = Cycle.objects.create(
        organization=org,
        framework=framework,
        name=c["name"],
        status=c["status"],
        opens_on=_d(c["opens_on"]),
        closes_on=_d(c["closes_on"]),
        opened_at=_dt(c["opened_at"]),
        closed_at=_dt(c["closed_at"]),
        lens_weights=weights,
        mode=c.get("mode", Cycle.Mode.SINGLE),
    )
    cycle.teams.set([teams[name] for name in c["teams"]])
    cycle.capabilities.set(
        Capability.objects.filter(framework=framework, key__in=c["capabilities"])
    )
    questions = {
        q.key: q for q in Question.objects.filter(capability__framework=framework)
    }
    options = {
        (o.question_id, o.score): o
        for o in AnswerOption.objects.filter(question__capability__framework=framework)
    }
    for a in c["assessments"]:
        assessment = Assessment.objects.create(
            cycle=cycle,
            team=teams[a["team"]],
            status=a["status"],
            submitted_at=_dt(a["submitted_at"]),
            submitted_by=users.get(a["submitted_by"]),
            last_activity_at=_dt(a["last_activity_at"]),
            mode=a.get("mode", Cycle.Mode.SINGLE),
            facilitator=users.get(a.get("facilitator")),
        )
        answers = []
        for x in a["answers"]:
            question = questions.get(x["question"])
            if question is None:
                raise ValidationError(
                    QUESTION_MISSING_MSG.format(
                        key=x["question"], cycle=c["name"], **fw_ref
                    )
                )
            answers.append(
                Answer(
                    assessment=assessment,
                    question=question,
                    option=options[(question.id, x["score"])]
                    if x["score"] is not None
                    else None,
                    not_applicable=x["not_applicable"],
                    comment=x["comment"],
                    evidence_url=x["evidence_url"],
                    answered_by=users.get(x["answered_by"]),
                    version=x["version"],
                )
            )
        Answer.objects.bulk_create(answers)
        _consensus_import(assessment, a, questions, options, users, c, fw_ref)
        for r in a["reopens"]:
            reopen = AssessmentReopen.objects.create(
                assessment=assessment,
                reopened_by=users.get(r["by"]),
                reason=r["reason"],
            )
            AssessmentReopen.objects.filter(pk=reopen.pk).update(
                reopened_at=_dt(r["at"])
            )


def _consensus_import(assessment, a: dict, questions, options, users, c, fw_ref):
    """The individual answers, submissions and settlements of ``a``, if any."""

    def question_of(key: str):
        question = questions.get(key)
        if question is None:
            raise ValidationError(
                QUESTION_MISSING_MSG.format(key=key, cycle=c["name"], **fw_ref)
            )
        return question

    RespondentAnswer.objects.bulk_create(
        RespondentAnswer(
            assessment=assessment,
            question=(question := question_of(x["question"])),
            respondent=users[x["respondent"]],
            option=options[(question.id, x["score"])]
            if x["score"] is not None
            else None,
            not_applicable=x["not_applicable"],
            comment=x["comment"],
            private_note=x["private_note"],
            evidence_url=x["evidence_url"],
            version=x["version"],
        )
        for x in a.get("individual_answers", [])
    )
    for x in a.get("respondent_submissions", []):
        submission = RespondentSubmission.objects.create(
            assessment=assessment, respondent=users[x["respondent"]]
        )
        RespondentSubmission.objects.filter(pk=submission.pk).update(
            submitted_at=_dt(x["at"])
        )
    Settlement.objects.bulk_create(
        Settlement(
            assessment=assessment,
            question=question_of(x["question"]),
            note=x["note"],
            used_default=x["used_default"],
            spread=x["spread"],
            respondents=x["respondents"],
            settled_by=users.get(x["by"]),
        )
        for x in a.get("settlements", [])
    )

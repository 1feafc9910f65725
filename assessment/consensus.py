"""Consensus mode: every member of a team answers on their own, a facilitator
settles the team's answer per question, and the team's disagreement is kept.

Writes lock the assessment row first, as ``services`` does, so a member's save,
a settle and the team's submission never interleave. The settled answers are the
team's ``Answer`` rows, so scoring, submission, reports and roll-ups read them
unchanged; the individual answers (``RespondentAnswer``) are kept beside them.

Who sees what (``individuals_visible``): a member sees the others' answers only
after submitting their own (no anchoring); the facilitator and the organisation's
leads always do. A member's note for the facilitator is shown to the facilitator
and to leads (who may facilitate any team), never to the other members.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from capabilities.models import AnswerOption, Question
from finops_portal.audit import audit_record

from . import disagreement
from .exceptions import AnswerConflict, IncompleteAssessment
from .models import (
    Answer,
    AnsweringMode,
    Assessment,
    Cycle,
    Membership,
    RespondentAnswer,
    RespondentAnswerChange,
    RespondentSubmission,
    Settlement,
    counts_as_answered,
)
from .selectors import questions_for_assessment
from .services import (
    COMMENT_MAX_LENGTH,
    _check_writable,
    _locked_row,
    _record_one,
    _touch,
    _validate_answer,
)

MODE_INVALID_MSG = "Choose one answer set per team or consensus."
MODE_HAS_ANSWERS_MSG = (
    "The answering mode cannot change once answers exist: {count} answer(s) are "
    "recorded. Changing it now would hide them or mix them up."
)
MODE_CLOSED_MSG = "A closed cycle's answering mode cannot change."
NOT_CONSENSUS_MSG = "This team answers as one: there are no individual answers."
NOT_A_MEMBER_MSG = (
    "Only members of the team answer on their own; the facilitator settles the "
    "team's answers."
)
OWN_SUBMITTED_MSG = "You have submitted your answers; they can no longer be changed."
OWN_ALREADY_SUBMITTED_MSG = "You have already submitted your answers."
NOTE_TOO_LONG_MSG = f"Keep the note under {COMMENT_MAX_LENGTH} characters."
SETTLE_NOTE_REQUIRED_MSG = (
    "No one answered this question: say in a note how the team's answer was settled."
)
SETTLE_CHOICE_REQUIRED_MSG = "Choose the team's answer (an option, or N/A)."
FACILITATOR_NOT_MEMBER_MSG = "The facilitator must be a member of the team."

PRIVATE_NOTE_FIELD = "private_note"


# --- who --------------------------------------------------------------------------


def is_member(*, assessment: Assessment, user) -> bool:
    """The user holds a role in the assessment's team itself (one query)."""
    return Membership.objects.filter(team_id=assessment.team_id, user=user).exists()


def may_facilitate(*, access, assessment: Assessment, user) -> bool:
    """Leads of the organisation, and the member the lead named."""
    return access.leads(assessment.cycle.organization_id) or (
        assessment.facilitator_id is not None
        and assessment.facilitator_id == user.pk
        and assessment.team_id in access.team_ids
    )


def has_submitted(*, assessment: Assessment, user) -> bool:
    return RespondentSubmission.objects.filter(
        assessment=assessment, respondent=user
    ).exists()


def individuals_visible(*, access, assessment: Assessment, user) -> bool:
    """May ``user`` see every member's individual answers to ``assessment``?"""
    if not assessment.is_consensus:
        return False
    if may_facilitate(access=access, assessment=assessment, user=user):
        return True
    return assessment.team_id in access.team_ids and has_submitted(
        assessment=assessment, user=user
    )


def private_notes_visible(*, access, assessment: Assessment, user) -> bool:
    return may_facilitate(access=access, assessment=assessment, user=user)


# --- mode and facilitator ---------------------------------------------------------


def _answer_count(**filters) -> int:
    return (
        Answer.objects.filter(**filters).count()
        + RespondentAnswer.objects.filter(**filters).count()
    )


def _check_mode(mode: str) -> None:
    if mode not in AnsweringMode.values:
        raise ValidationError({"mode": [MODE_INVALID_MSG]})


@transaction.atomic
def cycle_mode_set(*, cycle: Cycle, mode: str, user=None) -> Cycle:
    """Set the answering mode of a cycle and of all its assessments; refused (with
    the reason, on ``mode``) once any answer of the cycle exists."""
    _check_mode(mode)
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.mode == mode:
        return cycle
    if cycle.is_closed:
        raise ValidationError({"mode": [MODE_CLOSED_MSG]})
    count = _answer_count(assessment__cycle=cycle)
    if count:
        raise ValidationError({"mode": [MODE_HAS_ANSWERS_MSG.format(count=count)]})
    old = cycle.mode
    cycle.mode = mode
    cycle.save(update_fields=["mode"])
    Assessment.objects.filter(cycle=cycle).update(mode=mode)
    audit_record(
        organization_id=cycle.organization_id,
        actor=user,
        action="cycle.mode",
        summary=f"Set {cycle.name} to {AnsweringMode(mode).label.lower()}",
        cycle_id=cycle.pk,
        old=old,
        new=mode,
    )
    return cycle


@transaction.atomic
def assessment_mode_set(*, assessment: Assessment, mode: str, user=None) -> Assessment:
    """Set one team's answering mode in a cycle; refused once it has answers."""
    _check_mode(mode)
    locked = _locked_row(assessment.pk)
    if locked.mode == mode:
        return locked
    if locked.cycle.is_closed:
        raise ValidationError({"mode": [MODE_CLOSED_MSG]})
    count = _answer_count(assessment=locked)
    if count:
        raise ValidationError({"mode": [MODE_HAS_ANSWERS_MSG.format(count=count)]})
    Assessment.objects.filter(pk=locked.pk).update(mode=mode)
    assessment.mode = mode
    audit_record(
        organization_id=locked.cycle.organization_id,
        actor=user,
        action="assessment.mode",
        summary=f"Set team {assessment.team_id} of {locked.cycle.name} to "
        f"{AnsweringMode(mode).label.lower()}",
        assessment_id=locked.pk,
        old=locked.mode,
        new=mode,
    )
    return assessment


@transaction.atomic
def facilitator_set(*, assessment: Assessment, facilitator, user=None) -> Assessment:
    """Name the member who facilitates the team (None: the leads do)."""
    if facilitator is not None and not is_member(
        assessment=assessment, user=facilitator
    ):
        raise ValidationError({"facilitator": [FACILITATOR_NOT_MEMBER_MSG]})
    assessment.facilitator = facilitator
    assessment.save(update_fields=["facilitator"])
    audit_record(
        organization_id=assessment.cycle.organization_id,
        actor=user,
        action="assessment.facilitator",
        summary=(
            f"Named {facilitator.get_username()} facilitator"
            if facilitator is not None
            else "Leads facilitate"
        ),
        assessment_id=assessment.pk,
    )
    return assessment


# --- a member's own answers -------------------------------------------------------


def own_values(answer: RespondentAnswer | None) -> dict:
    """The values of an individual answer as kept in its history."""
    if answer is None or answer.pk is None:
        return {
            "option_score": None,
            "option_id": None,
            "not_applicable": False,
            "comment": "",
            PRIVATE_NOTE_FIELD: "",
            "evidence_url": "",
        }
    return {
        "option_score": answer.option.score if answer.option is not None else None,
        "option_id": answer.option_id,
        "not_applicable": answer.not_applicable,
        "comment": answer.comment,
        PRIVATE_NOTE_FIELD: answer.private_note,
        "evidence_url": answer.evidence_url,
    }


def _locked_own(assessment: Assessment, question: Question, user):
    answer = (
        RespondentAnswer.objects.select_for_update(of=("self",))
        .select_related("option")
        .filter(assessment_id=assessment.pk, question_id=question.pk, respondent=user)
        .order_by()
        .first()
    )
    if answer is not None:
        answer.assessment = assessment
    return answer


def _check_respondent(locked: Assessment, user) -> None:
    """Writable, consensus, a member, not yet submitted their own (field dict)."""
    _check_writable(locked)
    if not locked.is_consensus:
        raise ValidationError({"assessment": [NOT_CONSENSUS_MSG]})
    if not is_member(assessment=locked, user=user):
        raise ValidationError({"assessment": [NOT_A_MEMBER_MSG]})
    if has_submitted(assessment=locked, user=user):
        raise ValidationError({"assessment": [OWN_SUBMITTED_MSG]})


@transaction.atomic
def own_answer_record(
    *,
    assessment: Assessment | int,
    question: Question,
    user,
    option: AnswerOption | None = None,
    not_applicable: bool = False,
    comment: str | None = None,
    private_note: str | None = None,
    evidence_url: str | None = None,
    expected_version: int | None,
    may_answer=None,
    answerable_by=None,
) -> RespondentAnswer:
    """Create or update ``user``'s own answer to ``question`` (consensus mode).

    The same rules as ``services.answer_record``, per respondent: ``None`` leaves a
    text unchanged, ``expected_version`` guards against a lost update (a second tab
    of the same member raises ``AnswerConflict``), each change is kept in history.
    """
    pk = assessment if isinstance(assessment, int) else assessment.pk
    locked = _locked_row(pk, question, answerable_by)
    if may_answer is not None and not may_answer(locked):
        raise Assessment.DoesNotExist("No such assessment.")
    if answerable_by is not None and not locked.user_may_answer:  # type: ignore[attr-defined]
        raise Assessment.DoesNotExist("No such assessment.")
    _check_respondent(locked, user)
    if comment is not None:
        comment = comment.replace("\r\n", "\n")
    if private_note is not None:
        private_note = private_note.replace("\r\n", "\n")
    if evidence_url is not None:
        evidence_url = evidence_url.strip()
    try:
        _validate_answer(
            assessment=locked,
            in_scope=locked.question_in_scope,  # type: ignore[attr-defined]
            question=question,
            option=option,
            not_applicable=not_applicable,
            comment=comment,
            evidence_url=evidence_url,
        )
    except ValidationError as error:
        errors = error.message_dict
        if private_note is not None and len(private_note) > COMMENT_MAX_LENGTH:
            errors[PRIVATE_NOTE_FIELD] = [NOTE_TOO_LONG_MSG]
        raise ValidationError(errors) from None
    if private_note is not None and len(private_note) > COMMENT_MAX_LENGTH:
        raise ValidationError({PRIVATE_NOTE_FIELD: [NOTE_TOO_LONG_MSG]})
    answer = _locked_own(locked, question, user)
    if (answer.version if answer else 0) != (expected_version or 0):
        raise AnswerConflict(current=answer)
    old = own_values(answer)
    new = {
        "option_score": option.score if option is not None else None,
        "option_id": option.pk if option is not None else None,
        "not_applicable": bool(not_applicable),
        "comment": old["comment"] if comment is None else comment,
        PRIVATE_NOTE_FIELD: old[PRIVATE_NOTE_FIELD]
        if private_note is None
        else private_note,
        "evidence_url": old["evidence_url"] if evidence_url is None else evidence_url,
    }
    if new == old:
        return answer or RespondentAnswer(
            assessment=locked, question=question, respondent=user, version=0
        )
    fields = {
        "option": option,
        "not_applicable": new["not_applicable"],
        "comment": new["comment"],
        "private_note": new[PRIVATE_NOTE_FIELD],
        "evidence_url": new["evidence_url"],
    }
    if answer is None:
        try:
            with transaction.atomic():
                answer = RespondentAnswer.objects.create(
                    assessment=locked,
                    question=question,
                    respondent=user,
                    version=1,
                    **fields,
                )
        except IntegrityError:
            raise AnswerConflict(current=_locked_own(locked, question, user)) from None
    else:
        for name, value in fields.items():
            setattr(answer, name, value)
        answer.version += 1
        answer.save(update_fields=[*fields, "version", "updated_at"])
    RespondentAnswerChange.objects.create(
        answer=answer, changed_by=user, version=answer.version, old=old, new=new
    )
    _touch(locked)
    return answer


@transaction.atomic
def own_answers_bulk_record(
    *, assessment: Assessment, user, items: list[dict]
) -> list[RespondentAnswer]:
    """Record several of ``user``'s own answers, all or nothing; errors name the
    item (``{"items[2].option": [...]}``) as ``services.answers_bulk_record``."""
    answers = []
    for index, item in enumerate(items):
        try:
            answers.append(
                own_answer_record(
                    assessment=assessment.pk,
                    question=item["question"],
                    user=user,
                    option=item.get("option"),
                    not_applicable=item.get("not_applicable", False),
                    comment=item.get("comment"),
                    private_note=item.get(PRIVATE_NOTE_FIELD),
                    evidence_url=item.get("evidence_url"),
                    expected_version=item.get("expected_version"),
                )
            )
        except ValidationError as error:
            if "assessment" in error.message_dict:
                raise
            raise ValidationError(
                {
                    f"items[{index}].{name}": messages
                    for name, messages in error.message_dict.items()
                }
            ) from None
    return answers


def own_missing(*, assessment: Assessment, user) -> list[dict]:
    """The questions in scope ``user`` has not answered, grouped by capability
    (``services.assessment_missing``'s shape). Two queries."""
    answered = {
        a.question_id
        for a in RespondentAnswer.objects.filter(
            assessment=assessment, respondent=user
        ).select_related("question")
        if a.is_answered
    }
    missing: list[dict] = []
    for question in questions_for_assessment(assessment=assessment).select_related(
        "capability", "lens"
    ):
        if question.pk in answered:
            continue
        if not missing or missing[-1]["capability"].pk != question.capability_id:
            missing.append({"capability": question.capability, "questions": []})
        missing[-1]["questions"].append(question)
    return missing


@transaction.atomic
def own_submit(*, assessment: Assessment, user) -> RespondentSubmission:
    """Submit ``user``'s own answers: every question answered (N/A where allowed).
    From then on they are fixed and the member sees the others' answers."""
    locked = _locked_row(assessment.pk)
    _check_writable(locked)
    if not locked.is_consensus:
        raise ValidationError({"assessment": [NOT_CONSENSUS_MSG]})
    if not is_member(assessment=locked, user=user):
        raise ValidationError({"assessment": [NOT_A_MEMBER_MSG]})
    if has_submitted(assessment=locked, user=user):
        raise ValidationError({"assessment": [OWN_ALREADY_SUBMITTED_MSG]})
    missing = own_missing(assessment=assessment, user=user)
    if missing:
        raise IncompleteAssessment(missing=missing)
    return RespondentSubmission.objects.create(assessment=locked, respondent=user)


def own_answers(*, assessment: Assessment, user) -> dict[int, RespondentAnswer]:
    """``user``'s own answers keyed by question id (one query)."""
    return {
        a.question_id: a
        for a in RespondentAnswer.objects.filter(
            assessment=assessment, respondent=user
        ).select_related("option", "respondent")
    }


def own_progress(*, assessment: Assessment, user) -> dict:
    """``selectors.assessment_progress``'s shape for ``user``'s own answers (two
    queries)."""
    mine = {
        question_id: (option_id is not None, na)
        for question_id, option_id, na in RespondentAnswer.objects.filter(
            assessment=assessment, respondent=user
        ).values_list("question_id", "option_id", "not_applicable")
    }
    rows: dict[int, dict] = {}
    for pk, cap_id, key, name, allow_na in questions_for_assessment(
        assessment=assessment
    ).values_list(
        "id", "capability_id", "capability__key", "capability__name", "allow_na"
    ):
        row = rows.setdefault(
            cap_id,
            {"capability_id": cap_id, "key": key, "name": name, "answered": 0},
        )
        row["total"] = row.get("total", 0) + 1
        has_option, na = mine.get(pk, (False, False))
        if counts_as_answered(
            has_option=has_option, not_applicable=na, allow_na=allow_na
        ):
            row["answered"] += 1
    out = []
    for row in rows.values():
        row["percent"] = int(row["answered"] * 100 // row["total"])
        row["complete"] = row["answered"] == row["total"]
        out.append(row)
    answered_n = sum(r["answered"] for r in out)
    total = sum(r["total"] for r in out)
    return {
        "answered": answered_n,
        "total": total,
        "percent": int(answered_n * 100 // total) if total else 0,
        "complete": total > 0 and answered_n == total,
        "capabilities": out,
    }


def own_history(*, answer: RespondentAnswer):
    return (
        RespondentAnswerChange.objects.filter(answer=answer)
        .select_related("changed_by")
        .order_by("-version")
    )


# --- facilitation -----------------------------------------------------------------


def _individual_tokens(assessment_id: int, question_id: int) -> list[int | str]:
    """Each member's answer to one question: its score, or ``disagreement.NA``."""
    tokens: list[int | str] = []
    for score, na in RespondentAnswer.objects.filter(
        assessment_id=assessment_id, question_id=question_id
    ).values_list("option__score", "not_applicable"):
        if score is not None:
            tokens.append(int(score))
        elif na:
            tokens.append(disagreement.NA)
    return tokens


@transaction.atomic
def answer_settle(
    *,
    assessment: Assessment,
    question: Question,
    user,
    option: AnswerOption | None = None,
    not_applicable: bool = False,
    note: str = "",
) -> Answer:
    """Settle the team's answer to ``question`` (the caller checked that ``user``
    may facilitate). A question no one answered is settled only with a note.
    Writes the team's ``Answer`` (history kept) and the ``Settlement``."""
    locked = _locked_row(assessment.pk, question)
    _check_writable(locked)
    if not locked.is_consensus:
        raise ValidationError({"assessment": [NOT_CONSENSUS_MSG]})
    note = (note or "").replace("\r\n", "\n").strip()
    errors: dict[str, list[str]] = {}
    if option is None and not not_applicable:
        errors["option"] = [SETTLE_CHOICE_REQUIRED_MSG]
    if len(note) > COMMENT_MAX_LENGTH:
        errors["note"] = [NOTE_TOO_LONG_MSG]
    tokens = _individual_tokens(locked.pk, question.pk)
    if not tokens and not note:
        errors["note"] = [SETTLE_NOTE_REQUIRED_MSG]
    try:
        _validate_answer(
            assessment=locked,
            in_scope=locked.question_in_scope,  # type: ignore[attr-defined]
            question=question,
            option=option,
            not_applicable=not_applicable,
            comment=None,
            evidence_url=None,
        )
    except ValidationError as error:
        errors = error.message_dict | errors
    if errors:
        raise ValidationError(errors)
    current = (
        Answer.objects.filter(assessment_id=locked.pk, question_id=question.pk)
        .order_by()
        .values_list("version", flat=True)
        .first()
    )
    answer, changed = _record_one(
        assessment=locked,
        in_scope=True,
        question=question,
        user=user,
        option=option,
        not_applicable=not_applicable,
        comment=note,
        evidence_url=None,
        expected_version=current or 0,
    )
    default = disagreement.settle_default(tokens)
    used_default = default is not None and (
        default.not_applicable
        if not_applicable
        else option is not None and default.score == option.score
    )
    scores = [t for t in tokens if t != disagreement.NA]
    Settlement.objects.update_or_create(
        assessment=locked,
        question=question,
        defaults={
            "note": note,
            "used_default": used_default,
            "spread": disagreement.question_range(scores),
            "respondents": len(tokens),
            "settled_by": user,
        },
    )
    if changed:
        _touch(locked)
    return answer


@dataclass
class BoardRow:
    """One question of the facilitation board."""

    question: Question
    individuals: list[dict] = field(default_factory=list)
    spread: float | None = None
    default: disagreement.Default | None = None
    default_option: AnswerOption | None = None
    team_answer: Answer | None = None
    settlement: Settlement | None = None

    @property
    def settled(self) -> bool:
        return self.settlement is not None and self.team_answer is not None

    @property
    def answered_count(self) -> int:
        return sum(1 for i in self.individuals if i["answered"])


def respondents(*, assessment: Assessment) -> list[dict]:
    """The team's respondents: current members and anyone who answered (a removed
    member's answers stay, ``removed`` True), with their submission. Three queries."""
    members = {
        m.user_id: m.user
        for m in Membership.objects.filter(team_id=assessment.team_id).select_related(
            "user"
        )
    }
    submitted = dict(
        RespondentSubmission.objects.filter(assessment=assessment).values_list(
            "respondent_id", "submitted_at"
        )
    )
    answered: dict[int, int] = {}
    users = dict(members)
    for ra in RespondentAnswer.objects.filter(assessment=assessment).select_related(
        "respondent"
    ):
        answered[ra.respondent_id] = answered.get(ra.respondent_id, 0) + 1
        users.setdefault(ra.respondent_id, ra.respondent)
    rows = [
        {
            "user": user,
            "name": user.get_full_name() or user.get_username(),
            "removed": pk not in members,
            "submitted_at": submitted.get(pk),
            "answers": answered.get(pk, 0),
        }
        for pk, user in users.items()
    ]
    rows.sort(key=lambda r: (r["removed"], r["name"].lower()))
    return rows


def facilitation_board(
    *, assessment: Assessment, with_private_notes: bool
) -> tuple[list[BoardRow], list[dict]]:
    """Every question in scope with every member's answer, the spread (range),
    the default and the settled answer; sorted by disagreement, widest first
    (questions without a figure after, in questionnaire order). Returns the rows
    and the respondents. A fixed number of queries."""
    people = respondents(assessment=assessment)
    by_user = {p["user"].pk: p for p in people}
    questions = list(
        questions_for_assessment(assessment=assessment)
        .select_related("capability", "lens")
        .prefetch_related("options")
    )
    rows = {q.pk: BoardRow(question=q) for q in questions}
    individuals = RespondentAnswer.objects.filter(assessment=assessment).select_related(
        "option"
    )
    for ra in individuals:
        row = rows.get(ra.question_id)
        if row is None:
            continue
        person = by_user[ra.respondent_id]
        answered = ra.option_id is not None or (
            ra.not_applicable and row.question.allow_na
        )
        row.individuals.append(
            {
                "respondent": person,
                "score": ra.option.score if ra.option_id else None,
                "label": ra.option.label if ra.option_id else "",
                "not_applicable": ra.not_applicable and row.question.allow_na,
                "answered": answered,
                "comment": ra.comment,
                "private_note": ra.private_note if with_private_notes else "",
                "evidence_url": ra.evidence_url,
            }
        )
    for answer in Answer.objects.filter(assessment=assessment).select_related("option"):
        if answer.question_id in rows:
            rows[answer.question_id].team_answer = answer
    for settlement in Settlement.objects.filter(assessment=assessment):
        if settlement.question_id in rows:
            rows[settlement.question_id].settlement = settlement
    for row in rows.values():
        row.individuals.sort(key=lambda i: i["respondent"]["name"].lower())
        tokens: list[int | str] = [
            disagreement.NA if i["not_applicable"] else i["score"]
            for i in row.individuals
            if i["answered"]
        ]
        row.spread = disagreement.question_range(
            [t for t in tokens if t != disagreement.NA]
        )
        row.default = disagreement.settle_default(tokens)
        if row.default is not None and row.default.score is not None:
            row.default_option = next(
                (o for o in row.question.options.all() if o.score == row.default.score),
                None,
            )
    order = {q.pk: i for i, q in enumerate(questions)}
    board = sorted(
        rows.values(),
        key=lambda r: (
            r.spread is None,
            -(r.spread or 0),
            order[r.question.pk],
        ),
    )
    return board, people


@transaction.atomic
def settle_defaults(*, assessment: Assessment, user) -> int:
    """Settle, with their defaults, every question not settled yet that has one
    (the facilitator confirmed them all at once). Returns how many."""
    board, _people = facilitation_board(assessment=assessment, with_private_notes=False)
    count = 0
    for row in board:
        if row.settlement is not None or row.default is None:
            continue
        if row.default.not_applicable:
            answer_settle(
                assessment=assessment,
                question=row.question,
                user=user,
                not_applicable=True,
            )
        elif row.default_option is not None:
            answer_settle(
                assessment=assessment,
                question=row.question,
                user=user,
                option=row.default_option,
            )
        else:
            continue
        count += 1
    return count


def unsettled_count(board: list[BoardRow]) -> int:
    return sum(1 for row in board if not row.settled)


def disagreement_summary(*, assessment: Assessment, top: int = 5) -> dict:
    """What the team report says about the members' disagreement: the ``top``
    questions of widest range (ties in questionnaire order) and each capability's
    figure (mean of its question ranges). Two queries."""
    questions = list(
        questions_for_assessment(assessment=assessment).values_list(
            "id", "prompt", "capability_id", "capability__name"
        )
    )
    scores: dict[int, list[int]] = {}
    people: set[int] = set()
    for question_id, respondent_id, score in RespondentAnswer.objects.filter(
        assessment=assessment
    ).values_list("question_id", "respondent_id", "option__score"):
        people.add(respondent_id)
        if score is not None:
            scores.setdefault(question_id, []).append(int(score))
    rows = []
    by_capability: dict[int, dict] = {}
    for order, (pk, prompt, cap_id, cap_name) in enumerate(questions):
        spread = disagreement.question_range(scores.get(pk, []))
        entry = by_capability.setdefault(cap_id, {"name": cap_name, "ranges": []})
        entry["ranges"].append(spread)
        if spread is not None:
            rows.append(
                {
                    "order": order,
                    "prompt": prompt,
                    "capability": cap_name,
                    "spread": spread,
                    "scores": sorted(scores[pk]),
                }
            )
    rows.sort(key=lambda r: (-r["spread"], r["order"]))
    return {
        "respondents": len(people),
        "questions": [r for r in rows[:top] if r["spread"] > 0],
        "capabilities": [
            {
                "name": entry["name"],
                "figure": disagreement.capability_disagreement(entry["ranges"]),
            }
            for entry in by_capability.values()
        ],
    }

"""Writes of the respondent's workflow: record answers, submit, reopen.

Every write locks the assessment row first (``FOR NO KEY UPDATE``), so a submit and
a save never interleave: either the save lands before the submit, or it is refused.
"""

import json
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone

from capabilities.models import AnswerOption, Question
from finops_portal.audit import audit_record
from finops_portal.events import event_publish

from .access import can_answer_sql
from .answer_refs import resolve_answers
from .cycles import cycle_scores_changed
from .exceptions import AnswerConflict, ConsensusTeamAnswer, IncompleteAssessment
from .models import (
    Answer,
    AnswerChange,
    Assessment,
    AssessmentReopen,
    Cycle,
    Team,
)
from .scores import scores_store
from .selectors import (
    ANSWERED_Q,
    ANSWERED_SQL,
    cycle_scope_capability_ids,
    in_scope_q,
    is_central_team_q,
    progress_from_rows,
    progress_params,
    progress_select_sql,
    questions_for_assessment,
)

COMMENT_MAX_LENGTH = 5000
ACTIVITY_RESOLUTION = timedelta(minutes=1)
EVIDENCE_URL_MAX_LENGTH = 500

ASSESSMENT_SUBMITTED_MSG = (
    "This assessment has been submitted; its answers can no longer be changed."
)
CYCLE_NOT_OPEN_MSG = "This cycle is not open; answers cannot be changed."
CYCLE_CLOSED_MSG = "This cycle is closed; the assessment cannot be reopened."
QUESTION_NOT_IN_FRAMEWORK_MSG = "This question is not part of this cycle's framework."
QUESTION_OUT_OF_SCOPE_MSG = "This question's capability is not in this cycle's scope."
OPTION_OF_OTHER_QUESTION_MSG = "This option does not belong to this question."
NA_NOT_ALLOWED_MSG = "This question cannot be answered N/A."
NA_REASON_REQUIRED_MSG = "Say why the question does not apply: choose a reason."
NA_REASON_UNKNOWN_MSG = "Choose one of the reasons offered for this question."
NA_REASON_WITHOUT_NA_MSG = "A reason goes with an N/A answer only."
CENTRAL_QUESTION_MSG = (
    "This question is answered by the organisation's central FinOps function; "
    "your team sees its answer and does not answer it."
)
OPTION_AND_NA_MSG = "Choose an option or N/A, not both."
NUL_CHARACTER_MSG = "Remove the null character (U+0000): it cannot be stored."
COMMENT_TOO_LONG_MSG = f"Keep the comment under {COMMENT_MAX_LENGTH} characters."
EVIDENCE_URL_SCHEME_MSG = "Enter a web address starting with http:// or https://."
EVIDENCE_URL_TOO_LONG_MSG = (
    f"Keep the evidence address under {EVIDENCE_URL_MAX_LENGTH} characters."
)
ALREADY_SUBMITTED_MSG = "This assessment has already been submitted."
NOT_SUBMITTED_MSG = "Only a submitted assessment can be reopened."
REOPEN_REASON_REQUIRED_MSG = "Say why the assessment is reopened."
BULK_EMPTY_MSG = "Send at least one answer."
CONSENSUS_TEAM_ANSWER_MSG = (
    "This team answers in consensus mode: each member records their own answers "
    "and the facilitator settles the team's."
)
CARRIED_UNCONFIRMED_MSG = (
    "{count} answer(s) carried forward from the last assessment are not confirmed "
    "yet ({keys}): confirm or change them, or confirm them all when submitting."
)

_EMPTY_VALUES = {
    "option_score": None,
    "option_id": None,
    "not_applicable": False,
    "comment": "",
    "evidence_url": "",
}


def answer_values(answer: Answer | None) -> dict:
    """The values of an answer as kept in its history (``AnswerChange.old/new``)."""
    if answer is None or answer.pk is None:
        return dict(_EMPTY_VALUES)
    return {
        "option_score": answer.option.score if answer.option is not None else None,
        "option_id": answer.option_id,
        "not_applicable": answer.not_applicable,
        "comment": answer.comment,
        "evidence_url": answer.evidence_url,
        # Kept only when given, so histories without reasons read as before.
        **({"na_reason": answer.na_reason} if answer.na_reason else {}),
    }


def _locked_row(
    pk: int, question: Question | None = None, answerable_by=None
) -> Assessment:
    """The assessment row with its cycle, locked (``FOR NO KEY UPDATE``) until the
    transaction ends: one query. With ``question``, the same query tells whether its
    capability is in the cycle's scope (``question_in_scope``); with
    ``answerable_by`` (a user), whether that user may answer it (``user_may_answer``,
    the rule of ``Access.can_answer``)."""
    if question is not None and connection.vendor == "postgresql":
        return _locked_row_sql(pk, question, answerable_by)
    rows = Assessment.objects.select_for_update(no_key=True, of=("self",))
    if answerable_by is not None:
        rows = rows.annotate(user_may_answer=can_answer_sql(answerable_by))
    if question is not None:
        rows = rows.annotate(
            question_in_scope=ExpressionWrapper(
                in_scope_q(
                    cycle=OuterRef("cycle_id"), capability=question.capability_id
                ),
                output_field=BooleanField(),
            )
        )
    return rows.select_related("cycle").get(pk=pk)


@cache
def _converters(model) -> list:
    """For each concrete field of ``model``, the conversion the ORM applies to its
    column (None: the value as read)."""
    return [getattr(f, "from_db_value", None) for f in model._meta.concrete_fields]


def _from_db(model, values) -> list:
    """A row read by hand, converted as the ORM would (a JSON field is parsed)."""
    return [
        value if convert is None else convert(value, None, connection)
        for convert, value in zip(_converters(model), values, strict=True)
    ]


@cache
def _locked_row_statement(may_answer: str) -> str:
    """The statement of ``_locked_row_sql`` with the access condition
    ``may_answer``, built once (it depends only on the tables)."""
    qn = connection.ops.quote_name
    assessment_table, cycle_table = (
        qn(Assessment._meta.db_table),
        qn(Cycle._meta.db_table),
    )
    a_fields = [f.attname for f in Assessment._meta.concrete_fields]
    c_fields = [f.attname for f in Cycle._meta.concrete_fields]
    scope = qn(Cycle.capabilities.through._meta.db_table)
    return (
        "SELECT "
        + ", ".join(f"{assessment_table}.{qn(f)}" for f in a_fields)
        + ", "
        + ", ".join(f"{cycle_table}.{qn(f)}" for f in c_fields)
        + f", (EXISTS (SELECT 1 FROM {scope} s WHERE s.cycle_id ="
        f" {assessment_table}.cycle_id AND s.capability_id = %s) OR NOT EXISTS"
        f" (SELECT 1 FROM {scope} s WHERE s.cycle_id = {assessment_table}.cycle_id))"
        f", {may_answer}"
        f" FROM {assessment_table} JOIN {cycle_table}"
        f" ON {cycle_table}.id = {assessment_table}.cycle_id"
        f" WHERE {assessment_table}.id = %s FOR NO KEY UPDATE OF {assessment_table}"
    )


def _locked_row_sql(pk: int, question: Question, answerable_by=None) -> Assessment:
    """``_locked_row`` with a question, on PostgreSQL: the same query written once
    in SQL, since composing it through the ORM cost more than running it (the
    autosave runs it on every save). The same conditions: ``scope_sql`` is
    ``in_scope_q``, ``can_answer_sql`` is ``Access.can_answer``."""
    a_fields = [f.attname for f in Assessment._meta.concrete_fields]
    c_fields = [f.attname for f in Cycle._meta.concrete_fields]
    may_answer, may_params = "NULL", ()
    if answerable_by is not None:
        expression = can_answer_sql(answerable_by)
        if isinstance(expression, RawSQL):
            may_answer, may_params = expression.sql, tuple(expression.params)
        else:
            may_answer = "TRUE" if expression.value else "FALSE"
    with connection.cursor() as cursor:
        cursor.execute(
            _locked_row_statement(may_answer),
            (question.capability_id, *may_params, pk),
        )
        row = cursor.fetchone()
    if row is None:
        raise Assessment.DoesNotExist("Assessment matching query does not exist.")
    n, m = len(a_fields), len(c_fields)
    assessment = Assessment.from_db(
        connection.alias, a_fields, _from_db(Assessment, row[:n])
    )
    assessment.cycle = Cycle.from_db(
        connection.alias, c_fields, _from_db(Cycle, row[n : n + m])
    )
    assessment.question_in_scope = row[n + m]  # type: ignore[attr-defined]
    if answerable_by is not None:
        assessment.user_may_answer = row[n + m + 1]  # type: ignore[attr-defined]
    return assessment


def _refresh_from_locked(assessment: Assessment, locked: Assessment) -> None:
    """Copy the committed state read under the lock (a concurrent submit is seen)."""
    assessment.status = locked.status
    assessment.submitted_at = locked.submitted_at
    assessment.last_activity_at = locked.last_activity_at
    assessment.mode = locked.mode
    assessment.cycle.status = locked.cycle.status


def _check_writable(locked: Assessment) -> None:
    if locked.is_submitted:
        raise ValidationError({"assessment": [ASSESSMENT_SUBMITTED_MSG]})
    if not locked.cycle.is_open:
        raise ValidationError({"assessment": [CYCLE_NOT_OPEN_MSG]})


def _lock_writable_assessment(assessment: Assessment) -> Assessment:
    """Lock the assessment row and refuse writes to a submitted one or a non-open cycle.

    The caller's instance is refreshed from the locked row, so it reflects the
    committed state (a concurrent submit is seen).
    """
    locked = _locked_row(assessment.pk)
    _refresh_from_locked(assessment, locked)
    _check_writable(locked)
    return assessment


def _evidence_errors(url: str) -> list[str]:
    if not url:
        return []
    if len(url) > EVIDENCE_URL_MAX_LENGTH:
        return [EVIDENCE_URL_TOO_LONG_MSG]
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return [EVIDENCE_URL_SCHEME_MSG]
    return []


def _validate_answer(
    *,
    assessment: Assessment,
    in_scope: bool,
    question: Question,
    option: AnswerOption | None,
    not_applicable: bool,
    comment: str | None,
    evidence_url: str | None,
    na_reason: str = "",
) -> None:
    errors: dict[str, list[str]] = {}
    if question.capability.framework_id != assessment.cycle.framework_id:
        errors["question"] = [QUESTION_NOT_IN_FRAMEWORK_MSG]
    elif not in_scope:
        errors["question"] = [QUESTION_OUT_OF_SCOPE_MSG]
    if option is not None and not_applicable:
        errors["option"] = [OPTION_AND_NA_MSG]
    elif option is not None and option.question_id != question.pk:
        errors["option"] = [OPTION_OF_OTHER_QUESTION_MSG]
    if not_applicable and not question.allow_na:
        errors["not_applicable"] = [NA_NOT_ALLOWED_MSG]
    elif not_applicable:
        if na_reason and na_reason not in {
            reason["key"] for reason in question.na_reason_choices()
        }:
            errors["na_reason"] = [NA_REASON_UNKNOWN_MSG]
        elif not na_reason and question.na_reason_required:
            errors["na_reason"] = [NA_REASON_REQUIRED_MSG]
    elif na_reason:
        errors["na_reason"] = [NA_REASON_WITHOUT_NA_MSG]
    if (
        "question" not in errors
        and question.audience == "central"
        and not Assessment.objects.filter(
            is_central_team_q(
                organization=assessment.cycle.organization_id, team=OuterRef("team_id")
            ),
            pk=assessment.pk,
        ).exists()
    ):
        errors["question"] = [CENTRAL_QUESTION_MSG]
    if comment is not None and len(comment) > COMMENT_MAX_LENGTH:
        errors["comment"] = [COMMENT_TOO_LONG_MSG]
    elif comment is not None and "\x00" in comment:
        errors["comment"] = [NUL_CHARACTER_MSG]
    if evidence_url is not None and "\x00" in evidence_url:
        errors["evidence_url"] = [NUL_CHARACTER_MSG]
    elif evidence_url is not None and (url_errors := _evidence_errors(evidence_url)):
        errors["evidence_url"] = url_errors
    if errors:
        raise ValidationError(errors)


def _locked_answer(assessment: Assessment, question: Question) -> Answer | None:
    answer = (
        Answer.objects.select_for_update(of=("self",))
        .select_related("option")
        .filter(assessment_id=assessment.pk, question_id=question.pk)
        # No ordering: the default one would join five tables to sort one row.
        .order_by()
        .first()
    )
    if answer is not None:
        answer.assessment = assessment
    return answer


@cache
def _answer_table_sql() -> str:
    qn = connection.ops.quote_name
    answer, change = qn(Answer._meta.db_table), qn(AnswerChange._meta.db_table)
    option = qn(AnswerOption._meta.db_table)
    assessment = qn(Assessment._meta.db_table)

    def values_json(row: str, option_score: str) -> str:
        # ``answer_values`` in SQL: the same keys, na_reason only when given.
        return (
            f"(jsonb_build_object('option_score', {option_score},"
            f" 'option_id', {row}.option_id, 'not_applicable', {row}.not_applicable,"
            f" 'comment', {row}.comment, 'evidence_url', {row}.evidence_url)"
            f" || CASE WHEN {row}.na_reason <> '' THEN"
            f" jsonb_build_object('na_reason', {row}.na_reason)"
            f" ELSE '{{}}'::jsonb END)"
        )

    # The progress counts the answer as written: the statement's parts all read
    # the rows as they were before it, so this answer's new values are used.
    answered = (
        f"CASE WHEN a.id = (SELECT upd.id FROM upd) THEN (%(option)s::bigint IS NOT"
        f" NULL OR (q.allow_na AND %(not_applicable)s)) ELSE ({ANSWERED_SQL}) END"
    )
    return (
        f"WITH old AS ("
        f" SELECT a.id, a.version, a.option_id, o.score AS option_score,"
        f" a.not_applicable, a.na_reason, a.carried_forward, a.comment,"
        f" a.evidence_url, a.answered_by_id, a.updated_at"
        f" FROM {answer} a LEFT JOIN {option} o ON o.id = a.option_id"
        f" WHERE a.assessment_id = %(assessment)s AND a.question_id = %(question)s"
        f" FOR UPDATE OF a"
        f"), new AS ("
        f" SELECT old.id, %(option)s::bigint AS option_id,"
        f" %(not_applicable)s AS not_applicable, %(na_reason)s::text AS na_reason,"
        f" COALESCE(%(comment)s::text, old.comment) AS comment,"
        f" COALESCE(%(evidence_url)s::text, old.evidence_url) AS evidence_url"
        f" FROM old WHERE old.version = %(expected)s"
        f"), diff AS ("
        f" SELECT new.*, (old.option_id IS NOT DISTINCT FROM new.option_id"
        f" AND old.not_applicable = new.not_applicable"
        f" AND old.na_reason = new.na_reason AND old.comment = new.comment"
        f" AND old.evidence_url = new.evidence_url) AS same"
        f" FROM old JOIN new ON new.id = old.id"
        f"), upd AS ("
        f" UPDATE {answer} t SET option_id = diff.option_id,"
        f" not_applicable = diff.not_applicable, na_reason = diff.na_reason,"
        f" comment = diff.comment, evidence_url = diff.evidence_url,"
        f" carried_forward = false, answered_by_id = %(user)s,"
        f" updated_at = %(now)s, version = t.version + 1"
        f" FROM diff, old WHERE t.id = diff.id AND (NOT diff.same OR old.carried_forward)"
        f" RETURNING t.id, t.version, t.comment, t.evidence_url"
        f"), history AS ("
        f" INSERT INTO {change} (answer_id, changed_by_id, changed_at, version, old, new)"
        f" SELECT upd.id, %(user)s, %(now)s, upd.version,"
        f" {values_json('old', 'old.option_score')}"
        f" || CASE WHEN diff.same THEN '{{\"carried_forward\": true}}'::jsonb"
        f" ELSE '{{}}'::jsonb END,"
        f" {values_json('diff', '%(option_score)s::int')}"
        f" FROM upd, old, diff"
        f"), touch AS ("
        f" UPDATE {assessment} t SET last_activity_at = %(now)s,"
        f" status = %(touch_status)s"
        f" WHERE t.id = %(assessment)s AND %(touch)s AND EXISTS (SELECT 1 FROM upd)"
        f" RETURNING t.id"
        f"), progress AS ({progress_select_sql(answered)}"
        f") SELECT old.id, old.version, old.option_id, old.not_applicable,"
        f" old.na_reason, old.comment, old.evidence_url, old.answered_by_id,"
        f" old.updated_at, upd.version, upd.comment, upd.evidence_url,"
        f" (SELECT json_agg(json_build_array(p.capability_id, p.key, p.name,"
        f" p.position, p.total, p.answered)) FROM progress p)"
        f" FROM old LEFT JOIN upd ON true"
    )


def _record_in_one_statement(
    *,
    assessment: Assessment,
    question: Question,
    user,
    option: AnswerOption | None,
    not_applicable: bool,
    na_reason: str,
    comment: str | None,
    evidence_url: str | None,
    expected: int,
) -> tuple[Answer | None, bool]:
    """The version check, the update and its history row of an existing answer in
    one statement (PostgreSQL): the row is locked, compared with ``expected`` and
    the stored values, updated and its change recorded, as ``_record_one`` does in
    four; the same statement stamps the activity (``_touch``) and counts the
    progress with the new values (``assessment_progress``, left on the returned
    answer as ``progress``). Returns (None, False) when there is no answer yet;
    raises ``AnswerConflict`` when the stored version is not ``expected``."""
    now = timezone.now()
    # The activity stamp of ``_touch``, written by the same statement when the
    # answer changes.
    touch = _touch_fields(assessment, now)
    with connection.cursor() as cursor:
        cursor.execute(
            _answer_table_sql(),
            {
                "assessment": assessment.pk,
                "question": question.pk,
                "option": option.pk if option is not None else None,
                "option_score": option.score if option is not None else None,
                "not_applicable": bool(not_applicable),
                "na_reason": na_reason,
                "comment": comment,
                "evidence_url": evidence_url,
                "expected": expected,
                "user": getattr(user, "pk", None),
                "now": now,
                "touch": bool(touch),
                "touch_status": str(touch.get("status", assessment.status)),
                **progress_params(assessment),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None, False
    (pk, version, option_id, old_na, old_reason, old_comment, old_url, by, at) = row[:9]
    new_version, new_comment, new_url, progress = row[9:]
    if new_version is None and version != expected:
        raise AnswerConflict(current=_locked_answer(assessment, question))
    if new_version is None:
        # The stored values already: nothing changed.
        answer = Answer(
            pk=pk,
            assessment=assessment,
            question=question,
            option_id=option_id,
            not_applicable=old_na,
            na_reason=old_reason,
            comment=old_comment,
            evidence_url=old_url,
            answered_by_id=by,
            updated_at=at,
            version=version,
        )
        answer.progress = _progress(progress)  # type: ignore[attr-defined]
        return answer, False
    answer = Answer(
        pk=pk,
        assessment=assessment,
        question=question,
        option=option,
        not_applicable=bool(not_applicable),
        na_reason=na_reason,
        carried_forward=False,
        comment=new_comment,
        evidence_url=new_url,
        answered_by=user,
        updated_at=now,
        version=new_version,
    )
    answer.progress = _progress(progress)  # type: ignore[attr-defined]
    for name, value in touch.items():
        setattr(assessment, name, value)
    return answer, True


def _progress(rows) -> dict:
    """``assessment_progress`` from the rows the answer statement returns (JSON)."""
    if isinstance(rows, str):
        rows = json.loads(rows)
    return progress_from_rows(rows or [])


def _record_one(
    *,
    assessment: Assessment,
    in_scope: bool,
    question: Question,
    user,
    option: AnswerOption | None,
    not_applicable: bool,
    comment: str | None,
    evidence_url: str | None,
    expected_version: int | None,
    na_reason: str | None = None,
    one_statement: bool = False,
) -> tuple[Answer, bool]:
    """Validate and upsert one answer inside the caller's transaction.

    Returns the answer and whether anything changed. With ``one_statement``, on
    PostgreSQL an existing answer is checked, updated and its change recorded in a
    single statement (``_record_in_one_statement``).
    """
    if comment is not None:
        comment = comment.replace("\r\n", "\n")
    if evidence_url is not None:
        evidence_url = evidence_url.strip()
    _validate_answer(
        assessment=assessment,
        in_scope=in_scope,
        question=question,
        option=option,
        not_applicable=not_applicable,
        comment=comment,
        evidence_url=evidence_url,
        na_reason=(na_reason or "") if not_applicable else "",
    )
    na_reason = (na_reason or "") if not_applicable else ""
    expected = expected_version or 0
    if one_statement and connection.vendor == "postgresql":
        found, changed = _record_in_one_statement(
            assessment=assessment,
            question=question,
            user=user,
            option=option,
            not_applicable=not_applicable,
            na_reason=na_reason,
            comment=comment,
            evidence_url=evidence_url,
            expected=expected,
        )
        if found is not None:
            return found, changed
        # No answer yet: the row is created below (a conflict if expected is not 0).
        answer = None
    else:
        answer = _locked_answer(assessment, question)
    current_version = answer.version if answer else 0
    if current_version != expected:
        raise AnswerConflict(current=answer)

    old = answer_values(answer)
    new = {
        "option_score": option.score if option is not None else None,
        "option_id": option.pk if option is not None else None,
        "not_applicable": bool(not_applicable),
        "comment": old["comment"] if comment is None else comment,
        "evidence_url": old["evidence_url"] if evidence_url is None else evidence_url,
        **({"na_reason": na_reason} if na_reason else {}),
    }
    if new == old and answer is not None and answer.carried_forward:
        # Saving a carried-forward answer unchanged confirms it.
        answer.carried_forward = False
        answer.answered_by = user
        answer.version += 1
        answer.save(
            update_fields=["carried_forward", "answered_by", "version", "updated_at"]
        )
        AnswerChange.objects.create(
            answer=answer,
            changed_by=user,
            version=answer.version,
            old={**old, "carried_forward": True},
            new=new,
        )
        return answer, True
    if new == old:
        if answer is None:
            # Nothing stored and nothing to store: an unsaved, empty answer (version 0).
            answer = Answer(assessment=assessment, question=question, version=0)
        return answer, False

    fields = {
        "option": option,
        "not_applicable": new["not_applicable"],
        "comment": new["comment"],
        "evidence_url": new["evidence_url"],
        "na_reason": na_reason,
        "carried_forward": False,
        "answered_by": user,
    }
    if answer is None:
        try:
            with transaction.atomic():
                answer = Answer.objects.create(
                    assessment=assessment, question=question, version=1, **fields
                )
        except IntegrityError:
            # Another writer created it first: that is a conflict for this one.
            raise AnswerConflict(current=_locked_answer(assessment, question)) from None
    else:
        for name, value in fields.items():
            setattr(answer, name, value)
        answer.version += 1
        answer.save(update_fields=[*fields, "version", "updated_at"])
    AnswerChange.objects.create(
        answer=answer, changed_by=user, version=answer.version, old=old, new=new
    )
    return answer, True


def _touch_fields(assessment: Assessment, now) -> dict[str, object]:
    """What ``_touch`` writes at ``now``: nothing when the stamp is under a minute
    old and the assessment started."""
    fields: dict[str, object] = {"last_activity_at": now}
    if assessment.status == Assessment.Status.NOT_STARTED:
        fields["status"] = Assessment.Status.IN_PROGRESS
    elif (
        assessment.last_activity_at
        and now - assessment.last_activity_at < ACTIVITY_RESOLUTION
    ):
        return {}
    return fields


def _touch(assessment: Assessment) -> None:
    """Start the assessment and stamp its activity (to the minute: autosave sends
    many saves a minute, and one write of the stamp is enough)."""
    fields = _touch_fields(assessment, timezone.now())
    if not fields:
        return
    Assessment.objects.filter(pk=assessment.pk).update(**fields)
    for name, value in fields.items():
        setattr(assessment, name, value)


@transaction.atomic
def answer_record(
    *,
    assessment: Assessment | int,
    question: Question,
    user,
    option: AnswerOption | None = None,
    not_applicable: bool = False,
    comment: str | None = None,
    evidence_url: str | None = None,
    expected_version: int | None,
    may_answer: Callable[[Assessment], bool] | None = None,
    answerable_by=None,
    na_reason: str | None = None,
) -> Answer:
    """Create or update the one answer of ``assessment`` to ``question``.

    ``comment``/``evidence_url`` None leave the stored value unchanged.
    ``expected_version`` is the version the client last saw (0 or None: no answer
    yet); a different stored version raises ``AnswerConflict`` and changes nothing.
    Each effective change bumps the version and writes one ``AnswerChange``; a save
    with the stored values changes nothing. Raises ``ValidationError`` (field dict).

    ``assessment`` may be a pk, so that reading and locking the row is one query:
    the returned answer's ``assessment`` is then the locked row, and
    ``may_answer(row)`` false raises ``Assessment.DoesNotExist``, as a missing pk
    does, before anything is validated or written. ``answerable_by`` (a user) does
    the same check as ``may_answer=access_for(user).can_answer`` in the query that
    locks the row, without a query of the user's memberships.
    """
    if isinstance(assessment, int):
        locked = assessment = _locked_row(assessment, question, answerable_by)
        if may_answer is not None and not may_answer(locked):
            raise Assessment.DoesNotExist("No such assessment.")
        if answerable_by is not None and not locked.user_may_answer:  # type: ignore[attr-defined]
            raise Assessment.DoesNotExist("No such assessment.")
    else:
        locked = _locked_row(assessment.pk, question)
        _refresh_from_locked(assessment, locked)
    _check_writable(locked)
    if locked.is_consensus:
        raise ConsensusTeamAnswer(CONSENSUS_TEAM_ANSWER_MSG)
    answer, changed = _record_one(
        assessment=assessment,
        in_scope=locked.question_in_scope,  # type: ignore[attr-defined]  # annotated
        question=question,
        user=user,
        option=option,
        not_applicable=not_applicable,
        comment=comment,
        evidence_url=evidence_url,
        expected_version=expected_version,
        na_reason=na_reason,
        one_statement=True,
    )
    if changed:
        _touch(assessment)
    return answer


@transaction.atomic
def answers_bulk_record(
    *, assessment: Assessment, user, items: list[dict]
) -> list[Answer]:
    """Record several answers, all or nothing.

    Each item holds ``answer_record``'s keywords (``question``, ``option``,
    ``not_applicable``, ``comment``, ``evidence_url``, ``expected_version``);
    question and option may be instances or ids. Errors name the item:
    ``{"items[2].option": [...]}``; a conflict raises ``AnswerConflict``.
    """
    if not items:
        raise ValidationError({"items": [BULK_EMPTY_MSG]})
    _lock_writable_assessment(assessment)
    if assessment.is_consensus:
        raise ConsensusTeamAnswer(CONSENSUS_TEAM_ANSWER_MSG)
    scope_ids = cycle_scope_capability_ids(cycle=assessment.cycle)
    answers, any_changed = [], False
    for index, item in enumerate(resolve_answers(items=items)):
        try:
            answer, changed = _record_one(
                assessment=assessment,
                in_scope=scope_ids is None
                or item["question"].capability_id in scope_ids,
                question=item["question"],
                user=user,
                option=item.get("option"),
                not_applicable=item.get("not_applicable", False),
                comment=item.get("comment"),
                evidence_url=item.get("evidence_url"),
                expected_version=item.get("expected_version"),
                na_reason=item.get("na_reason"),
            )
        except ValidationError as error:
            raise ValidationError(
                {
                    f"items[{index}].{name}": messages
                    for name, messages in error.message_dict.items()
                }
            ) from None
        answers.append(answer)
        any_changed = any_changed or changed
    if any_changed:
        _touch(assessment)
    return answers


def assessment_missing(*, assessment: Assessment) -> list[dict]:
    """Unanswered questions in scope grouped by capability (N/A counts where allowed);
    central questions count only for the central team (the audience rule).

    ``[{"capability": Capability, "questions": [Question]}]`` in questionnaire order.
    """
    answered_ids = set(
        assessment.answers.filter(ANSWERED_Q).values_list("question_id", flat=True)
    )
    missing: list[dict] = []
    for question in questions_for_assessment(assessment=assessment).select_related(
        "capability", "lens"
    ):
        if question.pk in answered_ids:
            continue
        if not missing or missing[-1]["capability"].pk != question.capability_id:
            missing.append({"capability": question.capability, "questions": []})
        missing[-1]["questions"].append(question)
    return missing


def _scores_changed(assessment: Assessment) -> None:
    """Store the team's capability scores, record that the team's history changed
    (its reports in every cycle show it) and that the cycle's scores changed (its
    roll-up is enqueued after commit)."""
    scores_store(assessment=assessment)
    Team.objects.filter(pk=assessment.team_id).update(
        history_version=F("history_version") + 1
    )
    cycle_scores_changed(cycle_id=assessment.cycle_id, assessment_ids=[assessment.pk])


def _publish(topic: str, assessment: Assessment, user, **payload) -> None:
    event_publish(
        topic=topic,
        organization_id=assessment.cycle.organization_id,
        actor=user,
        payload={
            "assessment_id": assessment.pk,
            "cycle_id": assessment.cycle_id,
            "team_id": assessment.team_id,
            **payload,
        },
    )


def carried_unconfirmed(*, assessment: Assessment):
    """The assessment's answers carried forward and not yet confirmed or changed,
    in questionnaire order (a QuerySet)."""
    return (
        Answer.objects.filter(assessment=assessment, carried_forward=True)
        .select_related("question__capability", "option")
        .order_by("question__capability__order", "question__order", "question_id")
    )


def answers_confirm_carried(*, assessment: Assessment, user) -> int:
    """Confirm every carried-forward answer as it is (one history entry each);
    returns how many. Answers a respondent must still complete (an N/A that now
    needs a reason) are left marked."""
    confirmed = 0
    for answer in carried_unconfirmed(assessment=assessment):
        if (
            answer.not_applicable
            and not answer.na_reason
            and answer.question.na_reason_required
        ):
            continue
        old = answer_values(answer)
        answer.carried_forward = False
        answer.answered_by = user
        answer.version += 1
        answer.save(
            update_fields=["carried_forward", "answered_by", "version", "updated_at"]
        )
        AnswerChange.objects.create(
            answer=answer,
            changed_by=user,
            version=answer.version,
            old={**old, "carried_forward": True},
            new=old,
        )
        confirmed += 1
    return confirmed


@transaction.atomic
def assessment_submit(
    *, assessment: Assessment, user, confirm_carried: bool = False
) -> Assessment:
    """Submit the team's answers: every question in scope must be answered, and
    answers carried forward from the last assessment must be confirmed (or
    ``confirm_carried`` confirms them all as they are).

    Raises ``IncompleteAssessment`` listing what is missing, or ``ValidationError``
    for a submitted assessment, a cycle that is not open or unconfirmed carried
    answers. Stores the scores and marks the cycle's roll-up stale, in the same
    transaction.
    """
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("cycle", "team")
        .get(pk=assessment.pk)
    )
    if locked.is_submitted:
        raise ValidationError({"assessment": [ALREADY_SUBMITTED_MSG]})
    if not locked.cycle.is_open:
        raise ValidationError({"assessment": [CYCLE_NOT_OPEN_MSG]})
    missing = assessment_missing(assessment=assessment)
    if missing:
        raise IncompleteAssessment(missing=missing)
    if confirm_carried:
        answers_confirm_carried(assessment=assessment, user=user)
    unconfirmed = list(
        carried_unconfirmed(assessment=assessment).values_list(
            "question__key", flat=True
        )
    )
    if unconfirmed:
        raise ValidationError(
            {
                "confirm_carried": [
                    CARRIED_UNCONFIRMED_MSG.format(
                        count=len(unconfirmed), keys=", ".join(unconfirmed)
                    )
                ]
            }
        )
    now = timezone.now()
    assessment.status = Assessment.Status.SUBMITTED
    assessment.submitted_at = now
    assessment.submitted_by = user
    assessment.last_activity_at = now
    assessment.save(
        update_fields=["status", "submitted_at", "submitted_by", "last_activity_at"]
    )
    audit_record(
        organization_id=locked.cycle.organization_id,
        actor=user,
        action="assessment.submit",
        summary=f"Submitted {locked.team.name} in {locked.cycle.name}",
        assessment_id=assessment.pk,
    )
    _scores_changed(assessment)
    _publish("assessment.submitted", assessment, user)
    return assessment


@transaction.atomic
def assessment_reopen(*, assessment: Assessment, user, reason: str) -> Assessment:
    """Reopen a submitted assessment for changes (leads only: the caller checks).

    Keeps the reason (``AssessmentReopen``) and an audit event, recomputes the
    stored scores and marks the cycle's roll-up stale.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [REOPEN_REASON_REQUIRED_MSG]})
    locked = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("cycle", "team")
        .get(pk=assessment.pk)
    )
    if not locked.is_submitted:
        raise ValidationError({"assessment": [NOT_SUBMITTED_MSG]})
    if locked.cycle.is_closed:
        raise ValidationError({"assessment": [CYCLE_CLOSED_MSG]})
    AssessmentReopen.objects.create(
        assessment=assessment, reopened_by=user, reason=reason
    )
    assessment.status = Assessment.Status.IN_PROGRESS
    assessment.submitted_at = None
    assessment.submitted_by = None
    assessment.last_activity_at = timezone.now()
    assessment.save(
        update_fields=["status", "submitted_at", "submitted_by", "last_activity_at"]
    )
    audit_record(
        organization_id=locked.cycle.organization_id,
        actor=user,
        action="assessment.reopen",
        summary=f"Reopened {locked.team.name} in {locked.cycle.name}",
        assessment_id=assessment.pk,
        reason=reason,
    )
    _scores_changed(assessment)
    _publish("assessment.reopened", assessment, user, reason=reason)
    return assessment

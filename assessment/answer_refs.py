"""Which question and which option an answer names: the one resolver of the
questionnaire's autosave, the API and the bulk service.

A question is named by its id (an int, or digits), its key within the framework,
or given as an instance; an option by its id, by its score on that question, or
as an instance. ``resolve_answer`` resolves one answer (one query when the option
is named by id, as the autosave does), ``resolve_answers`` a batch (two queries).
Whether the question belongs to the assessment's cycle is the answer service's
check; here, a question outside ``framework_id`` is simply not found.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q

from capabilities.models import AnswerOption, Capability, Question

MAX_ID = 2**63 - 1
NO_SUCH_QUESTION_MSG = "No such question in this assessment's framework."
AMBIGUOUS_QUESTION_MSG = "Several questions have this key; use the question id."
OPTION_UNKNOWN_MSG = "Choose one of the options shown."
NO_OPTION_WITH_SCORE_MSG = "This question has no option scored {score}."


class QuestionNotFound(LookupError):
    """No question of the framework has this id or key (a 404 for a single answer)."""


def as_id(ref) -> int | None:
    """The id a reference names, or None when it is a key."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref if 0 < ref <= MAX_ID else None
    if isinstance(ref, str) and ref.isascii() and ref.isdigit() and int(ref) <= MAX_ID:
        return int(ref)
    return None


def _questions(framework_id: int | None):
    questions = Question.objects.select_related("capability").order_by()
    if framework_id is not None:
        questions = questions.filter(capability__framework_id=framework_id)
    return questions


@cache
def _converters(model, vendor: str) -> tuple:
    """The concrete fields' attribute names of ``model`` and, for each, the
    conversion the ORM applies to its column (None: the value as read)."""
    fields = model._meta.concrete_fields
    return (
        [f.attname for f in fields],
        [getattr(f, "from_db_value", None) for f in fields],
    )


def _from_db(model, values):
    """An instance of ``model`` from its concrete columns read by hand, each
    converted as the ORM would (a JSON field is parsed)."""
    names, converters = _converters(model, connection.vendor)
    return model.from_db(
        connection.alias,
        names,
        [
            v if convert is None else convert(v, None, connection)
            for convert, v in zip(converters, values, strict=True)
        ],
    )


@cache
def _option_sql(vendor: str) -> tuple[str, int, int]:
    """The statement of ``_option_with_question`` (built once: it depends only on
    the tables) and where the question's and the capability's columns start."""
    qn = connection.ops.quote_name
    models = (AnswerOption, Question, Capability)
    columns = [
        [f"{qn(m._meta.db_table)}.{qn(f.attname)}" for f in m._meta.concrete_fields]
        for m in models
    ]
    option_t, question_t, capability_t = (qn(m._meta.db_table) for m in models)
    sql = (
        f"SELECT {', '.join(c for cols in columns for c in cols)}"
        f" FROM {option_t} JOIN {question_t} ON {question_t}.id = {option_t}.question_id"
        f" JOIN {capability_t} ON {capability_t}.id = {question_t}.capability_id"
        f" WHERE {option_t}.id = %s"
    )
    return sql, len(columns[0]), len(columns[0]) + len(columns[1])


def _option_with_question(pk: int) -> AnswerOption | None:
    """The option with its question and the question's capability: the query of
    ``select_related("question__capability")`` written once by hand, as the
    autosave runs it on every save and composing it cost more than running it."""
    sql, a, b = _option_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    option = _from_db(AnswerOption, row[:a])
    option.question = _from_db(Question, row[a:b])
    option.question.capability = _from_db(Capability, row[b:])
    return option


def resolve_answer(
    *,
    question,
    framework_id: int | None = None,
    option_id=None,
    option_score: int | None = None,
    option_field: str | None = None,
) -> tuple[Question, AnswerOption | None]:
    """The question (with its capability) and the option of one answer.

    Raises ``QuestionNotFound`` for an unknown question, ``ValidationError`` (under
    ``option_field``, by default the field the option was named by) for an option
    that does not exist (one of another question is returned: the answer service
    refuses it, naming it). With an option id, one query reads the option and its
    question together."""
    if isinstance(question, Question):
        [(found, option)] = _resolve(
            [question], framework_id, [(option_id, option_score, option_field)]
        )
        return found, option
    pk = as_id(question)
    if option_id is not None and pk is not None:
        option = _option_with_question(as_id(option_id) or 0)
        if (
            option is not None
            and option.question_id == pk
            and (
                framework_id is None
                or option.question.capability.framework_id == framework_id
            )
        ):
            return option.question, option
    matches = _find_questions([question], framework_id).get(question, [])
    if len(matches) > 1:
        raise ValidationError({"question": [AMBIGUOUS_QUESTION_MSG]})
    if not matches:
        raise QuestionNotFound(question)
    [(resolved, option)] = _resolve(
        matches, framework_id, [(option_id, option_score, option_field)]
    )
    return resolved, option


def resolve_answers(
    *, items: list[dict], framework_id: int | None = None
) -> list[dict]:
    """A batch of answers: each item's ``question`` (reference or instance) and
    ``option_id`` / ``option_score`` / ``option`` (instance or id) resolved to
    ``question`` and ``option`` instances; other keys pass through. Errors name the
    item: ``{"items[2].question": [...]}``. Two queries at most."""
    refs = [
        item["question"] for item in items if not isinstance(item["question"], Question)
    ]
    found = _find_questions(refs, framework_id) if refs else {}
    questions = []
    for index, item in enumerate(items):
        ref = item["question"]
        if isinstance(ref, Question):
            questions.append(ref)
            continue
        matches = found.get(ref, [])
        if len(matches) != 1:
            message = AMBIGUOUS_QUESTION_MSG if matches else NO_SUCH_QUESTION_MSG
            raise ValidationError({f"items[{index}].question": [message]})
        questions.append(matches[0])
    choices: list = []
    for item in items:
        option = item.get("option")
        if isinstance(option, AnswerOption):
            choices.append(option)
        elif option is not None:
            choices.append((option, None, "option"))
        else:
            choices.append((item.get("option_id"), item.get("option_score"), None))
    resolved = _resolve(questions, framework_id, choices, prefix="items[{index}].")
    return [
        {
            **{k: v for k, v in item.items() if k not in ("option_id", "option_score")},
            "question": question,
            "option": option,
        }
        for item, (question, option) in zip(items, resolved, strict=True)
    ]


def _find_questions(refs: list, framework_id: int | None) -> dict:
    """Questions per reference (a list: a key may name several), in one query."""
    ids = {as_id(ref) for ref in refs} - {None}
    keys = {ref for ref in refs if as_id(ref) is None and isinstance(ref, str)}
    by_ref: dict = defaultdict(list)
    if not ids and not keys:
        return by_ref
    for question in _questions(framework_id).filter(Q(pk__in=ids) | Q(key__in=keys)):
        by_ref_keys = [ref for ref in refs if as_id(ref) == question.pk]
        by_ref_keys += [ref for ref in refs if ref == question.key]
        for ref in set(by_ref_keys):
            by_ref[ref].append(question)
    return by_ref


def _resolve(
    questions: list[Question],
    framework_id: int | None,
    choices: list,
    *,
    prefix: str = "",
) -> list[tuple[Question, AnswerOption | None]]:
    """Pair each question with its chosen option: ``choices`` holds an option
    instance, or ``(option id, option score, field)`` (id and score None: no
    option; ``field`` names the input in errors, by default the one used). An
    option named by id may belong to another question: the answer service refuses
    that, naming it. One query, none when no option is named by id or score."""
    ids, by_score = set(), []
    for question, choice in zip(questions, choices, strict=True):
        if isinstance(choice, AnswerOption):
            continue
        option_id, score, _field = choice
        if option_id is not None:
            ids.add(as_id(option_id) or 0)
        elif score is not None:
            by_score.append(question.pk)
    options: dict = {}
    if ids or by_score:
        found = AnswerOption.objects.filter(Q(pk__in=ids) | Q(question__in=by_score))
        options = {option.pk: option for option in found.order_by()}
    result: list[tuple[Question, AnswerOption | None]] = []
    for index, (question, choice) in enumerate(zip(questions, choices, strict=True)):
        where = prefix.format(index=index)
        if isinstance(choice, AnswerOption):
            result.append((question, choice))
            continue
        option_id, score, field = choice
        option = None
        if option_id is not None:
            option = options.get(as_id(option_id) or 0)
            if option is None:
                field = field or "option_id"
                raise ValidationError({where + field: [OPTION_UNKNOWN_MSG]})
        elif score is not None:
            option = next(
                (
                    o
                    for o in options.values()
                    if o.question_id == question.pk and o.score == score
                ),
                None,
            )
            if option is None:
                field = field or "option_score"
                message = NO_OPTION_WITH_SCORE_MSG.format(score=score)
                raise ValidationError({where + field: [message]})
        result.append((question, option))
    return result

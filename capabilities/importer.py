"""Framework files: parse, validate, import into the database and export back.

A framework file is one YAML (or JSON) document per framework version; its format is
``content/framework.schema.json``. Every problem in a file is reported at once, each
prefixed with the key path where it was found (``capabilities[3].questions[2].options``).
"""

import json
import math
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings
from jsonschema import Draft202012Validator

from .editions import mapping_errors
from .measures import MEASURE_KEYS, measure_problems
from .models import (
    DEFAULT_NA_REASONS,
    AnswerOption,
    Capability,
    Domain,
    Framework,
    Lens,
    MaturityLevel,
    Question,
    Recommendation,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "content" / "framework.schema.json"
SCORES = range(5)

FILE_TOO_LARGE_MSG = "file: the file is {size} bytes; the limit is {limit} bytes"
FILE_EMPTY_MSG = "file: the file is empty"
FILE_NOT_UTF8_MSG = "file: the file is not UTF-8 text"
FILE_NOT_MAPPING_MSG = "file: expected a mapping at the top level, got {type}"
MALFORMED_YAML_MSG = "file: malformed YAML at line {line}, column {column}: {problem}"
MALFORMED_JSON_MSG = "file: malformed JSON at line {line}, column {column}: {problem}"
YAML_ALIAS_PROBLEM = "aliases (*name) are not supported"
EXISTS_PUBLISHED_MSG = (
    "version: {slug} v{version} already exists and is {status}; it cannot be "
    "replaced. Import the file as a new version (the next free one is v{next})."
)
EXISTS_DRAFT_MSG = (
    "version: {slug} v{version} already exists as a draft; import with replace "
    "to overwrite it."
)
DUPLICATE_KEY_MSG = "{path}: duplicate key '{key}'"
DUPLICATE_MAPPING_KEY_MSG = "{path}: the key '{key}' appears twice"
YAML_DUPLICATE_PROBLEM = "the key '{key}' appears twice in this mapping"
TOO_DEEP_MSG = "file: nested more than {limit} levels deep"
NUL_TEXT_MSG = "{path}: holds a null character (U+0000), which cannot be stored"
SURROGATE_TEXT_MSG = (
    "{path}: holds a lone surrogate (U+{code:04X}), which is not valid text"
)
NOT_A_SLUG_MSG = (
    "{path}: {value!r} is not a valid key (letters, digits, - and _ only; no "
    "spaces or line breaks)"
)
TOO_PRECISE_MSG = (
    "{path}: {value} has more than {places} decimals; it is stored to "
    "{step} and would read back as {stored}"
)
DUPLICATE_SCORE_MSG = "{path}: duplicate score {score}"
MISSING_SCORE_MSG = "{path}: no option with score {score}"
UNKNOWN_REF_MSG = "{path}: unknown {kind} '{key}'"
FIRST_BAND_MSG = "{path}: the first level must start at 0, got {value}"
NA_BOTH_MSG = "{path}: give either allow_na or na, not both"
UNKNOWN_NA_REASON_MSG = "{path}: unknown N/A reason '{key}' (not in na_reasons)"
NA_REASONS_NOT_ALLOWED_MSG = "{path}: reasons are listed but N/A is not allowed"
BAND_ORDER_MSG = (
    "{path}: levels must have strictly increasing min_percent; {value} is not above "
    "{previous}"
)

JSON_TYPES = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


class FrameworkFileError(Exception):
    """A framework file (or dict) that cannot be imported; ``errors`` lists them all."""

    def __init__(self, errors: list[str]):
        # a message may quote the file's text: never let a lone surrogate in it
        # break the page (or log) that shows the message
        self.errors = [
            str(e).encode("utf-8", "backslashreplace").decode("utf-8") for e in errors
        ]
        super().__init__("\n".join(self.errors))


# --- parsing --------------------------------------------------------------------

# Deeper than any framework document (about 6 levels): refused before the schema
# validator, which walks the document recursively.
MAX_DEPTH = 32
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")
SLUG_FIELDS = {"key", "slug", "lens", "domain", "level"}
# Numbers stored as DecimalField(decimal_places=2).
DECIMAL_FIELDS = {"weight", "min_percent"}
DECIMAL_PLACES = 2
SURROGATES = re.compile("[\ud800-\udfff]")


class _Mapping(dict):
    """A JSON object that remembers the keys it was given twice (the last wins in
    ``json``; a framework file must not rely on that)."""

    duplicates: list[str]


def _json_pairs(pairs) -> dict:
    mapping = _Mapping()
    mapping.duplicates = []
    for key, value in pairs:
        if key in mapping:
            mapping.duplicates.append(key)
        mapping[key] = value
    return mapping


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors/aliases, which could expand a small file enormously."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, YAML_ALIAS_PROBLEM, mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    YAML_DUPLICATE_PROBLEM.format(key=key),
                    key_node.start_mark,
                )
            if isinstance(key, str | int | float | bool):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def framework_parse(data: dict | str | bytes) -> dict:
    """The document in ``data`` as a dict. Files over the size limit are refused
    before they are parsed."""
    if isinstance(data, dict):
        return data
    limit = settings.FRAMEWORK_FILE_MAX_BYTES
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if len(raw) > limit:
        raise FrameworkFileError(
            [FILE_TOO_LARGE_MSG.format(size=len(raw), limit=limit)]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FrameworkFileError([FILE_NOT_UTF8_MSG]) from None
    if not text.strip():
        raise FrameworkFileError([FILE_EMPTY_MSG])
    if text.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(text, object_pairs_hook=_json_pairs)
        except RecursionError:
            raise FrameworkFileError([TOO_DEEP_MSG.format(limit=MAX_DEPTH)]) from None
        except json.JSONDecodeError as exc:
            raise FrameworkFileError(
                [
                    MALFORMED_JSON_MSG.format(
                        line=exc.lineno, column=exc.colno, problem=exc.msg
                    )
                ]
            ) from None
    else:
        try:
            document = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - safe loader
        except RecursionError:
            raise FrameworkFileError([TOO_DEEP_MSG.format(limit=MAX_DEPTH)]) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise FrameworkFileError(
                [
                    MALFORMED_YAML_MSG.format(
                        line=mark.line + 1 if mark else "?",
                        column=mark.column + 1 if mark else "?",
                        problem=exc.problem or exc.context,
                    )
                ]
            ) from None
        except yaml.YAMLError as exc:
            raise FrameworkFileError(
                [MALFORMED_YAML_MSG.format(line="?", column="?", problem=exc)]
            ) from None
    if document is None:
        raise FrameworkFileError([FILE_EMPTY_MSG])
    if not isinstance(document, dict):
        raise FrameworkFileError(
            [FILE_NOT_MAPPING_MSG.format(type=_type_name(document))]
        )
    return document


# --- validation -----------------------------------------------------------------


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _type_name(value) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def _join(path: str, part) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else str(part)


def _path(parts) -> str:
    path = ""
    for part in parts:
        path = _join(path, part)
    return path


def _schema_messages(error) -> list[str]:
    path = _path(error.absolute_path)
    where = path or "file"
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return [
            f"{_join(path, key)}: unknown key '{key}'"
            for key in instance
            if key not in known
        ]
    if kind == "required":
        key = error.message.split("'")[1] if "'" in error.message else "?"
        return [f"{where}: missing key '{key}'"]
    if kind == "type":
        return [f"{where}: expected {value}, got {_type_name(instance)}"]
    if kind in ("minimum", "maximum") and path.endswith(".score"):
        return [f"{where}: score {instance} is outside 0..4"]
    if kind == "minimum":
        return [f"{where}: {instance} is below the minimum {value}"]
    if kind == "maximum":
        return [f"{where}: {instance} is above the maximum {value}"]
    if kind == "exclusiveMinimum":
        return [f"{where}: must be positive, got {instance}"]
    if kind == "minItems" and value == 1:
        return [f"{where}: must not be empty"]
    if kind in ("minItems", "maxItems") and error.schema.get("minItems") == 5:
        return [f"{where}: expected exactly 5 level descriptions, got {len(instance)}"]
    if kind == "minLength":
        return [f"{where}: must not be empty"]
    if kind == "maxLength":
        return [f"{where}: longer than {value} characters"]
    if kind == "enum":
        return [f"{where}: expected one of {', '.join(value)}, got {instance!r}"]
    if kind == "pattern":
        if value.startswith("^#"):
            return [f"{where}: {instance!r} is not a colour like #1a2b3c"]
        if "https?" in value:
            return [f"{where}: {instance!r} is not an http(s) URL"]
        return [
            f"{where}: {instance!r} is not a valid key (letters, digits, - and _ only)"
        ]
    if kind == "anyOf" and path.endswith(".lens"):
        return [f"{where}: expected a lens key or null, got {instance!r}"]
    return [f"{where}: {error.message}"]


def _path_order(message: str) -> list[tuple]:
    """Natural order of a message's key path: lenses[2] before lenses[10]."""
    path = message.split(": ", 1)[0]
    return [
        (0, int(token), "") if token.isdigit() else (1, 0, token)
        for token in re.split(r"[\[\].]+", path)
        if token
    ]


def _items(data: dict, name: str) -> list[tuple[int, dict]]:
    value = data.get(name)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _keys(items, path: str, errors: list[str], field: str = "key") -> set:
    """Collect the keys of ``items``, reporting duplicates."""
    seen: set = set()
    for i, item in items:
        key = item.get(field)
        if not isinstance(key, str):
            continue
        if key in seen:
            errors.append(
                DUPLICATE_KEY_MSG.format(path=f"{path}[{i}].{field}", key=key)
            )
        seen.add(key)
    return seen


def _semantic_errors(data: dict) -> list[str]:
    """Cross-references, duplicates and bands; tolerant of shapes the schema rejects."""
    errors: list[str] = []
    lenses = _keys(_items(data, "lenses"), "lenses", errors)
    levels = _items(data, "maturity_levels")
    level_keys = _keys(levels, "maturity_levels", errors)
    domains = _keys(_items(data, "domains"), "domains", errors)
    _keys(_items(data, "capabilities"), "capabilities", errors)
    na_reasons = _keys(_items(data, "na_reasons"), "na_reasons", errors) or {
        reason["key"] for reason in DEFAULT_NA_REASONS
    }

    previous = None
    for i, level in levels:
        value = level.get("min_percent")
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        path = f"maturity_levels[{i}].min_percent"
        if previous is None and value != 0:
            errors.append(FIRST_BAND_MSG.format(path=path, value=value))
        elif previous is not None and value <= previous:
            errors.append(
                BAND_ORDER_MSG.format(path=path, value=value, previous=previous)
            )
        previous = value

    def ref(item: dict, field: str, known: set, kind: str, path: str) -> None:
        key = item.get(field)
        if isinstance(key, str) and key not in known:
            errors.append(
                UNKNOWN_REF_MSG.format(path=f"{path}.{field}", kind=kind, key=key)
            )

    for c, capability in _items(data, "capabilities"):
        cap_path = f"capabilities[{c}]"
        ref(capability, "domain", domains, "domain", cap_path)
        questions = _items(capability, "questions")
        _keys(questions, f"{cap_path}.questions", errors)
        for q, question in questions:
            q_path = f"{cap_path}.questions[{q}]"
            ref(question, "lens", lenses, "lens", q_path)
            na = question.get("na")
            if isinstance(na, dict):
                if "allow_na" in question:
                    errors.append(NA_BOTH_MSG.format(path=f"{q_path}.na"))
                reasons = na.get("reasons")
                if isinstance(reasons, list):
                    if reasons and na.get("allowed") is False:
                        errors.append(
                            NA_REASONS_NOT_ALLOWED_MSG.format(path=f"{q_path}.na")
                        )
                    errors.extend(
                        UNKNOWN_NA_REASON_MSG.format(
                            path=f"{q_path}.na.reasons[{n}]", key=key
                        )
                        for n, key in enumerate(reasons)
                        if isinstance(key, str) and key not in na_reasons
                    )
            if _measure_well_formed(question.get("measure")):
                # Shapes are the schema's business; order and ranges are checked here.
                errors.extend(
                    measure_problems(question["measure"], f"{q_path}.measure")
                )
            if not isinstance(question.get("options"), list):
                continue
            scores: set = set()
            for o, option in _items(question, "options"):
                score = option.get("score")
                if not isinstance(score, int) or isinstance(score, bool):
                    continue
                if score in scores:
                    errors.append(
                        DUPLICATE_SCORE_MSG.format(
                            path=f"{q_path}.options[{o}].score", score=score
                        )
                    )
                scores.add(score)
            errors.extend(
                MISSING_SCORE_MSG.format(path=f"{q_path}.options", score=score)
                for score in SCORES
                if score not in scores
            )
        for r, recommendation in _items(capability, "recommendations"):
            r_path = f"{cap_path}.recommendations[{r}]"
            ref(recommendation, "level", level_keys, "maturity level", r_path)
            ref(recommendation, "lens", lenses, "lens", r_path)
    return errors


def _measure_well_formed(measure) -> bool:
    if not isinstance(measure, dict) or measure.get("key") not in MEASURE_KEYS:
        return False
    bands = measure.get("bands")
    return (
        isinstance(bands, list)
        and bool(bands)
        and all(
            isinstance(band, dict)
            and set(band) == {"min", "score"}
            and isinstance(band["min"], int | float)
            and not isinstance(band["min"], bool)
            and isinstance(band["score"], int)
            and not isinstance(band["score"], bool)
            and 0 <= band["score"] <= 4
            for band in bands
        )
    )


def _text_errors(path: str, text: str) -> list[str]:
    if "\x00" in text:
        return [NUL_TEXT_MSG.format(path=path or "file")]
    surrogate = SURROGATES.search(text)
    if surrogate:
        return [SURROGATE_TEXT_MSG.format(path=path or "file", code=ord(surrogate[0]))]
    return []


def _value_errors(path: str, field, value) -> list[str]:
    """What the schema cannot see in one value: text no database stores, keys
    that only look like slugs ("education\n": a regex's $ matches before a final
    line break), numbers finer than their column keeps."""
    if isinstance(value, str):
        errors = _text_errors(path, value)
        if (
            not errors
            and field in SLUG_FIELDS
            and value
            and SLUG_RE.fullmatch(value) is None
            and SLUG_RE.fullmatch(value.rstrip("\n")) is not None
        ):
            errors.append(NOT_A_SLUG_MSG.format(path=path, value=value))
        return errors
    if (
        field in DECIMAL_FIELDS
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    ):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -DECIMAL_PLACES:
            step = Decimal(1).scaleb(-DECIMAL_PLACES)
            return [
                TOO_PRECISE_MSG.format(
                    path=path,
                    value=value,
                    places=DECIMAL_PLACES,
                    step=step,
                    stored=number.quantize(step),
                )
            ]
    return []


def _walk_errors(document) -> list[str]:
    """Problems found by walking the whole document without recursion: nesting
    beyond MAX_DEPTH (then nothing else is checked), mapping keys given twice, and
    ``_value_errors``."""
    errors: list[str] = []
    stack = [("", None, document, 0)]
    while stack:
        path, field, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [TOO_DEEP_MSG.format(limit=MAX_DEPTH)]
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", []):
                errors.append(
                    DUPLICATE_MAPPING_KEY_MSG.format(path=_join(path, key), key=key)
                )
            for key, item in value.items():
                name = str(key)
                errors.extend(_text_errors(_join(path, name), name))
                stack.append((_join(path, name), key, item, depth + 1))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                stack.append((_join(path, i), field, item, depth + 1))
        else:
            errors.extend(_value_errors(path, field, value))
    return sorted(set(errors), key=_path_order)


def framework_file_errors(document: dict) -> list[str]:
    """Every problem in a parsed framework document: what a walk of every value
    finds (``_walk_errors``), schema errors, then semantic ones."""
    walked = _walk_errors(document)
    if walked and walked[0].startswith("file: nested"):
        return walked
    errors: list[str] = []
    for error in _validator().iter_errors(document):
        errors.extend(_schema_messages(error))
    errors = walked + sorted(errors, key=_path_order) + _semantic_errors(document)
    if errors:
        # The mapping is checked against the old version once the file is sound.
        return errors
    return mapping_errors(document)


# --- writing a draft -------------------------------------------------------------


def framework_create(document: dict) -> Framework:
    """Write a validated document as a new draft (a handful of bulk inserts); see
    ``services.framework_import`` for the checks around it."""
    framework = Framework.objects.create(
        slug=document["slug"],
        version=document["version"],
        title=document["title"],
        description=document.get("description", ""),
        source_url=document.get("source_url", ""),
        edition_key=(document.get("edition") or {}).get("key", ""),
        edition_name=(document.get("edition") or {}).get("name", ""),
        edition_source_url=(document.get("edition") or {}).get("source_url", ""),
        derived_from_slug=(document.get("derived_from") or {}).get("slug", ""),
        derived_from_version=(document.get("derived_from") or {}).get("version"),
        na_reasons=[dict(reason) for reason in document.get("na_reasons", [])],
        retired_capabilities=list(
            (document.get("retired") or {}).get("capabilities", [])
        ),
        retired_questions=list((document.get("retired") or {}).get("questions", [])),
    )
    lenses = Lens.objects.bulk_create(
        Lens(
            framework=framework,
            key=lens["key"],
            name=lens["name"],
            description=lens.get("description", ""),
            order=i,
            weight=_decimal(lens.get("weight", 20)),
            **{f"level_{s}": text for s, text in enumerate(lens["levels"])},
        )
        for i, lens in enumerate(document["lenses"])
    )
    levels = MaturityLevel.objects.bulk_create(
        MaturityLevel(
            framework=framework,
            key=level["key"],
            name=level["name"],
            min_percent=_decimal(level["min_percent"]),
            min_lens_score=(
                _decimal(level["min_lens_score"])
                if level.get("min_lens_score") is not None
                else None
            ),
            colour=level.get("colour", "#999999"),
            description=level.get("description", ""),
        )
        for level in document["maturity_levels"]
    )
    domains = Domain.objects.bulk_create(
        Domain(
            framework=framework,
            key=domain["key"],
            name=domain["name"],
            description=domain.get("description", ""),
            order=i,
        )
        for i, domain in enumerate(document["domains"])
    )
    lens_by_key = {lens.key: lens for lens in lenses}
    level_by_key = {level.key: level for level in levels}
    domain_by_key = {domain.key: domain for domain in domains}

    items = document["capabilities"]
    capabilities = Capability.objects.bulk_create(
        Capability(
            framework=framework,
            domain=domain_by_key[item["domain"]],
            key=item["key"],
            name=item["name"],
            summary=item.get("summary", ""),
            description=item.get("description", ""),
            docs_url=item.get("docs_url", ""),
            foundation_url=item.get("foundation_url", ""),
            order=i,
            status=item.get("status", "active"),
            maps_from=dict(item.get("maps_from") or {}),
            scopes=list(item.get("scopes", [])),
        )
        for i, item in enumerate(items)
    )
    question_items = [
        (capability, q, question)
        for capability, item in zip(capabilities, items, strict=True)
        for q, question in enumerate(item["questions"])
    ]
    questions = Question.objects.bulk_create(
        Question(
            capability=capability,
            lens=lens_by_key[question["lens"]],
            key=question["key"],
            prompt=question["prompt"],
            help_text=question.get("help", ""),
            weight=_decimal(question.get("weight", 1)),
            allow_na=(
                question["na"]["allowed"]
                if "na" in question
                else question.get("allow_na", False)
            ),
            na_reasons=(
                list(question["na"].get("reasons", [])) if "na" in question else None
            ),
            audience=question.get("audience", "team"),
            evidence_prompt=question.get("evidence_prompt", ""),
            maps_from=dict(question.get("maps_from") or {}),
            scopes=list(question.get("scopes", [])),
            measure_key=(question.get("measure") or {}).get("key", ""),
            measure_bands=[
                dict(band) for band in (question.get("measure") or {}).get("bands", [])
            ],
            order=q,
        )
        for capability, q, question in question_items
    )
    AnswerOption.objects.bulk_create(
        AnswerOption(
            question=question,
            score=int(option["score"]),
            label=option["label"],
            description=option.get("description", ""),
            order=o,
        )
        for question, (_c, _q, item) in zip(questions, question_items, strict=True)
        for o, option in enumerate(item["options"])
    )
    Recommendation.objects.bulk_create(
        Recommendation(
            capability=capability,
            level=level_by_key[rec["level"]],
            lens=lens_by_key[rec["lens"]] if rec.get("lens") else None,
            title=rec["title"],
            body=rec["body"],
            effort=rec.get("effort", Recommendation.Size.MEDIUM),
            impact=rec.get("impact", Recommendation.Size.MEDIUM),
            links=[dict(link) for link in rec.get("links", [])],
            order=r,
        )
        for capability, item in zip(capabilities, items, strict=True)
        for r, rec in enumerate(item.get("recommendations", []))
    )
    return framework


def _decimal(value) -> Decimal:
    return Decimal(str(value))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# --- export ---------------------------------------------------------------------


def framework_export(*, framework: Framework) -> dict:
    """The framework as a document in the file format (a fixed number of queries)."""
    lenses = list(framework.lenses.order_by("order", "id"))
    levels = list(framework.levels.order_by("min_percent"))
    domains = list(framework.domains.order_by("order", "id"))
    capabilities = list(
        framework.capabilities.select_related("domain")
        .prefetch_related(
            "questions__lens",
            "questions__options",
            "recommendations__lens",
            "recommendations__level",
        )
        .order_by("order", "id")
    )
    # The v2 fields are written only where set, so v1 files export byte-identical.
    edition_fields: dict = {}
    if framework.edition_key:
        edition_fields["edition"] = framework.edition
    if framework.derived_from_slug:
        edition_fields["derived_from"] = framework.derived_from
    if framework.na_reasons:
        edition_fields["na_reasons"] = [dict(r) for r in framework.na_reasons]
    retired = {}
    if framework.retired_capabilities:
        retired["capabilities"] = list(framework.retired_capabilities)
    if framework.retired_questions:
        retired["questions"] = list(framework.retired_questions)
    return {
        "slug": framework.slug,
        "version": framework.version,
        "title": framework.title,
        "description": framework.description,
        "source_url": framework.source_url,
        **edition_fields,
        "lenses": [
            {
                "key": lens.key,
                "name": lens.name,
                "description": lens.description,
                "weight": _number(lens.weight),
                "levels": lens.levels,
            }
            for lens in lenses
        ],
        "maturity_levels": [
            {
                "key": level.key,
                "name": level.name,
                "min_percent": _number(level.min_percent),
                **(
                    {"min_lens_score": _number(level.min_lens_score)}
                    if level.min_lens_score is not None
                    else {}
                ),
                "colour": level.colour,
                "description": level.description,
            }
            for level in levels
        ],
        "domains": [
            {"key": d.key, "name": d.name, "description": d.description}
            for d in domains
        ],
        **({"retired": retired} if retired else {}),
        "capabilities": [_export_capability(c) for c in capabilities],
    }


def _export_capability(capability: Capability) -> dict:
    questions = sorted(capability.questions.all(), key=lambda q: (q.order, q.id))
    recommendations = sorted(
        capability.recommendations.all(), key=lambda r: (r.order, r.id)
    )
    return {
        "key": capability.key,
        "domain": capability.domain.key,
        "name": capability.name,
        "summary": capability.summary,
        "description": capability.description,
        "docs_url": capability.docs_url,
        "foundation_url": capability.foundation_url,
        **({"status": capability.status} if capability.status != "active" else {}),
        **({"maps_from": dict(capability.maps_from)} if capability.maps_from else {}),
        **({"scopes": list(capability.scopes)} if capability.scopes else {}),
        "questions": [
            {
                "key": q.key,
                "lens": q.lens.key,
                "prompt": q.prompt,
                "help": q.help_text,
                "weight": _number(q.weight),
                **_export_na(q),
                **({"audience": q.audience} if q.audience != "team" else {}),
                **({"evidence_prompt": q.evidence_prompt} if q.evidence_prompt else {}),
                **({"maps_from": dict(q.maps_from)} if q.maps_from else {}),
                **({"scopes": list(q.scopes)} if q.scopes else {}),
                # Only where set, so files without measures export byte-identical.
                **({"measure": q.measure} if q.measure_key else {}),
                "options": [
                    {"score": o.score, "label": o.label, "description": o.description}
                    for o in sorted(q.options.all(), key=lambda o: (o.order, o.score))
                ],
            }
            for q in questions
        ],
        "recommendations": [
            {
                "level": r.level.key,
                "lens": r.lens.key if r.lens else None,
                "title": r.title,
                "body": r.body,
                "effort": r.effort,
                "impact": r.impact,
                "links": r.links,
            }
            for r in recommendations
        ],
    }


def _export_na(question: Question) -> dict:
    """``allow_na`` for v1-form questions, the ``na`` block otherwise."""
    if question.na_reasons is None:
        return {"allow_na": question.allow_na}
    na: dict = {"allowed": question.allow_na}
    if question.na_reasons:
        na["reasons"] = list(question.na_reasons)
    return {"na": na}


def framework_dump(framework: Framework, fmt: str = "yaml") -> str:
    """The framework as YAML or JSON text, ready to import again."""
    document = framework_export(framework=framework)
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    raise ValueError(f"unknown format {fmt!r}; use yaml or json")

"""Editions: how one framework version maps onto the version it was derived from.

Each capability and question of a version may say what it maps from in its
``derived_from`` version (``maps_from``: same, renamed, split, merged or new); items
of the old version with no successor are listed in ``retired``. An item without
``maps_from`` is the item of the same key in the old version when there is one, and
new otherwise, so a plain copy of a version maps onto it one to one.

``mapping_errors`` checks a document's mapping against the old version's keys (every
problem with its location); ``version_mapping`` reads a stored version's mapping for
carrying answers forward, dry runs and trends across editions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import Capability, Framework, Question

UNKNOWN_SOURCE_MSG = "{path}: unknown {kind} '{key}' in {source}"
NEEDS_FROM_MSG = "{path}: kind '{kind}' needs the key(s) it maps from in 'from'"
NEW_HAS_FROM_MSG = "{path}: kind 'new' maps from nothing; remove 'from'"
ONE_SOURCE_MSG = (
    "{path}: kind '{kind}' maps from exactly one {kind_of}; "
    "several sources need kind 'merged'"
)
MERGED_SOURCES_MSG = "{path}: kind 'merged' needs at least two sources"
SHARED_SOURCE_MSG = (
    "{path}: {kind_of} '{key}' of {source} is also mapped by {other}; "
    "items sharing one source need kind 'split'"
)
UNMAPPED_MSG = (
    "{path}: {kind_of} '{key}' of {source} is neither mapped by any item nor retired"
)
RETIRED_UNKNOWN_MSG = "{path}: unknown {kind_of} '{key}' in {source}"
RETIRED_AND_MAPPED_MSG = "{path}: {kind_of} '{key}' is retired but {other} maps from it"
NO_DERIVED_FROM_MSG = "{path}: mapping needs 'derived_from' (the version it refers to)"
SOURCE_MISSING_MSG = (
    "derived_from: {slug} v{version} is not in the portal; import it first"
)
SELF_SOURCE_MSG = "derived_from: a version cannot be derived from itself"
CYCLE_MSG = (
    "derived_from: {slug} v{version} is itself derived (through {chain}) from this "
    "version; a mapping cannot go round in a cycle"
)


@dataclass
class SourceKeys:
    """The keys of the version a document is derived from."""

    label: str
    capabilities: set[str]
    questions: dict[str, str]  # question key -> its capability key


def source_keys(framework: Framework) -> SourceKeys:
    """The capability and question keys of a stored version (two queries)."""
    return SourceKeys(
        label=f"{framework.slug} v{framework.version}",
        capabilities=set(framework.capabilities.values_list("key", flat=True)),
        questions=dict(
            Question.objects.filter(capability__framework=framework).values_list(
                "key", "capability__key"
            )
        ),
    )


def _source_of(document: dict) -> tuple[Framework | None, list[str]]:
    derived = document.get("derived_from")
    if not isinstance(derived, dict):
        return None, []
    slug, version = derived.get("slug"), derived.get("version")
    if not isinstance(slug, str) or not isinstance(version, int):
        return None, []  # the schema reports the shape
    if slug == document.get("slug") and version == document.get("version"):
        return None, [SELF_SOURCE_MSG]
    source = Framework.objects.filter(slug=slug, version=version).first()
    if source is None:
        return None, [SOURCE_MISSING_MSG.format(slug=slug, version=version)]
    # Walk the chain of derived_from versions: reaching this document is a cycle.
    chain, seen, current = [], set(), source
    while current is not None and current.derived_from_slug:
        step = (current.derived_from_slug, current.derived_from_version)
        if step in seen:
            break
        seen.add(step)
        chain.append(f"{step[0]} v{step[1]}")
        if step == (document.get("slug"), document.get("version")):
            return None, [
                CYCLE_MSG.format(slug=slug, version=version, chain=" -> ".join(chain))
            ]
        current = Framework.objects.filter(slug=step[0], version=step[1]).first()
    return source, []


def _items(container: dict, name: str) -> list[tuple[int, dict]]:
    value = container.get(name)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def effective_maps_from(item: dict, known: set[str] | dict) -> dict:
    """The item's mapping: its ``maps_from``, else the same key when the old version
    has it, else new."""
    maps_from = item.get("maps_from")
    if isinstance(maps_from, dict) and maps_from.get("kind"):
        return {"kind": maps_from["kind"], "from": list(maps_from.get("from") or [])}
    key = item.get("key")
    if isinstance(key, str) and key in known:
        return {"kind": "same", "from": [key]}
    return {"kind": "new", "from": []}


def _check_level(
    entries: list[tuple[str, dict, dict]],
    known,
    retired: list[tuple[str, str]],
    kind_of: str,
    source: SourceKeys,
    errors: list[str],
) -> None:
    """``entries``: (path, item, maps_from) for every capability or question."""
    used: dict[str, list[tuple[str, str]]] = {}
    for path, item, maps_from in entries:
        kind, sources = maps_from["kind"], maps_from["from"]
        where = f"{path}.maps_from"
        explicit = isinstance(item.get("maps_from"), dict)
        if kind == "new":
            if sources:
                errors.append(NEW_HAS_FROM_MSG.format(path=where))
            continue
        if not sources:
            errors.append(NEEDS_FROM_MSG.format(path=where, kind=kind))
            continue
        if kind in ("same", "renamed", "split") and len(sources) != 1:
            errors.append(ONE_SOURCE_MSG.format(path=where, kind=kind, kind_of=kind_of))
        if kind == "merged" and len(sources) < 2:
            errors.append(MERGED_SOURCES_MSG.format(path=where))
        for s, key in enumerate(sources):
            if key not in known:
                errors.append(
                    UNKNOWN_SOURCE_MSG.format(
                        path=f"{where}.from[{s}]" if explicit else where,
                        kind=kind_of,
                        key=key,
                        source=source.label,
                    )
                )
                continue
            used.setdefault(key, []).append((path, kind))
    for key, users in used.items():
        if len(users) < 2:
            continue
        for path, kind in users:
            if kind not in ("split", "merged"):
                others = ", ".join(p for p, _k in users if p != path)
                errors.append(
                    SHARED_SOURCE_MSG.format(
                        path=f"{path}.maps_from",
                        kind_of=kind_of,
                        key=key,
                        source=source.label,
                        other=others,
                    )
                )
    retired_keys = set()
    for path, key in retired:
        if key not in known:
            errors.append(
                RETIRED_UNKNOWN_MSG.format(
                    path=path, kind_of=kind_of, key=key, source=source.label
                )
            )
            continue
        retired_keys.add(key)
        if key in used:
            errors.append(
                RETIRED_AND_MAPPED_MSG.format(
                    path=path, kind_of=kind_of, key=key, other=used[key][0][0]
                )
            )
    return None


def mapping_errors(document: dict, source: SourceKeys | None = None) -> list[str]:
    """Every problem with the document's mapping onto its ``derived_from`` version.

    ``source`` is looked up in the database when not given. Tolerant of shapes the
    schema rejects (those are reported by the schema check).
    """
    errors: list[str] = []
    capabilities = _items(document, "capabilities")
    retired = (
        document.get("retired") if isinstance(document.get("retired"), dict) else {}
    )
    has_mapping = (
        bool(retired)
        or any(
            isinstance(c.get("maps_from"), dict)
            and c["maps_from"].get("kind") not in (None, "new")
            for _i, c in capabilities
        )
        or any(
            isinstance(q.get("maps_from"), dict)
            and q["maps_from"].get("kind") not in (None, "new")
            for _i, c in capabilities
            for _j, q in _items(c, "questions")
        )
    )
    if not isinstance(document.get("derived_from"), dict):
        if has_mapping:
            for c, cap in capabilities:
                if isinstance(cap.get("maps_from"), dict) and cap["maps_from"].get(
                    "kind"
                ) not in (None, "new"):
                    errors.append(
                        NO_DERIVED_FROM_MSG.format(path=f"capabilities[{c}].maps_from")
                    )
                for q, question in _items(cap, "questions"):
                    if isinstance(question.get("maps_from"), dict) and question[
                        "maps_from"
                    ].get("kind") not in (None, "new"):
                        errors.append(
                            NO_DERIVED_FROM_MSG.format(
                                path=f"capabilities[{c}].questions[{q}].maps_from"
                            )
                        )
            if retired:
                errors.append(NO_DERIVED_FROM_MSG.format(path="retired"))
        return errors
    if source is None:
        framework, problems = _source_of(document)
        if problems or framework is None:
            return problems
        source = source_keys(framework)

    def retired_list(name: str) -> list[tuple[str, str]]:
        values = retired.get(name) if isinstance(retired.get(name), list) else []
        return [
            (f"retired.{name}[{i}]", key)
            for i, key in enumerate(values)
            if isinstance(key, str)
        ]

    cap_entries = [
        (f"capabilities[{c}]", cap, effective_maps_from(cap, source.capabilities))
        for c, cap in capabilities
    ]
    question_entries = [
        (
            f"capabilities[{c}].questions[{q}]",
            question,
            effective_maps_from(question, source.questions),
        )
        for c, cap in capabilities
        for q, question in _items(cap, "questions")
    ]
    retired_caps = retired_list("capabilities")
    retired_questions = retired_list("questions")
    _check_level(
        cap_entries, source.capabilities, retired_caps, "capability", source, errors
    )
    _check_level(
        question_entries,
        source.questions,
        retired_questions,
        "question",
        source,
        errors,
    )

    mapped_caps = {k for _p, _i, m in cap_entries for k in m["from"]}
    mapped_caps |= {k for _p, k in retired_caps}
    for key in sorted(source.capabilities - mapped_caps):
        errors.append(
            UNMAPPED_MSG.format(
                path="retired.capabilities",
                kind_of="capability",
                key=key,
                source=source.label,
            )
        )
    retired_cap_keys = {k for _p, k in retired_caps}
    mapped_questions = {k for _p, _i, m in question_entries for k in m["from"]}
    mapped_questions |= {k for _p, k in retired_questions}
    for key in sorted(source.questions):
        if key in mapped_questions or source.questions[key] in retired_cap_keys:
            continue
        errors.append(
            UNMAPPED_MSG.format(
                path="retired.questions",
                kind_of="question",
                key=key,
                source=source.label,
            )
        )
    return errors


# --- reading a stored version's mapping ---------------------------------------------


@dataclass
class VersionMapping:
    """How a stored version maps onto the one it was derived from, by row id."""

    source: Framework | None
    # new question id -> old question ids it maps from (empty for new questions)
    questions: dict[int, list[int]] = field(default_factory=dict)
    question_kinds: dict[int, str] = field(default_factory=dict)
    # new capability id -> old capability ids
    capabilities: dict[int, list[int]] = field(default_factory=dict)
    capability_kinds: dict[int, str] = field(default_factory=dict)
    retired_capabilities: list[int] = field(default_factory=list)
    retired_questions: list[int] = field(default_factory=list)

    def old_capabilities_of(self, capability_id: int) -> list[int]:
        return self.capabilities.get(capability_id, [])


def version_mapping(framework: Framework) -> VersionMapping:
    """The mapping of ``framework`` onto its ``derived_from`` version (a handful of
    queries). Without a derived_from version in the portal, everything is new."""
    source = None
    if framework.derived_from_slug:
        source = Framework.objects.filter(
            slug=framework.derived_from_slug, version=framework.derived_from_version
        ).first()
    mapping = VersionMapping(source=source)
    new_caps = list(
        Capability.objects.filter(framework=framework).values("id", "key", "maps_from")
    )
    new_questions = list(
        Question.objects.filter(capability__framework=framework).values(
            "id", "key", "maps_from"
        )
    )
    if source is None:
        for row in new_caps:
            mapping.capabilities[row["id"]] = []
            mapping.capability_kinds[row["id"]] = "new"
        for row in new_questions:
            mapping.questions[row["id"]] = []
            mapping.question_kinds[row["id"]] = "new"
        return mapping
    old_caps = dict(
        Capability.objects.filter(framework=source).values_list("key", "id")
    )
    old_questions = dict(
        Question.objects.filter(capability__framework=source).values_list("key", "id")
    )
    for rows, known, ids, kinds in (
        (new_caps, old_caps, mapping.capabilities, mapping.capability_kinds),
        (new_questions, old_questions, mapping.questions, mapping.question_kinds),
    ):
        for row in rows:
            maps_from = effective_maps_from(row, known)
            ids[row["id"]] = [known[k] for k in maps_from["from"] if k in known]
            kinds[row["id"]] = maps_from["kind"]
    mapping.retired_capabilities = [
        old_caps[k] for k in framework.retired_capabilities if k in old_caps
    ]
    mapped_caps = {i for ids in mapping.capabilities.values() for i in ids}
    mapping.retired_capabilities += [
        i
        for i in old_caps.values()
        if i not in mapped_caps and i not in mapping.retired_capabilities
    ]
    mapping.retired_questions = [
        old_questions[k] for k in framework.retired_questions if k in old_questions
    ]
    return mapping


# --- capability lines across editions ------------------------------------------------


def capability_key_lineage(*, new: Framework, old: Framework) -> dict[str, list[str]]:
    """Old capability key -> the keys of ``new``'s capabilities that continue it
    (empty: retired), composed along the ``derived_from`` chain from ``new`` back to
    ``old``; versions not on one chain are matched by key."""
    chain = [new]
    current: Framework | None = new
    while current is not None and current.pk != old.pk and len(chain) < 20:
        if not current.derived_from_slug:
            current = None
            break
        current = Framework.objects.filter(
            slug=current.derived_from_slug, version=current.derived_from_version
        ).first()
        if current is not None:
            chain.append(current)
    old_keys = list(old.capabilities.values_list("key", flat=True))
    if current is None:
        new_keys = set(new.capabilities.values_list("key", flat=True))
        return {key: [key] if key in new_keys else [] for key in old_keys}
    # newer key -> older keys, one step at a time, then inverted.
    lineage = {key: [key] for key in new.capabilities.values_list("key", flat=True)}
    for newer, older in zip(chain, chain[1:], strict=False):
        older_keys = set(older.capabilities.values_list("key", flat=True))
        step = {
            row["key"]: effective_maps_from(row, older_keys)["from"]
            for row in newer.capabilities.values("key", "maps_from")
        }
        lineage = {
            key: [o for mid in mids for o in step.get(mid, [])]
            for key, mids in lineage.items()
        }
    out: dict[str, list[str]] = {key: [] for key in old_keys}
    for new_key, olds in lineage.items():
        for old_key in olds:
            out.setdefault(old_key, []).append(new_key)
    return out

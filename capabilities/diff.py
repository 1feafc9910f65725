"""The diff of a framework version against the version it was derived from:
capabilities, questions, options and recommendations added, changed or removed,
with the mapping (``editions.effective_maps_from``)."""

from .editions import effective_maps_from
from .importer import framework_export
from .models import Framework

# --- diff against the derived-from version -------------------------------------------

CAPABILITY_DIFF_FIELDS = (
    "key",
    "name",
    "summary",
    "description",
    "domain",
    "docs_url",
    "foundation_url",
    "status",
)
QUESTION_DIFF_FIELDS = (
    "key",
    "lens",
    "prompt",
    "help",
    "weight",
    "allow_na",
    "na",
    "audience",
    "evidence_prompt",
)


def _changed(old: dict, new: dict, fields) -> list[str]:
    return [f for f in fields if old.get(f) != new.get(f)]


def _options_changed(old: dict, new: dict) -> list[int]:
    before = {o["score"]: o for o in old.get("options", [])}
    after = {o["score"]: o for o in new.get("options", [])}
    return sorted(
        score
        for score in set(before) | set(after)
        if before.get(score) != after.get(score)
    )


def _recommendation_changes(old: list[dict], new: list[dict]) -> dict:
    def key(r):
        return (r.get("level"), r.get("lens"), r.get("title"))

    before = {key(r): r for r in old}
    after = {key(r): r for r in new}
    return {
        "added": [r["title"] for k, r in after.items() if k not in before],
        "removed": [r["title"] for k, r in before.items() if k not in after],
        "changed": [
            r["title"] for k, r in after.items() if k in before and before[k] != r
        ],
    }


def framework_diff(framework: Framework) -> dict:
    """What changed from the derived-from version (capabilities, questions, options
    and recommendations: added, changed, removed, with the mapping). Without a
    derived-from version in the portal, everything is added."""
    new = framework_export(framework=framework)
    source = None
    if framework.derived_from_slug:
        source = Framework.objects.filter(
            slug=framework.derived_from_slug, version=framework.derived_from_version
        ).first()
    old = framework_export(framework=source) if source else {"capabilities": []}
    old_caps = {c["key"]: c for c in old["capabilities"]}
    old_questions = {
        q["key"]: (c["key"], q) for c in old["capabilities"] for q in c["questions"]
    }
    capabilities, questions = [], []
    mapped_caps: set[str] = set()
    mapped_questions: set[str] = set()
    for capability in new["capabilities"]:
        mapping = effective_maps_from(capability, old_caps)
        mapped_caps.update(mapping["from"])
        sources = [old_caps[k] for k in mapping["from"] if k in old_caps]
        row = {
            "key": capability["key"],
            "name": capability["name"],
            "kind": mapping["kind"],
            "from": mapping["from"],
            "fields": [],
            "recommendations": _recommendation_changes(
                [r for s in sources for r in s.get("recommendations", [])],
                capability.get("recommendations", []),
            ),
        }
        if not sources:
            row["change"] = "added"
        else:
            row["fields"] = (
                _changed(sources[0], capability, CAPABILITY_DIFF_FIELDS)
                if len(sources) == 1
                else ["key"]
            )
            recs = row["recommendations"]
            row["change"] = (
                "changed"
                if row["fields"] or any(recs.values()) or mapping["kind"] != "same"
                else "unchanged"
            )
        capabilities.append(row)
        for question in capability["questions"]:
            q_mapping = effective_maps_from(question, old_questions)
            mapped_questions.update(q_mapping["from"])
            q_sources = [
                old_questions[k][1] for k in q_mapping["from"] if k in old_questions
            ]
            q_row = {
                "capability": capability["key"],
                "key": question["key"],
                "prompt": question["prompt"],
                "kind": q_mapping["kind"],
                "from": q_mapping["from"],
                "fields": [],
                "options": [],
            }
            if not q_sources:
                q_row["change"] = "added"
            else:
                first = q_sources[0]
                q_row["fields"] = _changed(first, question, QUESTION_DIFF_FIELDS)
                q_row["options"] = _options_changed(first, question)
                q_row["change"] = (
                    "changed"
                    if q_row["fields"]
                    or q_row["options"]
                    or q_mapping["kind"] != "same"
                    else "unchanged"
                )
            questions.append(q_row)
    removed_caps = [
        {"key": key, "name": c["name"], "change": "removed", "kind": "retired"}
        for key, c in old_caps.items()
        if key not in mapped_caps
    ]
    removed_questions = [
        {
            "capability": cap_key,
            "key": key,
            "prompt": q["prompt"],
            "change": "removed",
            "kind": "retired",
        }
        for key, (cap_key, q) in old_questions.items()
        if key not in mapped_questions
    ]
    counts = {
        kind: {
            change: sum(1 for r in rows if r["change"] == change)
            for change in ("added", "changed", "removed", "unchanged")
        }
        for kind, rows in (
            ("capabilities", capabilities + removed_caps),
            ("questions", questions + removed_questions),
        )
    }
    return {
        "source": f"{source.slug} v{source.version}" if source else None,
        "capabilities": capabilities + removed_caps,
        "questions": questions + removed_questions,
        "counts": counts,
    }

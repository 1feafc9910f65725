"""A small hand-made v2 derived from the shipped v1, for tests of editions.

Made from the v1 file by a handful of edits, each of a kind the mapping knows:

- ``education`` is renamed ``education-enablement`` (its questions keep their keys,
  so they map implicitly as "same"), and its question ``education-knowledge-2`` is
  retired;
- ``intersecting-frameworks`` is retired with all its questions;
- ``onboarding`` stays, marked retired by the edition (still answerable);
- ``governance-process-1`` is split into ``governance-process-1a`` and ``-1b``;
- ``operations-adoption-1`` and ``-2`` are merged into ``operations-adoption``;
- ``ai-cost`` is a new capability with new questions;
- ``assessment-process-1`` becomes a central question, a few questions get N/A
  reasons and evidence prompts, and Walk and Run gain a minimum lens score.
"""

import copy
from pathlib import Path

import yaml

CONTENT_DIR = Path(__file__).resolve().parents[1] / "content"
V1_FILE = CONTENT_DIR / "finops-practice-v1.yaml"

NA_REASONS = [
    {"key": "not_in_scope", "label": "Not in this team's scope"},
    {"key": "central_only", "label": "Handled only by the central FinOps function"},
    {"key": "no_such_spend", "label": "The organisation has no spend of this kind"},
]


def v1_document() -> dict:
    return yaml.safe_load(V1_FILE.read_text())


def _capability(doc: dict, key: str) -> dict:
    return next(c for c in doc["capabilities"] if c["key"] == key)


def _question(capability: dict, key: str) -> dict:
    return next(q for q in capability["questions"] if q["key"] == key)


def make_v2_document(v1: dict | None = None) -> dict:
    doc = copy.deepcopy(v1 or v1_document())
    doc["version"] = 2
    doc["title"] = "Manage the FinOps practice (2026 test edition)"
    doc["edition"] = {
        "key": "foundation-2026",
        "name": "FinOps Foundation 2026",
        "source_url": "https://www.finops.org/framework/",
    }
    doc["derived_from"] = {"slug": doc["slug"], "version": 1}
    doc["na_reasons"] = copy.deepcopy(NA_REASONS)
    for level in doc["maturity_levels"]:
        if level["key"] == "walk":
            level["min_lens_score"] = 1
        if level["key"] == "run":
            level["min_lens_score"] = 3

    education = _capability(doc, "education")
    education["key"] = "education-enablement"
    education["name"] = "FinOps education and enablement (2026)"
    education["maps_from"] = {"kind": "renamed", "from": ["education"]}
    education["questions"] = [
        q for q in education["questions"] if q["key"] != "education-knowledge-2"
    ]
    _question(education, "education-process-1")["evidence_prompt"] = (
        "A link to the training plan or the learning library."
    )

    doc["capabilities"] = [
        c for c in doc["capabilities"] if c["key"] != "intersecting-frameworks"
    ]
    doc["retired"] = {
        "capabilities": ["intersecting-frameworks"],
        "questions": ["education-knowledge-2"],
    }
    _capability(doc, "onboarding")["status"] = "retired"

    governance = _capability(doc, "governance")
    process = _question(governance, "governance-process-1")
    at = governance["questions"].index(process)
    parts = []
    for suffix, focus in (("a", "written down"), ("b", "followed")):
        part = copy.deepcopy(process)
        part["key"] = f"governance-process-1{suffix}"
        part["prompt"] = f"{process['prompt']} (how far the policies are {focus})"
        part["maps_from"] = {"kind": "split", "from": ["governance-process-1"]}
        parts.append(part)
    governance["questions"][at : at + 1] = parts

    operations = _capability(doc, "operations")
    first = _question(operations, "operations-adoption-1")
    merged = copy.deepcopy(first)
    merged["key"] = "operations-adoption"
    merged["maps_from"] = {
        "kind": "merged",
        "from": ["operations-adoption-1", "operations-adoption-2"],
    }
    at = operations["questions"].index(first)
    operations["questions"] = [
        q
        for q in operations["questions"]
        if q["key"] not in ("operations-adoption-1", "operations-adoption-2")
    ]
    operations["questions"].insert(at, merged)

    assessment = _capability(doc, "assessment")
    _question(assessment, "assessment-process-1")["audience"] = "central"

    tools = _capability(doc, "tools-services")
    knowledge = _question(tools, "tools-services-knowledge-1")
    knowledge.pop("allow_na", None)
    knowledge["na"] = {"allowed": True, "reasons": ["no_such_spend", "not_in_scope"]}
    knowledge["evidence_prompt"] = "The list of tools in use, with their owners."

    ai = copy.deepcopy(_capability(v1 or v1_document(), "assessment"))
    ai["key"] = "ai-cost"
    ai["name"] = "AI cost management"
    ai["summary"] = "Managing the cost and value of AI workloads."
    ai["maps_from"] = {"kind": "new"}
    ai["scopes"] = ["ai"]
    for question in ai["questions"]:
        question["key"] = question["key"].replace("assessment", "ai-cost", 1)
        question["prompt"] = "AI workloads: " + question["prompt"]
    doc["capabilities"].append(ai)
    return doc

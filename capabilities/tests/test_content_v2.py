"""Content rules of the 2026 edition (finops-practice v2), checked on the file itself.

Pure: the YAML is read with ``yaml.safe_load``; no database, no importer. The rules are
the ones the edition states (CONTENT-V2 contract and the content review it answers):
coverage of every lens, a policy per question (audience, N/A, evidence), five graded
options, recommendations per band, links to the sources' hosts, a complete mapping from
v1 and a level rule whose bands match their descriptions.
"""

import copy
import json
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from capabilities.measures import MEASURE_KEYS, measure_problems

CONTENT = Path(__file__).resolve().parent.parent / "content"
SCHEMA_PATH = CONTENT / "framework.schema.json"
V1_PATH = CONTENT / "finops-practice-v1.yaml"
V2_PATH = CONTENT / "finops-practice-v2.yaml"

AUDIENCES = {"team", "central"}
MAP_KINDS = {"same", "renamed", "split", "merged", "new"}
SCOPES = {"public_cloud", "saas", "data_centre", "data_cloud", "ai"}
# The hosts the sources name: Microsoft Learn, and the FinOps Foundation's framework,
# course and FOCUS sites.
MICROSOFT_HOSTS = {"learn.microsoft.com"}
FOUNDATION_HOSTS = {"www.finops.org", "learn.finops.org", "focus.finops.org"}
BROKEN_ONBOARDING_URL = (
    "https://www.finops.org/framework/capabilities/onboarding-workloads/"
)
# The ten questions the review singled out, and how v2 must treat each.
REVIEWED = {
    "assessment-metrics-1": "renamed",
    "assessment-automation-1": "renamed",
    "onboarding-adoption-1": "renamed",
    "governance-process-2": "split",
    "operations-process-1": "renamed",
    "operations-process-2": "split",
    "invoicing-chargeback-process-1": "renamed",
    "assessment-process-1": "renamed",
    "tools-services-automation-1": "renamed",
    "intersecting-frameworks-automation-1": "renamed",
}


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


V1 = _load(V1_PATH)
V2 = _load(V2_PATH)
LENSES = [lens["key"] for lens in V2["lenses"]]
LEVELS = [level["key"] for level in V2["maturity_levels"]]
NA_REASONS = {reason["key"] for reason in V2["na_reasons"]}
CAPABILITIES = V2["capabilities"]
QUESTIONS = [(cap, q) for cap in CAPABILITIES for q in cap["questions"]]
V1_CAPABILITIES = {cap["key"]: cap for cap in V1["capabilities"]}
V1_QUESTIONS = {q["key"]: q for cap in V1["capabilities"] for q in cap["questions"]}


def _cap_ids(cap):
    return cap["key"]


def _q_ids(pair):
    return pair[1]["key"]


def _links():
    for cap in CAPABILITIES:
        for r, rec in enumerate(cap.get("recommendations", [])):
            for link in rec.get("links", []):
                yield f"{cap['key']}.recommendations[{r}]", link["url"]


# ------------------------------------------------------------------ the level rule


def lens_percent(lens_scores: dict[str, float], weights: dict[str, float]) -> float:
    """Weighted percent of the maximum (4 per lens) over the answered lenses."""
    total = sum(weights[lens] for lens in lens_scores)
    return (
        sum(weights[lens] * score / 4 for lens, score in lens_scores.items())
        / total
        * 100
    )


def level_for(lens_scores: dict[str, float], levels: list[dict], weights: dict) -> str:
    """The contract's rule: the highest level whose min_percent is reached while every
    answered lens scores at least the level's min_lens_score (when it sets one)."""
    percent = lens_percent(lens_scores, weights)
    lowest = min(lens_scores.values())
    reached = [
        level
        for level in levels
        if percent >= level["min_percent"] and lowest >= level.get("min_lens_score", 0)
    ]
    return max(reached, key=lambda level: level["min_percent"])["key"]


WEIGHTS = {lens["key"]: lens["weight"] for lens in V2["lenses"]}
LEVEL_BY_KEY = {level["key"]: level for level in V2["maturity_levels"]}


def _scores(knowledge, process, metrics, adoption, automation):
    return dict(
        zip(LENSES, (knowledge, process, metrics, adoption, automation), strict=True)
    )


def test_the_rule_helper_is_not_trivial():
    # The same percent lands in different levels depending on the weakest lens.
    levels = V2["maturity_levels"]
    assert level_for(_scores(4, 4, 4, 4, 0), levels, WEIGHTS) == "crawl"
    assert level_for(_scores(4, 4, 4, 3, 1), levels, WEIGHTS) == "walk"
    assert lens_percent(_scores(4, 4, 4, 4, 0), WEIGHTS) == lens_percent(
        _scores(4, 4, 4, 3, 1), WEIGHTS
    )


@pytest.mark.parametrize(
    ("case", "scores", "expected", "phrases"),
    [
        # The playbook's example row (Managing Shared Cost 2/1/0/1/0): work being
        # actioned, adoption growing, two lenses still at 0.
        (
            "playbook 2/1/0/1/0",
            (2, 1, 0, 1, 0),
            "crawl",
            ["being actioned", "lens at 0"],
        ),
        # The review: all lenses at 2 is 50 % and must not read as Walk.
        ("all lenses at 2", (2, 2, 2, 2, 2), "crawl", ["mostly at 1 and 2"]),
        # The review: strong knowledge, process and adoption with no measurement and
        # no automation at all (60 %) must not read as Walk.
        (
            "K/P/A at 4, M/A at 0",
            (4, 4, 0, 4, 0),
            "crawl",
            ["lens at 0", "Metrics or Automation"],
        ),
        ("all lenses at 3", (3, 3, 3, 3, 3), "walk", ["Most lenses are at 3"]),
        ("13 of 20, none below 1", (3, 3, 3, 3, 1), "walk", ["no lens below 1"]),
        (
            "18 of 20, all at 3 or more",
            (4, 4, 4, 3, 3),
            "run",
            ["every lens at 3 or more"],
        ),
        ("17 of 20", (4, 4, 3, 3, 3), "walk", ["Most lenses are at 3"]),
        ("2 of 20", (1, 1, 0, 0, 0), "not_started", ["first step or two"]),
        ("nothing", (0, 0, 0, 0, 0), "not_started", ["no shared understanding"]),
    ],
)
def test_level_rule_lands_where_the_description_says(case, scores, expected, phrases):
    level = level_for(_scores(*scores), V2["maturity_levels"], WEIGHTS)
    assert level == expected, case
    description = LEVEL_BY_KEY[level]["description"]
    for phrase in phrases:
        assert phrase.lower() in description.lower(), (case, phrase)


def test_bands_state_the_scores_that_reach_them_and_are_this_portals_convention():
    assert [level["key"] for level in V2["maturity_levels"]] == [
        "not_started",
        "crawl",
        "walk",
        "run",
    ]
    percents = [level["min_percent"] for level in V2["maturity_levels"]]
    assert percents == sorted(percents)
    assert percents[0] == 0
    assert len(set(WEIGHTS.values())) == 1, "the 'n of 20' figures assume equal weights"
    for level in V2["maturity_levels"]:
        description = level["description"]
        assert description.startswith("Portal convention, not a Foundation cut-off")
        if level["min_percent"] == 0:
            continue
        # The smallest whole total of 20 that reaches the band.
        total = next(n for n in range(21) if n / 20 * 100 >= level["min_percent"])
        assert f"{level['min_percent']:g} %" in description
        assert f"{total} of 20" in description
        if "min_lens_score" in level:
            assert isinstance(level["min_lens_score"], int)


# ------------------------------------------------------------------ edition and mapping

# The fields the CONTENT-V2 contract adds, by where they sit.
V2_FIELDS = {
    "document": {"edition", "derived_from", "na_reasons", "retired"},
    "level": {"min_lens_score"},
    "capability": {"status", "maps_from", "scopes"},
    "question": {"audience", "na", "evidence_prompt", "maps_from", "scopes"},
}


def test_everything_but_the_v2_fields_is_valid_v1_schema():
    # Lengths, URL shapes, option scores, effort/impact and measure keys are checked by
    # the shipped schema; only the contract's additions are set aside.
    document = copy.deepcopy(V2)
    for key in V2_FIELDS["document"]:
        document.pop(key)
    for level in document["maturity_levels"]:
        for key in V2_FIELDS["level"]:
            level.pop(key, None)
    for cap in document["capabilities"]:
        for key in V2_FIELDS["capability"]:
            cap.pop(key, None)
        for q in cap["questions"]:
            for key in V2_FIELDS["question"]:
                q.pop(key, None)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(document)
    ]
    assert errors == []


def test_edition_header():
    assert V2["slug"] == V1["slug"] == "finops-practice"
    assert V2["version"] == 2
    assert V2["edition"]["key"] == "foundation-2026"
    assert V2["edition"]["source_url"].startswith("https://www.finops.org/")
    assert V2["derived_from"] == {"slug": V1["slug"], "version": V1["version"]}
    assert [lens["key"] for lens in V1["lenses"]] == LENSES


def test_keys_are_unique():
    caps = Counter(cap["key"] for cap in CAPABILITIES)
    questions = Counter(q["key"] for _, q in QUESTIONS)
    reasons = Counter(reason["key"] for reason in V2["na_reasons"])
    assert [k for k, n in (caps + questions + reasons).items() if n > 1] == []


def _check_mapping(item, sources: dict, problems: list, where: str):
    mapping = item.get("maps_from")
    if not isinstance(mapping, dict) or mapping.get("kind") not in MAP_KINDS:
        problems.append(f"{where}: maps_from kind missing or unknown")
        return []
    keys = mapping.get("from", [])
    if mapping["kind"] == "new":
        if keys:
            problems.append(f"{where}: a new item lists sources")
        return []
    if not keys:
        problems.append(f"{where}: kind {mapping['kind']} needs from")
    problems.extend(
        f"{where}: '{key}' is not in v1" for key in keys if key not in sources
    )
    if len(keys) > 1 and mapping["kind"] != "merged":
        problems.append(f"{where}: several sources need kind merged")
    return keys


@pytest.mark.parametrize(
    ("level", "items", "sources", "retired_key"),
    [
        (
            "capability",
            [(c, c["key"]) for c in CAPABILITIES],
            V1_CAPABILITIES,
            "capabilities",
        ),
        ("question", [(q, q["key"]) for _, q in QUESTIONS], V1_QUESTIONS, "questions"),
    ],
)
def test_mapping_from_v1_is_complete(level, items, sources, retired_key):
    problems: list[str] = []
    used: Counter = Counter()
    single: dict[str, list[tuple[str, str]]] = {}
    for item, key in items:
        keys = _check_mapping(item, sources, problems, key)
        used.update(keys)
        if len(keys) == 1:
            single.setdefault(keys[0], []).append((key, item["maps_from"]["kind"]))
    for source, successors in single.items():
        if len(successors) > 1 and any(kind != "split" for _, kind in successors):
            problems.append(f"{source}: shared by {successors}, each needs kind split")
    retired = set(V2["retired"][retired_key])
    problems.extend(f"retired '{key}' is not in v1" for key in retired - set(sources))
    problems.extend(f"retired '{key}' is also mapped" for key in retired & set(used))
    unmapped = set(sources) - set(used) - retired
    problems.extend(
        f"v1 {level} '{key}' is neither mapped nor retired" for key in unmapped
    )
    assert problems == []


def test_the_ten_reviewed_questions_are_rewritten():
    successors: dict[str, list[dict]] = {}
    for _, q in QUESTIONS:
        for source in q["maps_from"].get("from", []):
            successors.setdefault(source, []).append(q)
    for key, kind in REVIEWED.items():
        found = successors.get(key, [])
        assert found, key
        if kind == "split":
            assert len(found) >= 2, key
        old = V1_QUESTIONS[key]
        old_top = next(o["description"] for o in old["options"] if o["score"] == 4)
        for q in found:
            assert q["maps_from"]["kind"] == kind, q["key"]
            assert q["prompt"] != old["prompt"], q["key"]
            top = next(o["description"] for o in q["options"] if o["score"] == 4)
            assert top != old_top, q["key"]


def test_2026_names_status_and_new_capability():
    by_key = {cap["key"]: cap for cap in CAPABILITIES}
    assert by_key["governance"]["name"] == "Governance, policy and risk"
    assert by_key["tools-services"]["name"] == "Automation, tools and services"
    assert by_key["intersecting-frameworks"]["name"] == "Intersecting disciplines"
    for key in ("governance", "tools-services", "intersecting-frameworks"):
        assert by_key[key]["maps_from"] == {"kind": "renamed", "from": [key]}
    onboarding = by_key["onboarding"]
    assert onboarding["status"] == "retired"
    assert onboarding["foundation_url"] == (
        "https://www.finops.org/framework/previous-capabilities/onboarding-workloads/"
    )
    strategy = by_key["executive-strategy"]
    assert strategy["maps_from"] == {"kind": "new"}
    assert strategy["status"] == "active"
    others = [cap for cap in CAPABILITIES if cap["key"] != "onboarding"]
    assert all(cap.get("status", "active") == "active" for cap in others)
    # Retired still means answerable: every onboarding question may be marked N/A
    # because the organisation no longer runs the capability.
    for q in onboarding["questions"]:
        assert "capability_retired" in q["na"]["reasons"], q["key"]


# ------------------------------------------------------------------ questions


@pytest.mark.parametrize("cap", CAPABILITIES, ids=_cap_ids)
def test_every_capability_covers_every_lens(cap):
    lenses = Counter(q["lens"] for q in cap["questions"])
    assert set(lenses) <= set(LENSES)
    assert [lens for lens in LENSES if not lenses[lens]] == []


@pytest.mark.parametrize("cap", CAPABILITIES, ids=_cap_ids)
def test_every_capability_has_questions_a_team_answers(cap):
    team_lenses = {q["lens"] for q in cap["questions"] if q["audience"] == "team"}
    # Executive strategy is the central function's capability; teams still answer
    # what they know and do about it.
    assert len(team_lenses) >= (2 if cap["key"] == "executive-strategy" else 3), cap[
        "key"
    ]


@pytest.mark.parametrize("pair", QUESTIONS, ids=_q_ids)
def test_every_question_has_audience_na_policy_and_evidence_prompt(pair):
    _, q = pair
    assert q["audience"] in AUDIENCES
    assert isinstance(q["evidence_prompt"], str)
    assert len(q["evidence_prompt"]) > 20
    assert "allow_na" not in q, "v2 states N/A as a policy with reasons"
    na = q["na"]
    assert isinstance(na["allowed"], bool)
    reasons = na.get("reasons", [])
    if na["allowed"]:
        assert reasons, "an allowed N/A names its reasons"
        assert set(reasons) <= NA_REASONS
        assert len(set(reasons)) == len(reasons)
    else:
        assert reasons == []
    assert isinstance(q["weight"], int | float)
    assert q["weight"] > 0
    assert set(q.get("scopes", [])) <= SCOPES
    assert q["prompt"].endswith("?")


def test_na_reasons_are_all_used_and_many_questions_allow_na():
    used = Counter(r for _, q in QUESTIONS for r in q["na"].get("reasons", []))
    assert set(used) == NA_REASONS, "every catalogued reason is used, none is invented"
    allowing = sum(1 for _, q in QUESTIONS if q["na"]["allowed"])
    assert allowing >= 15  # v1 allowed N/A on 2 of 52


def test_organisation_level_facts_are_asked_of_the_central_function():
    central = {q["key"] for _, q in QUESTIONS if q["audience"] == "central"}
    # Strategy, staffing, funding, placement and the decision model (review item 6).
    for key in (
        "operations-process-1",
        "operations-process-2",
        "operations-process-3",
        "operations-process-4",
        "operations-process-7",
        "education-process-1",
        "invoicing-chargeback-metrics-1",
        "assessment-metrics-1",
    ):
        assert key in central, key


@pytest.mark.parametrize("pair", QUESTIONS, ids=_q_ids)
def test_every_question_has_five_graded_options(pair):
    _, q = pair
    scores = [o["score"] for o in q["options"]]
    assert scores == [0, 1, 2, 3, 4]
    for option in q["options"]:
        assert option["label"].strip()
        assert option["description"].strip()
    assert len({o["label"] for o in q["options"]}) == 5
    assert len({o["description"] for o in q["options"]}) == 5


@pytest.mark.parametrize("cap", CAPABILITIES, ids=_cap_ids)
def test_no_two_questions_share_lens_and_level_4_text(cap):
    seen: dict[tuple[str, str], str] = {}
    clashes = []
    for q in cap["questions"]:
        top = next(o for o in q["options"] if o["score"] == 4)
        for text in (top["label"].lower(), top["description"].lower()):
            key = (q["lens"], text)
            if key in seen:
                clashes.append((seen[key], q["key"]))
            seen[key] = q["key"]
    assert clashes == []


@pytest.mark.parametrize(
    "pair", [p for p in QUESTIONS if p[1]["lens"] == "metrics"], ids=_q_ids
)
def test_metrics_level_4_is_not_automation(pair):
    _, q = pair
    top = next(o for o in q["options"] if o["score"] == 4)
    assert "automat" not in (top["label"] + top["description"]).lower()


@pytest.mark.parametrize(
    "cap", [c for c in CAPABILITIES if c["key"] != "executive-strategy"], ids=_cap_ids
)
def test_metrics_are_anchored_on_the_capabilitys_kpis(cap):
    # At least one Metrics question names the capability's own KPIs and says where
    # they come from (the Foundation's KPIs, or the review's figures for onboarding).
    texts = [
        (q["prompt"] + " " + q.get("help", "")).lower()
        for q in cap["questions"]
        if q["lens"] == "metrics"
    ]
    assert any("kpi" in t or "measures" in t for t in texts), cap["key"]
    assert any("foundation" in t for t in texts), cap["key"]


@pytest.mark.parametrize(
    "pair", [p for p in QUESTIONS if p[1]["lens"] == "knowledge"], ids=_q_ids
)
def test_knowledge_options_name_something_observable(pair):
    # No "most of the team understands": the middle and top options say what people
    # can do or what exists (explain, name, list, a glossary, a briefing...).
    _, q = pair
    assert "understand" not in q["options"][3]["description"].lower(), q["key"]


@pytest.mark.parametrize(
    "pair", [p for p in QUESTIONS if "measure" in p[1]], ids=_q_ids
)
def test_measures_are_well_formed(pair):
    _, q = pair
    measure = q["measure"]
    assert measure["key"] in MEASURE_KEYS
    assert measure_problems(measure) == []
    assert measure["bands"][0]["min"] == 0


# ------------------------------------------------------------------ recommendations and links


@pytest.mark.parametrize("cap", CAPABILITIES, ids=_cap_ids)
def test_every_band_has_recommendations(cap):
    recs = cap["recommendations"]
    for level in LEVELS:
        general = [r for r in recs if r["level"] == level and r["lens"] is None]
        assert general, f"{cap['key']}: no recommendation for every lens at {level}"
    for rec in recs:
        assert rec["level"] in LEVELS
        assert rec["lens"] is None or rec["lens"] in LENSES
        assert rec["effort"] in {"low", "medium", "high"}
        assert rec["impact"] in {"low", "medium", "high"}
        assert rec["title"].strip()
        assert rec["body"].strip()
    lens_specific = {r["lens"] for r in recs if r["lens"]}
    assert len(lens_specific) >= 3, cap["key"]


@pytest.mark.parametrize("cap", CAPABILITIES, ids=_cap_ids)
def test_every_recommendation_links_microsoft_learn_and_the_foundation(cap):
    for rec in cap["recommendations"]:
        hosts = {urlsplit(link["url"]).hostname for link in rec["links"]}
        assert hosts & MICROSOFT_HOSTS, (cap["key"], rec["title"])
        assert hosts & FOUNDATION_HOSTS, (cap["key"], rec["title"])
    # The capability's own pages are among the links.
    urls = {link["url"] for rec in cap["recommendations"] for link in rec["links"]}
    assert cap["foundation_url"] in urls
    if cap["key"] != "executive-strategy":  # no Microsoft Learn page exists for it
        assert cap["docs_url"] in urls


@pytest.mark.parametrize("where_url", list(_links()), ids=lambda pair: pair[1])
def test_every_link_is_well_formed_and_on_a_source_host(where_url):
    where, url = where_url
    parts = urlsplit(url)
    assert parts.scheme == "https", where
    assert parts.hostname in MICROSOFT_HOSTS | FOUNDATION_HOSTS, where
    assert parts.path.startswith("/"), where
    assert not any(ch.isspace() for ch in url), where
    assert url != BROKEN_ONBOARDING_URL, where
    assert "/en-us/" not in url, (
        where
    )  # locale-free, as Microsoft Learn links are shared


@pytest.mark.parametrize("cap", CAPABILITIES, ids=_cap_ids)
def test_capability_pages(cap):
    if cap["key"] == "executive-strategy":
        assert "docs_url" not in cap  # Microsoft Learn has no page for it (2026)
    else:
        assert urlsplit(cap["docs_url"]).hostname in MICROSOFT_HOSTS
    assert cap["foundation_url"].startswith("https://www.finops.org/framework/")
    assert cap["foundation_url"] != BROKEN_ONBOARDING_URL
    assert set(cap.get("scopes", [])) <= SCOPES


def test_carried_over_questions_keep_their_v1_weight():
    changed = [
        (q["key"], q["weight"], V1_QUESTIONS[source]["weight"])
        for _, q in QUESTIONS
        if q["maps_from"]["kind"] in {"same", "renamed"}
        for source in q["maps_from"]["from"]
        if q["weight"] != V1_QUESTIONS[source]["weight"]
    ]
    assert changed == []

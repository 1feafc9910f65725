"""What the report pages keep between requests: the Redis cache of built team
reports and dashboards (keyed by everything they depend on), and the few frames
kept in process memory (published framework content, node statistics per
snapshot). ``reports`` assembles the pages; this module only stores and finds them.
"""

import hashlib
import pickle
import zlib

import pandas as pd
from django.core.cache import cache
from django.db.models import F

from assessment.models import Assessment
from capabilities.models import Framework

from . import selectors
from .report_frames import recommendations_by_level

# Bump the version when the charts' code changes, so cached figures are rebuilt.
DASHBOARD_CACHE_KEY = "benchmarks:dashboard:v9:{cycle}:{unit}:{sort}:{page}:{generation}:{computed}:{targets}"


DASHBOARD_CACHE_SECONDS = 24 * 3600


# One team report, per viewer kind (leads see groups below the anonymity threshold);
# ``state`` digests everything else it depends on (see ``team_report_key``).
REPORT_CACHE_KEY = "benchmarks:report:v5:{assessment}:{viewer}:{state}"


REPORT_CACHE_SECONDS = 24 * 3600


# Per assessment: the keys of its reports for the latest state stored.
REPORT_CURRENT_KEY = "benchmarks:report-current:v1:{assessment}"


# Published framework content never changes: its frames are kept per process.
FRAMEWORK_FRAMES_KEPT = 16


_framework_frames: dict = {}
_by_level: dict = {}


# Statistics of the organisation and of each business unit, per snapshot.
NODE_STATS_CACHE_KEY = "benchmarks:nodestats:v1:{cycle}:{node}:{generation}:{computed}"


NODE_STATS_KEPT = 256


_node_stats: dict = {}


def team_report_key(*, assessment, enforce_anonymity: bool) -> str | None:
    """The cache key of an assessment's report as one kind of viewer sees it (one
    query), or None when it must not be cached (a draft framework can change).

    The report changes with the cycle's snapshot (computed generation and time), the
    organisation's targets, the assessment's submission (reopen and submit), the
    team's submissions in other cycles (its trend: ``Team.history_version``), the
    framework version, and the names and threshold shown on the page."""
    keys, _state = report_keys_and_state(assessment=assessment)
    return keys[viewer(enforce_anonymity)] if keys else None


def viewer(enforce_anonymity: bool) -> str:
    return "member" if enforce_anonymity else "lead"


# What a report's cache key reads of the cycle's snapshot, as annotations.
REPORT_STATE = {"generation": "report_generation", "computed": "report_computed"}


def report_assessments():
    """Assessments annotated with their cycle's snapshot state, which their report's
    cache key reads: handed to ``get_assessment_for_user``, the access check and
    the key cost one query instead of two."""
    return Assessment.objects.annotate(
        report_generation=F("cycle__rollup__computed_generation"),
        report_computed=F("cycle__rollup__computed_at"),
    )


def _report_state(assessment) -> dict:
    """The cycle's snapshot state: from the annotations of ``report_assessments``
    when present, else one query."""
    if hasattr(assessment, REPORT_STATE["computed"]):
        return {name: getattr(assessment, attr) for name, attr in REPORT_STATE.items()}
    rows = report_assessments().filter(pk=assessment.pk).order_by()
    fields = {name: F(attr) for name, attr in REPORT_STATE.items()}
    return rows.values(**fields).first() or {}


def report_keys_and_state(*, assessment):
    """The report's cache key per kind of viewer ({"member": ..., "lead": ...}) and
    the cycle's snapshot state it read; (None, None) for a draft framework."""
    cycle, team = assessment.cycle, assessment.team
    framework, organization = cycle.framework, cycle.organization
    if framework.status == Framework.Status.DRAFT:
        return None, None
    state = _report_state(assessment)
    parts = [
        assessment.status,
        stamp(assessment.submitted_at),
        state.get("generation"),
        stamp(state.get("computed")),
        # the team's submissions in every cycle (its trend)
        team.history_version,
        organization.targets_version,
        framework.id,
        stamp(framework.created_at),
        organization.anonymity_threshold,
        organization.name,
        organization.slug,
        team.id,
        team.name,
        team.parent_id,
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    keys = {
        viewer: REPORT_CACHE_KEY.format(
            assessment=assessment.pk, viewer=viewer, state=digest
        )
        for viewer in ("member", "lead")
    }
    return keys, state


def stamp(moment):
    return None if moment is None else moment.timestamp()


def store_reports(assessment_id: int, keys: dict, packed: dict) -> None:
    """Cache packed reports ({key: bytes}) of one assessment, and drop its reports
    of an older state: no request asks for those keys again (the state only moves
    forward), and each roll-up would otherwise leave a full set of reports behind
    until they expire. ``keys`` are the assessment's keys for the current state."""
    pointer = REPORT_CURRENT_KEY.format(assessment=assessment_id)
    previous = cache.get(pointer) or {}
    cache.set_many(packed, REPORT_CACHE_SECONDS)
    stale = [key for key in previous.values() if key not in keys.values()]
    if stale:
        cache.delete_many(stale)
    if previous != keys:
        cache.set(pointer, keys, REPORT_CACHE_SECONDS)


def pack(data: dict) -> bytes:
    # compressed: the page's figures and tables shrink about 7 times
    return zlib.compress(pickle.dumps(data, pickle.HIGHEST_PROTOCOL), 1)


def unpack(packed: bytes) -> dict:
    return pickle.loads(zlib.decompress(packed))


def framework_frames(*, framework) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The framework's lenses, levels and recommendations (3 queries), kept per
    process once it is published (its content can no longer change). Callers must
    not modify the frames."""
    key = (framework.id, stamp(framework.created_at))
    frames = _framework_frames.get(key)
    if frames is None:
        frames = (
            selectors.lenses_frame(framework_id=framework.id),
            selectors.levels_frame(framework_id=framework.id),
            selectors.recommendations_frame(framework_id=framework.id),
        )
        if framework.status != Framework.Status.DRAFT:
            if len(_framework_frames) >= FRAMEWORK_FRAMES_KEPT:
                _framework_frames.clear()
            _framework_frames[key] = frames
    return frames


def node_stats_cached(*, cycle, node_ids: list, state) -> pd.DataFrame:
    """Statistics of the given nodes (None = organisation) in the cycle's snapshot,
    in ``node_ids`` order. A node's statistics are the same for every team under it,
    so each is read once per snapshot (``state`` from ``report_keys_and_state``) and
    cached; the nodes not cached yet are read in one query. Callers must not modify
    the frame."""
    computed = (state or {}).get("computed")
    if computed is None:
        return selectors.node_stats_for_frame(cycle=cycle, node_ids=node_ids)
    keys = {
        node_id: NODE_STATS_CACHE_KEY.format(
            cycle=cycle.id,
            node=node_id if node_id is not None else "org",
            generation=state.get("generation"),
            computed=computed.timestamp(),
        )
        for node_id in node_ids
    }
    found = {n: _node_stats[k] for n, k in keys.items() if k in _node_stats}
    missing = [n for n in node_ids if n not in found]
    if missing:
        packed = cache.get_many([keys[n] for n in missing])
        for node_id in missing:
            if keys[node_id] in packed:
                found[node_id] = pickle.loads(packed[keys[node_id]])
        missing = [n for n in node_ids if n not in found]
    if missing:
        read = selectors.node_stats_for_frame(cycle=cycle, node_ids=missing)
        fresh = {}
        for node_id in missing:
            rows = (
                read["node_id"].isna()
                if node_id is None
                else read["node_id"] == node_id
            )
            found[node_id] = read[rows].reset_index(drop=True)
            fresh[keys[node_id]] = pickle.dumps(found[node_id], pickle.HIGHEST_PROTOCOL)
        cache.set_many(fresh, REPORT_CACHE_SECONDS)
    if len(_node_stats) + len(keys) > NODE_STATS_KEPT:
        _node_stats.clear()
    _node_stats.update({keys[n]: found[n] for n in node_ids})
    parts = [found[n] for n in node_ids]
    return pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)


def recommendations_by_level_cached(recommendations: pd.DataFrame) -> dict:
    """``report_frames.recommendations_by_level``, kept with the framework frames,
    which live as long as the process (see ``framework_frames``)."""
    kept = _by_level.get(id(recommendations))
    if kept is not None and kept[0] is recommendations:
        return kept[1]
    by_level = recommendations_by_level(recommendations)
    if any(frames[2] is recommendations for frames in _framework_frames.values()):
        if len(_by_level) >= FRAMEWORK_FRAMES_KEPT:
            _by_level.clear()
        # the frame is kept with its records, so its id is not reused meanwhile
        _by_level[id(recommendations)] = (recommendations, by_level)
    return by_level

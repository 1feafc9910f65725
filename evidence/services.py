"""Writes and workflows of the evidence app: uploads, ingestions, mappings,
settings, invoice totals, recomputing the measures, suggestion decisions.

The heavy work (reading FOCUS files) runs in ``ingestion_run`` in a Celery worker;
it writes nothing until the files have passed every check, then replaces the
periods they hold in one transaction. Errors are ``ValidationError`` with field
messages (module constants, so tests assert them exactly).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from assessment.models import Organization, Team
from assessment.tree import Tree
from finops_portal.audit import audit_record
from finops_portal.queue import enqueue

from . import engine, files, storage
from .measures import MEASURES_BY_KEY, NOT_COMPUTABLE_NOTE
from .models import (
    EvidencePeriod,
    EvidenceSettings,
    FolderSource,
    Ingestion,
    InvoiceSum,
    InvoiceTotal,
    MeasureValue,
    TeamMapping,
    Upload,
)

log = logging.getLogger(__name__)


UPLOAD_INCOMPLETE_MSG = (
    "{name}: {received} of {size} bytes arrived; send the rest first."
)
INGEST_NOTHING_MSG = "Choose at least one uploaded file."
INGEST_UPLOAD_USED_MSG = "{name} is being read already."
INGEST_UNREADABLE_MSG = "The files could not be read: {detail}"
INGEST_FAILED_MSG = (
    "Reading the files failed unexpectedly; the previous evidence is unchanged."
)
FOLDER_NOT_ALLOWED_MSG = (
    "Point at an existing folder inside {roots}; the portal reads no other folders."
)
FOLDER_OFF_MSG = "Folder sources are off: set EVIDENCE_IMPORT_ROOTS to the folders the portal may read."
FOLDER_EMPTY_MSG = "The folder holds no CSV, gzip'd CSV or Parquet file."


TAG_KEYS_MSG = "List tag keys separated by commas (at most 20, each 128 characters)."
MAX_AGE_MSG = "Give a number of days from 1 to 3650."


PROGRESS_WRITE_S = 1.0
TEST_DELAY_ENV = "EVIDENCE_TEST_DELAY_S"
MAX_ATTEMPTS = 3


def evidence_settings_get(*, organization: Organization) -> EvidenceSettings:
    """The organisation's evidence settings (created with the defaults)."""
    found, _created = EvidenceSettings.objects.get_or_create(
        organization=organization,
        defaults={"max_age_days": settings.EVIDENCE_MAX_AGE_DAYS},
    )
    return found


# --- ingestions -------------------------------------------------------------------


def _enqueue_ingestion(ingestion_id: int) -> None:
    enqueue(
        "evidence.tasks.ingestion_run", ingestion_id, what=f"ingestion {ingestion_id}"
    )


@transaction.atomic
def ingestion_start(
    *, organization: Organization, user, uploads: list[Upload], enqueue: bool = True
) -> Ingestion:
    """Queue the reading of complete uploads (the files of one or more billing
    periods); a worker starts it once the transaction commits (unless
    ``enqueue`` is false: the caller runs it)."""
    if not uploads:
        raise ValidationError({"uploads": [INGEST_NOTHING_MSG]})
    errors = []
    for upload in uploads:
        if upload.organization_id != organization.pk:
            raise Upload.DoesNotExist("No such upload.")
        if upload.status != Upload.Status.COMPLETE:
            errors.append(
                UPLOAD_INCOMPLETE_MSG.format(
                    name=upload.name, received=upload.received, size=upload.size
                )
            )
    busy = Ingestion.objects.filter(
        uploads__in=uploads,
        status__in=[Ingestion.Status.QUEUED, Ingestion.Status.RUNNING],
    ).values_list("uploads__name", flat=True)
    errors += [INGEST_UPLOAD_USED_MSG.format(name=name) for name in busy]
    if errors:
        raise ValidationError({"uploads": errors})
    ingestion = Ingestion.objects.create(
        organization=organization,
        created_by=user,
        files=[{"name": u.name, "size": u.size} for u in uploads],
    )
    ingestion.uploads.set(uploads)
    audit_record(
        organization_id=organization.pk,
        actor=user,
        action="evidence.ingest",
        summary=f"Queued reading of {', '.join(u.name for u in uploads)}",
        ingestion_id=ingestion.pk,
    )
    if enqueue:
        transaction.on_commit(partial(_enqueue_ingestion, ingestion.pk))
    return ingestion


def _claim(ingestion_id: int) -> str | None:
    """Take the ingestion for this worker: queued ones, and running ones whose
    worker stopped reporting. Returns the claim, or None if another has it."""
    token = secrets.token_hex(16)
    stale = timezone.now() - timedelta(seconds=settings.EVIDENCE_STALE_AFTER_S)
    claimed = Ingestion.objects.filter(
        Q(status=Ingestion.Status.QUEUED)
        | Q(status=Ingestion.Status.RUNNING, heartbeat_at__lt=stale),
        pk=ingestion_id,
        attempts__lt=MAX_ATTEMPTS,
    ).update(
        status=Ingestion.Status.RUNNING,
        stage=Ingestion.Stage.CHECKING,
        claim=token,
        attempts=F("attempts") + 1,
        heartbeat_at=timezone.now(),
        started_at=timezone.now(),
        rows_read=0,
        rows_per_second=None,
        errors=[],
    )
    return token if claimed == 1 else None


class _Reporter:
    """Writes an ingestion's stage and progress, at most once a second; raises
    ``LostClaim`` when another worker has taken the ingestion over."""

    class LostClaim(Exception):
        pass

    def __init__(self, ingestion_id: int, claim: str):
        self.ingestion_id, self.claim = ingestion_id, claim
        self.started = time.monotonic()
        self.last_write = self.started
        self.rows_total: int | None = None

    def write(self, **fields) -> None:
        fields["heartbeat_at"] = timezone.now()
        updated = Ingestion.objects.filter(
            pk=self.ingestion_id, claim=self.claim
        ).update(**fields)
        if updated != 1:
            raise self.LostClaim()

    def stage(self, stage: str, **fields) -> None:
        self.write(stage=stage, **fields)

    def reading(self, percent: float) -> None:
        """Called from DuckDB's progress thread (its own database connection):
        rows read so far from the percent done; a heartbeat when it is unknown."""
        now = time.monotonic()
        if now - self.last_write < PROGRESS_WRITE_S:
            return
        self.last_write = now
        fields: dict[str, float] = {}
        if percent >= 0 and self.rows_total:
            rows = int(self.rows_total * min(percent, 100.0) / 100)
            fields = {
                "rows_read": rows,
                "rows_per_second": rows / max(now - self.started, 1e-6),
            }
        try:
            self.write(**fields)
        except Exception:  # noqa: BLE001 - progress is best effort; the run goes on
            log.debug("progress of ingestion %s not written", self.ingestion_id)
        finally:
            if threading.current_thread() is not threading.main_thread():
                # DuckDB's progress thread: its connection ends with each write.
                connection.close()


def _sources(ingestion: Ingestion) -> list[files.SourceFile]:
    if ingestion.folder is not None:
        folder = storage.folder_resolve(ingestion.folder.path)
        if folder is None:
            raise files.FocusInputError(
                [FOLDER_NOT_ALLOWED_MSG.format(roots=_roots_text())]
            )
        return [
            files.SourceFile(path=str(p), name=str(p.relative_to(folder)))
            for p in storage.folder_files(folder)
        ]
    return [
        files.SourceFile(path=str(storage.upload_path(u)), name=u.name)
        for u in ingestion.uploads.order_by("created_at")
    ]


def duckdb_connect():
    return engine.connect(
        memory_limit=settings.EVIDENCE_DUCKDB_MEMORY_LIMIT,
        threads=settings.EVIDENCE_DUCKDB_THREADS,
        temp_dir=str(storage.temp_dir()),
    )


def ingestion_run(*, ingestion_id: int) -> str:
    """Read an ingestion's files and replace the billing periods they hold.

    Idempotent: a finished ingestion is left alone; one that another worker holds
    is skipped. Bad files fail it with every message, and nothing else changes.
    """
    claim = _claim(ingestion_id)
    if claim is None:
        return "skipped"
    reporter = _Reporter(ingestion_id, claim)
    ingestion = Ingestion.objects.select_related("organization", "folder").get(
        pk=ingestion_id
    )
    out_dir = storage.cube_dir(ingestion.organization_id, ingestion.pk)
    try:
        con = duckdb_connect()
        try:
            sources = _sources(ingestion)
            if not sources:
                raise files.FocusInputError([FOLDER_EMPTY_MSG])
            infos = files.inspect_files(con, sources)
            reporter.rows_total = sum(i.estimated_rows for i in infos)
            reporter.stage(
                Ingestion.Stage.READING,
                rows_total=reporter.rows_total,
                focus_version=infos[0].version,
                files=[
                    {"name": i.source.name, "size": i.size, "format": i.format}
                    for i in infos
                ],
            )
            _test_delay()
            cube = engine.build_cube(con, infos, progress=reporter.reading)
            reporter.stage(
                Ingestion.Stage.COMPUTING,
                rows_read=cube.rows,
                rows_total=cube.rows,
                rows_per_second=cube.rows / max(cube.seconds, 1e-6),
            )
            storage.remove(out_dir)
            paths = engine.write_period_cubes(con, str(out_dir), cube.custom)
            invoices = engine.invoice_sums(con, "cube")
        finally:
            con.close()
        reporter.stage(Ingestion.Stage.SAVING)
        _replace_periods(ingestion, claim, infos[0].version, cube, paths, invoices)
    except files.FocusInputError as error:
        storage.remove(out_dir)
        _fail(ingestion_id, claim, error.messages)
        return "failed"
    except reporter.LostClaim:
        return "taken over"
    except Exception:
        storage.remove(out_dir)
        log.exception("ingestion %s failed", ingestion_id)
        _fail(ingestion_id, claim, [INGEST_FAILED_MSG])
        raise
    return "succeeded"


def _test_delay() -> None:
    """Tests of a crash mid-ingestion slow a worker down here (never set in use)."""
    delay = float(os.environ.get(TEST_DELAY_ENV) or 0)
    if delay:
        time.sleep(delay)


def _fail(ingestion_id: int, claim: str, messages: list[str]) -> None:
    Ingestion.objects.filter(pk=ingestion_id, claim=claim).update(
        status=Ingestion.Status.FAILED,
        stage=Ingestion.Stage.FAILED,
        errors=list(messages)[:50],
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def _replace_periods(ingestion, claim, version, cube, paths, invoices) -> None:
    """One transaction: the periods of this ingestion replace the stored ones,
    the measures of every period are recomputed, the ingestion is marked done."""
    organization = ingestion.organization
    old_cubes: list[str] = []
    with transaction.atomic():
        # One writer of an organisation's evidence at a time.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        if not Ingestion.objects.filter(pk=ingestion.pk, claim=claim).exists():
            return
        starts = [p["period_start"] for p in cube.periods]
        replaced = EvidencePeriod.objects.filter(
            organization=organization, period_start__in=starts
        )
        old_cubes = list(replaced.values_list("cube", flat=True))
        replaced.delete()
        now = timezone.now()
        periods = EvidencePeriod.objects.bulk_create(
            EvidencePeriod(
                organization=organization,
                ingestion=ingestion,
                period_start=p["period_start"],
                period_end=p["period_end"],
                focus_version=version,
                providers=p["providers"],
                currencies=p["currencies"],
                rows=p["rows"],
                missing_columns=sorted(cube.missing),
                effective_cost=p["effective_cost"],
                billed_cost=p["billed_cost"],
                cube=storage.relative(paths[p["period_start"]]),
                computed_at=now,
            )
            for p in cube.periods
        )
        by_start = {p.period_start: p for p in periods}
        InvoiceSum.objects.bulk_create(
            InvoiceSum(
                period=by_start[i["period_start"]],
                invoice_id=i["invoice_id"][:200],
                billing_account_id=i["billing_account_id"][:200],
                currency=i["currency"][:8],
                billed_cost=i["billed_cost"],
                corrections=i["corrections"],
            )
            for i in invoices
        )
        _recompute(organization)
        Ingestion.objects.filter(pk=ingestion.pk).update(
            status=Ingestion.Status.SUCCEEDED,
            stage=Ingestion.Stage.DONE,
            periods=[s.isoformat() for s in sorted(starts)],
            providers=sorted(
                {p for period in cube.periods for p in period["providers"]}
            ),
            finished_at=now,
            heartbeat_at=now,
        )
        audit_record(
            organization_id=organization.pk,
            actor=ingestion.created_by,
            action="evidence.ingested",
            summary=(
                f"Evidence for {', '.join(f'{s:%B %Y}' for s in sorted(starts))} "
                f"from {cube.rows:,} rows"
            ),
            ingestion_id=ingestion.pk,
        )
        transaction.on_commit(partial(_remove_files, old_cubes))


def _remove_files(relative_paths: list[str]) -> None:
    for rel in relative_paths:
        try:
            storage.remove(storage.absolute(rel))
        except ValueError:
            continue


def ingestions_sweep() -> int:
    """Enqueue every queued ingestion nobody started and every running one whose
    worker went silent (crashed, killed); fail those out of attempts."""
    stale = timezone.now() - timedelta(seconds=settings.EVIDENCE_STALE_AFTER_S)
    waiting = Q(status=Ingestion.Status.QUEUED, created_at__lt=stale) | Q(
        status=Ingestion.Status.RUNNING, heartbeat_at__lt=stale
    )
    exhausted = Ingestion.objects.filter(waiting, attempts__gte=MAX_ATTEMPTS)
    for ingestion_id in exhausted.values_list("pk", flat=True):
        _fail(
            ingestion_id,
            Ingestion.objects.get(pk=ingestion_id).claim,
            [INGEST_FAILED_MSG],
        )
    ids = list(
        Ingestion.objects.filter(waiting, attempts__lt=MAX_ATTEMPTS).values_list(
            "pk", flat=True
        )
    )
    for ingestion_id in ids:
        _enqueue_ingestion(ingestion_id)
    return len(ids)


# --- the measures -------------------------------------------------------------------


def team_closure(*, organization_id: int) -> list[tuple[int, int]]:
    """(node, ancestor) pairs for every team and business unit, itself included."""
    tree = Tree(
        Team.objects.filter(organization_id=organization_id).values_list(
            "id", "parent_id"
        )
    )
    return [
        (node, ancestor)
        for node in tree.parent
        for ancestor in (node, *tree.ancestors(node))
    ]


def _cube_exists(period: EvidencePeriod) -> bool:
    try:
        return storage.absolute(period.cube).is_file()
    except ValueError:
        return False


def latest_period(*, organization: Organization) -> EvidencePeriod | None:
    """The newest period whose summary is on disk (a lost file is skipped)."""
    for period in EvidencePeriod.objects.filter(organization=organization).order_by(
        "-period_start"
    )[:24]:
        if _cube_exists(period):
            return period
    return None


def mapping_rules(*, organization_id: int) -> list[dict]:
    """The organisation's rules as plain rows, in the order they apply."""
    return [
        dict(row)
        for row in TeamMapping.objects.filter(organization_id=organization_id)
        .order_by("position", "id")
        .values("position", "team_id", "kind", "key", "value")
    ]


def _recompute(organization: Organization) -> None:
    """Recompute every stored period's measures from its summary, in the caller's
    transaction (rows of a period replaced as a whole)."""
    periods = [
        period
        for period in EvidencePeriod.objects.filter(organization=organization).order_by(
            "period_start"
        )
        if _cube_exists(period)
    ]
    if not periods:
        return
    # A period whose summary went missing keeps the figures it had.
    MeasureValue.objects.filter(period__in=periods).delete()
    evidence_settings = evidence_settings_get(organization=organization)
    paths = [str(storage.absolute(p.cube)) for p in periods]
    totals = dict(
        InvoiceTotal.objects.filter(organization=organization).values_list(
            "invoice_id", "total"
        )
    )
    con = duckdb_connect()
    try:
        relation = engine.cube_relation(paths)
        frame = engine.compute_measures(
            con,
            relation,
            rules=mapping_rules(organization_id=organization.pk),
            tree=team_closure(organization_id=organization.pk),
            required_keys=list(evidence_settings.required_tag_keys),
            invoice_totals=totals,
        )
    finally:
        con.close()
    frame = _not_computable(frame, periods)
    by_start = {p.period_start: p for p in periods}
    valid_teams = set(
        Team.objects.filter(organization=organization).values_list("id", flat=True)
    )
    MeasureValue.objects.bulk_create(
        MeasureValue(
            period=by_start[row.period_start],
            team_id=None
            if row.node_id != row.node_id or row.node_id is None
            else int(row.node_id),
            measure=row.measure,
            value=None if row.value != row.value else row.value,
            numerator=_quantize(row.numerator),
            denominator=_quantize(row.denominator),
            note=row.note or "",
        )
        for row in frame.itertuples(index=False)
        if row.period_start in by_start
        and (
            row.node_id != row.node_id
            or row.node_id is None
            or int(row.node_id) in valid_teams
        )
    )
    EvidenceSettings.objects.filter(pk=evidence_settings.pk).update(
        computed_generation=F("generation"), computed_at=timezone.now()
    )


def _not_computable(frame, periods: list[EvidencePeriod]):
    """Measures needing a column a period's files lacked: one organisation row
    saying so for that period, instead of figures computed over nulls."""
    lacking = {
        p.period_start: set(p.missing_columns) for p in periods if p.missing_columns
    }
    if not lacking:
        return frame
    keep, notes = [], []
    for row in frame.itertuples(index=False):
        missing = lacking.get(row.period_start, set())
        needed = set(MEASURES_BY_KEY[row.measure].requires) & missing
        if not needed:
            keep.append(row._asdict())
        elif row.node_id != row.node_id or row.node_id is None:
            notes.append(
                {
                    **row._asdict(),
                    "value": None,
                    "numerator": None,
                    "denominator": None,
                    "note": NOT_COMPUTABLE_NOTE.format(
                        columns=", ".join(sorted(needed))
                    ),
                }
            )
    return pd.DataFrame.from_records(keep + notes, columns=frame.columns)


def _quantize(value):
    if value is None or value != value:
        return None
    return Decimal(value).quantize(Decimal("0.000001"))


def measures_mark_stale(*, organization: Organization) -> None:
    """The inputs of the measures changed: recompute them after commit."""
    evidence_settings = evidence_settings_get(organization=organization)
    EvidenceSettings.objects.filter(pk=evidence_settings.pk).update(
        generation=F("generation") + 1
    )
    transaction.on_commit(partial(_enqueue_recompute, organization.pk))


def _enqueue_recompute(organization_id: int) -> None:
    enqueue(
        "evidence.tasks.measures_recompute",
        organization_id,
        what=f"the measures of organisation {organization_id}",
    )


def measures_recompute(*, organization_id: int) -> bool:
    """Recompute an organisation's measures if its inputs changed since the last
    computation (idempotent)."""
    with transaction.atomic():
        organization = (
            Organization.objects.select_for_update().filter(pk=organization_id).first()
        )
        if organization is None:
            return False
        current = evidence_settings_get(organization=organization)
        if current.computed_generation >= current.generation:
            return False
        _recompute(organization)
    return True


def measures_sweep() -> int:
    """Enqueue the recomputation of every organisation whose measures are stale."""
    ids = list(
        EvidenceSettings.objects.filter(
            computed_generation__lt=F("generation")
        ).values_list("organization_id", flat=True)
    )
    for organization_id in ids:
        _enqueue_recompute(organization_id)
    return len(ids)


# --- settings --------------------------------------------------


def parse_tag_keys(text) -> list[str]:
    """``"CostCenter, Owner"`` -> ["CostCenter", "Owner"] (order kept, no repeats)."""
    items = text if isinstance(text, list) else str(text or "").split(",")
    keys: list[str] = []
    for item in items:
        key = str(item).strip()
        if not key:
            continue
        if len(key) > 128 or not key.isprintable():
            raise ValidationError({"required_tag_keys": [TAG_KEYS_MSG]})
        if key not in keys:
            keys.append(key)
    if len(keys) > 20:
        raise ValidationError({"required_tag_keys": [TAG_KEYS_MSG]})
    return keys


@transaction.atomic
def evidence_settings_update(
    *, organization: Organization, user, required_tag_keys, max_age_days
) -> EvidenceSettings:
    """Set the required tag keys and the maximum age; recomputes the measures."""
    errors = {}
    try:
        keys = parse_tag_keys(required_tag_keys)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        days = int(max_age_days)
        if not 1 <= days <= 3650:
            raise ValueError
    except (TypeError, ValueError):
        errors["max_age_days"] = [MAX_AGE_MSG]
    if errors:
        raise ValidationError(errors)
    current = evidence_settings_get(organization=organization)
    changed_keys = keys != list(current.required_tag_keys)
    current.required_tag_keys = keys
    current.max_age_days = days
    current.save(update_fields=["required_tag_keys", "max_age_days", "updated_at"])
    audit_record(
        organization_id=organization.pk,
        actor=user,
        action="evidence.settings",
        summary=f"Evidence settings: tags {', '.join(keys) or '(any)'}, stale after {days} days",
    )
    if changed_keys:
        measures_mark_stale(organization=organization)
    return current


# --- folder sources -----------------------------------------------------------------


def _roots_text() -> str:
    roots = [str(p) for p in storage.import_roots()]
    return ", ".join(roots) if roots else "(none configured)"


@transaction.atomic
def folder_source_add(
    *, organization: Organization, user, path: str, name: str = ""
) -> FolderSource:
    """A server folder that holds a provider's scheduled exports (inside the
    configured import roots); it is read at once and whenever its files change."""
    if not storage.import_roots():
        raise ValidationError({"path": [FOLDER_OFF_MSG]})
    resolved = storage.folder_resolve(path)
    if resolved is None:
        raise ValidationError(
            {"path": [FOLDER_NOT_ALLOWED_MSG.format(roots=_roots_text())]}
        )
    if not storage.folder_files(resolved):
        raise ValidationError({"path": [FOLDER_EMPTY_MSG]})
    folder, _created = FolderSource.objects.update_or_create(
        organization=organization,
        path=str(resolved),
        defaults={
            "name": (name or resolved.name).strip()[:120],
            "enabled": True,
            "created_by": user,
        },
    )
    audit_record(
        organization_id=organization.pk,
        actor=user,
        action="evidence.folder_add",
        summary=f"Folder source {folder.name}",
    )
    folder_source_scan(folder=folder, user=user, force=True)
    return folder


def folder_source_scan(
    *, folder: FolderSource, user=None, force: bool = False
) -> Ingestion | None:
    """Queue an ingestion of the folder when its files changed (or ``force``)."""
    with transaction.atomic():
        locked = FolderSource.objects.select_for_update().get(pk=folder.pk)
        resolved = storage.folder_resolve(locked.path)
        found = storage.folder_files(resolved) if resolved is not None else []
        signature = storage.folder_signature(found)
        locked.last_scanned_at = timezone.now()
        changed = force or signature != locked.signature
        busy = Ingestion.objects.filter(
            folder=locked,
            status__in=[Ingestion.Status.QUEUED, Ingestion.Status.RUNNING],
        ).exists()
        if resolved is None or not found or not changed or busy:
            locked.save(update_fields=["last_scanned_at"])
            return None
        locked.signature = signature
        locked.save(update_fields=["last_scanned_at", "signature"])
        ingestion = Ingestion.objects.create(
            organization_id=locked.organization_id,
            created_by=user,
            folder=locked,
            files=[
                {"name": str(p.relative_to(resolved)), "size": p.stat().st_size}
                for p in found
            ],
        )
        transaction.on_commit(partial(_enqueue_ingestion, ingestion.pk))
    return ingestion


def folder_sources_scan() -> int:
    """Scan every enabled folder source (beat, every 15 minutes)."""
    queued = 0
    for folder in FolderSource.objects.filter(enabled=True):
        if folder_source_scan(folder=folder) is not None:
            queued += 1
    return queued


def storage_clean(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete unfinished uploads older than ``older_than``, uploads already read
    into evidence, and summaries no period refers to any more."""
    removed = 0
    cutoff = timezone.now() - older_than
    stale = Upload.objects.filter(
        Q(status=Upload.Status.RECEIVING, updated_at__lt=cutoff)
        | Q(status=Upload.Status.ABORTED)
        | Q(ingestions__status=Ingestion.Status.SUCCEEDED, updated_at__lt=cutoff)
    ).distinct()
    for upload in stale:
        storage.remove(storage.upload_path(upload))
        removed += 1
    stale.filter(~Q(status=Upload.Status.COMPLETE)).update(status=Upload.Status.ABORTED)
    kept = {
        str(storage.absolute(c).parent)
        for c in EvidencePeriod.objects.values_list("cube", flat=True)
    }
    busy = set(
        Ingestion.objects.filter(
            status__in=[Ingestion.Status.QUEUED, Ingestion.Status.RUNNING]
        ).values_list("organization_id", "pk")
    )
    cubes = storage.root() / "cubes"
    if cubes.is_dir():
        for org_dir in cubes.iterdir():
            for run_dir in org_dir.iterdir() if org_dir.is_dir() else []:
                ids = (org_dir.name, run_dir.name)
                if str(run_dir.resolve()) in kept or any(
                    (str(o), str(i)) == ids for o, i in busy
                ):
                    continue
                storage.remove(run_dir)
                removed += 1
    return removed

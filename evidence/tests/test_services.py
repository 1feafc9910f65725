"""Uploads, ingestions, mapping, settings, invoices and suggestions, on the
database (tasks in-process after commit)."""

import gzip
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from evidence import invoices, mappings, services, storage, uploads
from evidence.models import (
    EvidencePeriod,
    Ingestion,
    InvoiceSum,
    MeasureValue,
    TeamMapping,
    Upload,
)
from evidence.tests import focusdata
from evidence.tests.conftest import send_upload
from evidence.tests.factories import team_file
from finops_portal.audit import AuditEvent

pytestmark = pytest.mark.django_db


def evidence_state(org):
    """Everything that must stay put when an ingestion is refused."""
    return (
        sorted(
            EvidencePeriod.objects.filter(organization=org).values_list(
                "pk", "period_start", "rows", "cube"
            )
        ),
        sorted(
            MeasureValue.objects.filter(period__organization=org).values_list(
                "period_id", "team_id", "measure", "value"
            ),
            key=repr,
        ),
    )


def org_value(org, measure, period=None):
    rows = MeasureValue.objects.filter(
        period__organization=org, team=None, measure=measure
    )
    if period:
        rows = rows.filter(period__period_start=period)
    return rows.get().value


# --- uploads ---------------------------------------------------------------------


def test_an_upload_is_appended_chunk_by_chunk_at_the_servers_offset(org, lead):
    data = b"0123456789" * 100
    upload = send_upload(organization=org, user=lead, data=data, chunk=64)
    assert upload.status == Upload.Status.COMPLETE
    assert storage.upload_path(upload).read_bytes() == data
    assert "export" not in str(
        storage.upload_path(upload)
    )  # never named after the file


def test_a_chunk_at_the_wrong_offset_is_refused_and_says_where_to_resume(org, lead):
    upload = uploads.upload_start(organization=org, user=lead, name="a.csv", size=20)
    uploads.upload_append(
        upload=upload, offset=0, stream=io.BytesIO(b"x" * 8), length=8
    )
    with pytest.raises(ValidationError) as error:
        uploads.upload_append(
            upload=upload, offset=4, stream=io.BytesIO(b"y" * 4), length=4
        )
    assert error.value.message_dict == {
        "offset": ["The server has 8 bytes of this file; send from there."]
    }


def test_a_chunk_that_arrives_in_part_is_dropped_and_can_be_sent_again(org, lead):
    upload = uploads.upload_start(organization=org, user=lead, name="a.csv", size=10)
    with pytest.raises(ValidationError) as error:
        uploads.upload_append(
            upload=upload, offset=0, stream=io.BytesIO(b"abc"), length=6
        )
    assert error.value.message_dict == {
        "chunk": ["The chunk ended early: 3 of 6 bytes arrived."]
    }
    upload.refresh_from_db()
    assert upload.received == 0
    done = uploads.upload_append(
        upload=upload, offset=0, stream=io.BytesIO(b"abcdefghij"), length=10
    )
    assert storage.upload_path(done).read_bytes() == b"abcdefghij"


def test_a_20_gb_upload_is_refused_before_a_byte_is_sent(org, lead):
    with pytest.raises(ValidationError) as error:
        uploads.upload_start(
            organization=org, user=lead, name="huge.csv", size=20 * 10**9
        )
    assert error.value.message_dict == {
        "size": ["The file is 20.0 GB; the limit is 10.7 GB."]
    }
    assert not Upload.objects.exists()


def test_file_names_are_kept_for_display_only(org, lead):
    upload = uploads.upload_start(
        organization=org, user=lead, name="../../etc/passwd\x00.csv", size=3
    )
    assert upload.name == "passwd.csv"
    assert storage.upload_path(upload).parent == storage.root() / "uploads" / str(
        org.pk
    )


# --- ingestion ---------------------------------------------------------------------


def test_an_ingestion_stores_the_period_and_its_measures(org, lead, ingest, generated):
    ingestion = ingest(org, {"may.csv": team_file(generated)})
    assert ingestion.status == Ingestion.Status.SUCCEEDED, ingestion.errors
    assert ingestion.stage == Ingestion.Stage.DONE
    assert ingestion.rows_read == 1500
    assert ingestion.rows_per_second > 0
    assert ingestion.focus_version == "1.3"
    [period] = EvidencePeriod.objects.filter(organization=org)
    assert period.period_start.isoformat() == "2026-05-01"
    assert period.rows == 1500
    assert storage.absolute(period.cube).exists()
    assert InvoiceSum.objects.filter(period=period).exists()
    assert 60 < org_value(org, "tag_coverage") < 70
    assert AuditEvent.objects.filter(
        action="evidence.ingested", organization_id=org.pk
    ).exists()


def test_reuploading_a_period_replaces_it(org, lead, ingest, generated):
    ingest(org, {"may.csv": team_file(generated, blank_share=0.3)})
    first = EvidencePeriod.objects.get(organization=org)
    ingest(org, {"may.csv": team_file(generated, blank_share=0.1)})
    second = EvidencePeriod.objects.get(organization=org)
    assert second.pk != first.pk
    assert not storage.absolute(first.cube).exists()  # the old summary is removed
    assert 80 < org_value(org, "tag_coverage") < 90


def test_several_files_of_one_period_are_read_together(org, lead, ingest, generated):
    data = team_file(generated)
    frame = focusdata.read_bytes(data)
    half = len(frame) // 2
    ingestion = ingest(
        org,
        {
            "part-1.csv": frame.iloc[:half].to_csv(index=False).encode(),
            "part-2.csv.gz": gzip.compress(
                frame.iloc[half:].to_csv(index=False).encode()
            ),
        },
    )
    assert ingestion.status == Ingestion.Status.SUCCEEDED, ingestion.errors
    assert EvidencePeriod.objects.get(organization=org).rows == len(frame)


def test_two_periods_count_as_billing_periods(org, lead, ingest, generated):
    from evidence.tests.factories import shifted

    data = team_file(generated)
    ingest(org, {"may.csv": data})
    ingest(org, {"june.csv": shifted(data, months=1)})
    assert EvidencePeriod.objects.filter(organization=org).count() == 2
    assert org_value(org, "billing_periods", "2026-06-01") == 2


BAD_INPUTS = {
    "not_focus": (
        lambda g: b"Date,Amount\n2026-05-01,12.5\n",
        "export.csv: not a FOCUS export: the required columns",
    ),
    "unknown_version": (
        lambda g: _with_column(g, "x_FocusVersion", "2.0"),
        "export.csv: FOCUS version '2.0' is not supported",
    ),
    "non_numeric_cost": (
        lambda g: _with_cell(g, "EffectiveCost", "n/a"),
        "export.csv: EffectiveCost holds values that are not numbers in 1 row",
    ),
    "currency_mix": (
        lambda g: _with_cell(g, "BillingCurrency", "EUR"),
        "mixes currencies (EUR, USD)",
    ),
    "truncated_gzip": (
        lambda g: gzip.compress(g("aws", "1.3").read_bytes())[:5000],
        "export.csv: the gzip file is truncated or damaged",
    ),
}


def _with_column(generated, column, value):
    frame = focusdata.read(generated("aws", "1.3"))
    frame[column] = value
    return frame.to_csv(index=False).encode()


def _with_cell(generated, column, value):
    frame = focusdata.read(generated("aws", "1.3"))
    frame.loc[frame.index[0], column] = value
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_bad_file_fails_with_a_message_and_leaves_the_evidence(
    org, lead, ingest, generated, case
):
    ingest(org, {"may.csv": team_file(generated)})
    before = evidence_state(org)
    make, message = BAD_INPUTS[case]
    ingestion = ingest(org, {"export.csv": make(generated)})
    assert ingestion.status == Ingestion.Status.FAILED
    assert ingestion.stage == Ingestion.Stage.FAILED
    assert any(message in e for e in ingestion.errors), ingestion.errors
    assert evidence_state(org) == before
    # Nothing half-written is left behind either.
    assert not storage.cube_dir(org.pk, ingestion.pk).exists()


def test_a_parquet_file_with_wrong_types_fails_and_leaves_the_evidence(
    org, lead, ingest, generated, tmp_path
):
    from evidence import engine

    ingest(org, {"may.csv": team_file(generated)})
    before = evidence_state(org)
    path = tmp_path / "typed.parquet"
    con = engine.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{generated('gcp', '1.3')}', all_varchar = true)) TO '{path}' (FORMAT parquet)"
    )
    ingestion = ingest(org, {"export.parquet": path.read_bytes()})
    assert ingestion.errors == [
        "export.parquet: column BilledCost is VARCHAR; FOCUS needs a number (DECIMAL or DOUBLE).",
        "export.parquet: column EffectiveCost is VARCHAR; FOCUS needs a number (DECIMAL or DOUBLE).",
    ]
    assert evidence_state(org) == before


def test_mixed_versions_fail_and_leave_the_evidence(org, lead, ingest, generated):
    ingest(org, {"may.csv": team_file(generated)})
    before = evidence_state(org)
    ingestion = ingest(
        org,
        {
            "a.csv": generated("aws", "1.2").read_bytes(),
            "b.csv": generated("aws", "1.3").read_bytes(),
        },
    )
    assert ingestion.errors == [
        "The files are in different FOCUS versions (a.csv is 1.2, b.csv is 1.3): upload the files of one version together."
    ]
    assert evidence_state(org) == before


def test_an_empty_file_is_refused_when_its_upload_starts(org, lead, ingest, generated):
    ingest(org, {"may.csv": team_file(generated)})
    before = evidence_state(org)
    with pytest.raises(ValidationError) as error:
        uploads.upload_start(organization=org, user=lead, name="empty.csv", size=0)
    assert error.value.message_dict == {"size": ["The file is empty."]}
    assert evidence_state(org) == before


def test_an_incomplete_upload_cannot_be_read(org, lead):
    upload = uploads.upload_start(organization=org, user=lead, name="a.csv", size=10)
    with pytest.raises(ValidationError) as error:
        services.ingestion_start(organization=org, user=lead, uploads=[upload])
    assert error.value.message_dict == {
        "uploads": ["a.csv: 0 of 10 bytes arrived; send the rest first."]
    }


def test_a_finished_ingestion_is_not_run_again(org, lead, ingest, generated):
    ingestion = ingest(org, {"may.csv": team_file(generated)})
    assert services.ingestion_run(ingestion_id=ingestion.pk) == "skipped"


def test_the_sweeper_hands_a_silent_ingestion_to_another_worker(
    org, lead, generated, settings, eager_tasks
):
    from datetime import timedelta

    from django.utils import timezone

    upload = send_upload(organization=org, user=lead, data=team_file(generated))
    ingestion = Ingestion.objects.create(organization=org, created_by=lead)
    ingestion.uploads.set([upload])
    old = timezone.now() - timedelta(seconds=settings.EVIDENCE_STALE_AFTER_S + 5)
    Ingestion.objects.filter(pk=ingestion.pk).update(
        status=Ingestion.Status.RUNNING,
        claim="dead-worker",
        attempts=1,
        heartbeat_at=old,
    )
    assert services.ingestions_sweep() == 1  # eager: run at once
    ingestion.refresh_from_db()
    assert ingestion.status == Ingestion.Status.SUCCEEDED
    assert ingestion.attempts == 2


# --- mapping -----------------------------------------------------------------------


def test_a_mapping_attributes_spend_to_the_team(
    org, lead, ingest, generated, team_a, django_capture_on_commit_callbacks
):
    ingest(org, {"may.csv": team_file(generated)})
    with django_capture_on_commit_callbacks(execute=True):
        mappings.mapping_add(
            organization=org,
            user=lead,
            team=team_a,
            kind="tag",
            key="Owner",
            value="team-payments",
        )
    team_rows = MeasureValue.objects.filter(team=team_a, measure="tag_coverage")
    assert team_rows.count() == 1
    # the business unit above the team has its figures too
    assert MeasureValue.objects.filter(
        team=team_a.parent, measure="tag_coverage"
    ).exists()
    preview = mappings.mapping_preview(organization=org)
    assert preview["unmapped"] < preview["total"]


def test_a_mapping_that_catches_nothing_is_refused(
    org, lead, ingest, generated, team_a
):
    ingest(org, {"may.csv": team_file(generated)})
    before = evidence_state(org)
    with pytest.raises(ValidationError) as error:
        mappings.mapping_add(
            organization=org, user=lead, team=team_a, kind="sub_account", value="999999"
        )
    assert error.value.message_dict == {
        "value": [
            "SubAccountId = 999999 catches no spend in May 2026's evidence; check the value "
            "against the sub-accounts, tags and columns listed below."
        ]
    }
    assert not TeamMapping.objects.exists()
    assert evidence_state(org) == before


def test_a_mapping_needs_evidence_first(org, lead, team_a):
    with pytest.raises(ValidationError) as error:
        mappings.mapping_add(
            organization=org, user=lead, team=team_a, kind="tag", key="Owner", value="x"
        )
    assert error.value.message_dict == {"value": [mappings.MAPPING_NO_EVIDENCE_MSG]}


def test_a_mapping_to_another_organisations_team_is_refused(org, lead, other_team):
    with pytest.raises(ValidationError) as error:
        mappings.mapping_add(
            organization=org,
            user=lead,
            team=other_team,
            kind="tag",
            key="Owner",
            value="x",
        )
    assert error.value.message_dict == {"team": ["Choose a team of this organisation."]}


def test_a_custom_column_mapping_needs_an_x_column(org, lead, team_a):
    with pytest.raises(ValidationError) as error:
        mappings.mapping_add(
            organization=org,
            user=lead,
            team=team_a,
            kind="column",
            key="Team",
            value="a",
        )
    assert error.value.message_dict == {
        "key": ["Give a custom column starting with x_ (letters, digits and _)."]
    }


# --- settings and invoices ------------------------------------------------------------


def test_required_tag_keys_change_the_coverage(
    org, lead, ingest, generated, django_capture_on_commit_callbacks
):
    ingest(org, {"may.csv": team_file(generated, blank_share=0.0, partial_share=0.2)})
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_settings_update(
            organization=org, user=lead, required_tag_keys="Owner", max_age_days=90
        )
    assert org_value(org, "tag_coverage") == pytest.approx(100)
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_settings_update(
            organization=org,
            user=lead,
            required_tag_keys="Owner, CostCenter",
            max_age_days=90,
        )
    assert 75 < org_value(org, "tag_coverage") < 81


def test_bad_settings_name_the_field(org, lead):
    with pytest.raises(ValidationError) as error:
        services.evidence_settings_update(
            organization=org, user=lead, required_tag_keys="a", max_age_days=0
        )
    assert error.value.message_dict == {
        "max_age_days": ["Give a number of days from 1 to 3650."]
    }


def test_invoice_totals_reconcile_to_the_cent(
    org, lead, ingest, generated, django_capture_on_commit_callbacks
):
    ingest(org, {"may.csv": team_file(generated)})
    sums = {i.invoice_id: i.billed_cost for i in InvoiceSum.objects.all()}
    first, second = sorted(sums)
    with django_capture_on_commit_callbacks(execute=True):
        invoices.invoice_total_set(
            organization=org,
            user=lead,
            invoice_id=first,
            total=sums[first].quantize(Decimal("0.01")),
        )
        invoices.invoice_total_set(
            organization=org, user=lead, invoice_id=second, total=sums[second] + 1
        )
    value = org_value(org, "invoice_reconciliation")
    assert value == pytest.approx(
        float(sums[first] / (sums[first] + sums[second]) * 100)
    )


def test_an_invoice_csv_with_a_bad_line_changes_nothing(org, lead):
    with pytest.raises(ValidationError) as error:
        invoices.invoice_totals_import(
            organization=org,
            user=lead,
            data=b"invoice_id,total\nINV-1,12.50\nINV-2,twelve\n",
        )
    assert error.value.message_dict == {
        "file": ["Line 3: Give the invoice total as a number, such as 12345.67."]
    }
    from evidence.models import InvoiceTotal

    assert not InvoiceTotal.objects.exists()


# --- folders -------------------------------------------------------------------------


def test_a_folder_outside_the_import_roots_is_refused(org, lead, settings, tmp_path):
    allowed = tmp_path / "exports"
    allowed.mkdir()
    settings.EVIDENCE_IMPORT_ROOTS = [str(allowed)]
    with pytest.raises(ValidationError) as error:
        services.folder_source_add(organization=org, user=lead, name="x", path="/etc")
    assert error.value.message_dict == {
        "path": [
            f"Point at an existing folder inside {allowed}; the portal reads no other folders."
        ]
    }


def test_a_folder_source_is_read_and_read_again_when_it_changes(
    org,
    lead,
    settings,
    tmp_path,
    generated,
    django_capture_on_commit_callbacks,
    eager_tasks,
):
    folder = tmp_path / "exports" / "northwind"
    folder.mkdir(parents=True)
    settings.EVIDENCE_IMPORT_ROOTS = [str(tmp_path / "exports")]
    (folder / "2026-05.csv").write_bytes(team_file(generated))
    with django_capture_on_commit_callbacks(execute=True):
        source = services.folder_source_add(
            organization=org, user=lead, name="AWS exports", path=str(folder)
        )
    assert EvidencePeriod.objects.filter(organization=org).count() == 1
    assert services.folder_source_scan(folder=source) is None  # unchanged
    from evidence.tests.factories import shifted

    (folder / "2026-06.csv").write_bytes(shifted(team_file(generated), months=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.folder_sources_scan() == 1
    assert EvidencePeriod.objects.filter(organization=org).count() == 2


# --- storage -------------------------------------------------------------------------


def test_cleaning_removes_old_unfinished_uploads(org, lead):
    from datetime import timedelta

    from django.utils import timezone

    upload = uploads.upload_start(organization=org, user=lead, name="a.csv", size=10)
    uploads.upload_append(upload=upload, offset=0, stream=io.BytesIO(b"abc"), length=3)
    Upload.objects.filter(pk=upload.pk).update(
        updated_at=timezone.now() - timedelta(days=8)
    )
    assert services.storage_clean() == 1
    assert not storage.upload_path(upload).exists()


@time_machine.travel("2026-06-10T12:00:00Z")
def test_evidence_ages_from_the_end_of_its_period(org, lead, ingest, generated):
    from evidence import selectors

    ingest(org, {"may.csv": team_file(generated)})
    [entry] = selectors.periods_list(organization=org)
    assert entry["age_days"] == 9
    assert entry["stale"] is False


def test_a_column_of_nulls_is_present_and_a_missing_column_is_not_computable(
    org, lead, ingest, generated
):
    frame = focusdata.read(generated("aws", "1.3"))
    assert frame["ChargeClass"].isna().all()  # no correction at all in this month
    ingest(org, {"may.csv": frame.to_csv(index=False).encode()})
    assert org_value(org, "corrections_after_close") == 0
    without = frame.drop(columns=["ChargeClass", "CommitmentDiscountStatus"])
    ingest(org, {"may.csv": without.to_csv(index=False).encode()})
    rows = MeasureValue.objects.filter(
        period__organization=org, measure="corrections_after_close"
    )
    [row] = rows
    assert row.team_id is None
    assert row.value is None
    assert row.note == "Not computable from this export: it has no ChargeClass column."
    assert MeasureValue.objects.get(
        team=None, measure="commitment_utilization"
    ).note == (
        "Not computable from this export: it has no CommitmentDiscountStatus column."
    )


def test_the_reporter_writes_rows_read_and_speed_then_heartbeats(org, lead):
    ingestion = Ingestion.objects.create(organization=org, created_by=lead)
    claim = services._claim(ingestion.pk)
    reporter = services._Reporter(ingestion.pk, claim)
    reporter.rows_total = 1000
    reporter.last_write -= 5  # as if the run had started five seconds ago
    reporter.started -= 5
    reporter.reading(50.0)
    ingestion.refresh_from_db()
    assert ingestion.rows_read == 500
    assert 90 < ingestion.rows_per_second < 110
    beat = ingestion.heartbeat_at
    reporter.last_write -= 5
    reporter.reading(-1.0)  # DuckDB cannot tell: a heartbeat, rows unchanged
    ingestion.refresh_from_db()
    assert ingestion.rows_read == 500
    assert ingestion.heartbeat_at > beat


def test_a_second_claim_of_a_running_ingestion_is_refused(org, lead):
    ingestion = Ingestion.objects.create(organization=org, created_by=lead)
    assert services._claim(ingestion.pk) is not None
    assert services._claim(ingestion.pk) is None  # its worker is alive

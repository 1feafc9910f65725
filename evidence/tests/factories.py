"""Test data for evidence: a framework whose questions carry measure blocks, and
FOCUS files with known gaps for teams A and B."""

from __future__ import annotations

from capabilities.models import Question
from capabilities.services import framework_publish
from capabilities.tests.factories import make_framework
from evidence.tests import focusdata

TAG_BANDS = [
    {"min": 0, "score": 0},
    {"min": 40, "score": 1},
    {"min": 60, "score": 2},
    {"min": 80, "score": 3},
    {"min": 95, "score": 4},
]
CORRECTION_BANDS = [
    {"min": 0, "score": 4},
    {"min": 1, "score": 3},
    {"min": 5, "score": 1},
]
PROVIDER_BANDS = [
    {"min": 1, "score": 2},
    {"min": 2, "score": 3},
    {"min": 3, "score": 4},
]
# question key -> (measure, bands)
MEASURED = {
    "cap-0-metrics-0": ("tag_coverage", TAG_BANDS),
    "cap-0-adoption-0": ("chargeback_coverage", TAG_BANDS),
    "cap-1-process-0": ("corrections_after_close", CORRECTION_BANDS),
    "cap-1-automation-0": ("focus_providers", PROVIDER_BANDS),
}


def make_measured_framework(*, slug="measured-fw", publish=True):
    """The small test framework (2 capabilities x 5 lenses) with measure blocks on
    four questions, published."""
    framework = make_framework(slug=slug, capabilities=2, questions_per_lens=1)
    for key, (measure, bands) in MEASURED.items():
        Question.objects.filter(capability__framework=framework, key=key).update(
            measure_key=measure, measure_bands=bands
        )
    if publish:
        framework = framework_publish(framework=framework)
    return framework


def team_file(
    generated, *, provider="aws", version="1.3", blank_share=0.3, **gaps
) -> bytes:
    """A generated FOCUS CSV with tags blanked on ``blank_share`` of the spend."""
    frame = focusdata.with_gaps(
        focusdata.read(generated(provider, version)), blank_share=blank_share, **gaps
    )
    return frame.to_csv(index=False).encode()


def shifted(data: bytes, *, months: int) -> bytes:
    """The same export moved ``months`` later (another billing period)."""
    import pandas as pd

    frame = focusdata.read_bytes(data)
    for column in (
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargePeriodStart",
        "ChargePeriodEnd",
    ):
        stamps = pd.to_datetime(frame[column], utc=True) + pd.DateOffset(months=months)
        frame[column] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame["InvoiceId"] = frame["InvoiceId"] + f"-m{months}"
    return frame.to_csv(index=False).encode()


def evidence_objects(*, org, team, user) -> dict:
    """One of each evidence object of ``org``, written directly (no files read):
    for the authorisation matrices."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from evidence.models import (
        EvidencePeriod,
        EvidenceSettings,
        FolderSource,
        Ingestion,
        InvoiceTotal,
        MeasureValue,
        TeamMapping,
        Upload,
    )

    upload = Upload.objects.create(
        organization=org,
        created_by=user,
        name="a.csv",
        size=3,
        received=3,
        status="complete",
    )
    ingestion = Ingestion.objects.create(
        organization=org, created_by=user, status="succeeded"
    )
    period = EvidencePeriod.objects.create(
        organization=org,
        ingestion=ingestion,
        period_start=dt.date(2026, 5, 1),
        period_end=dt.date(2026, 6, 1),
        focus_version="1.3",
        effective_cost=Decimal(100),
        billed_cost=Decimal(100),
        cube="cubes/none.parquet",
        computed_at=timezone.now(),
    )
    MeasureValue.objects.create(
        period=period, team=team, measure="tag_coverage", value=50
    )
    # as a recompute leaves them: the settings stamped with its time
    EvidenceSettings.objects.update_or_create(
        organization=org, defaults={"computed_at": timezone.now()}
    )
    return {
        "upload": upload,
        "ingestion": ingestion,
        "period": period,
        "mapping": TeamMapping.objects.create(
            organization=org, team=team, kind="tag", key="Owner", value="a", position=1
        ),
        "invoice_total": InvoiceTotal.objects.create(
            organization=org, invoice_id="INV-1", total=Decimal("10.00")
        ),
        "folder": FolderSource.objects.create(
            organization=org, name="f", path="/nonexistent"
        ),
    }

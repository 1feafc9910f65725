"""Invoice totals a lead enters or uploads, against which ``BilledCost`` summed
per ``InvoiceId`` is reconciled."""

import csv
import io
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from assessment.models import Organization
from finops_portal.audit import audit_record

from .models import InvoiceTotal
from .services import measures_mark_stale

INVOICE_ID_MSG = "Give the invoice id."
INVOICE_TOTAL_MSG = "Give the invoice total as a number, such as 12345.67."
INVOICE_CSV_MSG = "Line {line}: {problem}"
INVOICE_CSV_HEADER_MSG = (
    "The CSV needs the columns invoice_id and total (currency is optional)."
)
INVOICE_CSV_EMPTY_MSG = "The CSV holds no invoice."


def _clean_total(value) -> Decimal:
    try:
        total = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError({"total": [INVOICE_TOTAL_MSG]}) from None
    if not total.is_finite() or abs(total) >= Decimal("1e15"):
        raise ValidationError({"total": [INVOICE_TOTAL_MSG]})
    return total.quantize(Decimal("0.0001"))


@transaction.atomic
def invoice_total_set(
    *, organization: Organization, user, invoice_id: str, total, currency: str = ""
) -> InvoiceTotal:
    """Enter (or correct) an invoice's total; recomputes the reconciliation."""
    invoice_id = (invoice_id or "").strip()
    errors = {}
    if not invoice_id or len(invoice_id) > 200:
        errors["invoice_id"] = [INVOICE_ID_MSG]
    try:
        amount = _clean_total(total)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    entry, _created = InvoiceTotal.objects.update_or_create(
        organization=organization,
        invoice_id=invoice_id,
        defaults={
            "total": amount,
            "currency": (currency or "").strip()[:8],
            "entered_by": user,
        },
    )
    measures_mark_stale(organization=organization)
    return entry


@transaction.atomic
def invoice_totals_import(*, organization: Organization, user, data: bytes) -> int:
    """Invoice totals from a CSV (invoice_id,total[,currency]), all or nothing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": [INVOICE_CSV_HEADER_MSG]}) from None
    reader = csv.DictReader(io.StringIO(text))
    fields = {(f or "").strip().lower() for f in reader.fieldnames or []}
    if not {"invoice_id", "total"} <= fields:
        raise ValidationError({"file": [INVOICE_CSV_HEADER_MSG]})
    rows, errors = [], []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            if not row.get("invoice_id"):
                raise ValidationError({"invoice_id": [INVOICE_ID_MSG]})
            rows.append(
                (
                    row["invoice_id"][:200],
                    _clean_total(row.get("total")),
                    row.get("currency", "")[:8],
                )
            )
        except ValidationError as error:
            errors.append(
                INVOICE_CSV_MSG.format(line=line, problem=" ".join(error.messages))
            )
    if errors:
        raise ValidationError({"file": errors[:20]})
    if not rows:
        raise ValidationError({"file": [INVOICE_CSV_EMPTY_MSG]})
    for invoice_id, total, currency in rows:
        InvoiceTotal.objects.update_or_create(
            organization=organization,
            invoice_id=invoice_id,
            defaults={"total": total, "currency": currency, "entered_by": user},
        )
    audit_record(
        organization_id=organization.pk,
        actor=user,
        action="evidence.invoices",
        summary=f"Imported {len(rows)} invoice totals",
    )
    measures_mark_stale(organization=organization)
    return len(rows)


@transaction.atomic
def invoice_total_delete(*, entry: InvoiceTotal) -> None:
    organization = entry.organization
    entry.delete()
    measures_mark_stale(organization=organization)

"""The lead's evidence pages, and the respondent's decision on a suggestion.

Every lead page authorises through ``get_organization_for_lead`` (404 for anyone
else, respondents of the organisation included); the decision endpoint through
``get_assessment_for_user``.
"""

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment.access import (
    access_for,
    get_assessment_for_user,
    get_organization_for_lead,
)
from assessment.models import Cycle, Organization, Team
from assessment.services import answer_record
from capabilities.models import Question
from finops_portal import cells

from . import decisions, mappings, selectors, services, uploads
from . import invoices as invoice_totals
from .access import (
    get_folder_for_lead,
    get_ingestion_for_lead,
    get_invoice_total_for_lead,
    get_mapping_for_lead,
)
from .forms import (
    DecisionForm,
    FolderForm,
    InvoiceCsvForm,
    InvoiceTotalForm,
    MappingForm,
    SettingsForm,
)
from .measures import MEASURES
from .models import EvidencePeriod, FolderSource, TeamMapping

MAPPING_SAVED_MSG = "Mapped {rule} to {team}."
MAPPING_REMOVED_MSG = "Removed the mapping {rule}."
SETTINGS_SAVED_MSG = "Evidence settings saved."
INVOICE_SAVED_MSG = "Invoice {invoice} saved."
INVOICES_IMPORTED_MSG = "Imported {count} invoice totals."
INVOICE_REMOVED_MSG = "Removed the total of invoice {invoice}."
FOLDER_ADDED_MSG = "Folder source {name} added; reading it now."
FOLDER_SCANNED_MSG = "Reading {name} again."
FOLDER_UNCHANGED_MSG = "{name} has not changed since it was last read."
DECISION_SAVED_MSG = "Your decision on the measured suggestion is saved."
EXPORT_FORMATS = {"csv", "xlsx"}
INVOICE_CSV_MAX_BYTES = 2 * 1024 * 1024


def _context(org, section: str, **extra) -> dict:
    return {"org": org, "section": "evidence", "evidence_section": section, **extra}


def _teams(org):
    return list(Team.objects.filter(organization=org).order_by("kind", "name"))


def _open_cycle(org, cycle_id=None):
    cycles = Cycle.objects.filter(organization=org).order_by("-opens_on", "-id")
    if cycle_id:
        found = cycles.filter(pk=cycle_id).first()
        if found:
            return found, list(cycles)
    return (cycles.filter(status=Cycle.Status.OPEN).first() or cycles.first()), list(
        cycles
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def home(request):
    """The evidence of the first organisation the user leads."""
    access = access_for(request.user)
    organizations = Organization.objects.order_by("name")
    if not access.is_staff:
        organizations = organizations.filter(id__in=access.lead_org_ids)
    slug = organizations.values_list("slug", flat=True).first()
    if slug is None:
        raise Http404("No organisation to show.")
    return redirect("evidence:overview", org_slug=slug)


@login_required
@require_GET
def overview(request, org_slug: str):
    """Evidence at a glance: periods and their age, the latest ingestions, every
    measure with its formula, per team, and claimed vs measured for a cycle."""
    org = get_organization_for_lead(request.user, org_slug)
    periods = selectors.periods_list(organization=org)
    period = None
    wanted = request.GET.get("period")
    for entry in periods:
        if wanted and entry["period"].period_start.isoformat() == wanted:
            period = entry
    if period is None and periods:
        period = periods[0]
    cycle, cycles = _open_cycle(org, _int(request.GET.get("cycle")))
    claimed = (
        selectors.org_claimed_vs_measured(organization=org, cycle_id=cycle.pk)
        if cycle
        else None
    )
    evidence_settings = services.evidence_settings_get(organization=org)
    return render(
        request,
        "evidence/overview.html",
        _context(
            org,
            "overview",
            periods=periods,
            current=period,
            table=selectors.measures_table(period=period["period"]) if period else None,
            ingestions=selectors.ingestions_recent(organization=org, limit=5),
            cycle=cycle,
            cycles=cycles,
            claimed=claimed,
            settings=evidence_settings,
            measures=MEASURES,
        ),
    )


@login_required
@require_GET
def upload(request, org_slug: str):
    """Upload FOCUS files in chunks (resumable), then follow their reading."""
    org = get_organization_for_lead(request.user, org_slug)
    return render(
        request,
        "evidence/upload.html",
        _context(
            org,
            "upload",
            chunk_bytes=settings.EVIDENCE_CHUNK_BYTES,
            max_bytes=settings.EVIDENCE_UPLOAD_MAX_BYTES,
            max_size=uploads.size_text(settings.EVIDENCE_UPLOAD_MAX_BYTES),
            ingestions=selectors.ingestions_recent(organization=org, limit=5),
        ),
    )


@login_required
@require_GET
def ingestion_detail(request, org_slug: str, ingestion_id: int):
    """One ingestion: its files, stage, rows read, speed, and every error."""
    org = get_organization_for_lead(request.user, org_slug)
    ingestion = get_ingestion_for_lead(request.user, ingestion_id, org)
    return render(
        request,
        "evidence/ingestion.html",
        _context(org, "upload", ingestion=ingestion),
    )


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request, org_slug: str):
    """Team mapping: the rules with the spend each catches, what is left
    unmapped, and a form to preview and add a rule."""
    org = get_organization_for_lead(request.user, org_slug)
    teams = _teams(org)
    form = MappingForm(request.POST or None, teams=teams)
    candidate_preview = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = next((t for t in teams if t.pk == data["team"]), None)
        try:
            if request.POST.get("action") == "preview":
                rule = mappings.rule_clean(
                    organization=org,
                    team=team,
                    kind=data["kind"],
                    key=data["key"],
                    value=data["value"],
                )
                candidate_preview = mappings.mapping_preview(
                    organization=org, candidate={"team_id": team.pk, **rule}
                )
                if candidate_preview is None:
                    raise ValidationError({"value": [mappings.MAPPING_NO_EVIDENCE_MSG]})
            else:
                created = mappings.mapping_add(
                    organization=org,
                    user=request.user,
                    team=team,
                    kind=data["kind"],
                    key=data["key"],
                    value=data["value"],
                )
                messages.success(
                    request,
                    MAPPING_SAVED_MSG.format(rule=created.describe(), team=team.name),
                )
                return redirect("evidence:mapping", org_slug=org.slug)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            status = 400
    elif request.method == "POST":
        status = 400
    rules = list(TeamMapping.objects.filter(organization=org).select_related("team"))
    preview = mappings.mapping_preview(organization=org)
    dimensions = mappings.mapping_dimensions(organization=org)
    rows = [
        {
            "rule": rule,
            "caught": preview["caught"].get(rule.position) if preview else None,
            "attributed": preview["attributed"].get(rule.position) if preview else None,
        }
        for rule in rules
    ]
    candidate = None
    if candidate_preview is not None:
        position = candidate_preview["candidate_position"]
        candidate = {
            "caught": candidate_preview["caught"].get(position, 0),
            "attributed": candidate_preview["attributed"].get(position, 0),
            "unmapped": candidate_preview["unmapped"],
            "total": candidate_preview["total"],
        }
    return render(
        request,
        "evidence/mapping.html",
        _context(
            org,
            "mapping",
            form=form,
            rows=rows,
            preview=preview,
            candidate=candidate,
            dimensions=dimensions,
            mapped_share=_share(preview),
        ),
        status=status,
    )


def _share(preview):
    if not preview or not preview["total"]:
        return None
    return float((preview["total"] - preview["unmapped"]) / preview["total"] * 100)


@login_required
@require_http_methods(["GET", "POST"])
def mapping_delete(request, org_slug: str, mapping_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    rule = get_mapping_for_lead(request.user, mapping_id, org)
    if request.method == "POST":
        text = rule.describe()
        mappings.mapping_remove(mapping=rule, user=request.user)
        messages.success(request, MAPPING_REMOVED_MSG.format(rule=text))
        return redirect("evidence:mapping", org_slug=org.slug)
    return render(
        request, "evidence/confirm_delete.html", _context(org, "mapping", rule=rule)
    )


@login_required
@require_http_methods(["GET", "POST"])
def invoices(request, org_slug: str):
    """Invoice reconciliation: BilledCost per InvoiceId against the totals a lead
    enters here (one by one or as a CSV)."""
    org = get_organization_for_lead(request.user, org_slug)
    form = InvoiceTotalForm(request.POST if "invoice_id" in request.POST else None)
    csv_form = InvoiceCsvForm(
        request.POST if "csv" in request.POST else None,
        request.FILES if "csv" in request.POST else None,
    )
    status = 200
    if request.method == "POST":
        try:
            if "csv" in request.POST:
                if not csv_form.is_valid():
                    raise ValidationError({})
                upload_file = csv_form.cleaned_data["file"]
                if upload_file.size > INVOICE_CSV_MAX_BYTES:
                    raise ValidationError(
                        {
                            "file": [
                                f"Keep the CSV under {INVOICE_CSV_MAX_BYTES:,} bytes."
                            ]
                        }
                    )
                count = invoice_totals.invoice_totals_import(
                    organization=org, user=request.user, data=upload_file.read()
                )
                messages.success(request, INVOICES_IMPORTED_MSG.format(count=count))
                return redirect("evidence:invoices", org_slug=org.slug)
            if not form.is_valid():
                raise ValidationError({})
            entry = invoice_totals.invoice_total_set(
                organization=org, user=request.user, **form.cleaned_data
            )
            messages.success(
                request, INVOICE_SAVED_MSG.format(invoice=entry.invoice_id)
            )
            return redirect("evidence:invoices", org_slug=org.slug)
        except ValidationError as error:
            target = csv_form if "csv" in request.POST else form
            for field, errors in getattr(error, "error_dict", {}).items():
                for message in [m for e in errors for m in e.messages]:
                    target.add_error(field if field in target.fields else None, message)
            status = 400
    return render(
        request,
        "evidence/invoices.html",
        _context(
            org,
            "invoices",
            form=form,
            csv_form=csv_form,
            rows=selectors.invoices_table(organization=org),
        ),
        status=status,
    )


@login_required
@require_POST
def invoice_delete(request, org_slug: str, invoice_total_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    entry = get_invoice_total_for_lead(request.user, invoice_total_id, org)
    invoice = entry.invoice_id
    invoice_totals.invoice_total_delete(entry=entry)
    messages.success(request, INVOICE_REMOVED_MSG.format(invoice=invoice))
    return redirect("evidence:invoices", org_slug=org.slug)


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request, org_slug: str):
    """Required tag keys, how old evidence may be, and folder sources."""
    org = get_organization_for_lead(request.user, org_slug)
    current = services.evidence_settings_get(organization=org)
    initial = {
        "required_tag_keys": ", ".join(current.required_tag_keys),
        "max_age_days": current.max_age_days,
    }
    is_folder = "path" in request.POST
    form = SettingsForm(
        request.POST if request.method == "POST" and not is_folder else None,
        initial=initial,
    )
    folder_form = FolderForm(request.POST if is_folder else None)
    status = 200
    if request.method == "POST":
        target = folder_form if is_folder else form
        if target.is_valid():
            try:
                if is_folder:
                    folder = services.folder_source_add(
                        organization=org, user=request.user, **folder_form.cleaned_data
                    )
                    messages.success(request, FOLDER_ADDED_MSG.format(name=folder.name))
                else:
                    services.evidence_settings_update(
                        organization=org, user=request.user, **form.cleaned_data
                    )
                    messages.success(request, SETTINGS_SAVED_MSG)
                return redirect("evidence:settings", org_slug=org.slug)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    for message in errors:
                        target.add_error(
                            field if field in target.fields else None, message
                        )
        status = 400
    return render(
        request,
        "evidence/settings.html",
        _context(
            org,
            "settings",
            form=form,
            folder_form=folder_form,
            folders=FolderSource.objects.filter(organization=org),
            folders_enabled=bool(settings.EVIDENCE_IMPORT_ROOTS),
        ),
        status=status,
    )


@login_required
@require_POST
def folder_scan(request, org_slug: str, folder_id: int):
    org = get_organization_for_lead(request.user, org_slug)
    folder = get_folder_for_lead(request.user, folder_id, org)
    ingestion = services.folder_source_scan(
        folder=folder, user=request.user, force=True
    )
    if ingestion is None:
        messages.info(request, FOLDER_UNCHANGED_MSG.format(name=folder.name))
        return redirect("evidence:settings", org_slug=org.slug)
    messages.success(request, FOLDER_SCANNED_MSG.format(name=folder.name))
    return redirect("evidence:ingestion", org_slug=org.slug, ingestion_id=ingestion.pk)


@login_required
@require_GET
def export(request, org_slug: str, fmt: str):
    """Every stored measure, per period and node, as CSV or XLSX."""
    if fmt not in EXPORT_FORMATS:
        raise Http404("No such format.")
    org = get_organization_for_lead(request.user, org_slug)
    headers = [
        "period_start",
        "period_end",
        "scope",
        "team",
        "measure",
        "value",
        "numerator",
        "denominator",
        "note",
    ]
    from .models import MeasureValue

    rows = [
        [
            v.period.period_start.isoformat(),
            v.period.period_end.isoformat(),
            "organisation" if v.team_id is None else v.team.get_kind_display().lower(),
            "" if v.team_id is None else v.team.name,
            v.measure,
            None if v.value is None else round(v.value, 4),
            None if v.numerator is None else float(v.numerator),
            None if v.denominator is None else float(v.denominator),
            v.note,
        ]
        for v in MeasureValue.objects.filter(period__organization=org)
        .select_related("period", "team")
        .order_by("-period__period_start", "team__name", "measure")
    ]
    filename = f"evidence-{org.slug}-{timezone.now():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(
            cells.to_csv(headers, rows), content_type=cells.CSV_CONTENT_TYPE
        )
    else:
        response = HttpResponse(
            cells.to_xlsx(headers, rows, title="evidence"),
            content_type=cells.XLSX_CONTENT_TYPE,
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the respondent's decision -----------------------------------------------------


@login_required
@require_POST
def suggestion_decide(request, pk: int, question_id: int):
    """Accept a measured suggestion (recording the suggested answer through the
    answer service when the form asks to) or answer otherwise with a reason.

    JSON in, JSON out for the questionnaire's script; a form post redirects back.
    """
    assessment = get_assessment_for_user(request.user, pk)
    question = (
        Question.objects.select_related("capability")
        .prefetch_related("options")
        .filter(pk=question_id, capability__framework_id=assessment.cycle.framework_id)
        .first()
    )
    if question is None:
        raise Http404("No such question.")
    wants_json = request.content_type == "application/json"
    if wants_json:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return JsonResponse({"detail": ["Send a JSON object."]}, status=400)
    else:
        # Posted with the questionnaire's form: this question's fields.
        data = {
            "decision": request.POST.get("decision", ""),
            "reason": request.POST.get(
                f"reason-{question.pk}", request.POST.get("reason", "")
            ),
            "version": request.POST.get(
                f"q-{question.pk}-version", request.POST.get("version")
            ),
        }
    form = DecisionForm(data)
    if not form.is_valid():
        return _decision_error(request, assessment, question, form.errors, wants_json)
    suggestion = selectors.question_suggestion(assessment=assessment, question=question)
    try:
        if (
            form.cleaned_data["decision"] == "accepted"
            and form.cleaned_data["version"] is not None
            and suggestion is not None
        ):
            # Without scripts, accepting records the answer here, as autosave would.
            option = next(
                (o for o in question.options.all() if o.score == suggestion.score), None
            )
            answer_record(
                assessment=assessment,
                question=question,
                user=request.user,
                option=option,
                expected_version=form.cleaned_data["version"],
            )
        record = decisions.suggestion_decide(
            assessment=assessment,
            question=question,
            user=request.user,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            suggestion=suggestion,
        )
    except ValidationError as error:
        return _decision_error(
            request, assessment, question, error.message_dict, wants_json
        )
    if wants_json:
        return JsonResponse(
            {
                "decision": record.decision,
                "reason": record.reason,
                "suggested_score": record.suggested_score,
                "answer_score": record.answer_score,
            }
        )
    messages.success(request, DECISION_SAVED_MSG)
    return redirect(_question_url(assessment, question))


def _question_url(assessment, question) -> str:
    return (
        reverse(
            "assessment:questionnaire_capability",
            args=[assessment.pk, question.capability.key],
        )
        + f"#question-{question.pk}"
    )


def _decision_error(request, assessment, question, errors, wants_json):
    body = {field: list(messages_) for field, messages_ in dict(errors).items()}
    if wants_json:
        return JsonResponse(body, status=400)
    for messages_ in body.values():
        for message in messages_:
            messages.error(request, message)
    return redirect(_question_url(assessment, question))


def period_or_404(org, start: str) -> EvidencePeriod:
    try:
        day = dt.date.fromisoformat(start)
    except ValueError:
        raise Http404("No such period.") from None
    period = EvidencePeriod.objects.filter(organization=org, period_start=day).first()
    if period is None:
        raise Http404("No such period.")
    return period

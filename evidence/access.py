"""Who may see evidence: the organisation's leads (and staff), nobody else.

Respondents never see uploads, ingestions, mappings or invoice totals; they see
only the suggestions on their own team's questionnaire and its report. Anything
out of reach answers 404.
"""

from django.http import Http404

from assessment.access import access_for

from .models import FolderSource, Ingestion, InvoiceTotal, TeamMapping, Upload


def _for_lead(model, user, pk, organization=None):
    try:
        obj = model.objects.select_related("organization").filter(pk=pk).first()
    except (ValueError, TypeError):
        obj = None
    if obj is None or not access_for(user).leads(obj.organization_id):
        raise Http404("Not found.")
    if organization is not None and obj.organization_id != organization.pk:
        raise Http404("Not found.")
    return obj


def get_upload_for_lead(user, pk, organization=None) -> Upload:
    return _for_lead(Upload, user, pk, organization)


def get_ingestion_for_lead(user, pk, organization=None) -> Ingestion:
    return _for_lead(Ingestion, user, pk, organization)


def get_mapping_for_lead(user, pk, organization=None) -> TeamMapping:
    return _for_lead(TeamMapping, user, pk, organization)


def get_invoice_total_for_lead(user, pk, organization=None) -> InvoiceTotal:
    return _for_lead(InvoiceTotal, user, pk, organization)


def get_folder_for_lead(user, pk, organization=None) -> FolderSource:
    return _for_lead(FolderSource, user, pk, organization)

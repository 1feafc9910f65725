"""Who may see and change improvement objects. Out of reach answers 404.

Action items: the team's respondents (members of the team or a unit above it)
and the organisation's leads. Initiatives, webhooks, deliveries, the executive
summary: leads only."""

from django.http import Http404

from assessment.access import access_for

from .models import ActionItem, Initiative, Webhook, WebhookDelivery


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None


def get_action_item_for_user(user, pk) -> ActionItem:
    item = (
        ActionItem.objects.select_related("team__organization", "owner")
        .filter(pk=_pk(pk))
        .first()
    )
    if item is None or not access_for(user).can_see_team(item.team):
        raise Http404("Not found.")
    return item


def get_initiative_for_lead(user, pk, organization) -> Initiative:
    initiative = Initiative.objects.filter(
        pk=_pk(pk), organization=organization
    ).first()
    if initiative is None or not access_for(user).leads(initiative.organization_id):
        raise Http404("Not found.")
    return initiative


def get_webhook_for_lead(user, pk, organization) -> Webhook:
    webhook = Webhook.objects.filter(pk=_pk(pk), organization=organization).first()
    if webhook is None or not access_for(user).leads(webhook.organization_id):
        raise Http404("Not found.")
    return webhook


def get_delivery_for_lead(user, pk, organization) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("webhook")
        .filter(pk=_pk(pk), webhook__organization=organization)
        .first()
    )
    if delivery is None or not access_for(user).leads(organization.pk):
        raise Http404("Not found.")
    return delivery

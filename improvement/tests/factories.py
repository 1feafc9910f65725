"""Improvement objects for the access matrices: an action item of a team, an
initiative, a webhook with one delivery."""

import datetime as dt

from improvement import services, webhooks
from improvement.models import WebhookDelivery


def improvement_objects(*, org, team, user) -> dict:
    item = services.action_create(
        team=team, user=user, capability_key="cap-0", title="Write the tagging policy"
    ).item
    initiative = services.initiative_create(
        organization=org,
        user=user,
        name="Everyone at 50",
        capability_key="cap-0",
        target_percent=50,
        due_on=dt.date(2027, 6, 30),
        scope_ids=[team.pk],
    )
    webhook = webhooks.webhook_create(
        organization=org, user=user, url="https://hooks.example.com/a", topics=[]
    )
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, topic="action_item.created", body='{"id": "x", "data": {}}'
    )
    return {
        "item": item,
        "initiative": initiative,
        "webhook": webhook,
        "delivery": delivery,
    }

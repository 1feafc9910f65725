"""The demo organisation's single sign-on through the local identity provider
(``devidp/demo.json``, ``make oidc-demo``): Northwind Traders signs in with the
provider key ``local`` for the domain northwind.example, and the provider's groups
map to portal roles."""

from __future__ import annotations

from django.db import transaction

from assessment.models import Organization, Team

from .models import RoleMapping, SsoConnection

DEMO_ORG_SLUG = "northwind"
DEMO_PROVIDER = "local"
DEMO_DOMAIN = "northwind.example"
# group at the provider -> (role, team name or None)
DEMO_MAPPINGS = {
    "finops-leads": ("lead", None),
    "finops-payments-api": ("respondent", "Payments API"),
    "finops-data-platform": ("respondent", "Data Platform"),
}
NO_DEMO_ORG_MSG = "No demo organisation (slug northwind): run seed_demo first."


@transaction.atomic
def demo_sso_seed(*, reset: bool = False) -> SsoConnection | None:
    """The demo connection and its mappings (kept if present; rebuilt with
    ``reset``); None without the demo organisation."""
    org = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
    if org is None:
        return None
    if reset:
        SsoConnection.objects.filter(organization=org, provider=DEMO_PROVIDER).delete()
    connection, _ = SsoConnection.objects.get_or_create(
        organization=org,
        provider=DEMO_PROVIDER,
        defaults={"email_domains": DEMO_DOMAIN},
    )
    teams = {t.name: t for t in Team.objects.filter(organization=org)}
    for group, (role, team_name) in DEMO_MAPPINGS.items():
        team = teams.get(team_name) if team_name else None
        if team_name and team is None:
            continue
        RoleMapping.objects.get_or_create(
            connection=connection, group=group, role=role, team=team
        )
    return connection

"""Which organisation signs in through which identity provider, and what its groups
grant. Provider credentials are not here: they come from the environment
(``sso.config``); these rows are data an administrator edits in the admin.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from assessment.models import Membership, Organization, Team

DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
UNKNOWN_PROVIDER_MSG = "No provider {key!r} is configured (OIDC_PROVIDERS: {known})."
BAD_DOMAIN_MSG = "{domain!r} is not an email domain such as northwind.example."
NO_DOMAINS_MSG = "Give at least one email domain."
DOMAIN_TAKEN_MSG = "{domain} already signs in to {org} through this provider."
LEAD_WITH_TEAM_MSG = "A lead leads the whole organisation: leave the team empty."
RESPONDENT_NEEDS_TEAM_MSG = "A respondent needs a team."
TEAM_OTHER_ORG_MSG = "The team belongs to another organisation."


def parse_domains(text: str) -> list[str]:
    """``"a.example, B.example\\nc.example"`` -> ``["a.example", "b.example", ...]``."""
    return [d for d in re.split(r"[\s,;]+", (text or "").strip().lower()) if d]


class SsoConnection(models.Model):
    """An organisation signs in through one identity provider: the people whose
    email is in ``email_domains`` are the organisation's, and the groups claim
    decides their roles (``RoleMapping``) at each sign-in."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sso_connections"
    )
    provider = models.CharField(
        max_length=40,
        help_text="Key of a provider configured in the environment (OIDC_PROVIDERS).",
    )
    email_domains = models.TextField(
        help_text="The organisation's email domains, one per line "
        "(for example northwind.example). Other addresses are refused.",
    )
    groups_claim = models.CharField(
        max_length=100,
        default="groups",
        help_text="The claim that lists the user's groups or roles "
        "(Entra ID: groups or roles; Okta and Google Workspace: groups).",
    )
    password_sign_in = models.BooleanField(
        "members may also sign in with a password",
        default=True,
        help_text="Off: the organisation's members sign in only through the "
        "provider (administrators keep their password).",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "provider"]
        verbose_name = "single sign-on connection"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider"], name="sso_connection_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} via {self.provider}"

    @property
    def domains(self) -> list[str]:
        return parse_domains(self.email_domains)

    def clean(self):
        errors = {}
        configured = settings.SSO_PROVIDERS
        if self.provider not in configured:
            errors["provider"] = UNKNOWN_PROVIDER_MSG.format(
                key=self.provider, known=", ".join(sorted(configured)) or "none"
            )
        domains = self.domains
        bad = [d for d in domains if not DOMAIN_RE.match(d)]
        if not domains:
            errors["email_domains"] = NO_DOMAINS_MSG
        elif bad:
            errors["email_domains"] = BAD_DOMAIN_MSG.format(domain=bad[0])
        else:
            self.email_domains = "\n".join(dict.fromkeys(domains))
            others = SsoConnection.objects.filter(provider=self.provider).exclude(
                pk=self.pk
            )
            for other in others.select_related("organization"):
                taken = sorted(set(other.domains) & set(domains))
                if taken:
                    errors["email_domains"] = DOMAIN_TAKEN_MSG.format(
                        domain=taken[0], org=other.organization
                    )
                    break
        if errors:
            raise ValidationError(errors)


class RoleMapping(models.Model):
    """Members of ``group`` (a value of the groups claim) get ``role``: lead of
    the organisation, or respondent of ``team``."""

    connection = models.ForeignKey(
        SsoConnection, on_delete=models.CASCADE, related_name="role_mappings"
    )
    group = models.CharField(
        max_length=255,
        help_text="A value of the groups claim: a group name, or an id "
        "(Entra ID sends group object ids unless configured otherwise).",
    )
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="For respondents: the team (or business unit) they answer for.",
    )

    class Meta:
        ordering = ["connection", "group", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "group", "role", "team"],
                name="sso_role_mapping_unique",
            ),
            models.UniqueConstraint(
                fields=["connection", "group", "role"],
                condition=Q(team__isnull=True),
                name="sso_role_mapping_org_unique",
            ),
        ]

    def __str__(self) -> str:
        where = self.team or "the organisation"
        return f"{self.group} -> {self.get_role_display()} of {where}"

    def clean(self):
        if self.role == Membership.Role.LEAD and self.team_id:
            raise ValidationError({"team": LEAD_WITH_TEAM_MSG})
        if self.role == Membership.Role.RESPONDENT and not self.team_id:
            raise ValidationError({"team": RESPONDENT_NEEDS_TEAM_MSG})
        if (
            self.team_id
            and self.connection_id
            and self.team.organization_id != self.connection.organization_id
        ):
            raise ValidationError({"team": TEAM_OTHER_ORG_MSG})


class SsoIdentity(models.Model):
    """A user's account at an identity provider (issuer + subject), linked to one
    portal user; created at the first sign-in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sso_identities",
    )
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    email = models.EmailField(blank=True, help_text="As the provider last sent it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "subject"]
        verbose_name_plural = "SSO identities"
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="sso_identity_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email or self.subject} ({self.issuer})"


class ManagedMembership(models.Model):
    """A membership that a sign-in granted from the groups claim: the next sign-in
    removes it if the groups no longer grant it. Memberships a lead added by hand
    have no such row and are left alone."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="sso_grant"
    )
    connection = models.ForeignKey(
        SsoConnection, on_delete=models.CASCADE, related_name="managed_memberships"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["connection", "membership"]

    def __str__(self) -> str:
        return f"{self.membership} (from {self.connection.provider})"

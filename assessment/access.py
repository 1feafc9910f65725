"""Who may see what: one helper per object type, used by every page and API view.

Anything outside the user's reach answers 404 (``Http404``), never 403, so nothing
leaks about other teams or organisations. Staff see everything.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Value
from django.db.models.expressions import RawSQL
from django.http import Http404

from .models import Assessment, Cycle, Membership, Organization, Team


@dataclass(frozen=True)
class Access:
    """A user's reach, computed once per request from their memberships."""

    is_staff: bool = False
    lead_org_ids: frozenset[int] = frozenset()
    member_org_ids: frozenset[int] = frozenset()
    team_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_lead(self) -> bool:
        return bool(self.lead_org_ids)

    def leads(self, organization_id: int) -> bool:
        return self.is_staff or organization_id in self.lead_org_ids

    def can_see_org(self, organization_id: int) -> bool:
        return self.is_staff or organization_id in self.member_org_ids

    def can_see_team(self, team: Team) -> bool:
        return self.leads(team.organization_id) or team.id in self.team_ids

    def can_answer(self, assessment: Assessment) -> bool:
        """Respondents of the team, and leads of its organisation, may answer."""
        return (
            self.leads(assessment.cycle.organization_id)
            or assessment.team_id in self.team_ids
        )


def access_for(user) -> Access:
    """The user's reach; cached on the user object for the rest of the request.

    One query (memberships, and whether each membership's team has teams under it);
    a second one only for a membership of a business unit that has teams under it.
    """
    if not user.is_authenticated:
        return Access()
    cached = getattr(user, "_finops_access", None)
    if cached is not None:
        return cached
    rows = list(
        Membership.objects.filter(user=user)
        .order_by()
        .annotate(
            has_children=Exists(Team.objects.filter(parent_id=OuterRef("team_id")))
        )
        .values_list("organization_id", "team_id", "role", "has_children")
    )
    lead_orgs = {org for org, _team, role, _sub in rows if role == Membership.Role.LEAD}
    team_ids = {team for _org, team, _role, _sub in rows if team is not None}
    parents = {team for _org, team, _role, sub in rows if team is not None and sub}
    access = Access(
        is_staff=user.is_staff,
        lead_org_ids=frozenset(lead_orgs),
        member_org_ids=frozenset(org for org, _team, _role, _sub in rows),
        team_ids=frozenset(team_ids | _descendants(parents)),
    )
    user._finops_access = access
    return access


def can_answer_sql(user) -> RawSQL | Value:
    """SQL condition on assessment rows: ``Access.can_answer`` for ``user``, so the
    query that reads (and locks) an assessment checks the access too, without a
    query of memberships of its own. The same rule: a lead of the cycle's
    organisation, or a member of the assessment's team or of any team above it."""
    if not user.is_authenticated:
        return Value(False, output_field=BooleanField())
    if user.is_staff:
        return Value(True, output_field=BooleanField())
    qn = connection.ops.quote_name
    team, membership = qn(Team._meta.db_table), qn(Membership._meta.db_table)
    cycle, assessment = qn(Cycle._meta.db_table), qn(Assessment._meta.db_table)
    # The team and every team above it (UNION stops on a cycle in the parent links;
    # the root's parent, NULL, ends the walk). Each step reads the parent by its
    # primary key: a join of the walk with the team table is planned as a scan of
    # every team of the database.
    sql = (
        f"EXISTS (WITH RECURSIVE up(id) AS ("
        f" SELECT {assessment}.team_id"
        f" UNION SELECT (SELECT t.parent_id FROM {team} t WHERE t.id = up.id)"
        f" FROM up WHERE up.id IS NOT NULL"
        f") SELECT 1 FROM {membership} m WHERE m.user_id = %s AND ("
        f"m.team_id IN (SELECT id FROM up WHERE id IS NOT NULL)"
        f" OR (m.role = %s AND m.organization_id = (SELECT c.organization_id"
        f" FROM {cycle} c WHERE c.id = {assessment}.cycle_id))))"
    )
    return RawSQL(sql, (user.pk, Membership.Role.LEAD), output_field=BooleanField())


def _descendants(team_ids: set[int]) -> set[int]:
    """The teams under ``team_ids`` at any depth (a membership of a business unit
    covers them): one recursive query, whatever the depth of the tree."""
    if not team_ids:
        return set()
    table = connection.ops.quote_name(Team._meta.db_table)
    placeholders = ", ".join(["%s"] * len(team_ids))
    # UNION (not UNION ALL) stops on a cycle in the parent links, should one exist.
    sql = (
        f"WITH RECURSIVE under(id) AS ("
        f" SELECT id FROM {table} WHERE parent_id IN ({placeholders})"
        f" UNION SELECT t.id FROM {table} t JOIN under ON t.parent_id = under.id"
        f") SELECT id FROM under"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(team_ids))
        return {row[0] for row in cursor.fetchall()}


def get_organization_for_lead(user, slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    if org is None or not access_for(user).leads(org.id):
        raise Http404("No such organisation.")
    return org


def get_organization_for_member(user, slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    if org is None or not access_for(user).can_see_org(org.id):
        raise Http404("No such organisation.")
    return org


def get_team_for_user(user, pk: int) -> Team:
    team = Team.objects.select_related("organization").filter(pk=pk).first()
    if team is None or not access_for(user).can_see_team(team):
        raise Http404("No such team.")
    return team


def get_cycle_for_lead(user, pk: int) -> Cycle:
    cycle = (
        Cycle.objects.select_related("organization", "framework").filter(pk=pk).first()
    )
    if cycle is None or not access_for(user).leads(cycle.organization_id):
        raise Http404("No such cycle.")
    return cycle


def get_cycle_for_member(user, pk: int) -> Cycle:
    cycle = (
        Cycle.objects.select_related("organization", "framework").filter(pk=pk).first()
    )
    if cycle is None or not access_for(user).can_see_org(cycle.organization_id):
        raise Http404("No such cycle.")
    return cycle


def get_assessment_for_user(user, pk: int, queryset=None) -> Assessment:
    """An assessment the user may read and answer: their team's, or any of a lead's org.
    ``queryset`` (of assessments) may add annotations a page needs in the same query."""
    assessment = (
        (Assessment.objects.all() if queryset is None else queryset)
        .select_related("cycle__organization", "cycle__framework", "team")
        .filter(pk=pk)
        .order_by()  # the default ordering would join the team for nothing
        .first()
    )
    if assessment is None or not access_for(user).can_answer(assessment):
        raise Http404("No such assessment.")
    return assessment

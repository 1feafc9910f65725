"""The measures: what each one means (shown on the pages) and its SQL, in one place.

Every measure is a ratio of two sums (or a count) over a relation named ``focus``
that has the FOCUS columns plus four derived ones:

- ``x_Taggable``: the row names a resource (``ResourceId``), so it can carry tags;
  rows without one (taxes, support, some purchases) cannot, and tag coverage leaves
  them out rather than penalising a team for them;
- ``x_Allocated``: FOCUS 1.3 says the row was allocated (``AllocatedMethodId``,
  ``AllocatedResourceId`` or ``AllocatedTags``);
- ``x_HasRequiredTags``: ``Tags`` holds every required key with a value;
- ``x_TeamId``: the portal team the row is attributed to (``assign_sql``).

Costs are weighted by ``EffectiveCost`` (``BilledCost`` for invoices), never by row
count. Because each aggregate is a sum, the same SQL gives the same figures over raw
FOCUS rows (a warehouse table) and over the compact summary the portal keeps, where
``EffectiveCost`` and ``BilledCost`` are already sums per group. Pure: no Django.
"""

from dataclasses import dataclass

from capabilities.measures import MEASURE_KEYS

ORGANIZATION = "organization"
NODE = "node"  # organisation, every business unit and every team

# Row flags computed from FOCUS columns (the summary is grouped by them).
ROW_FLAGS = {
    "x_Taggable": "(ResourceId IS NOT NULL AND ResourceId <> '')",
    "x_Allocated": (
        "((AllocatedMethodId IS NOT NULL AND AllocatedMethodId <> '')"
        " OR (AllocatedResourceId IS NOT NULL AND AllocatedResourceId <> '')"
        " OR (AllocatedTags IS NOT NULL AND AllocatedTags NOT IN ('', '{}')))"
    ),
}
ELIGIBLE = (
    "lower(coalesce(x_CommitmentDiscountSpendEligibility, '')) "
    "IN ('eligible', 'true', 'yes', '1')"
)
RECONCILED_TOLERANCE = "0.005"  # to the cent


@dataclass(frozen=True)
class Measure:
    """One measure: its meaning in words, and its SQL as two aggregates.

    ``relation``: ``rows`` (the node's attributed rows), ``accounts`` (every row of
    the sub-accounts where the node's attributed cost lives) or ``invoices`` (one
    row per invoice, ``BilledCost`` summed, with the entered ``x_InvoiceTotal``).
    ``requires``: FOCUS columns without which it is not computable.
    """

    key: str
    formula: str
    numerator: str
    denominator: str | None
    scope: str = NODE
    relation: str = "rows"
    requires: tuple[str, ...] = ()
    empty_note: str = "No cost to measure in this period."

    @property
    def name(self) -> str:
        return MEASURE_KEYS[self.key][0]

    @property
    def unit(self) -> str:
        return MEASURE_KEYS[self.key][1]


MEASURES: tuple[Measure, ...] = (
    Measure(
        key="tag_coverage",
        formula=(
            "EffectiveCost of taggable rows carrying every required tag key with a "
            "value ÷ EffectiveCost of taggable rows (rows with a ResourceId). "
            "Untaggable rows (taxes, support) are left out."
        ),
        numerator="SUM(EffectiveCost) FILTER (WHERE x_Taggable AND x_HasRequiredTags)",
        denominator="SUM(EffectiveCost) FILTER (WHERE x_Taggable)",
        empty_note="No taggable cost in this period.",
    ),
    Measure(
        key="allocation_coverage",
        formula=(
            "EffectiveCost of rows carrying the required tags or allocated by the "
            "provider (FOCUS 1.3 Allocated* columns) ÷ EffectiveCost of rows that "
            "are taggable or allocated."
        ),
        numerator=(
            "SUM(EffectiveCost) FILTER (WHERE (x_Taggable AND x_HasRequiredTags) "
            "OR x_Allocated)"
        ),
        denominator="SUM(EffectiveCost) FILTER (WHERE x_Taggable OR x_Allocated)",
        empty_note="No taggable or allocated cost in this period.",
    ),
    Measure(
        key="chargeback_coverage",
        formula=(
            "EffectiveCost attributed to a team of the portal (by the team "
            "mapping) ÷ all EffectiveCost. For a team or business unit: within the "
            "sub-accounts where its attributed cost lives."
        ),
        numerator="SUM(EffectiveCost) FILTER (WHERE x_TeamId IS NOT NULL)",
        denominator="SUM(EffectiveCost)",
        relation="accounts",
    ),
    Measure(
        key="invoice_reconciliation",
        formula=(
            "BilledCost of invoices whose sum of BilledCost per InvoiceId matches "
            "the invoice total entered, to the cent ÷ BilledCost of all invoices "
            "in the period."
        ),
        numerator=(
            "SUM(BilledCost) FILTER (WHERE x_InvoiceTotal IS NOT NULL AND "
            f"abs(BilledCost - x_InvoiceTotal) < {RECONCILED_TOLERANCE})"
        ),
        denominator="SUM(BilledCost)",
        scope=ORGANIZATION,
        relation="invoices",
        requires=("InvoiceId",),
        empty_note="No invoiced cost in this period.",
    ),
    Measure(
        key="corrections_after_close",
        formula=(
            "|BilledCost of rows with ChargeClass = Correction| ÷ BilledCost of "
            "all rows: how much of the bill was corrected after the period closed "
            "(lower is better)."
        ),
        numerator="abs(SUM(BilledCost) FILTER (WHERE ChargeClass = 'Correction'))",
        denominator="SUM(BilledCost)",
        requires=("ChargeClass",),
        empty_note="No billed cost in this period.",
    ),
    Measure(
        key="commitment_utilization",
        formula=(
            "EffectiveCost of commitment discounts used ÷ EffectiveCost of "
            "commitment discounts used and unused (CommitmentDiscountStatus)."
        ),
        numerator="SUM(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used')",
        denominator=(
            "SUM(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus "
            "IN ('Used', 'Unused'))"
        ),
        requires=("CommitmentDiscountStatus",),
        empty_note="No commitment discounts in this period.",
    ),
    Measure(
        key="commitment_coverage",
        formula=(
            "EffectiveCost of eligible usage covered by a commitment discount ÷ "
            "EffectiveCost of usage eligible for one "
            "(x_CommitmentDiscountSpendEligibility, a FinOps hubs column)."
        ),
        numerator=(
            f"SUM(EffectiveCost) FILTER (WHERE {ELIGIBLE} AND "
            "CommitmentDiscountStatus = 'Used')"
        ),
        denominator=(
            f"SUM(EffectiveCost) FILTER (WHERE {ELIGIBLE} AND "
            "coalesce(CommitmentDiscountStatus, '') <> 'Unused')"
        ),
        requires=("x_CommitmentDiscountSpendEligibility", "CommitmentDiscountStatus"),
        empty_note="No eligible usage in this period.",
    ),
    Measure(
        key="focus_providers",
        formula="Number of providers (ProviderName) in one FOCUS schema.",
        numerator="count(DISTINCT ProviderName)",
        denominator=None,
        scope=ORGANIZATION,
    ),
    Measure(
        key="billing_periods",
        formula="Number of billing periods held as evidence.",
        numerator="max(x_BillingPeriods)",
        denominator=None,
        scope=ORGANIZATION,
    ),
)
MEASURES_BY_KEY = {m.key: m for m in MEASURES}
NOT_COMPUTABLE_NOTE = "Not computable from this export: it has no {columns} column."
NO_INVOICE_TOTALS_NOTE = "Enter the invoice totals to reconcile them."
ORGANIZATION_ONLY_NOTE = "An organisation-wide measure."

assert set(MEASURES_BY_KEY) == set(MEASURE_KEYS), "every content measure has SQL"


def sql_string(value: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def json_path(key: str) -> str:
    """A JSON path literal selecting the top-level ``key`` of an object."""
    escaped = str(key).replace("\\", "\\\\").replace('"', '\\"')
    return sql_string(f'$."{escaped}"')


def has_keys_sql(column: str, keys: list[str]) -> str:
    """True when the JSON object in ``column`` holds every key with a non-empty
    value (any key at all when ``keys`` is empty); false for invalid JSON."""
    if keys:
        checks = " AND ".join(
            f"coalesce(json_extract_string({column}, {json_path(key)}), '') <> ''"
            for key in keys
        )
    else:
        checks = f"json_array_length(json_keys({column})) > 0"
    return (
        f"(CASE WHEN {column} IS NOT NULL AND json_valid({column}) "
        f"AND json_type({column}) = 'OBJECT' THEN ({checks}) ELSE false END)"
    )


def tag_flags_sql(required_keys: list[str]) -> str:
    """The ``x_HasRequiredTags`` column, for a SELECT list."""
    return f"{has_keys_sql('Tags', required_keys)} AS x_HasRequiredTags"


def dims_sql(rule_keys: list[tuple[str, str]]) -> str:
    """Rows of ``src`` (with ``x_Row``) as (x_Row, kind, key, value): the values
    the rules can match, looked up once per row and key (tag keys, x_ columns)."""
    lookups = [
        "SELECT x_Row, 'sub_account' AS kind, '' AS key, SubAccountId AS value FROM src"
    ]
    for kind, key in rule_keys:
        if kind == "tag":
            lookups.append(
                f"SELECT x_Row, 'tag', {sql_string(key)}, CASE WHEN json_valid(Tags) "
                f"THEN json_extract_string(Tags, {json_path(key)}) END FROM src"
            )
        elif kind == "column":
            lookups.append(
                f"SELECT x_Row, 'column', {sql_string(key)}, "
                f"CAST({quote_ident(key)} AS VARCHAR) FROM src"
            )
    return "\n    UNION ALL ".join(lookups)


def assign_sql(source: str, rule_keys: list[tuple[str, str]]) -> str:
    """``source`` with ``x_TeamId``: the team of the lowest-position rule in the
    ``rules`` table (position, team_id, kind, key, value) that the row matches,
    matched by equality (hash joins), whatever the number of rules."""
    return f"""
WITH src AS (SELECT row_number() OVER () AS x_Row, * FROM {source}),
dims AS (
    {dims_sql(rule_keys)}
),
matched AS (
    SELECT d.x_Row, arg_min(r.team_id, r.position) AS x_TeamId
    FROM dims d JOIN rules r
      ON r.kind = d.kind AND r.key = d.key AND r.value = d.value
    GROUP BY d.x_Row
)
SELECT src.*, matched.x_TeamId FROM src LEFT JOIN matched USING (x_Row)
"""


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def measures_sql(measures: tuple[Measure, ...] = MEASURES) -> dict[str, str]:
    """One aggregate query per relation, every computable measure of it as
    ``<key>__num`` / ``<key>__den`` columns, grouped by period and node.

    Reads ``focus`` (FOCUS rows with the derived columns and ``x_PeriodStart``),
    ``tree`` (node_id, ancestor_id: every node and each of its ancestors, itself
    included) and ``invoice_totals`` (invoice_id, total).
    """
    by_relation: dict[str, list[Measure]] = {}
    for measure in measures:
        by_relation.setdefault(measure.relation, []).append(measure)
    queries = {}
    for relation, items in by_relation.items():
        columns = ",\n  ".join(
            f"{m.numerator} AS {m.key}__num"
            + (f",\n  {m.denominator} AS {m.key}__den" if m.denominator else "")
            for m in items
        )
        queries[relation] = (
            f"SELECT x_PeriodStart, node_id,\n  {columns}\n"
            f"FROM {RELATIONS[relation]}\nGROUP BY x_PeriodStart, node_id"
        )
    return queries


# The node-scoped relations: every row once for the organisation (node_id NULL),
# and once more for each node above its team, itself included.
RELATIONS = {
    "rows": """(
    SELECT NULL::BIGINT AS node_id, * FROM focus
    UNION ALL
    SELECT t.ancestor_id AS node_id, f.* FROM focus f JOIN tree t ON t.node_id = f.x_TeamId
)""",
    "accounts": """(
    SELECT NULL::BIGINT AS node_id, * FROM focus
    UNION ALL
    SELECT a.node_id, f.* FROM focus f JOIN (
        SELECT DISTINCT t.ancestor_id AS node_id, f.x_PeriodStart, f.SubAccountId
        FROM focus f JOIN tree t ON t.node_id = f.x_TeamId
    ) a ON a.x_PeriodStart = f.x_PeriodStart AND a.SubAccountId IS NOT DISTINCT FROM f.SubAccountId
)""",
    "invoices": """(
    SELECT NULL::BIGINT AS node_id, i.x_PeriodStart, i.BilledCost, t.total AS x_InvoiceTotal
    FROM (
        SELECT x_PeriodStart, InvoiceId, SUM(BilledCost) AS BilledCost
        FROM focus WHERE InvoiceId IS NOT NULL AND InvoiceId <> ''
        GROUP BY x_PeriodStart, InvoiceId
    ) i LEFT JOIN invoice_totals t ON t.invoice_id = i.InvoiceId
)""",
}

"""What the portal knows about the FOCUS schema: versions, the columns it reads.

Pure: no Django, no DuckDB. FOCUS 1.0 to 1.3 are accepted; ``ProviderName`` and
1.3's ``ServiceProviderName`` are the same column here.
"""

import re

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2", "1.3")

# Columns every export must have for the measures to mean anything.
REQUIRED_COLUMNS = (
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "BilledCost",
    "EffectiveCost",
    "ChargeCategory",
    "SubAccountId",
    "ResourceId",
    "Tags",
)
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")
# Read when present; a measure that needs a missing one is "not computable".
OPTIONAL_COLUMNS = (
    "InvoiceId",
    "SubAccountName",
    "ChargeClass",
    "PricingCategory",
    "CommitmentDiscountStatus",
    "AllocatedMethodId",
    "AllocatedResourceId",
    "AllocatedTags",
    "x_CommitmentDiscountSpendEligibility",
)
COST_COLUMNS = ("BilledCost", "EffectiveCost")
TIME_COLUMNS = ("BillingPeriodStart", "BillingPeriodEnd")
# A column of this name, where an export carries one, states the version.
VERSION_COLUMNS = ("FocusVersion", "x_FocusVersion")

# Columns that first appear in a version: the newest one present tells the version.
VERSION_SIGNATURES = (
    (
        "1.3",
        (
            "ServiceProviderName",
            "HostProviderName",
            "AllocatedMethodId",
            "AllocatedResourceId",
            "AllocatedTags",
            "ContractApplied",
        ),
    ),
    ("1.2", ("InvoiceId", "BillingAccountType", "SubAccountType", "PricingCurrency")),
    (
        "1.1",
        (
            "CapacityReservationId",
            "CommitmentDiscountQuantity",
            "CommitmentDiscountStatus",
            "ServiceSubcategory",
            "SkuMeter",
        ),
    ),
)

# Custom columns usable for team mapping: plain names only.
CUSTOM_COLUMN = re.compile(r"^x_[A-Za-z0-9_]{1,100}$")
MAX_CUSTOM_DIMENSIONS = 8


def missing_columns(columns) -> list[str]:
    """Required columns absent from ``columns`` (a provider column counts once)."""
    present = set(columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if not present & set(PROVIDER_COLUMNS):
        missing.append("ProviderName")
    return missing


def detect_version(columns, declared: set[str] | None = None) -> str:
    """The FOCUS version a file is in: the one it declares in a version column, else
    the newest version whose new columns it carries. Returns the declared text as
    it is when it is not a supported version (the caller reports it)."""
    if declared:
        values = sorted(declared)
        return values[0] if len(values) == 1 else ", ".join(values)
    present = set(columns)
    for version, signature in VERSION_SIGNATURES:
        if present & set(signature):
            return version
    return "1.0"


def normalise_version(text: str) -> str:
    """'1.2.0' and 'v1.2' read as '1.2'; anything else is returned unchanged."""
    match = re.fullmatch(r"v?(1\.[0-9])(?:\.0)?", (text or "").strip())
    return match.group(1) if match else (text or "").strip()

"""Measures from FOCUS cost data that a question may be informed by (content rules).

A question's ``measure`` block names one of ``MEASURE_KEYS`` and lists bands
``[{"min": value, "score": 0..4}, ...]`` in ascending ``min``: a measured value
suggests the score of the highest band whose ``min`` is at most the value. Scores may
fall as values rise (``corrections_after_close``: lower is better). Pure: no Django.
"""

from collections.abc import Sequence

# What each key measures; values are percents 0-100 unless the unit says otherwise.
MEASURE_KEYS: dict[str, tuple[str, str]] = {
    "tag_coverage": ("Tag coverage", "percent"),
    "allocation_coverage": ("Allocation coverage", "percent"),
    "chargeback_coverage": ("Chargeback coverage", "percent"),
    "invoice_reconciliation": ("Invoice reconciliation", "percent"),
    "corrections_after_close": ("Corrections after close", "percent"),
    "commitment_utilization": ("Commitment discount utilisation", "percent"),
    "commitment_coverage": ("Commitment discount coverage", "percent"),
    "focus_providers": ("Providers in FOCUS", "count"),
    "billing_periods": ("Billing periods present", "count"),
}

UNKNOWN_MEASURE_MSG = "{path}: unknown measure '{key}'; expected one of {known}"
BANDS_EMPTY_MSG = "{path}: must list at least one band"
BAND_ORDER_MSG = (
    "{path}: bands must have strictly increasing min; {value} is not above {previous}"
)
BAND_SCORE_MSG = "{path}: score {score} is outside 0..4"
BAND_SHAPE_MSG = '{path}: expected {{"min": number, "score": 0..4}}'
PERCENT_RANGE_MSG = "{path}: {value} is outside 0..100 for a percent measure"


def measure_problems(measure: dict | None, path: str = "measure") -> list[str]:
    """What is wrong with a ``{"key", "bands"}`` block, each prefixed with its path."""
    if not measure:
        return []
    problems: list[str] = []
    key = measure.get("key")
    if key not in MEASURE_KEYS:
        problems.append(
            UNKNOWN_MEASURE_MSG.format(
                path=f"{path}.key", key=key, known=", ".join(MEASURE_KEYS)
            )
        )
    bands = measure.get("bands")
    if not isinstance(bands, list) or not bands:
        return [*problems, BANDS_EMPTY_MSG.format(path=f"{path}.bands")]
    unit = MEASURE_KEYS.get(str(key), ("", "percent"))[1]
    previous = None
    for i, band in enumerate(bands):
        where = f"{path}.bands[{i}]"
        if (
            not isinstance(band, dict)
            or set(band) != {"min", "score"}
            or not _is_number(band["min"])
            or not isinstance(band["score"], int)
            or isinstance(band["score"], bool)
        ):
            problems.append(BAND_SHAPE_MSG.format(path=where))
            continue
        if not 0 <= band["score"] <= 4:
            problems.append(
                BAND_SCORE_MSG.format(path=f"{where}.score", score=band["score"])
            )
        value = band["min"]
        if unit == "percent" and not 0 <= value <= 100:
            problems.append(PERCENT_RANGE_MSG.format(path=f"{where}.min", value=value))
        if previous is not None and value <= previous:
            problems.append(
                BAND_ORDER_MSG.format(
                    path=f"{where}.min", value=value, previous=previous
                )
            )
        previous = value
    return problems


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def band_score(bands: Sequence[dict], value: float | None) -> int | None:
    """The score the highest band with ``min <= value`` suggests; None when no band
    starts low enough or there is no value."""
    if value is None:
        return None
    score = None
    for band in sorted(bands, key=lambda b: b["min"]):
        if band["min"] <= value:
            score = int(band["score"])
    return score

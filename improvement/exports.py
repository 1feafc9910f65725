"""Action items as CSV in the column formats Jira's and Azure DevOps' importers
read. Pure: rows of plain values in, CSV text out.

Jira (System > External system import > CSV): Summary, Issue Type, Description,
Assignee, Due Date, Priority, Labels, Status. Azure DevOps (Boards > Import work
items): ID (empty for new items), Work Item Type, Title, Description, Assigned
To, State, Tags, Due Date.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

JIRA_COLUMNS = [
    "Summary",
    "Issue Type",
    "Description",
    "Assignee",
    "Due Date",
    "Priority",
    "Labels",
    "Status",
]
AZURE_COLUMNS = [
    "ID",
    "Work Item Type",
    "Title",
    "Description",
    "Assigned To",
    "State",
    "Tags",
    "Due Date",
]
JIRA_STATUS = {
    "planned": "To Do",
    "in_progress": "In Progress",
    "done": "Done",
    "dropped": "Won't Do",
}
AZURE_STATE = {
    "planned": "New",
    "in_progress": "Active",
    "done": "Closed",
    "dropped": "Removed",
}
FORMATS = ("jira", "azure")


def _safe(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _description(row: dict) -> str:
    parts = [row.get("description") or ""]
    if row.get("expected_effect"):
        parts.append(f"Expected effect: {row['expected_effect']}")
    parts.append(f"Team: {row['team']}. Capability: {row['capability']}.")
    parts.extend(row.get("links") or [])
    return "\n".join(p for p in parts if p)


def _label(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def items_csv(rows: Iterable[dict], fmt: str) -> str:
    """CSV text of ``rows`` (dicts: title, description, team, capability,
    capability_key, owner_email, due_on (date or None), status, expected_effect,
    links) in ``fmt`` ("jira" or "azure")."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(JIRA_COLUMNS if fmt == "jira" else AZURE_COLUMNS)
    for row in rows:
        due = row["due_on"]
        if fmt == "jira":
            writer.writerow(
                [
                    _safe(row["title"]),
                    "Task",
                    _safe(_description(row)),
                    _safe(row.get("owner_email") or ""),
                    due.strftime("%d/%b/%y") if due else "",
                    "Medium",
                    " ".join(
                        ["finops", _label(row["capability_key"]), _label(row["team"])]
                    ),
                    JIRA_STATUS[row["status"]],
                ]
            )
        else:
            writer.writerow(
                [
                    "",
                    "Task",
                    _safe(row["title"]),
                    _safe(_description(row)),
                    _safe(row.get("owner_email") or ""),
                    AZURE_STATE[row["status"]],
                    "; ".join(["FinOps", row["capability"], row["team"]]),
                    due.isoformat() if due else "",
                ]
            )
    return out.getvalue()

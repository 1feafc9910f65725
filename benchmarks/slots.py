"""The places in benchmarks' pages where higher apps add content (see
``finops_portal.slots``). Providers register in their ``AppConfig.ready()``."""

from finops_portal.slots import Slot

TEAM_REPORT_SECTIONS = Slot(
    "benchmarks.team_report.sections",
    doc="provider(request, *, assessment, is_lead) -> html | None: after the score "
    "grid of the team report (rendered per request, outside the report cache).",
)
DASHBOARD_SECTIONS = Slot(
    "benchmarks.dashboard.sections",
    doc="provider(request, *, organization, cycle_id, unit_id) -> html | None: on the "
    "lead dashboard, below its summary.",
)

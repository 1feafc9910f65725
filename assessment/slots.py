"""The places in assessment's pages where higher apps add content (see
``finops_portal.slots``). Providers register in their ``AppConfig.ready()``."""

from finops_portal.slots import Slot

QUESTIONNAIRE_QUESTIONS = Slot(
    "assessment.questionnaire.questions",
    doc="provider(request, *, assessment, questions) -> dict[question id, html]: "
    "shown under that question's options on the questionnaire.",
)
REVIEW_SECTIONS = Slot(
    "assessment.review.sections",
    doc="provider(request, *, assessment) -> html | None: on the review page, above "
    "the submit button.",
)
NAV_LINKS = Slot(
    "assessment.nav.links",
    doc="provider(request, *, access) -> list[NavLink]: links in the site navigation.",
)
LEAD_HOME_SECTIONS = Slot(
    "assessment.lead_home.sections",
    doc="provider(request, *, organization) -> html | None: on an organisation's "
    "lead home page.",
)
COMPLETION_BOARD = Slot(
    "assessment.completion_board.columns",
    doc="provider(request, *, cycle, rows) -> SlotColumn | None: a column of the "
    "completion board, its cells keyed by assessment id.",
)

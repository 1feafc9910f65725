"""The places in capabilities' pages where higher apps add content (see
``finops_portal.slots``). Providers register in their ``AppConfig.ready()``."""

from finops_portal.slots import Slot

FRAMEWORK_REVIEW_SECTIONS = Slot(
    "capabilities.framework_review.sections",
    doc="provider(request, *, framework) -> html | None: on a framework version's "
    "review page in the admin (staff only), after its diff: the dry run.",
)

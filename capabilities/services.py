"""Framework workflows: validate, publish, copy into a new draft, retire, load content.

Publish validation works on the exported document (``importer.framework_export``), so
a framework in the database and a framework file are checked by the same rules.
"""

from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from finops_portal.audit import audit_record

from .importer import (
    EXISTS_DRAFT_MSG,
    EXISTS_PUBLISHED_MSG,
    FrameworkFileError,
    framework_create,
    framework_export,
    framework_file_errors,
    framework_parse,
)
from .models import Framework

CONTENT_DIR = Path(__file__).resolve().parent / "content"
SHIPPED_SLUG = "finops-practice"
SCORES = list(range(5))

NO_CAPABILITIES_MSG = "The framework has no capabilities."
NO_LENSES_MSG = "The framework has no lenses."
NO_LEVELS_MSG = "The framework has no maturity levels."
MISSING_LENS_MSG = "Capability '{capability}' has no question in the {lens} lens."
OPTIONS_MSG = (
    "Question '{question}' of capability '{capability}' must offer exactly one option "
    "for each score 0..4 (it has {scores})."
)
DUPLICATE_KEY_MSG = "{kind} key '{key}' is used more than once."
WEIGHT_MSG = "{kind} '{key}' has weight {weight}; weights must be positive."
FIRST_BAND_MSG = "The first maturity level must start at 0% (it starts at {value}%)."
BAND_ORDER_MSG = (
    "Maturity level '{key}' must start above '{previous}' "
    "({value}% is not above {previous_value}%)."
)
PUBLISH_NOT_DRAFT_MSG = "Only a draft can be published; {framework} is {status}."
RETIRE_NOT_PUBLISHED_MSG = (
    "Only a published framework can be retired; {framework} is {status}."
)
DELETE_NOT_DRAFT_MSG = "Only a draft can be deleted; {framework} is {status}."


def publish_problems(document: dict) -> list[str]:
    """What stops a framework document from being published (empty when none)."""
    problems: list[str] = []
    lenses = document.get("lenses", [])
    levels = document.get("maturity_levels", [])
    capabilities = document.get("capabilities", [])
    if not lenses:
        problems.append(NO_LENSES_MSG)
    if not levels:
        problems.append(NO_LEVELS_MSG)
    if not capabilities:
        problems.append(NO_CAPABILITIES_MSG)

    questions = [
        (capability, question)
        for capability in capabilities
        for question in capability.get("questions", [])
    ]
    for kind, items in (
        ("Lens", lenses),
        ("Maturity level", levels),
        ("Domain", document.get("domains", [])),
        ("Capability", capabilities),
        ("Question", [question for _c, question in questions]),
    ):
        seen: set[str] = set()
        for item in items:
            if item["key"] in seen:
                problems.append(DUPLICATE_KEY_MSG.format(kind=kind, key=item["key"]))
            seen.add(item["key"])

    for kind, items in (("Lens", lenses), ("Question", [q for _c, q in questions])):
        problems.extend(
            WEIGHT_MSG.format(kind=kind, key=item["key"], weight=item["weight"])
            for item in items
            if not item.get("weight", 1) > 0
        )

    previous = None
    for level in levels:
        value = level["min_percent"]
        if previous is None and value != 0:
            problems.append(FIRST_BAND_MSG.format(value=value))
        elif previous is not None and value <= previous["min_percent"]:
            problems.append(
                BAND_ORDER_MSG.format(
                    key=level["key"],
                    previous=previous["key"],
                    value=value,
                    previous_value=previous["min_percent"],
                )
            )
        previous = level

    for capability in capabilities:
        asked = {question["lens"] for question in capability.get("questions", [])}
        problems.extend(
            MISSING_LENS_MSG.format(capability=capability["key"], lens=lens["key"])
            for lens in lenses
            if lens["key"] not in asked
        )
    for capability, question in questions:
        scores = sorted(option["score"] for option in question.get("options", []))
        if scores != SCORES:
            problems.append(
                OPTIONS_MSG.format(
                    question=question["key"],
                    capability=capability["key"],
                    scores=", ".join(map(str, scores)) or "none",
                )
            )
    return problems


def framework_validate(*, framework: Framework) -> list[str]:
    """Problems that would stop ``framework`` from being published: the publish
    rules; when those pass, the file rules (shapes, N/A reasons, the mapping onto its
    derived_from version) with their locations, as the importer reports them."""
    document = framework_export(framework=framework)
    return publish_problems(document) or framework_file_errors(document)


def _audit(*, action: str, framework: Framework, user, summary: str) -> None:
    audit_record(
        action=action,
        summary=summary,
        actor=user,
        framework_id=framework.pk,
        slug=framework.slug,
        version=framework.version,
    )


@transaction.atomic
def framework_publish(*, framework: Framework, user=None) -> Framework:
    """Publish a draft after validation; raises ValidationError listing every problem."""
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    if framework.status != Framework.Status.DRAFT:
        raise ValidationError(
            PUBLISH_NOT_DRAFT_MSG.format(framework=framework, status=framework.status)
        )
    problems = framework_validate(framework=framework)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    framework.status = Framework.Status.PUBLISHED
    framework.published_at = now
    framework.save(update_fields=["status", "published_at"])
    # The new version is the current one of its slug; earlier published versions
    # stay published (their cycles pin them) but are marked superseded.
    superseded = list(
        Framework.objects.filter(
            slug=framework.slug,
            status=Framework.Status.PUBLISHED,
            version__lt=framework.version,
            superseded_at__isnull=True,
        ).values_list("version", flat=True)
    )
    Framework.objects.filter(
        slug=framework.slug, version__in=superseded, status=Framework.Status.PUBLISHED
    ).update(superseded_at=now)
    _audit(
        action="framework.publish",
        framework=framework,
        user=user,
        summary=f"Published {framework}"
        + (
            f"; superseded v{', v'.join(map(str, sorted(superseded)))}"
            if superseded
            else ""
        ),
    )
    return framework


def framework_next_version(*, slug: str) -> int:
    """The next free version number of ``slug`` (1 for a new slug)."""
    latest = Framework.objects.filter(slug=slug).aggregate(latest=Max("version"))[
        "latest"
    ]
    return (latest or 0) + 1


def publish_consequences(*, framework: Framework) -> list[str]:
    """What publishing ``framework`` will do, in words, for the confirmation."""
    from django.apps import apps

    lines = [
        f"{framework} becomes the current version of '{framework.slug}': new cycles "
        "use it, and its content can never be changed again."
    ]
    earlier = Framework.objects.filter(
        slug=framework.slug,
        status=Framework.Status.PUBLISHED,
        version__lt=framework.version,
        superseded_at__isnull=True,
    )
    # Cycles live in a higher app: counted through the app registry, not imported.
    cycle_model = apps.get_model("assessment", "Cycle")
    for old in earlier:
        pinned = cycle_model.objects.filter(framework=old).count()
        lines.append(
            f"{old} stays published for the {pinned} cycle(s) that use it, marked "
            "superseded; it is no longer offered for new cycles. Retiring it is a "
            "separate action."
        )
    if framework.derived_from_slug:
        lines.append(
            "Trends, answers carried forward and movement since the last cycle "
            f"follow its mapping onto {framework.derived_from_slug} "
            f"v{framework.derived_from_version}."
        )
    return lines


@transaction.atomic
def framework_retire(*, framework: Framework, user=None) -> Framework:
    """Retire a published version: it stays readable but no new cycle should use it."""
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    if framework.status != Framework.Status.PUBLISHED:
        raise ValidationError(
            RETIRE_NOT_PUBLISHED_MSG.format(
                framework=framework, status=framework.status
            )
        )
    framework.status = Framework.Status.RETIRED
    framework.save(update_fields=["status"])
    _audit(
        action="framework.retire",
        framework=framework,
        user=user,
        summary=f"Retired {framework}",
    )
    return framework


@transaction.atomic
def framework_new_draft(*, framework: Framework) -> Framework:
    """A deep, independent copy of ``framework`` as the next version of its slug."""
    latest = framework_next_version(slug=framework.slug) - 1
    document = framework_export(framework=framework)
    # The copy is derived from the version it copies: same keys, mapped one to one.
    document.pop("retired", None)
    for capability in document["capabilities"]:
        capability.pop("maps_from", None)
        for question in capability["questions"]:
            question.pop("maps_from", None)
    return framework_import(
        data={
            **document,
            "version": latest + 1,
            "derived_from": {"slug": framework.slug, "version": framework.version},
        }
    )


@transaction.atomic
def framework_delete_draft(*, framework: Framework) -> None:
    """Delete a draft and all its content (lens and level links are RESTRICT, so
    they give way inside this cascade but still guard against deleting a lens alone)."""
    if framework.status != Framework.Status.DRAFT:
        raise ValidationError(
            DELETE_NOT_DRAFT_MSG.format(framework=framework, status=framework.status)
        )
    framework.delete()


def framework_import(
    *,
    data: dict | str | bytes,
    replace: bool = False,
    publish: bool = False,
    user=None,
    version: int | None = None,
    next_version: bool = False,
) -> Framework:
    """Create a framework version from a file's content, all or nothing.

    The new version is a draft unless ``publish`` is set (then it must also pass
    publish validation). ``replace`` overwrites an existing draft of the same slug and
    version; published and retired versions are never touched. ``version`` imports
    the file as that version instead of its own; ``next_version`` as the next free
    version of its slug.
    """
    document = framework_parse(data)
    if next_version and isinstance(document.get("slug"), str):
        version = framework_next_version(slug=document["slug"])
    if version is not None:
        document = {**document, "version": version}
    errors = framework_file_errors(document)
    if errors:
        raise FrameworkFileError(errors)

    with transaction.atomic():
        existing = (
            Framework.objects.select_for_update()
            .filter(slug=document["slug"], version=document["version"])
            .first()
        )
        if existing is not None:
            if existing.status != Framework.Status.DRAFT:
                raise FrameworkFileError(
                    [
                        EXISTS_PUBLISHED_MSG.format(
                            slug=existing.slug,
                            version=existing.version,
                            status=existing.status,
                            next=framework_next_version(slug=existing.slug),
                        )
                    ]
                )
            if not replace:
                raise FrameworkFileError(
                    [
                        EXISTS_DRAFT_MSG.format(
                            slug=existing.slug, version=existing.version
                        )
                    ]
                )
            framework_delete_draft(framework=existing)
        framework = framework_create(document)
        if publish:
            try:
                framework = framework_publish(framework=framework, user=user)
            except ValidationError as exc:
                raise FrameworkFileError(exc.messages) from None
    return framework


def framework_load_shipped(
    *, directory: Path = CONTENT_DIR, versions: Iterable[int] | None = None
) -> list[tuple[Framework, bool]]:
    """Import and publish every shipped file whose (slug, version) is not present yet,
    in version order (each newer edition supersedes the one before it). ``versions``
    limits the load to those version numbers (tests that work on v1 alone).

    Returns (framework, imported) per file; running it again changes nothing.
    """
    wanted = None if versions is None else set(versions)
    documents = [
        framework_parse(path.read_bytes()) for path in directory.glob("*.yaml")
    ]
    documents.sort(key=lambda d: (str(d.get("slug")), d.get("version") or 0))
    results = []
    for document in documents:
        if wanted is not None and document.get("version") not in wanted:
            continue
        existing = Framework.objects.filter(
            slug=str(document.get("slug")), version=document.get("version") or 0
        ).first()
        if existing is not None:
            results.append((existing, False))
        else:
            results.append((framework_import(data=document, publish=True), True))
    return results

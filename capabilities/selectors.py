"""Reads of framework content, for pages and other apps."""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import Http404

from .models import (
    Capability,
    Framework,
    Lens,
    MaturityLevel,
    Question,
    Recommendation,
)

VISIBLE_STATUSES = (Framework.Status.PUBLISHED, Framework.Status.RETIRED)
SAFE_LINK_PREFIXES = ("https://", "http://")


def framework_list_for_user(*, user) -> list[Framework]:
    """Every version the user may read: published and retired ones, drafts for staff."""
    frameworks = Framework.objects.order_by("slug", "-version")
    if not user.is_staff:
        frameworks = frameworks.filter(status__in=VISIBLE_STATUSES)
    return list(frameworks)


def framework_current_list() -> list[Framework]:
    """The latest published version of each framework slug."""
    current: dict[str, Framework] = {}
    for framework in Framework.objects.filter(
        status=Framework.Status.PUBLISHED
    ).order_by("slug", "-version"):
        current.setdefault(framework.slug, framework)
    return list(current.values())


def published_framework_list():
    """Framework versions a new cycle may use (a QuerySet): the current version of
    each slug (published, not superseded by a later one), by slug."""
    return Framework.objects.filter(
        status=Framework.Status.PUBLISHED, superseded_at__isnull=True
    ).order_by("slug", "-version")


def framework_get_for_user(*, user, slug: str, version: int) -> Framework:
    """One version; drafts exist only for staff (404 for everyone else)."""
    framework = Framework.objects.filter(slug=slug, version=version).first()
    if framework is None or (
        framework.status == Framework.Status.DRAFT and not user.is_staff
    ):
        raise Http404("No such framework.")
    return framework


LENS_FIELDS = ("key", "name", "weight", "order")
LEVEL_FIELDS = ("key", "name", "min_percent", "min_lens_score", "colour")


def framework_lenses(*, framework_id: int) -> list[dict]:
    """The framework's lenses in order: ``{key, name, weight, order}`` (one query).
    Weights and minimums are floats."""
    rows = Lens.objects.filter(framework_id=framework_id).order_by("order", "id")
    return [
        {**row, "weight": float(row["weight"])} for row in rows.values(*LENS_FIELDS)
    ]


def framework_levels(*, framework_id: int) -> list[dict]:
    """The framework's maturity levels, lowest band first: ``{key, name,
    min_percent, colour}`` (one query)."""
    rows = MaturityLevel.objects.filter(framework_id=framework_id).order_by(
        "min_percent"
    )
    return [
        {
            **row,
            "min_percent": float(row["min_percent"]),
            "min_lens_score": (
                None if row["min_lens_score"] is None else float(row["min_lens_score"])
            ),
        }
        for row in rows.values(*LEVEL_FIELDS)
    ]


def lens_keys_of(*, frameworks) -> list[str]:
    """The lens keys of several frameworks, in lens order, each once (one query)."""
    rows = Lens.objects.filter(framework__in=frameworks).order_by("order", "id")
    return list(dict.fromkeys(rows.values_list("key", flat=True)))


def lens_weights(lenses: list[dict]) -> dict[str, float]:
    """Lens key -> default weight, in lens order (from ``framework_lenses``)."""
    return {lens["key"]: lens["weight"] for lens in lenses}


def level_bands(levels: list[dict]) -> list[tuple[str, float, float | None]]:
    """(key, minimum percent, minimum lens score or None) per level, lowest first
    (from ``framework_levels``): what ``assessment.scoring`` bands percents with."""
    return [
        (level["key"], level["min_percent"], level.get("min_lens_score"))
        for level in levels
    ]


@dataclass
class LensQuestions:
    lens: Lens
    questions: list[Question]


@dataclass
class LevelRecommendations:
    level: object
    recommendations: list[Recommendation]


@dataclass
class CapabilityContent:
    capability: Capability
    lenses: list[LensQuestions] = field(default_factory=list)
    levels: list[LevelRecommendations] = field(default_factory=list)


@dataclass
class FrameworkContent:
    framework: Framework
    lenses: list
    levels: list
    domains: list
    capabilities: list[CapabilityContent]

    @property
    def question_count(self) -> int:
        return sum(len(g.questions) for c in self.capabilities for g in c.lenses)


def framework_content(*, framework: Framework) -> FrameworkContent:
    """Everything the content page shows, in a fixed number of queries.

    Questions are grouped by lens (in lens order) and recommendations by maturity
    level (in band order); links that are not http(s) are dropped.
    """
    lenses = list(framework.lenses.order_by("order", "id"))
    levels = list(framework.levels.order_by("min_percent"))
    domains = list(framework.domains.order_by("order", "id"))
    capabilities = list(
        framework.capabilities.select_related("domain")
        .prefetch_related(
            Prefetch(
                "questions",
                queryset=Question.objects.order_by("order", "id").prefetch_related(
                    "options"
                ),
            ),
            Prefetch(
                "recommendations",
                queryset=Recommendation.objects.order_by("order", "id"),
            ),
        )
        .order_by("order", "id")
    )
    lens_by_id = {lens.id: lens for lens in lenses}
    level_by_id = {level.id: level for level in levels}
    content = []
    for capability in capabilities:
        questions = list(capability.questions.all())
        recommendations = list(capability.recommendations.all())
        for recommendation in recommendations:
            recommendation.safe_links = [
                link
                for link in recommendation.links
                if isinstance(link, dict)
                and str(link.get("url", "")).startswith(SAFE_LINK_PREFIXES)
            ]
            recommendation.lens_obj = lens_by_id.get(recommendation.lens_id)
            recommendation.level_obj = level_by_id.get(recommendation.level_id)
        content.append(
            CapabilityContent(
                capability=capability,
                lenses=[
                    LensQuestions(lens, [q for q in questions if q.lens_id == lens.id])
                    for lens in lenses
                    if any(q.lens_id == lens.id for q in questions)
                ],
                levels=[
                    LevelRecommendations(
                        level, [r for r in recommendations if r.level_id == level.id]
                    )
                    for level in levels
                    if any(r.level_id == level.id for r in recommendations)
                ],
            )
        )
    return FrameworkContent(framework, lenses, levels, domains, content)

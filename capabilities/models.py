"""The questionnaire content: versioned frameworks of capabilities, lenses and questions.

A published framework is immutable: assessments pin the version they were answered
against, so old results never change meaning. To change content, make a new draft
version (``services.framework_new_draft``), edit it, and publish it.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .measures import MEASURE_KEYS, measure_problems

PUBLISHED_IS_IMMUTABLE_MSG = (
    "Framework {framework} is published and cannot be changed. "
    "Create a new draft version to edit it."
)
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
COLOUR_MSG = "Enter a colour like #1a2b3c."
LINKS_MSG = 'Links must be a list of {"title": "...", "url": "https://..."} objects.'


DEFAULT_EDITION = {"key": "learn-2024", "name": "Microsoft Learn 2024 seed"}
# Offered when a framework declares no ``na_reasons`` catalogue of its own.
DEFAULT_NA_REASONS = (
    {"key": "not_in_scope", "label": "Not in this team's scope"},
    {"key": "central_only", "label": "Handled only by the central FinOps function"},
    {"key": "no_such_spend", "label": "The organisation has no spend of this kind"},
    {"key": "other", "label": "Another reason (explain in the comment)"},
)
MAPPING_KINDS = ("same", "renamed", "split", "merged", "new")


class PublishedFrameworkError(ValidationError):
    """Raised when anything under a published framework would be written (the API
    answers 409 Conflict)."""

    http_status = 409


class Framework(models.Model):
    """One version of a questionnaire (a FinOps Framework domain and its capabilities)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    slug = models.SlugField(max_length=80)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source_url = models.URLField(blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The edition the content comes from (see ``DEFAULT_EDITION`` when unset).
    edition_key = models.SlugField("edition key", max_length=60, blank=True)
    edition_name = models.CharField("edition name", max_length=200, blank=True)
    edition_source_url = models.URLField("edition source URL", blank=True)
    # The version this one was derived from: what the ``maps_from`` keys refer to.
    derived_from_slug = models.SlugField(max_length=80, blank=True)
    derived_from_version = models.PositiveIntegerField(null=True, blank=True)
    na_reasons = models.JSONField(
        "N/A reasons",
        default=list,
        blank=True,
        help_text='[{"key": "not_in_scope", "label": "Not in this team\'s scope"}, ...]; '
        "empty for the built-in catalogue.",
    )
    retired_capabilities = models.JSONField(
        default=list,
        blank=True,
        help_text="Keys of capabilities of the derived-from version with no successor.",
    )
    retired_questions = models.JSONField(
        default=list,
        blank=True,
        help_text="Keys of questions of the derived-from version with no successor.",
    )
    # Set when a later version of the slug is published: the version stays
    # published (its cycles pin it) but is no longer offered for new cycles.
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "version"], name="framework_slug_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="framework_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("capabilities:framework", args=[self.slug, self.version])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def is_superseded(self) -> bool:
        return self.is_published and self.superseded_at is not None

    @property
    def is_current(self) -> bool:
        return self.is_published and self.superseded_at is None

    @property
    def edition(self) -> dict:
        """The edition as in the content file; the default one when unset."""
        if not self.edition_key:
            return dict(DEFAULT_EDITION)
        edition = {"key": self.edition_key, "name": self.edition_name}
        if self.edition_source_url:
            edition["source_url"] = self.edition_source_url
        return edition

    @property
    def derived_from(self) -> dict | None:
        if not self.derived_from_slug:
            return None
        return {"slug": self.derived_from_slug, "version": self.derived_from_version}

    @property
    def na_reason_catalogue(self) -> list[dict]:
        """The N/A reasons respondents may choose from (the built-in ones when the
        framework declares none)."""
        return list(self.na_reasons) if self.na_reasons else list(DEFAULT_NA_REASONS)

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def save(self, *args, **kwargs):
        # Content fields of a published or retired version never change; only the
        # status may move on (published -> retired).
        if self.pk:
            stored = (
                Framework.objects.filter(pk=self.pk)
                .values(*FRAMEWORK_CONTENT_FIELDS, "status")
                .first()
            )
            if stored and stored["status"] != self.Status.DRAFT:
                changed = [
                    f for f in FRAMEWORK_CONTENT_FIELDS if stored[f] != getattr(self, f)
                ]
                if changed or self.status == self.Status.DRAFT:
                    raise PublishedFrameworkError(
                        PUBLISHED_IS_IMMUTABLE_MSG.format(framework=self)
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != self.Status.DRAFT:
            raise PublishedFrameworkError(
                PUBLISHED_IS_IMMUTABLE_MSG.format(framework=self)
            )
        return super().delete(*args, **kwargs)


FRAMEWORK_CONTENT_FIELDS = (
    "slug",
    "version",
    "title",
    "description",
    "source_url",
    "edition_key",
    "edition_name",
    "edition_source_url",
    "derived_from_slug",
    "derived_from_version",
    "na_reasons",
    "retired_capabilities",
    "retired_questions",
)


class FrameworkContent(models.Model):
    """Base for everything under a framework: refuses writes once it is published."""

    class Meta:
        abstract = True

    def owning_framework(self) -> Framework:
        raise NotImplementedError

    def _refuse_if_published(self) -> None:
        framework = self.owning_framework()
        if framework.status != Framework.Status.DRAFT:
            raise PublishedFrameworkError(
                PUBLISHED_IS_IMMUTABLE_MSG.format(framework=framework)
            )

    def save(self, *args, **kwargs):
        self._refuse_if_published()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_published()
        return super().delete(*args, **kwargs)


class Lens(FrameworkContent):
    """One of the Foundation's five lenses, with what each score 0..4 means for it."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="lenses"
    )
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=20)
    level_0 = models.TextField("score 0 means", blank=True)
    level_1 = models.TextField("score 1 means", blank=True)
    level_2 = models.TextField("score 2 means", blank=True)
    level_3 = models.TextField("score 3 means", blank=True)
    level_4 = models.TextField("score 4 means", blank=True)

    class Meta:
        ordering = ["framework", "order", "id"]
        verbose_name_plural = "lenses"
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "key"], name="lens_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="lens_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def owning_framework(self) -> Framework:
        return self.framework

    @property
    def levels(self) -> list[str]:
        return [self.level_0, self.level_1, self.level_2, self.level_3, self.level_4]


class MaturityLevel(FrameworkContent):
    """A maturity band: a score of at least ``min_percent`` reaches this level."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="levels"
    )
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=80)
    min_percent = models.DecimalField(max_digits=5, decimal_places=2)
    min_lens_score = models.DecimalField(
        "minimum lens score",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Optional: every answered lens of the capability must score at "
        "least this (0-4) for the level to be reached.",
    )
    description = models.TextField(blank=True)
    colour = models.CharField(max_length=7, default="#999999")

    class Meta:
        ordering = ["framework", "min_percent"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "key"], name="level_key_unique"
            ),
            models.UniqueConstraint(
                fields=["framework", "min_percent"], name="level_min_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_percent__gte=0) & Q(min_percent__lte=100),
                name="level_min_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(min_lens_score__isnull=True)
                | (Q(min_lens_score__gte=0) & Q(min_lens_score__lte=4)),
                name="level_min_lens_score_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def owning_framework(self) -> Framework:
        return self.framework

    def clean(self) -> None:
        if not COLOUR_RE.match(self.colour or ""):
            raise ValidationError({"colour": COLOUR_MSG})


class Domain(FrameworkContent):
    """A FinOps Framework domain, grouping capabilities."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="domains"
    )
    key = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["framework", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "key"], name="domain_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def owning_framework(self) -> Framework:
        return self.framework


class Capability(FrameworkContent):
    """A FinOps capability, assessed through questions tagged by lens."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="capabilities"
    )
    domain = models.ForeignKey(
        Domain, on_delete=models.CASCADE, related_name="capabilities"
    )
    key = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    docs_url = models.URLField("Microsoft Learn URL", blank=True)
    foundation_url = models.URLField("FinOps Foundation URL", blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=8,
        choices=[("active", "Active"), ("retired", "Retired")],
        default="active",
        help_text="Retired: still answerable, shown as retired by the edition.",
    )
    maps_from = models.JSONField(
        "maps from",
        default=dict,
        blank=True,
        help_text='{"kind": "renamed", "from": ["old-key"]}; kinds: same, renamed, '
        "split, merged, new. Empty: the same key of the derived-from version, "
        "or new.",
    )
    scopes = models.JSONField(
        default=list, blank=True, help_text='["public_cloud", ...]'
    )

    class Meta:
        ordering = ["framework", "order", "id"]
        verbose_name_plural = "capabilities"
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "key"], name="capability_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def owning_framework(self) -> Framework:
        return self.framework

    def clean(self) -> None:
        if (
            self.domain_id
            and self.framework_id
            and self.domain.framework_id != self.framework_id
        ):
            raise ValidationError(
                {"domain": "The domain belongs to another framework."}
            )


class Question(FrameworkContent):
    """One question about a capability, seen through one lens."""

    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, related_name="questions"
    )
    lens = models.ForeignKey(Lens, on_delete=models.RESTRICT, related_name="questions")
    key = models.SlugField(max_length=80)
    prompt = models.TextField()
    help_text = models.TextField(blank=True)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    allow_na = models.BooleanField("may be answered N/A", default=False)
    order = models.PositiveSmallIntegerField(default=0)
    audience = models.CharField(
        max_length=8,
        choices=[("team", "Every team"), ("central", "The central FinOps function")],
        default="team",
    )
    # None: the v1 form (``allow_na`` alone, any reason of the catalogue); a list:
    # the file's ``na`` block, with the reasons a respondent may give (empty: all).
    na_reasons = models.JSONField(
        "N/A reasons",
        null=True,
        blank=True,
        help_text='Reason keys of the framework\'s catalogue, e.g. ["not_in_scope"]; '
        "empty for any reason.",
    )
    evidence_prompt = models.TextField(
        blank=True, help_text="What would show this: an artefact a team could link."
    )
    maps_from = models.JSONField(
        "maps from",
        default=dict,
        blank=True,
        help_text='{"kind": "same", "from": ["old-question-key"]}',
    )
    scopes = models.JSONField(default=list, blank=True)
    # A FOCUS cost-data measure that informs this question (content: see measures.py).
    measure_key = models.CharField(
        "measure",
        max_length=40,
        blank=True,
        choices=[(key, name) for key, (name, _unit) in MEASURE_KEYS.items()],
        help_text="A measure from the organisation's FOCUS cost data that suggests a score.",
    )
    measure_bands = models.JSONField(
        "measure bands",
        default=list,
        blank=True,
        help_text='Ascending: [{"min": 0, "score": 1}, {"min": 25, "score": 2}, ...]; '
        "a value suggests the score of the highest band whose min it reaches.",
    )

    class Meta:
        ordering = ["capability__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["capability", "key"], name="question_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="question_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def owning_framework(self) -> Framework:
        return self.capability.framework

    def clean(self) -> None:
        if (
            self.lens_id
            and self.capability_id
            and self.lens.framework_id != self.capability.framework_id
        ):
            raise ValidationError({"lens": "The lens belongs to another framework."})
        if self.measure_key or self.measure_bands:
            problems = measure_problems(
                {"key": self.measure_key, "bands": self.measure_bands}
            )
            if problems:
                field = "measure_key" if not self.measure_key else "measure_bands"
                raise ValidationError({field: problems})

    @property
    def is_central(self) -> bool:
        return self.audience == "central"

    def na_reason_choices(self) -> list[dict]:
        """The N/A reasons a respondent may give here (empty when N/A is refused)."""
        if not self.allow_na:
            return []
        catalogue = self.capability.framework.na_reason_catalogue
        if not self.na_reasons:
            return catalogue
        allowed = set(self.na_reasons)
        return [reason for reason in catalogue if reason["key"] in allowed]

    @property
    def na_reason_required(self) -> bool:
        """A reason is required for N/A once the content says which reasons apply
        (a framework catalogue or a question's ``na`` block); v1 content, which has
        neither, keeps N/A without a reason."""
        return self.allow_na and (
            self.na_reasons is not None or bool(self.capability.framework.na_reasons)
        )

    @property
    def measure(self) -> dict | None:
        """The question's ``measure`` block as in the framework file, or None."""
        if not self.measure_key:
            return None
        return {"key": self.measure_key, "bands": list(self.measure_bands)}


class AnswerOption(FrameworkContent):
    """A graded answer to a question: what score 0..4 looks like for it."""

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="options"
    )
    score = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["question", "score"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "score"], name="option_score_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=4), name="option_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}: {self.label}"

    def owning_framework(self) -> Framework:
        return self.question.capability.framework


class Recommendation(FrameworkContent):
    """A next step for a team whose capability score falls in ``level``'s band."""

    class Size(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, related_name="recommendations"
    )
    lens = models.ForeignKey(
        Lens,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="recommendations",
    )
    level = models.ForeignKey(
        MaturityLevel, on_delete=models.RESTRICT, related_name="recommendations"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    links = models.JSONField(
        default=list, blank=True, help_text='[{"title": "...", "url": "https://..."}]'
    )
    effort = models.CharField(max_length=8, choices=Size.choices, default=Size.MEDIUM)
    impact = models.CharField(max_length=8, choices=Size.choices, default=Size.MEDIUM)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["capability__order", "level__min_percent", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def owning_framework(self) -> Framework:
        return self.capability.framework

    def clean(self) -> None:
        links = self.links if isinstance(self.links, list) else None
        if links is None or not all(
            isinstance(link, dict)
            and set(link) == {"title", "url"}
            and isinstance(link["title"], str)
            and str(link["url"]).startswith(("https://", "http://"))
            for link in links
        ):
            raise ValidationError({"links": LINKS_MSG})
        framework_id = self.capability.framework_id if self.capability_id else None
        if self.level_id and framework_id and self.level.framework_id != framework_id:
            raise ValidationError({"level": "The level belongs to another framework."})
        if self.lens_id and framework_id and self.lens.framework_id != framework_id:
            raise ValidationError({"lens": "The lens belongs to another framework."})

"""Organisations, their team tree, assessment cycles, and the answers teams give.

Answers are the one thing that must never be lost: each has a version for
optimistic concurrency and every change is kept in ``AnswerChange``.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from capabilities.models import AnswerOption, Capability, Framework, Question

TIME_ZONE_MSG = "Enter a time zone name such as Europe/Paris or America/New_York."


def validate_time_zone(value: str) -> None:
    """An IANA time zone name this machine knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(TIME_ZONE_MSG) from None


def counts_as_answered(
    *, has_option: bool, not_applicable: bool, allow_na: bool
) -> bool:
    """The one rule of what counts as answered: a chosen option, or N/A on a question
    that may be answered N/A. ``answered_q`` is its SQL; ``scores.answers_frame``
    applies it to the scoring frame (the three are tested to agree)."""
    return has_option or (not_applicable and allow_na)


def answered_q(*, answer: str = "", question: str = "question__") -> Q:
    """``counts_as_answered`` as a query condition; ``answer`` and ``question`` are
    the paths from the query's model to the answer and to its question."""
    return Q(**{f"{answer}option__isnull": False}) | Q(
        **{f"{answer}not_applicable": True, f"{question}allow_na": True}
    )


class Organization(models.Model):
    """A company or group using the portal; nothing of one is visible to another."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    anonymity_threshold = models.PositiveSmallIntegerField(
        "anonymity threshold (k)",
        default=5,
        help_text="Benchmark groups with fewer teams than this are hidden from respondents.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text='Decides when a due date is "today" and how dates are shown '
        '(an IANA name such as "Europe/Paris").',
    )
    central_team = models.ForeignKey(
        "Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The central FinOps function: it answers the questions whose "
        "audience is central, for every team of the organisation.",
    )
    # Bumped by every change of the organisation's targets: part of the cache keys
    # of figures that show gaps (see ``targets``).
    targets_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymity_threshold__gte=1), name="org_k_positive"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.central_team_id
            and self.pk
            and self.central_team.organization_id != self.pk
        ):
            raise ValidationError(
                {
                    "central_team": "The central team must be a team of this organisation."
                }
            )


class Team(models.Model):
    """A node of an organisation's tree: a business unit (which contains teams) or a team."""

    class Kind(models.TextChoices):
        BUSINESS_UNIT = "business_unit", "Business unit"
        TEAM = "team", "Team"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="teams"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEAM)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped whenever one of the team's assessments is submitted or reopened: part
    # of the cache key of its team reports, whose trend spans every cycle.
    history_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="team_name_unique"
            ),
        ]
        indexes = [models.Index(fields=["organization", "parent"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_business_unit(self) -> bool:
        return self.kind == self.Kind.BUSINESS_UNIT


class Membership(models.Model):
    """A user's role in an organisation, optionally tied to one team (respondents)."""

    class Role(models.TextChoices):
        RESPONDENT = "respondent", "Respondent"
        LEAD = "lead", "FinOps lead"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
    )
    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.RESPONDENT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "team"], name="membership_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "organization"],
                condition=Q(team__isnull=True),
                name="membership_org_unique",
            ),
        ]

    def __str__(self) -> str:
        where = self.team or self.organization
        return f"{self.user} ({self.get_role_display()}, {where})"

    @property
    def is_lead(self) -> bool:
        return self.role == self.Role.LEAD


class AnsweringMode(models.TextChoices):
    """How a team answers: one shared answer set, or each member on their own and a
    facilitator settles the team's answer (see ``consensus``)."""

    SINGLE = "single", "One answer set per team"
    CONSENSUS = "consensus", "Each member answers; a facilitator settles"


class Cycle(models.Model):
    """An assessment round: one framework version, teams and capabilities in scope."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    Mode = AnsweringMode

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="cycles"
    )
    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="cycles"
    )
    name = models.CharField(max_length=200)
    opens_on = models.DateField(null=True, blank=True)
    closes_on = models.DateField("due date", null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    teams = models.ManyToManyField(Team, related_name="cycles", blank=True)
    capabilities = models.ManyToManyField(
        Capability, related_name="cycles", blank=True, help_text="Leave empty for all."
    )
    lens_weights = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"knowledge": 30, ...}; empty for the framework default.',
    )
    # The answering mode new assessments of the cycle get; each assessment keeps
    # its own (``Assessment.mode``), so one team may run in consensus mode.
    mode = models.CharField(
        "answering mode",
        max_length=16,
        choices=AnsweringMode.choices,
        default=AnsweringMode.SINGLE,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change of the cycle's stored team scores (submit, reopen,
    # import): roll-ups record the generation they computed, so a sweeper can tell
    # which cycles are stale (see ``cycles.cycle_scores_changed``).
    scores_generation = models.PositiveIntegerField(default=0, editable=False)
    scores_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organization", "-opens_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="cycle_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def is_overdue(self) -> bool:
        """Still open after its due date in the organisation's time zone (the day
        itself is not late; ``cycles.cycle_due_state`` says the same)."""
        if not self.is_open or self.closes_on is None:
            return False
        zone = ZoneInfo(self.organization.time_zone or "UTC")
        return self.closes_on < timezone.now().astimezone(zone).date()


class Assessment(models.Model):
    """One team's answers to one cycle."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="assessments"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="assessments")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.NOT_STARTED
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    mode = models.CharField(
        "answering mode",
        max_length=16,
        choices=AnsweringMode.choices,
        default=AnsweringMode.SINGLE,
    )
    # In consensus mode: the member who settles the team's answers (leads always may).
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The cycle's ``scores_generation`` when this assessment's stored scores last
    # changed (submit, reopen): the roll-up updates only the teams changed since the
    # generation it last computed (see ``cycles.cycle_scores_changed``).
    scores_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["cycle", "team__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "team"], name="assessment_cycle_team_unique"
            )
        ]
        indexes = [models.Index(fields=["cycle", "status"])]

    def __str__(self) -> str:
        return f"{self.team} - {self.cycle}"

    def get_absolute_url(self) -> str:
        return reverse("assessment:questionnaire", args=[self.pk])

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def is_consensus(self) -> bool:
        return self.mode == AnsweringMode.CONSENSUS


class Answer(models.Model):
    """A team's answer to one question: an option, or not applicable.

    One row per (assessment, question) holds the team's answer. A later mode where
    each member answers on their own can add per-respondent rows beside this one
    (a nullable respondent column) without changing how the team answer is read.
    """

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers"
    )
    option = models.ForeignKey(
        AnswerOption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answers",
    )
    not_applicable = models.BooleanField(default=False)
    na_reason = models.SlugField(
        "N/A reason",
        max_length=40,
        blank=True,
        default="",
        # Bulk COPYs of answers (demo, benchmarks) name only the older columns.
        db_default="",
        help_text="Key of the framework's N/A reason given with a N/A answer.",
    )
    # Pre-filled from the team's last submitted assessment when the cycle opened;
    # cleared when a respondent confirms or changes the answer.
    carried_forward = models.BooleanField(default=False, db_default=False)
    comment = models.TextField(blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["assessment", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question"], name="answer_unique"
            ),
            models.CheckConstraint(
                condition=~(Q(option__isnull=False) & Q(not_applicable=True)),
                name="answer_option_or_na",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.question_id}"

    @property
    def is_answered(self) -> bool:
        """See ``counts_as_answered`` (reads the question's ``allow_na``)."""
        return counts_as_answered(
            has_option=self.option_id is not None,
            not_applicable=self.not_applicable,
            allow_na=self.not_applicable and self.question.allow_na,
        )


class AnswerChange(models.Model):
    """One change to an answer: who, when, and the values before and after."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField()
    old = models.JSONField(default=dict)
    new = models.JSONField(default=dict)

    class Meta:
        ordering = ["answer", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "version"], name="answer_change_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.answer} v{self.version}"


class RespondentAnswer(models.Model):
    """One member's own answer to one question of a consensus-mode assessment.

    The team's answer (``Answer``) is what the facilitator settles; these are kept
    beside it. ``private_note`` is for the facilitator only."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="respondent_answers"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    option = models.ForeignKey(
        AnswerOption, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    not_applicable = models.BooleanField(default=False)
    comment = models.TextField(blank=True)
    private_note = models.TextField("note for the facilitator", blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["assessment", "question", "respondent"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "respondent", "question"],
                name="respondent_answer_unique",
            ),
            models.CheckConstraint(
                condition=~(Q(option__isnull=False) & Q(not_applicable=True)),
                name="respondent_answer_option_or_na",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.question_id}/{self.respondent_id}"

    @property
    def answered_by(self):
        """The respondent (the name ``Answer`` uses, so templates read both)."""
        return self.respondent

    # What ``Answer`` has and a member's own answer does not (no N/A reason is
    # kept per member; nothing is carried forward into a member's answers).
    na_reason = ""
    carried_forward = False

    @property
    def is_answered(self) -> bool:
        return counts_as_answered(
            has_option=self.option_id is not None,
            not_applicable=self.not_applicable,
            allow_na=self.not_applicable and self.question.allow_na,
        )


class RespondentAnswerChange(models.Model):
    """One change to a respondent's own answer (as ``AnswerChange``)."""

    answer = models.ForeignKey(
        RespondentAnswer, on_delete=models.CASCADE, related_name="changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField()
    old = models.JSONField(default=dict)
    new = models.JSONField(default=dict)

    class Meta:
        ordering = ["answer", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "version"], name="respondent_answer_change_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.answer} v{self.version}"


class RespondentSubmission(models.Model):
    """A member submitted their own answers to a consensus-mode assessment: from
    then on they see the other members' answers."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="respondent_submissions"
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assessment", "submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "respondent"], name="respondent_submission_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.respondent} submitted {self.assessment}"


class Settlement(models.Model):
    """How the facilitator settled the team's answer to one question: the note, and
    whether the proposed default (the median) was confirmed. The settled value
    itself is the team's ``Answer``."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="settlements"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    used_default = models.BooleanField(default=False)
    # The disagreement (range of individual scores) when it was settled.
    spread = models.FloatField(null=True, blank=True)
    respondents = models.PositiveSmallIntegerField(default=0)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    settled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assessment", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question"], name="settlement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id}/{self.question_id} settled"


class AssessmentReopen(models.Model):
    """A lead reopened a submitted assessment; the reason is kept."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="reopens"
    )
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reopened_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()

    class Meta:
        ordering = ["-reopened_at"]

    def __str__(self) -> str:
        return f"{self.assessment} reopened"


class Target(models.Model):
    """The score (percent) a team, or by default every team of an organisation, aims for.

    Keyed by capability key rather than row, so targets outlive framework versions.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="targets"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="targets"
    )
    capability_key = models.SlugField(max_length=60)
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "team", "capability_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "capability_key"],
                condition=Q(team__isnull=True),
                name="target_org_default_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "team", "capability_key"],
                name="target_team_unique",
            ),
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100),
                name="target_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.team or self.organization}: {self.capability_key} {self.percent}%"
        )


class CapabilityScore(models.Model):
    """A team's stored score for one capability in one assessment (written on submit)."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scores"
    )
    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, related_name="+"
    )
    lens_scores = models.JSONField(default=dict, help_text="lens key -> mean score 0-4")
    percent = models.FloatField(null=True)
    level_key = models.CharField(max_length=40, blank=True)
    answered = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    # Consensus mode only: mean over the capability's questions of the range (max -
    # min, 0-4) of the members' individual scores (``disagreement``); null otherwise.
    disagreement = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assessment", "capability__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "capability"], name="score_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessment}: {self.capability} {self.percent}"


class Affiliation(models.Model):
    """A person known to belong to an organisation, whether or not they hold a role
    in it now: they signed in through its single sign-on, accepted one of its
    invitations, or held a role in it. A lead gives roles only to the
    organisation's people (these, and current members); anyone else is invited."""

    class Source(models.TextChoices):
        MEMBERSHIP = "membership", "Held a role"
        INVITATION = "invitation", "Accepted an invitation"
        SSO = "sso", "Signed in through the organisation's single sign-on"
        CREATED = "created", "Account created for the organisation"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="affiliations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliations"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="affiliation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} of {self.organization} ({self.get_source_display()})"


class Invitation(models.Model):
    """An invitation, sent to an email address, to take a role in an organisation.
    The person opens the link, signs in or creates an account, and accepts. Only a
    SHA-256 digest of the link's key is stored."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=16,
        choices=Membership.Role.choices,
        default=Membership.Role.RESPONDENT,
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["organization", "-created_at"]
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @property
    def where(self) -> str:
        return self.team.name if self.team_id else self.organization.name


class FrameworkDryRun(models.Model):
    """Staff scored an organisation's last closed cycle against a framework version
    (usually a draft) to see how scores would move: its progress and result. The
    run reads the organisation's answers and writes nothing of the organisation's."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="dry_runs"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dry run of {self.framework} on {self.organization}"

    @property
    def percent(self) -> int:
        return int(self.done * 100 // self.total) if self.total else 0

"""Shapes of the assessment API. Input serializers check shape only and refuse
unknown fields; the services in ``assessment.services`` / ``assessment.cycles``
decide everything else."""

from rest_framework import serializers

from assessment.exceptions import AnswerConflict
from assessment.models import (
    Answer,
    AnswerChange,
    Assessment,
    Cycle,
    Invitation,
    Membership,
    Organization,
    Team,
)
from finops_portal.api import StrictInputSerializer
from finops_portal.errors import error_body

# --- organisations, teams, memberships ------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "anonymity_threshold"]
        extra_kwargs = {
            "id": {"help_text": "Organisation id."},
            "name": {"help_text": "Name of the organisation."},
            "slug": {"help_text": "Short name used in URLs and filters."},
        }


class TeamSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the organisation."
    )

    class Meta:
        model = Team
        fields = ["id", "organization", "parent", "name", "kind"]
        extra_kwargs = {
            "id": {"help_text": "Team id."},
            "parent": {"help_text": "Id of the business unit above; null at the top."},
            "name": {"help_text": "Name, unique within the organisation."},
            "kind": {"help_text": "business_unit (contains teams) or team."},
        }


class TeamTreeNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="team.id", help_text="Team id.")
    name = serializers.CharField(source="team.name", help_text="Name of the node.")
    kind = serializers.CharField(source="team.kind", help_text="business_unit or team.")
    parent = serializers.IntegerField(
        source="team.parent_id", allow_null=True, help_text="Id of the parent unit."
    )
    depth = serializers.IntegerField(help_text="0 at the top level.")
    path = serializers.CharField(help_text="Names of the business units above it.")
    children = serializers.IntegerField(help_text="Number of direct children.")
    teams_below = serializers.IntegerField(help_text="Number of teams below it.")
    members = serializers.IntegerField(help_text="Number of direct members.")


class TeamCreateSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text="Slug of the organisation.")
    name = serializers.CharField(max_length=200, help_text="Name of the node.")
    kind = serializers.ChoiceField(
        choices=Team.Kind.choices,
        default=Team.Kind.TEAM,
        help_text="business_unit or team.",
    )
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Id of the business unit to add it under; omit for the top level.",
    )


class TeamUpdateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, help_text="New name.")
    kind = serializers.ChoiceField(
        choices=Team.Kind.choices, required=False, help_text="business_unit or team."
    )
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Id of the new parent unit; null moves it to the top level.",
    )


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.CharField(
        source="user.username", read_only=True, help_text="Username of the member."
    )
    organization = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the organisation."
    )

    class Meta:
        model = Membership
        fields = ["id", "user", "organization", "team", "role", "created_at"]
        extra_kwargs = {
            "id": {"help_text": "Membership id."},
            "team": {"help_text": "Team id; null for an organisation-wide role."},
            "role": {"help_text": "respondent or lead."},
            "created_at": {"help_text": "When the membership was added."},
        }


class MembershipCreateSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text="Slug of the organisation.")
    user = serializers.CharField(
        max_length=254,
        help_text="Username or email of one of the organisation's people; the email "
        "of anyone else, who is sent an invitation (202).",
    )
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, help_text="respondent or lead."
    )
    team = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Team id (respondents need one); omit for organisation-wide.",
    )


class InvitationSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the organisation."
    )
    invited_by = serializers.CharField(
        source="invited_by.username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Username of the lead who sent it.",
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "organization",
            "team",
            "role",
            "invited_by",
            "created_at",
            "expires_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "Invitation id."},
            "email": {"help_text": "The address the invitation was sent to."},
            "team": {"help_text": "Team id; null for an organisation-wide role."},
            "role": {"help_text": "respondent or lead."},
            "created_at": {"help_text": "When it was (last) sent."},
            "expires_at": {"help_text": "When its link stops working."},
        }


class MembershipUpdateSerializer(StrictInputSerializer):
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, help_text="respondent or lead."
    )


# --- cycles -------------------------------------------------------------------------


class CycleSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the organisation."
    )
    teams = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of the teams in scope."
    )
    capabilities = serializers.SlugRelatedField(
        many=True,
        slug_field="key",
        read_only=True,
        help_text="Keys of the capabilities in scope; empty means all.",
    )
    lens_weights = serializers.DictField(
        child=serializers.FloatField(),
        read_only=True,
        help_text="Lens key -> weight; empty means the framework's default.",
    )

    class Meta:
        model = Cycle
        fields = [
            "id",
            "organization",
            "framework",
            "name",
            "opens_on",
            "closes_on",
            "status",
            "teams",
            "capabilities",
            "lens_weights",
            "created_at",
            "opened_at",
            "closed_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "Cycle id."},
            "framework": {"help_text": "Id of the framework version answered."},
            "name": {"help_text": "Name, unique within the organisation."},
            "opens_on": {"help_text": "Opening date."},
            "closes_on": {"help_text": "Due date."},
            "status": {"help_text": "planned, open or closed."},
            "created_at": {"help_text": "When the cycle was planned."},
            "opened_at": {"help_text": "When it was opened."},
            "closed_at": {"help_text": "When it was closed."},
        }


class CycleCreateSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text="Slug of the organisation.")
    framework = serializers.IntegerField(
        min_value=1, help_text="Id of a published framework version."
    )
    name = serializers.CharField(max_length=200, help_text="Name of the cycle.")
    opens_on = serializers.DateField(
        required=False, allow_null=True, help_text="Opening date."
    )
    closes_on = serializers.DateField(
        required=False, allow_null=True, help_text="Due date."
    )
    teams = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=100000,
        help_text="Team ids in scope; omit for every team.",
    )
    capabilities = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="Capability ids in scope; omit or empty for all.",
    )
    lens_weights = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text='Lens key -> positive weight, e.g. {"knowledge": 30, ...}.',
    )


class CycleUpdateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, help_text="New name.")
    opens_on = serializers.DateField(
        required=False, allow_null=True, help_text="Opening date."
    )
    closes_on = serializers.DateField(
        required=False, allow_null=True, help_text="Due date."
    )
    teams = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=100000,
        help_text="Team ids in scope (planned cycles only).",
    )
    capabilities = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="Capability ids in scope; empty for all (planned cycles only).",
    )
    lens_weights = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Lens key -> weight; empty for the default (planned cycles only).",
    )


class CompletionRowSerializer(serializers.Serializer):
    assessment_id = serializers.IntegerField(help_text="Assessment id.")
    team_id = serializers.IntegerField(help_text="Team id.")
    team_name = serializers.CharField(help_text="Team name.")
    unit_path = serializers.CharField(help_text="Business units above the team.")
    status = serializers.CharField(help_text="not_started, in_progress or submitted.")
    answered = serializers.IntegerField(help_text="Questions answered.")
    total = serializers.IntegerField(help_text="Questions in scope.")
    percent = serializers.IntegerField(help_text="Answered, percent.")
    last_activity_at = serializers.DateTimeField(
        allow_null=True, help_text="Last change."
    )
    submitted_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was submitted."
    )
    submitted_by = serializers.CharField(help_text="Username of the submitter.")


# --- assessments --------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Questions answered (or N/A).")
    total = serializers.IntegerField(help_text="Questions in scope.")
    percent = serializers.IntegerField(help_text="Answered, percent (0-100).")


class CapabilityProgressSerializer(ProgressSerializer):
    capability_id = serializers.IntegerField(help_text="Capability id.")
    key = serializers.CharField(help_text="Capability key.")
    name = serializers.CharField(help_text="Capability name.")
    complete = serializers.BooleanField(help_text="Every question answered.")


class FullProgressSerializer(ProgressSerializer):
    complete = serializers.BooleanField(help_text="Every question answered.")
    capabilities = CapabilityProgressSerializer(
        many=True, help_text="Progress per capability."
    )


class AssessmentSerializer(serializers.ModelSerializer):
    cycle_name = serializers.CharField(
        source="cycle.name", read_only=True, help_text="Name of the cycle."
    )
    cycle_status = serializers.CharField(
        source="cycle.status", read_only=True, help_text="Status of the cycle."
    )
    closes_on = serializers.DateField(
        source="cycle.closes_on",
        read_only=True,
        allow_null=True,
        help_text="Due date of the cycle.",
    )
    team_name = serializers.CharField(
        source="team.name", read_only=True, help_text="Name of the team."
    )
    submitted_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of whoever submitted it.",
    )
    progress = ProgressSerializer(read_only=True, help_text="Answered of total.")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "cycle",
            "cycle_name",
            "cycle_status",
            "closes_on",
            "team",
            "team_name",
            "status",
            "submitted_at",
            "submitted_by",
            "last_activity_at",
            "progress",
        ]
        extra_kwargs = {
            "id": {"help_text": "Assessment id."},
            "cycle": {"help_text": "Cycle id."},
            "team": {"help_text": "Team id."},
            "status": {"help_text": "not_started, in_progress or submitted."},
            "submitted_at": {"help_text": "When it was submitted."},
            "last_activity_at": {"help_text": "Last change to an answer."},
        }


class AssessmentDetailSerializer(AssessmentSerializer):
    progress = FullProgressSerializer(
        read_only=True, help_text="Answered of total, overall and per capability."
    )


class CycleOpenSerializer(StrictInputSerializer):
    carry_forward = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Pre-fill each team's answers from its last submitted assessment "
        "(through the framework's mapping), marked until confirmed.",
    )


class SubmitSerializer(StrictInputSerializer):
    confirm_carried = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Confirm every answer carried forward and not yet confirmed.",
    )


class ReopenSerializer(StrictInputSerializer):
    reason = serializers.CharField(
        max_length=2000,
        allow_blank=True,
        help_text="Why the assessment is reopened (kept); required.",
    )


# --- answers ------------------------------------------------------------------------


class AnswerSerializer(serializers.ModelSerializer):
    question_key = serializers.CharField(
        source="question.key", read_only=True, help_text="Key of the question."
    )
    option_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Id of the chosen option."
    )
    option_score = serializers.SerializerMethodField(
        help_text="Score (0-4) of the chosen option; null when none."
    )
    id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Answer id; null when nothing is stored yet.",
    )
    answered_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of the last editor.",
    )

    class Meta:
        model = Answer
        fields = [
            "id",
            "question",
            "question_key",
            "option_id",
            "option_score",
            "not_applicable",
            "na_reason",
            "carried_forward",
            "comment",
            "evidence_url",
            "answered_by",
            "updated_at",
            "version",
        ]
        extra_kwargs = {
            "question": {"help_text": "Question id."},
            "not_applicable": {"help_text": "Answered 'not applicable'."},
            "na_reason": {"help_text": "Key of the reason given with N/A."},
            "carried_forward": {
                "help_text": "Pre-filled from the team's last assessment and not "
                "yet confirmed or changed."
            },
            "comment": {"help_text": "Free-text comment."},
            "evidence_url": {"help_text": "Link to evidence."},
            "updated_at": {
                "help_text": "When it last changed; null when nothing is stored yet.",
                "allow_null": True,
            },
            "version": {
                "help_text": "Send this back as `version` on the next save; "
                "0 when nothing is stored yet."
            },
        }

    def get_option_score(self, answer) -> int | None:
        return answer.option.score if answer.option_id else None


@error_body(AnswerConflict)
def answer_conflict_body(conflict: AnswerConflict) -> dict:
    """A stale save answers 409 with the answer as it is stored now."""
    current = conflict.current
    return {
        "detail": conflict.message,
        "current": AnswerSerializer(current).data if current else None,
    }


class AnswerFields(StrictInputSerializer):
    option_score = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=4,
        help_text="Score of the option to choose (0-4); or send option_id.",
    )
    option_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Id of the option to choose; or send option_score.",
    )
    not_applicable = serializers.BooleanField(
        required=False, default=False, help_text="Answer 'not applicable'."
    )
    na_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="With not_applicable: the key of one of the question's N/A "
        "reasons (required when the framework lists reasons).",
    )
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Comment; omit to keep the stored one.",
    )
    evidence_url = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="http(s) link to evidence; omit to keep the stored one.",
    )
    version = serializers.IntegerField(
        min_value=0,
        help_text="The answer's version you last read (0 when there was none).",
    )

    def validate(self, attrs):
        if attrs.get("option_score") is not None and attrs.get("option_id") is not None:
            raise serializers.ValidationError(
                {"option_id": ["Send option_score or option_id, not both."]}
            )
        return attrs


class AnswerUpsertSerializer(AnswerFields):
    pass


class BulkItemSerializer(AnswerFields):
    question = serializers.CharField(max_length=100, help_text="Question id or key.")


class BulkAnswersSerializer(StrictInputSerializer):
    items = BulkItemSerializer(
        many=True, help_text="Answers to record, all or nothing."
    )

    def validate_items(self, items):
        if len(items) > 1000:
            raise serializers.ValidationError("Send at most 1000 answers at once.")
        return items


class BulkResultSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, help_text="The recorded answers, in order.")


class AnswerChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who changed it.",
    )
    old = serializers.JSONField(read_only=True, help_text="Values before the change.")
    new = serializers.JSONField(read_only=True, help_text="Values after the change.")

    class Meta:
        model = AnswerChange
        fields = ["version", "changed_by", "changed_at", "old", "new"]
        extra_kwargs = {
            "version": {"help_text": "Version the change produced."},
            "changed_at": {"help_text": "When."},
        }


# --- consensus mode -----------------------------------------------------------------


class OwnAnswerUpsertSerializer(AnswerFields):
    question = serializers.CharField(max_length=100, help_text="Question id or key.")
    private_note = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Note for the facilitator only; omit to keep the stored one.",
    )


class IndividualAnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id", help_text="Question id.")
    question_key = serializers.CharField(
        source="question.key", help_text="Key of the question."
    )
    respondent = serializers.CharField(
        source="respondent.username", help_text="Username of the member."
    )
    removed = serializers.BooleanField(
        help_text="The member has left the team since; the answer is kept."
    )
    option_id = serializers.IntegerField(
        allow_null=True, help_text="Id of the chosen option."
    )
    option_score = serializers.IntegerField(
        source="option.score",
        allow_null=True,
        default=None,
        help_text="Score (0-4) of the chosen option; null when none.",
    )
    not_applicable = serializers.BooleanField(help_text="Answered 'not applicable'.")
    comment = serializers.CharField(help_text="The member's comment.")
    private_note = serializers.CharField(
        allow_null=True,
        help_text="Note for the facilitator: shown to the facilitator and leads, "
        "and to its author; null for anyone else.",
    )
    evidence_url = serializers.CharField(help_text="Evidence link.")
    updated_at = serializers.DateTimeField(help_text="Last change.")
    version = serializers.IntegerField(help_text="Version, for optimistic saves.")


class IndividualAnswersSerializer(serializers.Serializer):
    visible = serializers.ChoiceField(
        choices=["all", "own"],
        help_text="'all': every member's answers; 'own': yours only (members see "
        "the others' after submitting their own).",
    )
    submitted = serializers.BooleanField(help_text="You submitted your own answers.")
    results = IndividualAnswerSerializer(many=True, help_text="The answers.")


class SettleSerializer(StrictInputSerializer):
    question = serializers.CharField(max_length=100, help_text="Question id or key.")
    option_score = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=4,
        help_text="Score of the team's answer (0-4); or send option_id.",
    )
    option_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Option id."
    )
    not_applicable = serializers.BooleanField(
        required=False, default=False, help_text="Settle as 'not applicable'."
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="How it was settled; required when no member answered.",
    )


class QuestionDisagreementSerializer(serializers.Serializer):
    question = serializers.IntegerField(help_text="Question id.")
    question_key = serializers.CharField(help_text="Key of the question.")
    capability = serializers.CharField(help_text="Capability key.")
    answers = serializers.IntegerField(help_text="Members who answered.")
    range = serializers.FloatField(
        allow_null=True,
        help_text="Highest minus lowest individual score (0-4); null below two.",
    )
    default_score = serializers.IntegerField(
        allow_null=True,
        help_text="The median offered as default when all are within one level.",
    )
    settled_score = serializers.IntegerField(
        allow_null=True, help_text="The team's settled score; null if not settled."
    )
    settled = serializers.BooleanField(help_text="The team's answer is settled.")


class CapabilityDisagreementSerializer(serializers.Serializer):
    capability = serializers.CharField(help_text="Capability key.")
    disagreement = serializers.FloatField(
        allow_null=True, help_text="Mean of its questions' ranges (0-4)."
    )


class DisagreementSerializer(serializers.Serializer):
    measure = serializers.CharField(help_text="How disagreement is measured.")
    questions = QuestionDisagreementSerializer(
        many=True, help_text="Per question, widest first."
    )
    capabilities = CapabilityDisagreementSerializer(
        many=True, help_text="Per capability."
    )

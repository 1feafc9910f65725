"""Shapes of scores, benchmarks and targets."""

from rest_framework import serializers

from assessment.models import CapabilityScore, Target
from finops_portal.api import StrictInputSerializer

LENS_SCORES_HELP = "Lens key -> mean score (0-4) of the lens's questions."


class ScoreSerializer(serializers.ModelSerializer):
    capability = serializers.CharField(
        source="capability.key", read_only=True, help_text="Capability key."
    )
    capability_name = serializers.CharField(
        source="capability.name", read_only=True, help_text="Capability name."
    )
    lens_scores = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        read_only=True,
        help_text=LENS_SCORES_HELP,
    )
    level = serializers.CharField(
        source="level_key", read_only=True, help_text="Key of the maturity level."
    )
    score_20 = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="The FinOps Foundation's total score: the plain sum of the lens "
        "scores (0-20 with five lenses), whatever the lens weights.",
    )
    lenses_scored = serializers.IntegerField(
        read_only=True,
        help_text="Lenses with a score; fewer than the framework's lenses means "
        "score_20 is out of a smaller maximum.",
    )
    target_20 = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="The target on score_20's scale (target percent x 20 / 100).",
    )
    relative_to_target = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="score_20 minus target_20 (negative: below target).",
    )
    target = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Target percent: the team's, else the organisation default.",
    )
    gap = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Target minus percent (points); negative when above target.",
    )
    progress_to_target = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="min(100, percent / target x 100).",
    )
    percentile = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="The team's percentile rank in its organisation (teams with "
        "equal scores share one); null before the roll-up, or for a respondent "
        "when the organisation has fewer teams than the anonymity threshold.",
    )

    class Meta:
        model = CapabilityScore
        fields = [
            "capability",
            "capability_name",
            "lens_scores",
            "percent",
            "score_20",
            "lenses_scored",
            "level",
            "answered",
            "total",
            "target",
            "target_20",
            "relative_to_target",
            "gap",
            "progress_to_target",
            "percentile",
            "disagreement",
            "computed_at",
        ]
        extra_kwargs = {
            "disagreement": {
                "help_text": "Consensus mode: mean over the capability's questions "
                "of the range (highest minus lowest) of the members' individual "
                "scores, 0-4; null for a team answering as one."
            },
            "percent": {
                "help_text": "Capability score: the lens-weighted percent (0-100), "
                "at full precision."
            },
            "answered": {"help_text": "Questions answered."},
            "total": {"help_text": "Questions in scope."},
            "computed_at": {"help_text": "When the score was stored."},
        }


class TeamScoreSerializer(ScoreSerializer):
    assessment = serializers.IntegerField(
        source="assessment_id", read_only=True, help_text="Assessment id."
    )
    team = serializers.IntegerField(
        source="assessment.team_id", read_only=True, help_text="Team id."
    )
    team_name = serializers.CharField(
        source="assessment.team.name", read_only=True, help_text="Team name."
    )
    business_unit = serializers.IntegerField(
        source="assessment.team.parent_id",
        read_only=True,
        allow_null=True,
        help_text="Id of the business unit directly above the team.",
    )

    class Meta(ScoreSerializer.Meta):
        fields = [
            "assessment",
            "team",
            "team_name",
            "business_unit",
            "capability",
            "capability_name",
            "lens_scores",
            "percent",
            "score_20",
            "lenses_scored",
            "level",
            "answered",
            "total",
            "disagreement",
            "computed_at",
        ]


class NodeStatSerializer(serializers.Serializer):
    capability = serializers.CharField(
        allow_null=True, help_text="Capability key; null for the overall score."
    )
    capability_name = serializers.CharField(
        allow_null=True, help_text="Capability name; null for the overall score."
    )
    n = serializers.IntegerField(help_text="Number of teams in the group.")
    mean = serializers.FloatField(allow_null=True, help_text="Mean percent.")
    median = serializers.FloatField(allow_null=True, help_text="Median percent.")
    p25 = serializers.FloatField(allow_null=True, help_text="25th percentile.")
    p75 = serializers.FloatField(allow_null=True, help_text="75th percentile.")
    min = serializers.FloatField(allow_null=True, help_text="Lowest percent.")
    max = serializers.FloatField(allow_null=True, help_text="Highest percent.")
    level_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Level key -> number of teams."
    )
    lens_means = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="Lens key -> mean lens score (0-4).",
    )


class HiddenGroupSerializer(serializers.Serializer):
    capability = serializers.CharField(
        allow_null=True, help_text="Capability key; null for the overall score."
    )
    reason = serializers.CharField(help_text="Why the figures are hidden.")


class DisagreementStatSerializer(serializers.Serializer):
    capability = serializers.CharField(
        allow_null=True, help_text="Capability key; null for overall."
    )
    teams = serializers.IntegerField(help_text="Consensus teams with a figure.")
    mean = serializers.FloatField(
        help_text="Mean of the teams' disagreement (mean range of individual "
        "scores, 0-4)."
    )
    max = serializers.FloatField(help_text="The widest team's disagreement.")


class BenchmarkPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Number of rows shown.")
    next = serializers.URLField(allow_null=True, help_text="Next page.")
    previous = serializers.URLField(allow_null=True, help_text="Previous page.")
    node = serializers.IntegerField(
        allow_null=True, help_text="Business unit id; null for the organisation."
    )
    node_name = serializers.CharField(help_text="Name of the group.")
    anonymity_threshold = serializers.IntegerField(
        help_text="Groups with fewer teams are hidden from respondents."
    )
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the roll-up was computed."
    )
    stale = serializers.BooleanField(
        help_text="A newer submission is not in the figures yet (updating)."
    )
    hidden = HiddenGroupSerializer(
        many=True, help_text="Rows left out for anonymity, with the reason."
    )
    results = NodeStatSerializer(many=True, help_text="Statistics per capability.")
    disagreement = DisagreementStatSerializer(
        many=True,
        help_text="Leads only (empty for respondents): disagreement within the "
        "group's consensus-mode teams, per capability (null: overall).",
    )


class TargetSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the organisation."
    )
    percent = serializers.FloatField(help_text="Target percent (1-100).")

    class Meta:
        model = Target
        fields = [
            "id",
            "organization",
            "team",
            "capability_key",
            "percent",
            "updated_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "Target id."},
            "team": {"help_text": "Team id; null for the organisation default."},
            "capability_key": {"help_text": "Capability key the target is for."},
            "updated_at": {"help_text": "When it was last set."},
        }


class TargetSetSerializer(StrictInputSerializer):
    organization = serializers.SlugField(help_text="Slug of the organisation.")
    capability_key = serializers.SlugField(max_length=60, help_text="Capability key.")
    team = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Team id; omit for the organisation default.",
    )
    percent = serializers.FloatField(help_text="Target percent (1-100).")

"""Forms of the lead's pages. They check shape only; the services in ``cycles.py``
decide what is allowed, and their errors land next to the matching field."""

from django import forms
from django.core.exceptions import ValidationError

from capabilities.models import Capability, Framework

from .models import Membership, Team

LENS_PRESET_CHOICES = [
    ("default", "Framework default (equal weights)"),
    ("foundation", "FinOps Foundation example: 30/25/20/20/5"),
    ("custom", "Custom weights (below)"),
]
CUSTOM_WEIGHTS_REQUIRED_MSG = "Enter a weight for every lens, or choose a preset."


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: keyed messages next to their
    field when the form has it, everything else above the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class TeamCreateForm(forms.Form):
    kind = forms.ChoiceField(
        choices=Team.Kind.choices, initial=Team.Kind.TEAM, label="Add a"
    )
    name = forms.CharField(max_length=200)
    parent = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="(top level)",
        label="Under",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Team.objects.filter(
            organization=organization, kind=Team.Kind.BUSINESS_UNIT
        ).order_by("name")


class TeamUpdateForm(forms.Form):
    name = forms.CharField(max_length=200)
    parent = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="(top level)",
        label="Under",
    )

    def __init__(self, *args, team: Team, **kwargs):
        kwargs.setdefault("initial", {"name": team.name, "parent": team.parent_id})
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = (
            Team.objects.filter(
                organization_id=team.organization_id, kind=Team.Kind.BUSINESS_UNIT
            )
            .exclude(pk=team.pk)
            .order_by("name")
        )


class MemberAddForm(forms.Form):
    identifier = forms.CharField(
        label="Username or email",
        max_length=254,
        help_text="Someone of your organisation, by username or email; or the email "
        "address of someone new, who gets an invitation to accept.",
    )
    role = forms.ChoiceField(
        choices=Membership.Role.choices, initial=Membership.Role.RESPONDENT
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="(whole organisation)",
        help_text="Respondents answer for this team; leads may leave it empty.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(
            organization=organization
        ).order_by("name")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="The team sees why its submission was reopened.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Give a reason.")
        return reason


class CycleCreateForm(forms.Form):
    """The cycle form. Teams and capabilities are rendered by hand as a tree and
    grouped lists; lens weights are a preset or one number per lens key."""

    name = forms.CharField(max_length=200)
    framework = forms.ModelChoiceField(
        queryset=Framework.objects.none(),
        label="Framework version",
        help_text="Only published versions can be used.",
    )
    opens_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closes_on = forms.DateField(
        label="Due date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    team_ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label="Teams in scope"
    )
    capability_ids = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Capabilities in scope",
        help_text="Leave all unchecked to include every capability.",
    )
    lens_weights = forms.ChoiceField(
        choices=LENS_PRESET_CHOICES,
        initial="default",
        label="Lens weights",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, frameworks, teams, lens_keys, capabilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["framework"].queryset = frameworks
        self.fields["team_ids"].choices = [(t.pk, t.name) for t in teams]
        self.fields["capability_ids"].choices = [(c.pk, c.name) for c in capabilities]
        self.lens_keys = list(lens_keys)
        for key in self.lens_keys:
            self.fields[f"weight_{key}"] = forms.DecimalField(
                label=key.title(),
                required=False,
                min_value=0,
                max_digits=6,
                decimal_places=2,
            )

    @property
    def weight_fields(self):
        return [self[f"weight_{key}"] for key in self.lens_keys]

    def clean(self):
        data = super().clean()
        if data.get("lens_weights") == "custom":
            weights = {k: data.get(f"weight_{k}") for k in self.lens_keys}
            weights = {k: v for k, v in weights.items() if v is not None}
            if not weights:
                self.add_error("lens_weights", CUSTOM_WEIGHTS_REQUIRED_MSG)
            data["weights"] = weights
        return data

    def resolved_weights(self, presets: dict) -> dict:
        """The lens weights to hand to the service: a preset, or the custom numbers."""
        choice = self.cleaned_data["lens_weights"]
        if choice == "custom":
            return {k: float(v) for k, v in self.cleaned_data["weights"].items()}
        return dict(presets.get(choice, {}))


def capabilities_by_framework(frameworks) -> dict[int, list[Capability]]:
    """Capabilities of the given frameworks, grouped by framework id (one query)."""
    grouped: dict[int, list[Capability]] = {}
    for cap in Capability.objects.filter(framework__in=frameworks).order_by(
        "framework_id", "order", "id"
    ):
        grouped.setdefault(cap.framework_id, []).append(cap)
    return grouped


class CycleEditForm(CycleCreateForm):
    """The cycle form without the framework (a cycle keeps its version); once the
    cycle is open only the name and dates remain."""

    SCOPE_FIELDS = ("team_ids", "capability_ids", "lens_weights")

    def __init__(self, *args, scope_editable: bool, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["framework"]
        if not scope_editable:
            for name in [*self.SCOPE_FIELDS, *(f"weight_{k}" for k in self.lens_keys)]:
                del self.fields[name]
            self.lens_keys = []


def lens_preset_of(weights: dict, presets: dict) -> str:
    """The preset choice that gives ``weights``, or "custom"."""
    for name, preset in presets.items():
        if dict(preset) == dict(weights):
            return name
    return "custom"

"""Forms of the lead's evidence pages: shapes only; the services validate."""

from django import forms

from .models import TeamMapping


class MappingForm(forms.Form):
    team = forms.TypedChoiceField(label="Team", coerce=int, choices=())
    kind = forms.ChoiceField(label="Match on", choices=TeamMapping.Kind.choices)
    key = forms.CharField(
        label="Tag key or column",
        required=False,
        max_length=128,
        help_text="For a tag: its key (CostCenter). For a custom column: its name (x_Team).",
    )
    value = forms.CharField(label="Value", max_length=256)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
        self.fields["value"].widget.attrs["list"] = "mapping-values"


class SettingsForm(forms.Form):
    required_tag_keys = forms.CharField(
        label="Required tag keys",
        required=False,
        max_length=3000,
        help_text="Separated by commas, e.g. CostCenter, Owner. Empty: any tag counts.",
    )
    max_age_days = forms.IntegerField(
        label="Evidence is stale after (days)",
        min_value=1,
        max_value=3650,
        help_text="Periods that ended longer ago stop suggesting scores.",
    )


class InvoiceTotalForm(forms.Form):
    invoice_id = forms.CharField(label="Invoice id", max_length=200)
    total = forms.CharField(label="Total on the invoice", max_length=40)
    currency = forms.CharField(label="Currency", required=False, max_length=8)


class InvoiceCsvForm(forms.Form):
    file = forms.FileField(
        label="Invoice totals (CSV)",
        help_text="Columns invoice_id, total and optionally currency.",
    )


class FolderForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120, required=False)
    path = forms.CharField(
        label="Folder on the server",
        max_length=500,
        help_text="Where the provider's scheduled FOCUS exports land.",
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accepted", "Accept"), ("overridden", "Answer otherwise")]
    )
    reason = forms.CharField(required=False, max_length=4000)
    version = forms.IntegerField(required=False, min_value=0)

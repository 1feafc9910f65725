"""Forms validate shape; the services decide (their errors are added to the
field they name)."""

from django import forms
from django.core.exceptions import ValidationError

from .models import ActionItem
from .webhooks import TOPICS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Each message of a service's ``ValidationError`` beside its field (or above
    the form when it names none the form has)."""
    for name, messages in error.message_dict.items():
        field = name if name in form.fields else None
        if name == "owner_id":
            field = "owner"
        for message in messages:
            form.add_error(field, message)


class ActionItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    capability_key = forms.ChoiceField(label="Capability")
    lens_key = forms.ChoiceField(label="Lens", required=False)
    owner = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Owner"
    )
    due_on = forms.DateField(label="Due date", required=False, widget=DATE)
    status = forms.ChoiceField(choices=ActionItem.Status.choices)
    drop_reason = forms.CharField(
        label="Reason for dropping",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when the status is dropped.",
    )
    expected_effect = forms.CharField(
        max_length=200,
        required=False,
        help_text="For example: Invoicing and chargeback, Process 1 -> 3.",
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    links = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Web addresses, one a line (a ticket, a runbook).",
    )

    def __init__(self, *args, capabilities, lenses, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability_key"].choices = capabilities
        self.fields["lens_key"].choices = [("", "Any lens")] + list(lenses)
        self.fields["owner"].choices = [("", "Nobody yet")] + [
            (user.pk, user.get_full_name() or user.username) for user in members
        ]


class InitiativeForm(forms.Form):
    name = forms.CharField(max_length=200)
    capability_key = forms.ChoiceField(label="Capability")
    target_percent = forms.CharField(
        label="Target (%)", help_text="Every team in scope at this score or better."
    )
    due_on = forms.DateField(label="Due date", required=False, widget=DATE)
    scope = forms.TypedMultipleChoiceField(
        coerce=int,
        empty_value=None,
        label="Business units and teams",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, capabilities, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability_key"].choices = capabilities
        self.fields["scope"].choices = nodes

        # Ids outside the organisation reach the service, which answers 404
        # (a form error would tell that the id exists elsewhere).
        self.fields["scope"].valid_value = lambda value: str(value).isdigit()


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Receiver URL", max_length=500, help_text="An https:// address."
    )
    description = forms.CharField(max_length=200, required=False)
    topics = forms.MultipleChoiceField(
        choices=list(TOPICS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every topic.",
    )

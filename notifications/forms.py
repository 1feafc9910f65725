"""Forms: they check shape; the services check meaning (see ``services``)."""

from django import forms

from .models import Category, CycleSchedule
from .schedule import parse_days

HOURS = [(h, f"{h:02d}:00") for h in range(24)]


class ScheduleForm(forms.Form):
    auto_open = forms.BooleanField(
        required=False,
        label="Open the cycle by itself on its opening date",
        help_text="At midnight in the organisation's time zone; invitations go out then.",
    )
    days_before = forms.CharField(
        required=False,
        max_length=100,
        label="Remind teams that have not submitted, days before the due date",
        help_text="Comma-separated, such as “7, 1”; 0 is the due date itself. Empty: "
        "no reminders before the due date.",
    )
    overdue_every = forms.IntegerField(
        min_value=0,
        max_value=90,
        label="Then, while overdue, remind them every (days)",
        help_text="The first the day after the due date; 0: no overdue reminders.",
    )
    auto_close = forms.BooleanField(
        required=False, label="Close the cycle by itself after the due date"
    )
    grace_days = forms.IntegerField(
        min_value=0,
        max_value=90,
        label="Grace period (days)",
        help_text="Teams can still submit this many days after the due date.",
    )
    send_hour = forms.TypedChoiceField(
        choices=HOURS,
        coerce=int,
        label="Send reminders and digests from",
        help_text="In the organisation's time zone.",
    )
    digest = forms.ChoiceField(
        choices=CycleSchedule.Digest.choices, label="Digest to leads"
    )

    def clean_days_before(self):
        try:
            return parse_days(self.cleaned_data["days_before"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class RemindForm(forms.Form):
    team = forms.IntegerField(required=False, min_value=1)


class TimeZoneForm(forms.Form):
    time_zone = forms.CharField(
        max_length=64,
        label="Time zone",
        help_text="An IANA name such as Europe/Paris or America/New_York: it decides "
        "when a due date is “today” and how dates are shown.",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )


class PreferencesForm(forms.Form):
    """One checkbox per category: mails on or off."""

    def __init__(self, *args, current: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Category.choices:
            self.fields[value] = forms.BooleanField(
                required=False, label=label, initial=current.get(value, True)
            )

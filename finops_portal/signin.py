"""Password sign-in: the form, and how an authentication backend explains a refusal.

A backend that refuses a correct password for a reason the person should know
(for example "your organisation signs in with single sign-on") calls
``refuse(request, message)``; the sign-in form and the token API show that message
instead of "wrong username or password".
"""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

REFUSAL_ATTR = "_finops_signin_refusal"


def refuse(request, message: str) -> None:
    if request is not None:
        setattr(request, REFUSAL_ATTR, message)


def refusal(request) -> str | None:
    return getattr(request, REFUSAL_ATTR, None)


class SignInForm(AuthenticationForm):
    """Django's sign-in form, showing a backend's reason for refusing."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            message = refusal(self.request)
            if message:
                raise ValidationError(message, code="refused") from None
            raise

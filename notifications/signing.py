"""Signed unsubscribe links: one per person and category, valid for a while.

The token carries the user id and the category, signed with the project's secret
key under a salt of its own and time-stamped, so a link cannot be forged, turned
into another person's or another category's, or used after it expired.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

from .models import Category

SALT = "notifications.unsubscribe"
LINK_EXPIRED_MSG = (
    "This unsubscribe link has expired. Sign in and choose which mails you get "
    "under Notifications > Preferences."
)
LINK_INVALID_MSG = (
    "This unsubscribe link is not valid: it may have been cut short or changed. "
    "Sign in and choose which mails you get under Notifications > Preferences."
)


class BadLink(Exception):
    """An unsubscribe token that is forged, damaged or expired; ``message`` says which."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    category: str


def max_age() -> timedelta:
    return timedelta(days=settings.NOTIFICATIONS_UNSUBSCRIBE_DAYS)


def unsubscribe_token(*, user_id: int, category: str) -> str:
    """A URL-safe signed token for ``user_id`` and ``category``."""
    return signing.dumps({"u": user_id, "c": category}, salt=SALT, compress=False)


def unsubscribe_read(token: str) -> Unsubscribe:
    """The person and category of a token; raises ``BadLink``."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired:
        raise BadLink(LINK_EXPIRED_MSG) from None
    except signing.BadSignature:
        raise BadLink(LINK_INVALID_MSG) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("u"), int)
        or data.get("c") not in Category.values
    ):
        raise BadLink(LINK_INVALID_MSG)
    return Unsubscribe(user_id=data["u"], category=data["c"])

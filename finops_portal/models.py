"""Personal API tokens: a user may hold several, each named and revocable.

Only a SHA-256 digest of each key is stored; the key itself is shown once, when
the token is created, and cannot be recovered afterwards.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models

from .audit import AuditEvent
from .events import Event

__all__ = ["AuditEvent", "Event", "PersonalToken", "hash_token_key"]

TOKEN_PREFIX_LENGTH = 8


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class PersonalTokenQuerySet(models.QuerySet):
    def for_key(self, key: str):
        return self.filter(key_hash=hash_token_key(key))


class PersonalToken(models.Model):
    """A named API key of one user, for scripts (``Authorization: Token <key>``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personal_tokens",
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=TOKEN_PREFIX_LENGTH,
        editable=False,
        help_text="The first characters of the key, to recognise it in the list.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = PersonalTokenQuerySet.as_manager()

    class Meta:
        ordering = ["user", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], name="personal_token_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.name}"

    @classmethod
    def generate_key(cls) -> str:
        return secrets.token_urlsafe(32)

"""The base of domain errors: what a service raises besides Django's
``ValidationError``, with the HTTP status and body the API answers with.

``finops_portal.api.exception_handler`` maps every error in one place: a
``DomainError`` by its ``http_status`` and ``body()`` (or a renderer an API module
registered for its type with ``error_body``), a ``ValidationError`` as 400 (or its
``http_status`` attribute, e.g. 409 for a published framework).
"""

from collections.abc import Callable


class DomainError(Exception):
    """An error of the domain with a message for people and a status for the API."""

    http_status = 400
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)

    def body(self) -> dict:
        """The API's response body."""
        return {"detail": self.message}


BodyRenderer = Callable[[DomainError], dict]
_renderers: dict[type, BodyRenderer] = {}


def error_body(error_type: type[DomainError]) -> Callable[[BodyRenderer], BodyRenderer]:
    """Register how the API renders ``error_type`` (for a body that needs the API's
    serializers, such as the current answer of a conflict)."""

    def register(renderer: BodyRenderer) -> BodyRenderer:
        _renderers[error_type] = renderer
        return renderer

    return register


def body_of(error: DomainError) -> dict:
    """The registered renderer's body for ``error`` (nearest type first), else
    ``error.body()``."""
    for kind in type(error).__mro__:
        if kind in _renderers:
            return _renderers[kind](error)
    return error.body()

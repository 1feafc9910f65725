"""Slots: named places in a lower app's pages where higher apps add content.

A page of ``assessment`` cannot import the apps above it, yet the questionnaire
shows evidence from cost data, and the completion board a "remind now" button.
The lower app declares a ``Slot`` and calls ``collect`` while it builds the page;
a higher app registers a provider in its ``AppConfig.ready()``. Providers are
plain functions of the request and keyword context, documented on each slot; they
check access themselves and return ``None`` when they have nothing to add.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Provider = Callable[..., Any]


@dataclass
class Slot:
    """One place in a page; ``doc`` says what providers receive and return."""

    name: str
    doc: str = ""
    providers: list[Provider] = field(default_factory=list)

    def register(self, provider: Provider) -> Provider:
        """Add ``provider`` (once; usable as a decorator)."""
        if provider not in self.providers:
            self.providers.append(provider)
        return provider

    def collect(self, request, **context) -> list:
        """Every provider's result for this page, ``None`` dropped, in the order
        the providers registered (the apps' order in INSTALLED_APPS)."""
        results = (provider(request, **context) for provider in self.providers)
        return [result for result in results if result is not None]


@dataclass(frozen=True)
class NavLink:
    """A link in the site navigation; ``section`` is "lead" or "member"."""

    label: str
    url: str
    section: str = "member"


@dataclass
class SlotColumn:
    """A column a higher app adds to a table: its heading, one cell of HTML per row
    key, and optional HTML above the table (a toolbar)."""

    heading: str
    cells: dict = field(default_factory=dict)
    toolbar_html: str = ""

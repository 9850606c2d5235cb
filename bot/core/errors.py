"""Domain errors. The one bolt error handler maps them to what the user sees.

Each carries a message written for the person who caused it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses, with a message fit to show the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    """The user may not do this."""


class NotFound(DomainError):
    """What the user named does not exist (in their workspace)."""


class Invalid(DomainError):
    """Input the user can fix. `field` names the input block the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidFields(DomainError):
    """Several inputs are wrong at once: field (input block id) -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class Conflict(DomainError):
    """The thing changed under the user (a stale button, already decided)."""

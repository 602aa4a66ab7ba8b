"""The domain's error vocabulary, raised by services and rendered by each door."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One rejected input field and why."""

    field: str
    message: str


def printable(text: str) -> str:
    """Control and format characters (a newline, ESC, a bidi override) quoted in a user's text as escapes, so an
    error that repeats it stays one plain line on every door."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class DomainError(Exception):
    """Base of the errors a user may see; `status` is the HTTP rendering."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, errors: list[FieldError] | None = None) -> None:
        message = printable(message)
        super().__init__(message)
        self.message = message
        self.errors = [FieldError(e.field, printable(e.message)) for e in errors or []]

    def one_line(self) -> str:
        """The error as one line for the command line."""
        if len(self.errors) == 1 and self.errors[0].message == self.message:
            return f"{self.errors[0].field}: {self.message}"
        if self.errors:
            details = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
            return f"{self.message} ({details})"
        return self.message


class Malformed(DomainError):
    """The request cannot be read at all (a body that is not JSON, or nested too deeply)."""

    status = 400
    title = "Bad request"


class Unauthorized(DomainError):
    """No valid credentials were presented."""

    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    """The actor may see the object but not do this to it."""

    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    """No such object, or one the actor may not know exists."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate name, for example)."""

    status = 409
    title = "Conflict"


class TooManyRequests(DomainError):
    """Too many attempts in a short time; try again later."""

    status = 429
    title = "Too many requests"


class Invalid(DomainError):
    """The input breaks a rule; `errors` names the fields."""

    status = 422
    title = "Invalid input"

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        """An error about a single field."""
        return cls(message, errors=[FieldError(field, message)])

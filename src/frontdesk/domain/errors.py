"""One family of user-facing errors; the API maps each kind to one HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses, with a stable code and a message a person can act on."""

    status = 400

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The input is well-formed but breaks a rule (unknown contact field, bad value...)."""

    status = 422


class NotFound(DomainError):
    status = 404

    def __init__(self, kind: str, ident: object, field: str | None = None) -> None:
        super().__init__(f"{kind}_not_found", f"{kind} {ident} does not exist", field)


class Conflict(DomainError):
    """The request does not fit the current state (closing a closed conversation...)."""

    status = 409


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


class TooManyRequests(DomainError):
    """A limit against abuse refused the request; it may be tried again after `retry_after` seconds."""

    status = 429

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = max(1, retry_after)


def invalid_from(exc: Exception, field: str) -> InvalidInput:
    """A pydantic ValidationError as one InvalidInput listing every problem under `field`."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return InvalidInput("invalid_" + field, f"{field}: {exc}", field)
    parts = []
    for error in errors():
        where = ".".join(str(p) for p in (field, *error.get("loc", ())))
        parts.append(f"{where}: {error.get('msg')}")
    return InvalidInput("invalid_" + field, "; ".join(parts), field)

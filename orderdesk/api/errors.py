"""API errors: one tree, classed retriable or fatal, with clerk-readable messages."""

from __future__ import annotations

from orderdesk.models.errors import OrderdeskError


class ApiError(OrderdeskError):
    status: int | None = None

    def __init__(self, message: str, *, details: str = "", status: int | None = None,
                 retriable: bool | None = None) -> None:
        super().__init__(message, details=details, retriable=retriable)
        if status is not None:
            self.status = status


class AuthError(ApiError):
    """401, or a 403 that says the credentials are missing or wrong."""


class ForbiddenError(ApiError):
    """403: authenticated but not allowed (e.g. a customer token on the staff endpoint)."""


class NotFoundError(ApiError):
    """404."""


class BadRequestError(ApiError):
    """400 with the server's field messages."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None,
                 details: str = "", status: int | None = 400) -> None:
        super().__init__(message, details=details, status=status)
        self.field_errors = field_errors or {}


class ServerError(ApiError):
    """5xx: the shop's server failed. Worth retrying."""

    retriable = True


class RateLimitedError(ServerError):
    """429: too many requests. Retried after the server's Retry-After."""

    def __init__(self, message: str, *, retry_after: float | None = None, details: str = "",
                 status: int | None = 429) -> None:
        super().__init__(message, details=details, status=status)
        self.retry_after = retry_after


class NetworkError(ApiError):
    """The server could not be reached, or the connection broke or timed out."""

    retriable = True


class ProtocolError(ApiError):
    """The server answered something that is not the documented shape (bad JSON, wrong types)."""

    retriable = True

"""The one orderdesk error tree.

Every failure that reaches a person is an :class:`OrderdeskError`: it carries a
message a shop clerk can read, optional technical ``details``, and whether trying
again may help (``retriable``). Layers above add their own subclasses (API, store,
sync) but never raise bare exceptions at the user.
"""

from __future__ import annotations


class OrderdeskError(Exception):
    """Base of all orderdesk errors."""

    retriable: bool = False

    def __init__(self, message: str, *, details: str = "", retriable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if retriable is not None:
            self.retriable = retriable

    def __str__(self) -> str:
        return self.message


class DataError(OrderdeskError):
    """A value that cannot be understood: bad money, a naive datetime, a wrong type."""


class MoneyError(DataError):
    """A money amount that is not an exact decimal or is out of the supported range."""


class ConfigError(OrderdeskError):
    """The configuration or a connection definition is invalid."""


class StoreError(OrderdeskError):
    """The local cache cannot be read or written."""


class CancelledError(OrderdeskError):
    """The user cancelled a running operation."""

"""Read-only views of cached data for tables, lists and change sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from orderdesk.models.status import OrderStatus


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One row of the order table: what a list shows, nothing more."""

    id: int  #: internal cache id; never shown to a person
    connection: str
    remote_id: str
    number: str
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    synced_at: datetime | None
    customer: str
    email: str
    line_count: int
    quantity: int
    currency: str
    total: Decimal | None
    paid: Decimal | None
    outstanding: Decimal | None
    payment_method: str
    shipping_method: str
    country: str
    problems: int
    has_notes: bool


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What one write did to the cache, by internal order id."""

    added: tuple[int, ...] = ()
    changed: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def __add__(self, other: ChangeSet) -> ChangeSet:
        return ChangeSet(self.added + other.added, self.changed + other.changed,
                         self.removed + other.removed)


@dataclass(frozen=True, slots=True)
class StoredConnection:
    """A connection as the cache knows it (its orders hang off ``id``)."""

    id: int
    name: str
    kind: str
    base_url: str
    currency: str = ""
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class SyncLogEntry:
    id: int
    connection: str
    mode: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    pages: int = 0
    fetched: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    message: str = ""
    errors: tuple[str, ...] = field(default=())

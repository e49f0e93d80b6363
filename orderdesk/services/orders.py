"""``OrderService``: everything the UI and CLI read from the cache."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from orderdesk.models.entities import Order
from orderdesk.models.errors import DataError
from orderdesk.models.pricing import Reconciliation, reconcile
from orderdesk.models.query import OrderQuery
from orderdesk.models.rows import OrderRow, SyncLogEntry
from orderdesk.models.status import StatusCategory
from orderdesk.store import OrderStore


@dataclass(frozen=True, slots=True)
class OrderDetail:
    id: int
    order: Order
    pricing: Reconciliation


@dataclass(frozen=True, slots=True)
class ConnectionSummary:
    name: str
    kind: str
    base_url: str
    orders: int
    last_success: datetime | None


class OrderService:
    def __init__(self, store: OrderStore) -> None:
        self.store = store

    def ids(self, query: OrderQuery, *, limit: int | None = None,
            offset: int = 0) -> array[int]:
        """Ids in ``query``'s order; with ``limit``/``offset`` one window of it."""
        return self.store.ids(query, limit=limit, offset=offset)

    def match_count(self, query: OrderQuery) -> int:
        """How many orders ``query`` matches (one figure; cheaper than ``counts``)."""
        return self.store.match_count(replace(query, sort=()))

    def ordered_by_index(self, query: OrderQuery) -> bool:
        """Any window of ``query``'s order is cheap to read (an index gives the order)."""
        return self.store.ordered_by_index(query)

    def anchors(self, query: OrderQuery, every: int, *,
                cancelled: Callable[[], bool] | None = None
                ) -> list[tuple[object, ...]] | None:
        """Sort values of every ``every``-th row of ``query``'s order, for ``ids_from``
        (``None`` when its order cannot be sought by key, or ``cancelled()``)."""
        return self.store.anchors(query, every, cancelled=cancelled)

    def ids_from(self, query: OrderQuery, anchor: Sequence[object], *, limit: int,
                 offset: int = 0) -> array[int]:
        """A window of ``query``'s order counted from an anchor's row (a seek, not a
        scan of every row before it)."""
        return self.store.ids_from(query, anchor, limit=limit, offset=offset)

    def positions(self, query: OrderQuery, ids: Sequence[int]) -> dict[int, int]:
        """Row numbers of a few ids in ``query``'s order (ids not matching are left out)."""
        return self.store.positions(query, ids)

    def rows(self, ids: Sequence[int]) -> list[OrderRow]:
        return self.store.rows(ids)

    def counts(self, query: OrderQuery) -> dict[StatusCategory, int]:
        """Counts per status for ``query``'s other filters (what status tabs show)."""
        return self.store.counts(replace(query, categories=(), statuses=(), sort=()))

    def count(self, query: OrderQuery) -> int:
        return self.store.count(replace(query, sort=()))

    def total(self) -> int:
        return self.store.total_orders()

    def detail(self, order_id: int) -> OrderDetail | None:
        order = self.store.get(order_id)
        if order is None:
            return None
        return OrderDetail(order_id, order, reconcile(order))

    def resolve(self, reference: str) -> int:
        """The one order a person means by ``reference`` (number, id, or ``conn:number``)."""
        found = self.store.find(reference)
        if not found:
            raise DataError(f"No cached order matches {reference!r}.")
        if len(found) > 1:
            names = sorted({r.connection for r in self.store.rows(found)})
            raise DataError(f"{reference!r} is ambiguous: it exists in "
                            f"{', '.join(names)}. Qualify it, e.g. {names[0]}:{reference}.")
        return found[0]

    def distinct(self, field: str) -> list[str]:
        return self.store.distinct_values(field)

    def connections(self) -> list[ConnectionSummary]:
        out = []
        for conn in self.store.list_connections():
            out.append(ConnectionSummary(
                conn.name, conn.kind, conn.base_url,
                self.store.match_count(OrderQuery(connections=(conn.name,), sort=())),
                self.store.last_success(conn.name)))
        return out

    def sync_log(self, connection: str | None = None, limit: int = 20) -> list[SyncLogEntry]:
        return self.store.sync_log(connection, limit)

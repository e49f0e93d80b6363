"""``FlatOrder``: an order already flattened to the values the cache stores, for the
sync's hot path.

A provider's fast reader (``api/<kind>/fast.py``) builds one straight from the
decoded JSON, without the frozen ``Order`` tree and without ``pricing.reconcile``'s
Decimal work, for the orders it can prove clean: every figure reconciles, every
value has the plain shape the provider documents. Anything else goes through the
reference path (``normalize`` → ``Order`` → ``pricing.reconcile`` → the store's
codec), which is the definition: for every order the fast reader accepts, the store
writes exactly the rows the reference path gives (tests/api/test_flat_orders.py).

Values are what the store writes: money as integers at
``money.STORAGE_EXPONENT``, line money as the decimal text of the provider's
integers, datetimes as microseconds since the epoch (UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class FlatOrder:
    """One order as the store's rows (the order row without the connection id, its
    lines and payments, the detail document, the provider's JSON, the search text)."""

    __slots__ = ("connection", "detail", "lines", "number", "payments", "raw", "remote_id",
                 "row", "search", "updated_at")

    def __init__(self, connection: str, updated_at: datetime, row: dict[str, Any],
                 lines: list[dict[str, Any]], payments: list[dict[str, Any]],
                 detail: dict[str, Any], raw: str, search: str) -> None:
        self.connection = connection
        self.remote_id: str = row["remote_id"]
        self.number: str = row["number"]
        #: aware UTC, as ``Order.updated_at`` (the sync's bookmark)
        self.updated_at = updated_at
        self.row = row
        self.lines = lines
        self.payments = payments
        self.detail = detail
        self.raw = raw
        #: ``Order.search_text()`` folded (the full-text index's body)
        self.search = search

    def __repr__(self) -> str:
        return f"FlatOrder({self.connection!r}, {self.remote_id!r})"

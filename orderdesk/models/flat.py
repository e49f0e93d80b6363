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

import json
from datetime import datetime
from typing import Any

import orjson

#: The order row's columns a ``FlatOrder.row`` holds, in this order (the store's
#: ``codec.ORDER_COLUMNS`` are these between ``connection_id`` and ``content_hash``).
ROW_COLUMNS: tuple[str, ...] = (
    "remote_id", "number", "status_raw", "category", "currency", "created_at", "updated_at",
    "customer", "customer_sort", "email", "payment_method", "shipping_method", "country",
    "state", "city", "notes", "has_notes", "line_count", "quantity", "items_subtotal",
    "items_discount", "subtotal", "shipping", "total_discount", "total", "srv_paid",
    "srv_outstanding", "srv_line_count", "srv_quantity", "is_paid", "is_payable", "paid",
    "outstanding", "payment_state", "problems", "line_money")
#: The columns of each tuple of ``FlatOrder.lines`` (the store's ``codec.LINE_COLUMNS``)
LINE_COLUMNS: tuple[str, ...] = (
    "position", "remote_id", "product_id", "product_name", "product_slug", "variant", "offer",
    "quantity", "unit_price", "unit_discount", "subtotal", "discount", "total", "shipping",
    "notes", "created_at", "updated_at")
#: The columns of each tuple of ``FlatOrder.payments`` (``codec.PAYMENT_COLUMNS``)
PAYMENT_COLUMNS: tuple[str, ...] = (
    "position", "remote_id", "amount", "method", "status", "reference", "created_at", "extra")


def dump_detail(doc: dict[str, Any]) -> str:
    """An order's detail document as the store keeps it: compact, keys sorted,
    non-ASCII as is (orjson spells it as ``json.dumps(doc, ensure_ascii=False,
    separators=(",", ":"), sort_keys=True)`` does, 5x faster)."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # e.g. a lone surrogate, which orjson refuses
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class FlatOrder:
    """One order as the store's rows (the order row without the connection id and the
    content hash, its lines and payments, as tuples in the column orders above; the
    detail document, the provider's JSON, the search text). ``detail`` is the document
    or already its JSON (:func:`dump_detail`); ``raw`` the order's JSON as text or as its
    UTF-8 bytes (the worker's way: sent and stored as they came)."""

    __slots__ = ("connection", "detail", "lines", "number", "payments", "raw", "remote_id",
                 "row", "search", "updated_at")

    def __init__(self, connection: str, updated_at: datetime, row: tuple[Any, ...],
                 lines: list[tuple[Any, ...]], payments: list[tuple[Any, ...]],
                 detail: dict[str, Any] | str, raw: str | bytes, search: str) -> None:
        self.connection = connection
        self.remote_id: str = row[0]
        self.number: str = row[1]
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

"""HTTP client for the shop API's two order endpoints."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from orderdesk.api.base import ClientBase, Page, PushDown, RawPage
from orderdesk.api.http import HttpTransport, decode_exact
from orderdesk.api.shop import fast
from orderdesk.api.shop import normalize as norm
from orderdesk.api.shop import payloads as p
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models.entities import ConnectionKind, Order
from orderdesk.models.flat import FlatOrder
from orderdesk.models.query import OrderQuery, PaymentFilter
from orderdesk.models.status import StatusCategory

#: categories the shop statuses belong to (for pushing a category filter down)
_CATEGORY_STATUSES = {
    StatusCategory.AWAITING_PAYMENT: ("new", "pending"),
    StatusCategory.ON_HOLD: ("hold",), StatusCategory.FAILED: ("failed",),
    StatusCategory.CANCELLED: ("cancelled",), StatusCategory.PROCESSING: ("processing",),
    StatusCategory.SHIPPED: ("shipped",), StatusCategory.COMPLETED: ("completed",),
    StatusCategory.REFUNDED: ("refunded",), StatusCategory.DELETED: ("deleted",),
}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class ShopClient(ClientBase):
    supports_updated_since = True

    def __init__(self, config: ConnectionConfig, secret: str | None,
                 transport: HttpTransport) -> None:
        super().__init__(config, secret, transport)
        self.staff = config.kind is ConnectionKind.SHOP_STAFF
        self.path = p.STAFF_PATH if self.staff else p.CUSTOMER_PATH
        self._kind = str(config.kind)

    @staticmethod
    def _params(offset: int, limit: int, updated_from: datetime | None,
                extra: Mapping[str, str] | None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset, "ordering": "updated_at"}
        if updated_from is not None:
            params["updated_from"] = _iso(updated_from)
        params.update(extra or {})
        return params

    def list_page(self, *, offset: int, limit: int, updated_from: datetime | None = None,
                  extra: Mapping[str, str] | None = None) -> Page:
        return self.get_page(self._params(offset, limit, updated_from, extra), offset)

    def list_raw_page(self, *, offset: int, limit: int,
                      updated_from: datetime | None = None) -> RawPage | Page:
        """As :meth:`list_page`, the orders left unread (:meth:`read_raw_page` reads
        them) unless the page had to be decoded whole: only HTTP and the page's cut."""
        return self.get_raw_page(self._params(offset, limit, updated_from, None), offset)

    def read_raw_page(self, page: RawPage) -> list[FlatOrder | tuple[Any, str]] | None:
        """Each order of ``page``, in order: its rows, read straight from its JSON, when
        it is plain and reconciles (:func:`fast.read_order`), else its decoded JSON and
        text for :meth:`normalize`; ``None`` when an order cannot be decoded on its own
        (then read ``page.decoded()``, the page decoded whole)."""
        name, kind, currency = self.config.name, self._kind, self.config.order_currency
        read = fast.read_order
        # msgspec refuses an integer of more digits than Python converts (as json does),
        # but not in a field the fast reader skips: an order that long is decoded too,
        # so that it fails here as it fails ``decode_page`` (~2 % of demo orders)
        long = sys.get_int_max_str_digits() or sys.maxsize
        out: list[FlatOrder | tuple[Any, str]] = []
        for raw in page.raws:
            flat = read(raw, connection=name, kind=kind, currency=currency)
            if flat is not None and len(raw) < long:
                out.append(flat)
                continue
            try:
                item = decode_exact(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                return None
            out.append(flat if flat is not None else (item, raw.decode("utf-8")))
        return out

    @staticmethod
    def raw_updated_at(raw: bytes) -> str | None:
        """An unread order's ``updated_at`` as sent (text), or None."""
        return fast.updated_at_text(raw)

    def normalize(self, data: Any, synced_at: datetime | None = None,
                  raw: str | None = None) -> Order:
        return norm.normalize(data, connection=self.config.name, kind=self.config.kind,
                              currency=self.config.order_currency, synced_at=synced_at,
                              raw=raw)

    def flat(self, data: Any, raw: str | None) -> FlatOrder | None:
        """The order as the store's rows when it is plain and reconciles (the sync's hot
        path), else ``None``: then :meth:`normalize` reads it (and raises its errors)."""
        return fast.flat_order(data, connection=self.config.name, kind=self._kind,
                               currency=self.config.order_currency, raw=raw)

    def push_down(self, query: OrderQuery) -> PushDown:
        """Server parameters for the parts of ``query`` the endpoint can filter."""
        params: dict[str, str] = {}
        unsupported: list[str] = []
        statuses = list(query.statuses)
        for cat in query.categories:
            if cat in _CATEGORY_STATUSES:
                statuses += _CATEGORY_STATUSES[cat]
            else:
                unsupported.append(f"category {cat}")
        if statuses:
            params["status_in"] = ",".join(dict.fromkeys(statuses))
        if query.created_from:
            params["created_from"] = _iso(query.created_from)
        if query.updated_from:
            params["updated_from"] = _iso(query.updated_from)
        if query.text:
            params["search"] = query.text
            unsupported.append("text (the server searches fewer fields than orderdesk)")
        if query.payment is PaymentFilter.PAID:
            params["is_paid"] = "true"
        elif query.payment is not None:
            params["is_paid"] = "false"
            unsupported.append(f"payment={query.payment} (server knows only is_paid)")
        if query.has_notes is not None:
            params["has_notes"] = "true" if query.has_notes else "false"
        if query.total_min is not None or query.total_max is not None:
            unsupported.append("total range")
        for name in ("created_to", "updated_to"):
            if getattr(query, name) is not None:
                unsupported.append(f"{name} (the server's bound is inclusive)")
        for name in ("payment_methods", "shipping_methods", "countries", "states", "cities"):
            if getattr(query, name):
                unsupported.append(f"{name} (the server filters by id, not by name)")
        if query.has_problems is not None:
            unsupported.append("pricing problems")
        if query.numbers:
            unsupported.append("numbers")
        if query.sort:
            first = query.sort[0]
            field = p.ORDERING.get(str(first.field))
            if field:
                params["ordering"] = ("-" if first.descending else "") + field
            else:
                unsupported.append(f"sort by {first.field}")
        return PushDown(params, tuple(unsupported))

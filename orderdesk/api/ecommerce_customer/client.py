"""HTTP client for the ecommerce-API's customer order list and detail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderdesk.api.base import ClientBase, Page, PushDown
from orderdesk.api.ecommerce_customer import normalize as norm
from orderdesk.api.ecommerce_customer import payloads as p
from orderdesk.models.entities import Order
from orderdesk.models.query import OrderQuery
from orderdesk.models.status import StatusCategory

_CATEGORY = {StatusCategory.AWAITING_PAYMENT: "awaiting_payment", StatusCategory.PAID: "paid",
             StatusCategory.DELIVERED: "delivered", StatusCategory.CANCELLED: "cancelled"}


class EcommerceClient(ClientBase):
    """Newest first, limit/offset; no server-side filters beyond ``status``."""

    supports_updated_since = False
    path = p.LIST_PATH

    def list_page(self, *, offset: int, limit: int, updated_from: datetime | None = None,
                  extra: Mapping[str, str] | None = None) -> Page:
        params: dict[str, Any] = {"limit": limit, "offset": offset, **(extra or {})}
        return self.get_page(params, offset)

    def detail(self, remote_id: str) -> Any:
        return self.get(self.config.base_url + p.DETAIL_PATH.format(id=remote_id))

    def normalize(self, data: Any, synced_at: datetime | None = None,
                  raw: str | None = None) -> Order:
        return norm.normalize(data, connection=self.config.name,
                              currency=self.config.order_currency, synced_at=synced_at,
                              raw=raw)

    def push_down(self, query: OrderQuery) -> PushDown:
        params: dict[str, str] = {}
        unsupported: list[str] = []
        wanted = set(query.statuses) | {_CATEGORY[c] for c in query.categories if c in _CATEGORY}
        if len(wanted) == 1 and not (set(query.categories) - set(_CATEGORY)):
            params["status"] = wanted.pop()
        elif wanted or query.categories:
            unsupported.append("status (the server filters one status at a time)")
        rest = query.without_sort()
        from dataclasses import replace

        rest = replace(rest, statuses=(), categories=())
        if rest.is_filtered:
            unsupported.append(rest.describe())
        if query.sort:
            unsupported.append("sort (the server always lists newest first)")
        return PushDown(params, tuple(unsupported))

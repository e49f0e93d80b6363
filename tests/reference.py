"""Plain-Python meaning of OrderQuery, the reference the SQL must agree with."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from orderdesk.models import Order, OrderQuery, PaymentFilter, SortField, StatusCategory
from orderdesk.models.pricing import reconcile
from orderdesk.models.query import fold, search_terms

_PAYMENT = {PaymentFilter.PAID: {"paid"}, PaymentFilter.UNPAID: {"unpaid"},
            PaymentFilter.OUTSTANDING: {"unpaid", "partially_paid"}}


def matches(order: Order, q: OrderQuery) -> bool:
    recon = reconcile(order)
    total = order.figures.total
    checks = [
        not q.connections or order.connection in q.connections,
        not q.categories or order.status.category in q.categories,
        not q.statuses or order.status.raw in q.statuses,
        q.include_deleted or order.status.category is not StatusCategory.DELETED,
        all(t in fold(order.search_text()) for t in search_terms(q.text)),
        not q.numbers or order.number in q.numbers or order.remote_id in q.numbers,
        q.created_from is None or order.created_at >= q.created_from,
        q.created_to is None or order.created_at < q.created_to,
        q.updated_from is None or order.updated_at >= q.updated_from,
        q.updated_to is None or order.updated_at < q.updated_to,
        q.total_min is None or (total is not None and total >= q.total_min),
        q.total_max is None or (total is not None and total <= q.total_max),
        q.payment is None or str(recon.payment_state) in _PAYMENT[q.payment],
        not q.payment_methods or (order.payment_method.name if order.payment_method else "")
        in q.payment_methods,
        not q.shipping_methods or (order.shipping_method.name if order.shipping_method else "")
        in q.shipping_methods,
        not q.countries or order.country in q.countries,
        q.has_notes is None or order.has_notes == q.has_notes,
        q.has_problems is None or bool(recon.problems) == q.has_problems,
    ]
    return all(checks)


def _value(order: Order, field: SortField) -> Any:
    recon = reconcile(order)
    return {
        SortField.NUMBER: order.number, SortField.CREATED: order.created_at,
        SortField.UPDATED: order.updated_at, SortField.CUSTOMER: fold(order.customer_name),
        SortField.EMAIL: order.email, SortField.STATUS: str(order.status.category),
        SortField.LINES: order.line_count, SortField.QUANTITY: order.total_quantity,
        SortField.TOTAL: order.figures.total, SortField.PAID: recon.amount_paid,
        SortField.OUTSTANDING: recon.amount_outstanding,
        SortField.PAYMENT_METHOD: order.payment_method.name if order.payment_method else "",
        SortField.SHIPPING_METHOD: order.shipping_method.name if order.shipping_method else "",
        SortField.COUNTRY: order.country, SortField.CONNECTION: order.connection,
        SortField.PROBLEMS: len(recon.problems),
    }[field]


class _Key:
    """NULL first ascending, last descending; the rest by value."""

    def __init__(self, value: Any, descending: bool) -> None:
        self.value, self.descending = value, descending

    def _rank(self) -> tuple[int, Any]:
        return (0, 0) if self.value is None else (1, self.value)

    def __lt__(self, other: _Key) -> bool:
        a, b = self._rank(), other._rank()
        if a[0] != b[0]:
            return (a[0] < b[0]) != self.descending
        if a[1] == b[1]:
            return False
        return (a[1] < b[1]) != self.descending

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self._rank() == other._rank()


def expected_ids(orders: Sequence[tuple[int, Order]], q: OrderQuery) -> list[int]:
    hits = [(oid, o) for oid, o in orders if matches(o, q)]
    first_desc = bool(q.sort) and q.sort[0].descending

    def key(item: tuple[int, Order]) -> list[Any]:
        oid, order = item
        parts: list[Any] = [_Key(_value(order, k.field), k.descending) for k in q.sort]
        parts.append(_Key(oid, first_desc))
        return parts

    return [oid for oid, _ in sorted(hits, key=key)]


__all__ = ["Decimal", "expected_ids", "matches"]

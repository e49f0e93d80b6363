"""The order columns shared by the table, the CLI listing and CSV export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orderdesk.models.query import SortField
from orderdesk.models.rows import OrderRow


class ColumnType(StrEnum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"
    DATETIME = "datetime"
    STATUS = "status"
    PROBLEMS = "problems"


@dataclass(frozen=True, slots=True)
class OrderColumn:
    key: str
    label: str
    type: ColumnType
    value: Callable[[OrderRow], Any]
    sort: SortField | None = None
    default_visible: bool = True


COLUMNS: tuple[OrderColumn, ...] = (
    OrderColumn("number", "Order", ColumnType.TEXT, lambda r: r.number, SortField.NUMBER),
    OrderColumn("created", "Created", ColumnType.DATETIME, lambda r: r.created_at,
                SortField.CREATED),
    OrderColumn("updated", "Updated", ColumnType.DATETIME, lambda r: r.updated_at,
                SortField.UPDATED, default_visible=False),
    OrderColumn("customer", "Customer", ColumnType.TEXT, lambda r: r.customer,
                SortField.CUSTOMER),
    OrderColumn("email", "E-mail", ColumnType.TEXT, lambda r: r.email, SortField.EMAIL),
    OrderColumn("status", "Status", ColumnType.STATUS, lambda r: r.status, SortField.STATUS),
    OrderColumn("lines", "Lines", ColumnType.INT, lambda r: r.line_count, SortField.LINES,
                default_visible=False),
    OrderColumn("quantity", "Qty", ColumnType.INT, lambda r: r.quantity, SortField.QUANTITY),
    OrderColumn("total", "Total", ColumnType.MONEY, lambda r: r.total, SortField.TOTAL),
    OrderColumn("paid", "Paid", ColumnType.MONEY, lambda r: r.paid, SortField.PAID),
    OrderColumn("outstanding", "Outstanding", ColumnType.MONEY, lambda r: r.outstanding,
                SortField.OUTSTANDING),
    OrderColumn("payment_method", "Payment", ColumnType.TEXT, lambda r: r.payment_method,
                SortField.PAYMENT_METHOD),
    OrderColumn("shipping_method", "Shipping", ColumnType.TEXT, lambda r: r.shipping_method,
                SortField.SHIPPING_METHOD, default_visible=False),
    OrderColumn("country", "Country", ColumnType.TEXT, lambda r: r.country, SortField.COUNTRY),
    OrderColumn("connection", "Connection", ColumnType.TEXT, lambda r: r.connection,
                SortField.CONNECTION, default_visible=False),
    OrderColumn("synced", "Synced", ColumnType.DATETIME, lambda r: r.synced_at,
                SortField.SYNCED, default_visible=False),
    OrderColumn("problems", "Check", ColumnType.PROBLEMS, lambda r: r.problems,
                SortField.PROBLEMS),
)

BY_KEY: dict[str, OrderColumn] = {c.key: c for c in COLUMNS}
DEFAULT_COLUMNS: tuple[str, ...] = tuple(c.key for c in COLUMNS if c.default_visible)


def column(key: str) -> OrderColumn:
    from orderdesk.models.errors import DataError

    try:
        return BY_KEY[key]
    except KeyError:
        raise DataError(f"unknown column {key!r} (choose from {', '.join(BY_KEY)})") from None

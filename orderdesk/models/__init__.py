"""Domain core: frozen dataclasses and pure functions. No Qt, SQL or HTTP here."""

from orderdesk.models.entities import (
    Address,
    ConnectionKind,
    Customer,
    LineMoney,
    NamedRef,
    Order,
    OrderLine,
    Payment,
    ServerFigures,
    ensure_utc,
    parse_datetime,
)
from orderdesk.models.errors import (
    CancelledError,
    ConfigError,
    DataError,
    MoneyError,
    OrderdeskError,
    StoreError,
)
from orderdesk.models.money import Money, parse_decimal
from orderdesk.models.query import OrderQuery, PaymentFilter, SortField, SortKey
from orderdesk.models.status import OrderStatus, StatusCategory

__all__ = [
    "Address",
    "CancelledError",
    "ConfigError",
    "ConnectionKind",
    "Customer",
    "DataError",
    "LineMoney",
    "Money",
    "MoneyError",
    "NamedRef",
    "Order",
    "OrderLine",
    "OrderQuery",
    "OrderStatus",
    "OrderdeskError",
    "Payment",
    "PaymentFilter",
    "ServerFigures",
    "SortField",
    "SortKey",
    "StatusCategory",
    "StoreError",
    "ensure_utc",
    "parse_datetime",
    "parse_decimal",
]

"""``OrderQuery``: one description of filters and sort for every backend.

The store turns it into SQL, the shop API clients into query parameters (as far
as the endpoint supports them), and :func:`matches`/:func:`sort_key` give the
plain-Python meaning that both must agree with.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from orderdesk.models.entities import ensure_utc
from orderdesk.models.errors import DataError
from orderdesk.models.status import StatusCategory


class PaymentFilter(StrEnum):
    PAID = "paid"  #: nothing outstanding
    UNPAID = "unpaid"  #: nothing paid yet
    OUTSTANDING = "outstanding"  #: something left to pay


class SortField(StrEnum):
    NUMBER = "number"
    CREATED = "created"
    UPDATED = "updated"
    CUSTOMER = "customer"
    EMAIL = "email"
    STATUS = "status"
    LINES = "lines"
    QUANTITY = "quantity"
    TOTAL = "total"
    PAID = "paid"
    OUTSTANDING = "outstanding"
    PAYMENT_METHOD = "payment_method"
    SHIPPING_METHOD = "shipping_method"
    COUNTRY = "country"
    CONNECTION = "connection"
    SYNCED = "synced"
    PROBLEMS = "problems"


@dataclass(frozen=True, slots=True)
class SortKey:
    field: SortField
    descending: bool = False

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else str(self.field)

    @classmethod
    def parse(cls, text: str) -> SortKey:
        raw = text.strip()
        descending = raw.startswith("-")
        name = raw.lstrip("+-").strip().lower().replace("-", "_")
        try:
            return cls(SortField(name), descending)
        except ValueError:
            choices = ", ".join(f.value for f in SortField)
            raise DataError(f"unknown sort key {raw!r} (choose from {choices})") from None


DEFAULT_SORT: tuple[SortKey, ...] = (SortKey(SortField.CREATED, descending=True),)


def fold(text: str) -> str:
    """Case folding used by free-text search, identical in Python and in the store."""
    return text.lower()


def search_terms(text: str) -> tuple[str, ...]:
    """Whitespace-separated terms, folded; every term must occur in an order."""
    return tuple(fold(term) for term in text.split())


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """Filters (all combined with AND; an empty tuple/``None`` means no filter) and sort."""

    connections: tuple[str, ...] = ()
    categories: tuple[StatusCategory, ...] = ()
    statuses: tuple[str, ...] = ()  #: raw provider statuses, matched exactly
    text: str = ""
    numbers: tuple[str, ...] = ()  #: order numbers or remote ids, matched exactly
    created_from: datetime | None = None
    created_to: datetime | None = None  #: exclusive
    updated_from: datetime | None = None
    updated_to: datetime | None = None  #: exclusive
    total_min: Decimal | None = None
    total_max: Decimal | None = None  #: inclusive
    payment: PaymentFilter | None = None
    payment_methods: tuple[str, ...] = ()
    shipping_methods: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    has_notes: bool | None = None
    has_problems: bool | None = None
    include_deleted: bool = True
    sort: tuple[SortKey, ...] = field(default=DEFAULT_SORT)

    def __post_init__(self) -> None:
        for name in ("created_from", "created_to", "updated_from", "updated_to"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, ensure_utc(value, field=name))
        for name in ("total_min", "total_max"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise DataError(f"{name} must be a Decimal")

    def with_sort(self, *keys: SortKey) -> OrderQuery:
        return replace(self, sort=tuple(keys))

    def without_sort(self) -> OrderQuery:
        """The same filters; used for counts, where order does not matter."""
        return replace(self, sort=())

    @property
    def is_filtered(self) -> bool:
        return self.without_sort() != OrderQuery(sort=())

    def describe(self) -> str:
        """A one-line human description, for logs and export metadata."""
        parts: list[str] = []
        for name in self.__slots__:
            if name == "sort":
                continue
            value = getattr(self, name)
            default = getattr(_EMPTY, name)
            if value != default:
                if isinstance(value, tuple):
                    value = ",".join(str(v) for v in value)
                parts.append(f"{name}={value}")
        parts.append("sort=" + ",".join(str(k) for k in self.sort))
        return " ".join(parts)


_EMPTY = OrderQuery()

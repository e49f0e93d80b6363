"""Frozen domain objects: orders, their lines, payments, customer and address."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from orderdesk.models.errors import DataError
from orderdesk.models.status import OrderStatus


class ConnectionKind(StrEnum):
    ECOMMERCE_CUSTOMER = "ecommerce-customer"
    SHOP_CUSTOMER = "shop-customer"
    SHOP_STAFF = "shop-staff"


class LineMoney(StrEnum):
    """How an order's line amounts are expressed by its provider."""

    #: Decimal major units ("79.99"): the ecommerce-API.
    MAJOR = "major"
    #: Integers in the smallest currency unit, scale to be detected: the shop API.
    MINOR = "minor"


def ensure_utc(value: datetime, *, field: str = "datetime") -> datetime:
    """An aware datetime converted to UTC; a naive one is an error, never a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise DataError(f"{field}: {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """An aware date-time as whole microseconds since 1970 (UTC): how the cache stores it."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_datetime(text: object, *, field: str = "datetime") -> datetime:
    """ISO 8601 text (``Z`` or an offset, any fraction) → aware UTC datetime."""
    if not isinstance(text, str):
        raise DataError(f"{field}: expected an ISO 8601 date-time, got {type(text).__name__}")
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise DataError(f"{field}: {text[:40]!r} is not an ISO 8601 date-time") from exc
    return ensure_utc(value, field=field)


@dataclass(frozen=True, slots=True)
class NamedRef:
    """A provider object referenced by id and known by name (payment method, country...)."""

    id: str | None = None
    name: str = ""
    code: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    id: str | None = None
    username: str = ""
    full_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    mobile: str = ""

    @property
    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        joined = " ".join(p for p in (self.first_name, self.last_name) if p)
        return joined or self.username or self.email


@dataclass(frozen=True, slots=True)
class Address:
    first_name: str = ""
    last_name: str = ""
    street: str = ""
    postal_code: str = ""
    city: NamedRef | None = None
    state: NamedRef | None = None
    country: NamedRef | None = None
    mobile: str = ""
    national_code: str = ""

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def lines(self) -> list[str]:
        """The address as printed on a label, empty parts skipped."""
        out = [self.name, self.street]
        place = " ".join(p for p in (self.postal_code, self.city.name if self.city else "") if p)
        out.append(place)
        out.append(self.state.name if self.state else "")
        out.append(self.country.name if self.country else "")
        return [line for line in out if line]


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line. Amounts are in the order's :class:`LineMoney` unit, as the server sent them.

    ``pricing.line_figures`` turns them into major-unit Decimals for the order.
    """

    remote_id: str | None
    product_name: str
    quantity: int
    unit_price: Decimal
    product_id: str | None = None
    product_slug: str = ""
    variant: str = ""
    offer: str = ""
    unit_discount: Decimal | None = None
    subtotal: Decimal | None = None
    discount: Decimal | None = None
    total: Decimal | None = None
    shipping: Decimal | None = None
    notes: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment record; providers leave its shape open, so unknown fields go to ``extra``."""

    remote_id: str | None
    amount: Decimal
    method: str = ""
    status: str = ""
    reference: str = ""
    created_at: datetime | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def counts_as_paid(self) -> bool:
        """Whether this record adds to the amount paid (refunds are negative amounts)."""
        return self.status.lower() not in {"failed", "pending", "cancelled", "canceled", "void"}


@dataclass(frozen=True, slots=True)
class ServerFigures:
    """Every order figure the server states, in major units; ``None`` = not sent.

    Names are orderdesk's, not a provider's: ``items_subtotal`` (before item
    discounts), ``items_discount``, ``subtotal`` (after item discounts),
    ``shipping``, ``total_discount`` (all discounts incl. vouchers), ``total``,
    ``amount_paid``, ``amount_outstanding``, ``line_count``, ``quantity``.
    """

    items_subtotal: Decimal | None = None
    items_discount: Decimal | None = None
    subtotal: Decimal | None = None
    shipping: Decimal | None = None
    total_discount: Decimal | None = None
    total: Decimal | None = None
    amount_paid: Decimal | None = None
    amount_outstanding: Decimal | None = None
    line_count: int | None = None
    quantity: int | None = None
    is_paid: bool | None = None
    is_payable: bool | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """One order of one connection. Identity is ``(connection, remote_id)``."""

    connection: str
    remote_id: str
    number: str
    kind: ConnectionKind
    status: OrderStatus
    currency: str
    created_at: datetime
    updated_at: datetime
    figures: ServerFigures
    line_money: LineMoney = LineMoney.MAJOR
    lines: tuple[OrderLine, ...] = ()
    payments: tuple[Payment, ...] = ()
    customer: Customer | None = None
    billing: Address | None = None
    payment_method: NamedRef | None = None
    shipping_method: NamedRef | None = None
    notes: str = ""
    synced_at: datetime | None = None
    raw: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        ensure_utc(self.created_at, field="created_at")
        ensure_utc(self.updated_at, field="updated_at")
        if self.synced_at is not None:
            ensure_utc(self.synced_at, field="synced_at")

    @property
    def key(self) -> tuple[str, str]:
        return (self.connection, self.remote_id)

    @property
    def line_count(self) -> int:
        """Lines of the order; the server's count when it sent no lines (customer list)."""
        if not self.lines and self.figures.line_count is not None:
            return self.figures.line_count
        return len(self.lines)

    @property
    def total_quantity(self) -> int:
        """Σ quantity of the lines; the server's figure when it sent no lines."""
        if not self.lines and self.figures.quantity is not None:
            return self.figures.quantity
        return sum(line.quantity for line in self.lines)

    @property
    def has_notes(self) -> bool:
        return bool(self.notes.strip())

    @property
    def customer_name(self) -> str:
        if self.customer and self.customer.display_name:
            return self.customer.display_name
        return self.billing.name if self.billing else ""

    @property
    def email(self) -> str:
        return self.customer.email if self.customer else ""

    @property
    def country(self) -> str:
        if self.billing and self.billing.country:
            return self.billing.country.name
        return ""

    def search_text(self) -> str:
        """Everything free-text search looks at, in one string: each distinct part once
        (a search term never spans two parts, so a repeated one only adds to the index)."""
        parts = [self.number, self.remote_id, self.customer_name, self.email, self.notes]
        if self.customer:
            parts += [self.customer.username, self.customer.mobile]
        if self.billing:
            parts += [self.billing.name, self.billing.mobile, self.billing.street]
            parts += [ref.name for ref in (self.billing.city, self.billing.state,
                                           self.billing.country) if ref]
        parts += [line.product_name for line in self.lines]
        return "\n".join(dict.fromkeys(p for p in parts if p))

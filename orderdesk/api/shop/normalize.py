"""Shop API JSON → domain ``Order``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from orderdesk.api.parse import Fields, dumps_raw
from orderdesk.api.shop import payloads as p
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
)
from orderdesk.models.status import OrderStatus

_PAYMENT_KNOWN = {"id", "amount", "method", "status", "reference", "created_at"}


def _customer(f: Fields) -> Customer | None:
    for key in p.CUSTOMER:
        value = f.data.get(key)
        if value is None:
            continue
        if isinstance(value, dict):
            c = Fields(value, f"{f.where}.{key}")
            return Customer(id=c.opt_ident("id"), username=c.text("username"),
                            full_name=c.text("full_name"), first_name=c.text("first_name"),
                            last_name=c.text("last_name"), email=c.text("email"),
                            mobile=c.text("mobile_number"))
        return Customer(id=f.opt_ident(key))
    return None


def _payment(f: Fields) -> Payment:
    method = f.data.get("method")
    method_name = (Fields(method, f.where + ".method").text("name") if isinstance(method, dict)
                   else f.text("method"))
    extra = tuple((str(k), dumps_raw(v) if not isinstance(v, str) else v)
                  for k, v in f.data.items() if k not in _PAYMENT_KNOWN)
    amount = f.decimal("amount")
    return Payment(remote_id=f.opt_ident("id"), amount=amount if amount is not None
                   else Decimal(0), method=method_name, status=f.text("status"),
                   reference=f.text("reference"),
                   created_at=f.datetime("created_at", required=False), extra=extra)


def _line(f: Fields) -> OrderLine:
    product = f.data.get("product")
    product_id = (Fields(product, f.where + ".product").opt_ident("id")
                  if isinstance(product, dict) else f.opt_ident("product"))
    data = f.obj("product_data")
    name = f.text("product_name") or (data.text("name") if data else "")
    quantity = f.integer("quantity", 0) or 0
    unit_price = f.decimal("unit_price")
    return OrderLine(
        remote_id=f.opt_ident("id"), product_name=name, quantity=quantity,
        unit_price=unit_price if unit_price is not None else Decimal(0),
        product_id=product_id, product_slug=data.text("slug") if data else "",
        variant=data.text("variant") if data else "",
        unit_discount=f.decimal("unit_discount"), subtotal=f.decimal("subtotal"),
        discount=f.decimal("discount"), total=f.decimal("total"), notes=f.text("notes"),
        created_at=f.datetime("created_at", required=False),
        updated_at=f.datetime("updated_at", required=False),
    )


def normalize(data: Any, *, connection: str, kind: ConnectionKind, currency: str,
              synced_at: datetime | None = None, raw: str | None = None) -> Order:
    f = Fields(data, "order")
    remote_id = f.ident("id")
    f.where = f"order {remote_id}"
    extra = f.obj("extra")
    cur = (extra.text("currency") if extra else "") or currency
    country = f.ref(*p.COUNTRY)
    billing = Address(
        first_name=f.text("billing_first_name"), last_name=f.text("billing_last_name"),
        street=f.text("billing_address"), postal_code=f.text("billing_postal_code"),
        city=f.ref(*p.CITY), state=f.ref(*p.STATE), country=country,
        mobile=f.text("billing_mobile_number"), national_code=f.text("billing_national_code"),
    )
    has_billing = any((billing.name, billing.street, billing.postal_code, billing.city,
                       billing.state, billing.country))
    created = f.datetime("created_at")
    updated = f.datetime("updated_at")
    assert created is not None and updated is not None
    return Order(
        connection=connection, remote_id=remote_id, number=f.text("key") or remote_id,
        kind=kind, status=OrderStatus.from_raw(f.text("status", "")), currency=cur.upper(),
        created_at=created, updated_at=updated,
        figures=ServerFigures(
            items_subtotal=f.decimal("items_subtotal"),
            items_discount=f.decimal("items_discount"), subtotal=f.decimal("subtotal"),
            shipping=f.decimal("shipping_cost"), total_discount=f.decimal("total_discount"),
            total=f.decimal("total"), amount_paid=f.decimal("amount_paid"),
            amount_outstanding=f.decimal("amount_outstanding"),
            line_count=f.integer("count"), quantity=f.integer("quantity"),
            is_paid=f.boolean("is_paid"), is_payable=f.boolean("is_payable")),
        line_money=LineMoney.MINOR,
        lines=tuple(_line(item) for item in f.items("items")),
        payments=tuple(_payment(item) for item in f.items("payments")),
        customer=_customer(f),
        billing=billing if has_billing else None,
        payment_method=_named(f.ref(*p.PAYMENT_METHOD)),
        shipping_method=_named(f.ref(*p.SHIPPING_METHOD)),
        notes=f.text("notes"), synced_at=synced_at,
        raw=raw if raw is not None else dumps_raw(data),
    )


def _named(ref: NamedRef | None) -> NamedRef | None:
    """A method known only by id still shows something."""
    if ref is not None and not ref.name and ref.id:
        return NamedRef(ref.id, f"#{ref.id}", ref.code)
    return ref

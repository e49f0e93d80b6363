"""ecommerce-API JSON → domain ``Order``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from orderdesk.api.parse import Fields, dumps_raw
from orderdesk.models.entities import (
    Address,
    ConnectionKind,
    Customer,
    LineMoney,
    NamedRef,
    Order,
    OrderLine,
    ServerFigures,
)
from orderdesk.models.status import OrderStatus


def _line(f: Fields) -> OrderLine:
    product = f.obj("product")
    unit = f.decimal("unit_price")
    return OrderLine(
        remote_id=f.opt_ident("id"),
        product_name=product.text("name") if product else "",
        product_id=product.opt_ident("id") if product else None,
        product_slug=product.text("slug") if product else "",
        quantity=f.integer("quantity", 0) or 0,
        unit_price=unit if unit is not None else Decimal(0),
        variant=f.text("variant"), offer=f.text("offer"),
        discount=f.decimal("discount_amount"), total=f.decimal("total_price"),
        shipping=f.decimal("shipping"),
        created_at=f.datetime("created", required=False),
        updated_at=f.datetime("updated", required=False),
    )


def normalize(data: Any, *, connection: str, currency: str,
              synced_at: datetime | None = None, raw: str | None = None) -> Order:
    f = Fields(data, "order")
    remote_id = f.ident("id")
    f.where = f"order {remote_id}"
    cust = f.obj("customer")
    addr = f.obj("billing_address")
    customer = None if cust is None else Customer(
        email=cust.text("email"), first_name=cust.text("first_name"),
        last_name=cust.text("last_name"))
    billing = None if addr is None else Address(
        first_name=customer.first_name if customer else "",
        last_name=customer.last_name if customer else "",
        street=addr.text("street_address"), postal_code=addr.text("postal_code"),
        city=NamedRef(None, addr.text("city")) if addr.has("city") else None,
        state=NamedRef(None, addr.text("state")) if addr.has("state") else None,
        country=NamedRef(None, addr.text("country")) if addr.has("country") else None,
    )
    created = f.datetime("created")
    updated = f.datetime("updated")
    assert created is not None and updated is not None
    return Order(
        connection=connection, remote_id=remote_id,
        number=remote_id.split("-")[0] if "-" in remote_id else remote_id,
        kind=ConnectionKind.ECOMMERCE_CUSTOMER,
        status=OrderStatus.from_raw(f.text("status")), currency=currency.upper(),
        created_at=created, updated_at=updated,
        figures=ServerFigures(
            subtotal=f.decimal("subtotal"), items_discount=f.decimal("savings_on_items"),
            shipping=f.decimal("shipping"), total_discount=f.decimal("amount_saved"),
            total=f.decimal("total_amount"), quantity=f.integer("items_count")),
        line_money=LineMoney.MAJOR,
        lines=tuple(_line(item) for item in f.items("items")),
        customer=customer, billing=billing, synced_at=synced_at,
        raw=raw if raw is not None else dumps_raw(data),
    )

"""Varied factory orders for the window tests and the screenshot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from factories import T0, shop_order

from orderdesk.models import Address, Customer, NamedRef, OrderStatus, ServerFigures
from orderdesk.models.entities import Order
from orderdesk.services.context import AppContext

STATUSES = ["new", "processing", "shipped", "completed", "hold", "refunded", "cancelled",
            "pending", "processing", "shipped"]
NAMES = ["Anna Ödegaard", "Bruno Costa", "Chen Wei", "Dana Kowalski", "Emil Larsen",
         "Fatima Zahra", "Gustav Berg", "Hana Sato", "Ivan Petrov", "Julia Rossi"]
COUNTRIES = [("47", "Norway", "NO"), ("49", "Germany", "DE"), ("33", "France", "FR"),
             ("81", "Japan", "JP"), ("39", "Italy", "IT")]
METHODS = ["Card", "Bank transfer", "PayPal", "Invoice"]
SHIPPING = ["Courier", "Post", "Pickup"]


def varied_order(i: int, connection: str = "staff") -> Order:
    """A consistent order whose figures, customer and status vary with ``i``."""
    q1, q2 = 1 + i % 3, 1 + i % 2
    p1, p2 = 1250 + (i * 37) % 4000, 899 + (i * 53) % 2500
    d1 = 250 if i % 4 == 0 else 0
    items_subtotal = Decimal(p1 * q1 + p2 * q2).scaleb(-2)
    items_discount = Decimal(d1 * q1).scaleb(-2)
    shipping = Decimal("4.50") if i % 5 else Decimal(0)
    total = items_subtotal + shipping - items_discount
    status = STATUSES[i % len(STATUSES)]
    paid = total if status in ("shipped", "completed") else (
        Decimal("10.00") if i % 7 == 0 else Decimal(0))
    outstanding = total - paid
    name = NAMES[i % len(NAMES)]
    first, _, last = name.partition(" ")
    country = COUNTRIES[i % len(COUNTRIES)]
    from orderdesk.models import OrderLine, Payment

    lines = (
        OrderLine(remote_id=f"{i}1", product_name=["Blue Mug", "Green Teapot", "Oak Tray",
                                                   "Linen Napkins"][i % 4],
                  quantity=q1, unit_price=Decimal(p1), unit_discount=Decimal(d1),
                  subtotal=Decimal(p1 * q1), discount=Decimal(d1 * q1),
                  total=Decimal((p1 - d1) * q1), variant=["", "large", "red"][i % 3]),
        OrderLine(remote_id=f"{i}2", product_name=["Tea 東京", "Coffee Beans", "Honey Jar"][i % 3],
                  quantity=q2, unit_price=Decimal(p2), unit_discount=Decimal(0),
                  subtotal=Decimal(p2 * q2), discount=Decimal(0), total=Decimal(p2 * q2)),
    )
    reported_total = total + Decimal("1.00") if i % 23 == 5 else total  # a few bad figures
    return shop_order(
        str(1000 + i), connection=connection, number=f"K-{1000 + i}",
        status=OrderStatus.from_raw(status),
        created_at=T0 + timedelta(hours=7 * i), updated_at=T0 + timedelta(hours=7 * i + 2),
        figures=ServerFigures(
            items_subtotal=items_subtotal, items_discount=items_discount,
            subtotal=items_subtotal - items_discount, shipping=shipping,
            total_discount=items_discount, total=reported_total, amount_paid=paid,
            amount_outstanding=reported_total - paid, line_count=2, quantity=q1 + q2,
            is_paid=outstanding == 0, is_payable=True),
        lines=lines,
        payments=(Payment(remote_id=f"p{i}", amount=paid, method=METHODS[i % 4],
                          status="completed", reference=f"ref-{i}",
                          created_at=T0 + timedelta(hours=7 * i, minutes=5)),) if paid else (),
        customer=Customer(id=str(i % 10), username=first.lower(), full_name=name,
                          email=f"{first.lower()}@example.com"),
        billing=Address(first_name=first, last_name=last, street=f"Main St {i}",
                        postal_code=f"{1000 + i % 90}", city=NamedRef("3", "Oslo"),
                        country=NamedRef(*country)),
        payment_method=NamedRef(str(i % 4), METHODS[i % 4]),
        shipping_method=NamedRef(str(i % 3), SHIPPING[i % 3]),
        notes="leave at door" if i % 6 == 0 else "",
        synced_at=T0 + timedelta(days=400),
    )


def fill(ctx: AppContext, n: int, connection: str = "staff") -> None:
    ctx.store.add_connection(connection, "shop-staff", "http://127.0.0.1:1")
    orders = [varied_order(i, connection) for i in range(n)]
    for start in range(0, n, 500):
        ctx.store.upsert_page(connection, orders[start:start + 500])

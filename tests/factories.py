"""Test data: hand-made orders and hypothesis strategies for random ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from orderdesk.models import (
    Address,
    ConnectionKind,
    Customer,
    LineMoney,
    NamedRef,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    ServerFigures,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)

# Characters whose fold (str.lower) is the same in Python and SQLite's trigram index.
TEXT = st.text(
    alphabet=st.sampled_from(list("abcxyzABCXYZ019 -_.@'\"%*[?") + list("éÅøßÄö") +
                             list("Жжяи") + list("東京都中文") + list("αβΓ")),
    max_size=12,
)


def shop_order(remote_id: str = "1", connection: str = "staff", **overrides: object) -> Order:
    """A shop-API order: items in minor units (cents), consistent figures."""
    lines = (
        OrderLine(remote_id="11", product_name="Blue Mug", quantity=2, unit_price=Decimal(1250),
                  unit_discount=Decimal(250), subtotal=Decimal(2500), discount=Decimal(500),
                  total=Decimal(2000)),
        OrderLine(remote_id="12", product_name="Tea 東京", quantity=1, unit_price=Decimal(899),
                  unit_discount=Decimal(0), subtotal=Decimal(899), discount=Decimal(0),
                  total=Decimal(899)),
    )
    base: dict[str, object] = dict(
        connection=connection, remote_id=remote_id, number=f"K-{remote_id}",
        kind=ConnectionKind.SHOP_STAFF, status=OrderStatus.from_raw("processing"),
        currency="EUR", created_at=T0, updated_at=T0 + timedelta(hours=1),
        figures=ServerFigures(
            items_subtotal=Decimal("33.99"), items_discount=Decimal("5.00"),
            subtotal=Decimal("28.99"), shipping=Decimal("4.50"),
            total_discount=Decimal("5.00"), total=Decimal("33.49"),
            amount_paid=Decimal("10.00"), amount_outstanding=Decimal("23.49"),
            line_count=2, quantity=3, is_paid=False, is_payable=True),
        line_money=LineMoney.MINOR, lines=lines,
        payments=(Payment(remote_id="p1", amount=Decimal("10.00"), method="Card",
                          status="completed", reference="ref-1",
                          created_at=T0 + timedelta(minutes=5), extra=(("gateway", "x"),)),),
        customer=Customer(id="7", username="anna", full_name="Anna Ödegaard",
                          email="anna@example.com"),
        billing=Address(first_name="Anna", last_name="Ödegaard", street="Main St 1",
                        postal_code="0150", city=NamedRef("3", "Oslo"),
                        country=NamedRef("47", "Norway", "NO")),
        payment_method=NamedRef("1", "Card"), shipping_method=NamedRef("2", "Courier"),
        notes="leave at door", raw='{"id": 1}',
    )
    base.update(overrides)
    return Order(**base)  # type: ignore[arg-type]


def ecommerce_doc_order() -> Order:
    """The ecommerce-API docs' example order (subtotal 175.97, total 173.97)."""
    return Order(
        connection="shop", remote_id="a3d5c8e7-9b4f-4a2e-8c7d-1f3e5a6b9c0d",
        number="a3d5c8e7", kind=ConnectionKind.ECOMMERCE_CUSTOMER,
        status=OrderStatus.from_raw("awaiting_payment"), currency="USD",
        created_at=datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
        updated_at=datetime(2026, 3, 1, 10, 35, tzinfo=UTC),
        figures=ServerFigures(subtotal=Decimal("175.97"), items_discount=Decimal("10.00"),
                              shipping=Decimal("8.00"), total_discount=Decimal("10.00"),
                              total=Decimal("173.97"), quantity=3),
        line_money=LineMoney.MAJOR,
        lines=(
            OrderLine(remote_id="1", product_name="Wireless Headphones", quantity=2,
                      unit_price=Decimal("79.99"), discount=Decimal("10.00"),
                      total=Decimal("159.98"), shipping=Decimal("5.00")),
            OrderLine(remote_id="2", product_name="Phone Case", quantity=1,
                      unit_price=Decimal("15.99"), discount=Decimal("0.00"),
                      total=Decimal("15.99"), shipping=Decimal("3.00")),
        ),
    )


money = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("99999"), places=2,
                    allow_nan=False, allow_infinity=False)
STATUSES = ["new", "hold", "processing", "shipped", "completed", "refunded", "deleted",
            "pending", "weird-status", "cancelled", "failed"]


@st.composite
def random_orders(draw: st.DrawFn, connection: str = "c1", remote_id: str = "1") -> Order:
    """Random orders with ties, missing values and unicode in every text field."""
    created = T0 + timedelta(minutes=draw(st.integers(0, 50)))
    n_lines = draw(st.integers(0, 3))
    lines = tuple(
        OrderLine(remote_id=str(i), product_name=draw(TEXT), quantity=draw(st.integers(1, 3)),
                  unit_price=Decimal(draw(st.integers(0, 5000))))
        for i in range(n_lines)
    )
    has_customer = draw(st.booleans())
    total = draw(st.none() | money)
    paid = draw(st.none() | money)
    return Order(
        connection=connection, remote_id=remote_id, number=draw(TEXT),
        kind=ConnectionKind.SHOP_STAFF,
        status=OrderStatus.from_raw(draw(st.sampled_from(STATUSES))),
        currency="EUR", created_at=created,
        updated_at=created + timedelta(minutes=draw(st.integers(0, 5))),
        figures=ServerFigures(
            total=total, amount_paid=paid,
            amount_outstanding=draw(st.none() | money), is_payable=draw(st.none() | st.booleans())),
        line_money=LineMoney.MINOR, lines=lines,
        customer=Customer(id="1", full_name=draw(TEXT), email=draw(TEXT)) if has_customer else None,
        billing=Address(country=NamedRef("1", draw(st.sampled_from(["", "Norway", "Japan"]))),
                        city=NamedRef("2", draw(st.sampled_from(["Oslo", "東京"])))),
        payment_method=draw(st.none() | st.sampled_from([NamedRef("1", "Card"),
                                                          NamedRef("2", "Bank")])),
        shipping_method=draw(st.none() | st.sampled_from([NamedRef("1", "Post")])),
        notes=draw(st.sampled_from(["", " ", "fragile", "Ring twice"])),
    )

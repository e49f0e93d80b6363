from dataclasses import replace
from decimal import Decimal

from factories import ecommerce_doc_order, shop_order
from hypothesis import given
from hypothesis import strategies as st

from orderdesk.models import LineMoney, OrderLine, ServerFigures, StatusCategory
from orderdesk.models.pricing import PaymentState, reconcile


def test_ecommerce_doc_example_reconciles_with_documented_formula() -> None:
    order = ecommerce_doc_order()
    result = reconcile(order)
    assert result.ok, result.problems
    assert result.check("subtotal").recomputed == Decimal("175.97")  # type: ignore[union-attr]
    assert result.check("shipping").recomputed == Decimal("8.00")  # type: ignore[union-attr]
    total = result.check("total")
    assert total is not None and total.server == Decimal("173.97") and total.ok
    assert result.total_formula.startswith("documented")
    assert result.payment_state is PaymentState.UNPAID
    assert result.amount_outstanding == Decimal("173.97")


def test_ecommerce_deployed_formula_is_recognised() -> None:
    order = ecommerce_doc_order()
    deployed = replace(order, figures=replace(order.figures, total=Decimal("183.97")))
    result = reconcile(deployed)
    assert result.ok and result.total_formula.startswith("deployed")


def test_inconsistent_order_is_flagged() -> None:
    order = ecommerce_doc_order()
    bad = replace(order, figures=replace(order.figures, subtotal=Decimal("170.00"),
                                         total=Decimal("1.00")))
    result = reconcile(bad)
    assert not result.ok
    assert any(p.startswith("subtotal") for p in result.problems)
    assert any(p.startswith("total") for p in result.problems)
    assert result.total_formula == "none"


def test_shop_order_scale_detected_from_minor_units() -> None:
    result = reconcile(shop_order())
    assert result.ok, result.problems
    assert result.line_exponent == 2
    assert result.lines[0].unit_price == Decimal("12.50")
    assert result.lines[0].total == Decimal("20.00")
    assert result.payment_state is PaymentState.PARTIALLY_PAID


def test_shop_order_with_major_unit_lines_is_detected() -> None:
    order = shop_order()
    major = replace(order, lines=tuple(
        replace(ln, unit_price=ln.unit_price / 100, unit_discount=ln.unit_discount / 100,
                subtotal=ln.subtotal / 100, discount=ln.discount / 100, total=ln.total / 100)
        for ln in order.lines))
    result = reconcile(major)
    assert result.ok, result.problems
    assert result.line_exponent == 0


def test_shop_order_with_no_fitting_scale_is_flagged_and_kept_raw() -> None:
    order = shop_order()
    bad = replace(order, figures=replace(order.figures, items_subtotal=Decimal("7.77"),
                                         subtotal=Decimal("6.66")))
    result = reconcile(bad)
    assert result.line_exponent is None
    assert not result.ok
    assert result.lines[0].unit_price == Decimal(1250)


def test_payments_must_add_up() -> None:
    order = shop_order()
    result = reconcile(replace(order, figures=replace(order.figures, amount_paid=Decimal("12"),
                                                      amount_outstanding=Decimal("21.49"))))
    assert any(p.startswith("payments") for p in result.problems)
    result = reconcile(replace(order, figures=replace(order.figures,
                                                      amount_outstanding=Decimal("1"))))
    assert any(p.startswith("paid + outstanding") for p in result.problems)


def test_unknown_status_does_not_break_pricing() -> None:
    order = shop_order(status=__import__("orderdesk").models.OrderStatus.from_raw("pending"))
    assert reconcile(order).ok
    assert order.status.category is StatusCategory.AWAITING_PAYMENT


@given(st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 50), st.integers(1, 20)),
                min_size=1, max_size=6),
       st.integers(0, 5000), st.integers(0, 3000))
def test_consistent_shop_orders_always_reconcile(items: list[tuple[int, int, int]],
                                                 shipping: int, voucher: int) -> None:
    lines = []
    for i, (price, disc, qty) in enumerate(items):
        disc = min(disc, price)
        lines.append(OrderLine(remote_id=str(i), product_name=f"p{i}", quantity=qty,
                               unit_price=Decimal(price), unit_discount=Decimal(disc),
                               subtotal=Decimal(price * qty), discount=Decimal(disc * qty),
                               total=Decimal((price - disc) * qty)))
    items_sub = Decimal(sum(p * q for p, _d, q in items)).scaleb(-2)
    items_disc = Decimal(sum(min(d, p) * q for p, d, q in items)).scaleb(-2)
    total_disc = items_disc + Decimal(voucher).scaleb(-2)
    total = items_sub + Decimal(shipping).scaleb(-2) - total_disc
    order = shop_order(lines=tuple(lines), payments=(), figures=ServerFigures(
        items_subtotal=items_sub, items_discount=items_disc, subtotal=items_sub - items_disc,
        shipping=Decimal(shipping).scaleb(-2), total_discount=total_disc, total=total,
        amount_paid=Decimal(0), amount_outstanding=total, line_count=len(lines),
        quantity=sum(q for *_x, q in items), is_paid=False, is_payable=True),
        line_money=LineMoney.MINOR)
    result = reconcile(order)
    assert result.ok, result.problems
    if items_sub != items_sub.scaleb(2):  # a scale is only ambiguous when everything is 0
        assert result.line_exponent == 2


def test_counts_fall_back_to_the_server_when_no_lines_were_sent() -> None:
    order = shop_order(lines=(), payments=())
    assert order.line_count == 2 and order.total_quantity == 3
    assert shop_order().line_count == 2

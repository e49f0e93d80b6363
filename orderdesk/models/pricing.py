"""The one place that computes and reconciles order totals.

The server's figures are the truth shown to the user; this module recomputes each
of them from the order's lines with the provider's documented formulas and
reports, figure by figure, whether they agree and which formula matched.

ecommerce-API (decimal major units):
    line total_price = unit_price × quantity            (unit price is after offers)
    subtotal         = Σ total_price
    savings_on_items = Σ discount_amount                 (ServerFigures.items_discount)
    shipping         = Σ item shipping
    amount_saved     = savings_on_items + voucher        (ServerFigures.total_discount)
    total_amount     = subtotal + shipping − amount_saved          ("documented")
                     = subtotal + shipping − voucher               ("deployed")
    items_count      = Σ quantity
    payment state from the status (no payment records).

shop API (order money in major units, line money as integers in the smallest
currency unit, scale detected per order by reconciling Σ line subtotal with
``items_subtotal``):
    line subtotal = unit_price × quantity; discount = unit_discount × quantity;
    line total = subtotal − discount
    items_subtotal = Σ line subtotal; items_discount = Σ line discount
    subtotal = items_subtotal − items_discount
    total = items_subtotal + shipping − total_discount   ("discount includes items")
          = subtotal + shipping − total_discount         ("discount is order-level")
    count = number of lines; quantity = Σ quantity
    amount_paid + amount_outstanding = total (payable orders); Σ payments = amount_paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from orderdesk.models.entities import LineMoney, Order, OrderLine
from orderdesk.models.money import currency_exponent
from orderdesk.models.status import StatusCategory

ZERO = Decimal(0)


class PaymentState(StrEnum):
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    UNPAID = "unpaid"
    NOT_PAYABLE = "not_payable"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FigureCheck:
    """One figure: what the server says beside what the lines say."""

    name: str
    server: Decimal | None
    recomputed: Decimal | None
    formula: str = ""

    @property
    def ok(self) -> bool:
        if self.server is None or self.recomputed is None:
            return True  # nothing to compare: not a contradiction
        return self.server == self.recomputed

    @property
    def compared(self) -> bool:
        return self.server is not None and self.recomputed is not None


@dataclass(frozen=True, slots=True)
class LineFigures:
    """A line's money in major units, after scale detection."""

    unit_price: Decimal
    unit_discount: Decimal
    quantity: int
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    shipping: Decimal


@dataclass(frozen=True, slots=True)
class Reconciliation:
    checks: tuple[FigureCheck, ...]
    problems: tuple[str, ...]
    lines: tuple[LineFigures, ...]
    #: For minor-unit lines: the power of ten the raw integers were divided by
    #: (``None`` when no scale fits: the raw values are then shown as they came).
    line_exponent: int | None
    total_formula: str
    amount_paid: Decimal | None
    amount_outstanding: Decimal | None
    payment_state: PaymentState

    @property
    def ok(self) -> bool:
        return not self.problems

    def check(self, name: str) -> FigureCheck | None:
        for item in self.checks:
            if item.name == name:
                return item
        return None


def _scale(value: Decimal | None, exponent: int) -> Decimal | None:
    return None if value is None else value.scaleb(-exponent)


def _line_figures(line: OrderLine, exponent: int) -> LineFigures:
    unit = line.unit_price.scaleb(-exponent)
    unit_discount = (line.unit_discount or ZERO).scaleb(-exponent)
    subtotal = _scale(line.subtotal, exponent)
    discount = _scale(line.discount, exponent)
    total = _scale(line.total, exponent)
    return LineFigures(
        unit_price=unit,
        unit_discount=unit_discount,
        quantity=line.quantity,
        subtotal=subtotal if subtotal is not None else unit * line.quantity,
        discount=discount if discount is not None else unit_discount * line.quantity,
        total=total if total is not None else unit * line.quantity - unit_discount * line.quantity,
        shipping=_scale(line.shipping, exponent) or ZERO,
    )


def detect_line_exponent(order: Order) -> int | None:
    """Power of ten that turns the order's raw line integers into major units.

    Tries the currency's exponent, then 1:1, against ``items_subtotal`` (Σ line
    subtotals) and then ``subtotal``/``total`` (Σ line totals). ``None`` when no
    scale reconciles: the caller keeps the raw values and flags the order.
    """
    if order.line_money is LineMoney.MAJOR:
        return 0
    if not order.lines:
        return currency_exponent(order.currency)
    candidates = [currency_exponent(order.currency)]
    if 0 not in candidates:
        candidates.append(0)
    raw_subtotal = sum(
        (line.subtotal if line.subtotal is not None else line.unit_price * line.quantity)
        for line in order.lines
    )
    raw_total = sum(
        (line.total if line.total is not None
         else (line.unit_price - (line.unit_discount or ZERO)) * line.quantity)
        for line in order.lines
    )
    figures = order.figures
    targets: list[tuple[Decimal, Decimal | None]] = [
        (Decimal(raw_subtotal), figures.items_subtotal),
        (Decimal(raw_total), figures.subtotal),
    ]
    for raw, target in targets:
        if target is None:
            continue
        for exponent in candidates:
            if raw.scaleb(-exponent) == target:
                return exponent
    if figures.items_subtotal is None and figures.subtotal is None:
        return candidates[0]  # nothing to reconcile against: the documented unit
    return None


def payment_state(paid: Decimal | int | None, outstanding: Decimal | int | None,
                  payable: bool | None) -> PaymentState:
    """Where an order stands with its payments, from the server's paid and outstanding
    figures (as amounts or as integer units: only signs and zero matter)."""
    if payable is False and not outstanding:
        return PaymentState.NOT_PAYABLE if not paid else PaymentState.PAID
    if paid is None or outstanding is None:
        return PaymentState.UNKNOWN
    if outstanding <= 0:
        return PaymentState.PAID
    if paid > 0:
        return PaymentState.PARTIALLY_PAID
    return PaymentState.UNPAID


def reconcile(order: Order) -> Reconciliation:
    """Recompute every figure of ``order`` and compare it with the server's."""
    if order.line_money is LineMoney.MAJOR:
        return _reconcile_ecommerce(order)
    return _reconcile_shop(order)


def _line_checks(lines: tuple[LineFigures, ...], raw: tuple[OrderLine, ...],
                 formula_total: str) -> tuple[list[FigureCheck], list[str]]:
    checks: list[FigureCheck] = []
    problems: list[str] = []
    for index, (fig, line) in enumerate(zip(lines, raw, strict=True), start=1):
        if line.quantity <= 0:
            problems.append(f"line {index} ({line.product_name}): quantity {line.quantity}")
        expected_sub = fig.unit_price * fig.quantity
        if fig.subtotal != expected_sub:
            checks.append(FigureCheck(f"line {index} subtotal", fig.subtotal, expected_sub,
                                      "unit price × quantity"))
        expected_total = (expected_sub if formula_total == "unit × quantity"
                          else expected_sub - fig.unit_discount * fig.quantity)
        if fig.total != expected_total:
            checks.append(FigureCheck(f"line {index} total", fig.total, expected_total,
                                      formula_total))
    for check in checks:
        problems.append(f"{check.name}: server {check.server}, recomputed {check.recomputed}")
    return checks, problems


def _reconcile_ecommerce(order: Order) -> Reconciliation:
    figs = order.figures
    lines = tuple(_line_figures(line, 0) for line in order.lines)
    line_checks, problems = _line_checks(lines, order.lines, "unit × quantity")
    subtotal = sum((f.unit_price * f.quantity for f in lines), ZERO)
    savings = sum((f.discount for f in lines), ZERO)
    shipping = sum((f.shipping for f in lines), ZERO)
    quantity = sum(f.quantity for f in lines)
    checks = [
        FigureCheck("subtotal", figs.subtotal, subtotal, "Σ line total_price"),
        FigureCheck("items discount", figs.items_discount, savings, "Σ line discount_amount"),
        FigureCheck("shipping", figs.shipping, shipping, "Σ line shipping"),
        FigureCheck("quantity", Decimal(figs.quantity) if figs.quantity is not None else None,
                    Decimal(quantity), "Σ quantity"),
    ]
    # amount_saved = savings_on_items + voucher: the voucher is what is left.
    saved = figs.total_discount if figs.total_discount is not None else savings
    voucher = saved - (figs.items_discount if figs.items_discount is not None else savings)
    if voucher < 0:
        problems.append(f"amount saved {saved} is less than the item savings")
    base = (figs.subtotal if figs.subtotal is not None else subtotal) + (
        figs.shipping if figs.shipping is not None else shipping)
    documented = base - saved
    deployed = base - voucher
    total_formula, total_check = _pick_total(
        figs.total,
        [("deployed: subtotal + shipping − voucher", deployed),
         ("documented: subtotal + shipping − amount_saved", documented)],
    )
    checks.append(total_check)
    total = figs.total if figs.total is not None else deployed
    category = order.status.category
    if category in (StatusCategory.PAID, StatusCategory.DELIVERED, StatusCategory.COMPLETED):
        paid, outstanding, state = total, ZERO, PaymentState.PAID
    elif category is StatusCategory.AWAITING_PAYMENT:
        paid, outstanding, state = ZERO, total, PaymentState.UNPAID
    elif category in (StatusCategory.CANCELLED, StatusCategory.REFUNDED,
                      StatusCategory.FAILED, StatusCategory.DELETED):
        paid, outstanding, state = ZERO, ZERO, PaymentState.NOT_PAYABLE
    else:
        paid, outstanding, state = None, None, PaymentState.UNKNOWN
    problems = problems + _describe(checks)
    return Reconciliation(
        checks=tuple(line_checks + checks), problems=tuple(problems), lines=lines,
        line_exponent=0, total_formula=total_formula, amount_paid=paid,
        amount_outstanding=outstanding, payment_state=state,
    )


def _pick_total(server: Decimal | None,
                formulas: list[tuple[str, Decimal]]) -> tuple[str, FigureCheck]:
    """The first formula that matches the server's total, or a failed check on the first."""
    if server is None:
        name, value = formulas[0]
        return name, FigureCheck("total", None, value, name)
    matching = [name for name, value in formulas if value == server]
    if matching:
        name = " = ".join(matching) if len(matching) > 1 else matching[0]
        value = next(v for n, v in formulas if n == matching[0])
        return name, FigureCheck("total", server, value, name)
    name, value = formulas[0]
    return "none", FigureCheck("total", server, value, name + " (no formula matches)")


def _describe(checks: list[FigureCheck]) -> list[str]:
    return [f"{c.name}: server {c.server}, recomputed {c.recomputed} ({c.formula})"
            for c in checks if not c.ok]


def _reconcile_shop(order: Order) -> Reconciliation:
    figs = order.figures
    exponent = detect_line_exponent(order)
    problems: list[str] = []
    if exponent is None:
        problems.append("line amounts match the order's subtotal at no scale "
                        "(shown as sent, in minor units)")
    lines = tuple(_line_figures(line, exponent or 0) for line in order.lines)
    line_checks, line_problems = _line_checks(lines, order.lines, "subtotal − discount")
    problems += line_problems
    items_subtotal = sum((f.subtotal for f in lines), ZERO)
    items_discount = sum((f.discount for f in lines), ZERO)
    checks: list[FigureCheck] = []
    if exponent is not None and order.lines:
        checks += [
            FigureCheck("items subtotal", figs.items_subtotal, items_subtotal,
                        "Σ line subtotal"),
            FigureCheck("items discount", figs.items_discount, items_discount,
                        "Σ line discount"),
            FigureCheck("subtotal", figs.subtotal, items_subtotal - items_discount,
                        "items subtotal − items discount"),
        ]
    if order.lines:
        checks += [
            FigureCheck("line count", _dec(figs.line_count), Decimal(len(lines)),
                        "number of lines"),
            FigureCheck("quantity", _dec(figs.quantity),
                        Decimal(sum(f.quantity for f in lines)), "Σ quantity"),
        ]
    shipping = figs.shipping or ZERO
    discount = figs.total_discount or ZERO
    gross = figs.items_subtotal if figs.items_subtotal is not None else items_subtotal
    net = figs.subtotal if figs.subtotal is not None else items_subtotal - items_discount
    total_formula, total_check = _pick_total(
        figs.total,
        [("items subtotal + shipping − total discount", gross + shipping - discount),
         ("subtotal + shipping − total discount", net + shipping - discount)],
    )
    checks.append(total_check)
    paid, outstanding = figs.amount_paid, figs.amount_outstanding
    total = figs.total
    if paid is not None and outstanding is not None and total is not None:
        if figs.is_payable is False:
            checks.append(FigureCheck("outstanding", outstanding, ZERO,
                                      "nothing is outstanding on an order that cannot be paid"))
        else:
            checks.append(FigureCheck("paid + outstanding", paid + outstanding, total,
                                      "amount paid + amount outstanding = total"))
    if figs.is_paid and outstanding is not None and outstanding != 0:
        problems.append(f"marked paid but {outstanding} is outstanding")
    if order.payments and paid is not None:
        received = sum((p.amount for p in order.payments if p.counts_as_paid), ZERO)
        checks.append(FigureCheck("payments", received, paid, "Σ payment records = amount paid"))
    problems += _describe(checks)
    return Reconciliation(
        checks=tuple(line_checks + checks), problems=tuple(problems), lines=lines,
        line_exponent=exponent, total_formula=total_formula, amount_paid=paid,
        amount_outstanding=outstanding,
        payment_state=payment_state(paid, outstanding, figs.is_payable),
    )


def _dec(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)

"""The detail pane: one order with its lines, reconciled totals, payments and raw JSON."""

from __future__ import annotations

import html
import json
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from orderdesk.models.entities import Address, LineMoney, Order
from orderdesk.models.pricing import FigureCheck, LineFigures, PaymentState, Reconciliation
from orderdesk.services.orders import OrderDetail
from orderdesk.ui.delegates import status_colors
from orderdesk.ui.format import format_money, format_time_long

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_OK = QColor("#15803d")
_WARN = QColor("#b45309")

PAYMENT_STATE_LABELS = {
    PaymentState.PAID: "Paid in full",
    PaymentState.PARTIALLY_PAID: "Partially paid",
    PaymentState.UNPAID: "Unpaid",
    PaymentState.NOT_PAYABLE: "Nothing to pay",
    PaymentState.UNKNOWN: "Unknown",
}


def _money(value: Decimal | None, currency: str) -> str:
    return format_money(value, currency) if value is not None else "—"


class _SmallTable(QAbstractTableModel):
    """A short read-only table: headers (with optional tips and alignment), selectable cells."""

    HEADERS: tuple[str, ...] = ()
    TIPS: tuple[str, ...] = ()

    def _count(self) -> int:
        raise NotImplementedError

    def _align(self, section: int) -> Any:
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count()

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and self.TIPS:
            return self.TIPS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._align(section)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class LinesTableModel(_SmallTable):
    """An order's lines in major units (after the pricing module's scale detection)."""

    HEADERS = ("Product", "Variant", "Price", "Disc./unit", "Qty", "Discount", "Total",
               "Shipping")
    TIPS = ("Product", "Variant and offer", "Unit price", "Discount per unit", "Quantity",
            "Line discount (discount per unit × quantity)", "Line total", "Line shipping")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._order: Order | None = None
        self._figures: tuple[LineFigures, ...] = ()

    def set_order(self, order: Order | None, pricing: Reconciliation | None) -> None:
        self.beginResetModel()
        self._order = order
        self._figures = pricing.lines if pricing is not None else ()
        self.endResetModel()

    def _count(self) -> int:
        return len(self._figures)

    def _align(self, section: int) -> Any:
        return _LEFT if section < 2 else _RIGHT

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._order is None:
            return None
        r, c = index.row(), index.column()
        if not (0 <= r < len(self._figures) and 0 <= c < len(self.HEADERS)):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _LEFT if c < 2 else _RIGHT
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        line = self._order.lines[r]
        fig = self._figures[r]
        cur = self._order.currency
        if c == 0:
            return line.product_name
        if c == 1:
            return " · ".join(p for p in (line.variant, line.offer) if p)
        values = (fig.unit_price, fig.unit_discount, None, fig.discount, fig.total,
                  fig.shipping)
        if c == 4:
            return str(fig.quantity)
        return format_money(values[c - 2], cur)


class ChecksTableModel(_SmallTable):
    """Each server figure beside the one recomputed from the lines, ✓ or ⚠."""

    HEADERS = ("Figure", "Server", "Recomputed", "", "How")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._checks: tuple[FigureCheck, ...] = ()
        self._currency = ""

    def set_checks(self, checks: tuple[FigureCheck, ...], currency: str) -> None:
        self.beginResetModel()
        self._checks = checks
        self._currency = currency
        self.endResetModel()

    def _count(self) -> int:
        return len(self._checks)

    def _figure(self, check: FigureCheck, value: Decimal | None) -> str:
        if value is None:
            return "—"
        if check.name in ("quantity", "line count"):
            return str(value)
        return format_money(value, self._currency)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not (0 <= r < len(self._checks) and 0 <= c < len(self.HEADERS)):
            return None
        check = self._checks[r]
        if role == Qt.ItemDataRole.DisplayRole:
            if c == 0:
                return check.name[:1].upper() + check.name[1:]
            if c == 1:
                return self._figure(check, check.server)
            if c == 2:
                return self._figure(check, check.recomputed)
            if c == 3:
                if not check.compared:
                    return "–"
                return "✓" if check.ok else "⚠"
            return check.formula
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if c in (1, 2) else (Qt.AlignmentFlag.AlignCenter if c == 3 else _LEFT)
        if role == Qt.ItemDataRole.ForegroundRole and c == 3 and check.compared:
            return QBrush(_OK if check.ok else _WARN)
        if role == Qt.ItemDataRole.ToolTipRole:
            if not check.compared:
                return "Not compared: the server did not send this figure"
            if check.ok:
                return f"Agrees: {check.formula}"
            return (f"Disagrees: the server says {check.server}, the lines give "
                    f"{check.recomputed} ({check.formula})")
        if role == Qt.ItemDataRole.AccessibleTextRole and c == 3:
            return "not compared" if not check.compared else ("agrees" if check.ok
                                                              else "disagrees")
        return None


def _section(title: str) -> QLabel:
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    return label


class FitTable(QTableView):
    """A small table as tall as its rows (wrapped text included): no inner scrolling."""

    def fit(self) -> None:
        self.resizeRowsToContents()
        header = self.horizontalHeader().sizeHint().height()
        height = header + self.verticalHeader().length() + 2 * self.frameWidth() + 2
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit()


def _compact_table(model: QAbstractTableModel, name: str, stretch: int) -> FitTable:
    view = FitTable()
    view.setModel(model)
    view.setAccessibleName(name)
    view.verticalHeader().hide()
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
    view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    view.verticalHeader().setDefaultSectionSize(24)
    view.verticalHeader().setMinimumSectionSize(24)
    view.setWordWrap(True)
    model.modelReset.connect(view.fit)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def _address_html(address: Address | None) -> str:
    if address is None:
        return "<i>no address</i>"
    lines = address.lines()
    extra = [p for p in (address.mobile,) if p]
    return "<br>".join(html.escape(x) for x in (*lines, *extra)) or "<i>no address</i>"


def order_as_text(detail: OrderDetail) -> str:
    """A plain-text summary for the clipboard."""
    order, pricing = detail.order, detail.pricing
    cur = order.currency
    out = [f"Order {order.number} ({order.status.label})",
           f"Connection: {order.connection}",
           f"Created: {format_time_long(order.created_at)}",
           f"Customer: {order.customer_name}" + (f" <{order.email}>" if order.email else "")]
    if order.billing:
        out.append("Billing: " + ", ".join(order.billing.lines()))
    out.append("")
    for line, fig in zip(order.lines, pricing.lines, strict=False):
        out.append(f"  {fig.quantity} × {line.product_name}"
                   f"{' (' + line.variant + ')' if line.variant else ''}"
                   f" @ {format_money(fig.unit_price, cur)} = {format_money(fig.total, cur)}")
    out.append("")
    f = order.figures
    for name, value in (("Subtotal", f.subtotal), ("Shipping", f.shipping),
                        ("Discount", f.total_discount), ("Total", f.total),
                        ("Paid", pricing.amount_paid),
                        ("Outstanding", pricing.amount_outstanding)):
        if value is not None:
            out.append(f"{name}: {format_money(value, cur)}")
    if pricing.problems:
        out.append("")
        out.append("Pricing problems:")
        out += [f"  - {p}" for p in pricing.problems]
    if order.notes.strip():
        out += ["", "Notes: " + order.notes.strip()]
    return "\n".join(out)


class DetailPane(QWidget):
    """Shows one :class:`OrderDetail`; empty state when nothing is selected."""

    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, utc: bool = False) -> None:
        super().__init__(parent)
        self.setAccessibleName("Order details")
        self.detail: OrderDetail | None = None
        self.utc = utc
        self.lines_model = LinesTableModel(self)
        self.checks_model = ChecksTableModel(self)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack)

        self.empty = QLabel("Select an order to see its lines, totals and payments.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setObjectName("emptyState")
        self.stack.addWidget(self.empty)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.stack.addWidget(self.tabs)

        # the order tab -------------------------------------------------------------
        body = QWidget()
        body.setObjectName("detailBody")
        col = QVBoxLayout(body)
        col.setContentsMargins(12, 10, 12, 12)
        col.setSpacing(8)

        head = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("detailTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.badge = QLabel()
        self.badge.setObjectName("statusBadge")
        head.addWidget(self.title)
        head.addWidget(self.badge)
        head.addStretch(1)
        self.copy_number = QPushButton("Copy no.")
        self.copy_number.setToolTip("Copy the order number")
        self.copy_number.setAccessibleName("Copy order number")
        self.copy_number.clicked.connect(self.copy_order_number)
        self.copy_text = QPushButton("Copy text")
        self.copy_text.setToolTip("Copy the order (lines, totals, notes) as plain text")
        self.copy_text.setAccessibleName("Copy order as text")
        self.copy_text.clicked.connect(self.copy_order_text)
        head.addWidget(self.copy_number)
        head.addWidget(self.copy_text)
        col.addLayout(head)

        self.meta = QLabel()
        self.meta.setObjectName("detailMeta")
        self.meta.setWordWrap(True)
        self.meta.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.meta)

        people = QHBoxLayout()
        self.customer = QLabel()
        self.billing = QLabel()
        for box, title in ((self.customer, "Customer"), (self.billing, "Billing address")):
            frame = QFrame()
            frame.setObjectName("card")
            inner = QVBoxLayout(frame)
            inner.setContentsMargins(10, 8, 10, 8)
            inner.addWidget(_section(title))
            box.setTextFormat(Qt.TextFormat.RichText)
            box.setWordWrap(True)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            inner.addWidget(box)
            inner.addStretch(1)
            people.addWidget(frame, 1)
        col.addLayout(people)

        col.addWidget(_section("Lines"))
        self.lines_view = _compact_table(self.lines_model, "Order lines", 0)
        col.addWidget(self.lines_view)

        self.totals_title = _section("Totals")
        col.addWidget(self.totals_title)
        self.formula = QLabel()
        self.formula.setObjectName("detailMeta")
        self.formula.setWordWrap(True)
        col.addWidget(self.formula)
        self.checks_view = _compact_table(self.checks_model, "Totals check", 4)
        col.addWidget(self.checks_view)
        self.problems = QLabel()
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.problems)

        col.addWidget(_section("Payments"))
        self.payments = QLabel()
        self.payments.setTextFormat(Qt.TextFormat.RichText)
        self.payments.setWordWrap(True)
        self.payments.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.payments)

        col.addWidget(_section("Notes"))
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.notes)
        col.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setAccessibleName("Order")
        self.tabs.addTab(scroll, "Order")

        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setAccessibleName("Raw JSON from the server")
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs.addTab(self.raw, "Raw JSON")
        self.show_detail(None)

    # showing an order -------------------------------------------------------------
    def show_detail(self, detail: OrderDetail | None) -> None:
        self.detail = detail
        if detail is None:
            self.lines_model.set_order(None, None)
            self.checks_model.set_checks((), "")
            self.stack.setCurrentWidget(self.empty)
            return
        order, pricing = detail.order, detail.pricing
        cur = order.currency
        self.title.setText(f"Order {order.number}")
        bg, fg = status_colors(order.status.category)
        self.badge.setText(order.status.label)
        self.badge.setToolTip(f"The shop calls it “{order.status.raw}”")
        self.badge.setStyleSheet(f"background:{bg}; color:{fg}; border-radius:9px; "
                                 "padding:2px 10px; font-weight:600;")
        e = html.escape
        meta = [
            f"Created <b>{e(format_time_long(order.created_at, utc=self.utc))}</b>",
            f"updated {e(format_time_long(order.updated_at, utc=self.utc))}",
            f"connection <b>{e(order.connection)}</b>",
            f"synced {e(format_time_long(order.synced_at, utc=self.utc))}",
        ]
        if order.payment_method and order.payment_method.name:
            meta.append(f"payment <b>{e(order.payment_method.name)}</b>")
        if order.shipping_method and order.shipping_method.name:
            meta.append(f"shipping <b>{e(order.shipping_method.name)}</b>")
        self.meta.setText(" · ".join(meta))

        c = order.customer
        people = [f"<b>{e(order.customer_name or '—')}</b>"]
        if c is not None:
            people += [e(x) for x in (c.email, c.mobile) if x]
            if c.username and c.username != order.customer_name:
                people.append(f"user {e(c.username)}")
        self.customer.setText("<br>".join(people))
        self.billing.setText(_address_html(order.billing))

        self.lines_model.set_order(order, pricing)
        # columns that say nothing for this order stay out of the way
        self.lines_view.setColumnHidden(1, not any(ln.variant or ln.offer for ln in order.lines))
        self.lines_view.setColumnHidden(7, order.line_money is LineMoney.MINOR
                                        and not any(f.shipping for f in pricing.lines))
        self.checks_model.set_checks(pricing.checks, cur)
        if pricing.problems:
            self.totals_title.setText(f"Totals  ⚠ {len(pricing.problems)} problem(s)")
            self.problems.setText("<br>".join("⚠ " + e(p) for p in pricing.problems))
            self.problems.show()
        else:
            self.totals_title.setText("Totals  ✓ reconciled")
            self.problems.hide()
        unit = ""
        if order.line_money is LineMoney.MINOR:
            unit = (f" Line amounts were sent in units of 10^-{pricing.line_exponent} "
                    f"{cur}." if pricing.line_exponent else
                    " Line amounts were sent in minor units; no scale fits.")
            if pricing.line_exponent == 0:
                unit = " Line amounts were sent in major units."
        self.formula.setText(f"Total formula: {pricing.total_formula}.{unit}")

        self.payments.setText(self._payments_html(order, pricing))
        self.notes.setText(order.notes.strip() or "—")
        self.raw.setPlainText(_pretty(order.raw))
        self.stack.setCurrentWidget(self.tabs)

    def _payments_html(self, order: Order, pricing: Reconciliation) -> str:
        e = html.escape
        cur = order.currency
        parts = [
            f"Paid <b>{e(_money(pricing.amount_paid, cur))}</b>",
            f"outstanding <b>{e(_money(pricing.amount_outstanding, cur))}</b>",
            f"state <b>{e(PAYMENT_STATE_LABELS.get(pricing.payment_state, 'Unknown'))}</b>",
        ]
        text = " · ".join(parts)
        if order.line_money is LineMoney.MAJOR and not order.payments:
            text += ("<br><i>This shop sends no payment records; the state follows the "
                     f"order status ({e(order.status.label)}).</i>")
        rows = []
        for p in order.payments:
            bits = [e(format_money(p.amount, cur)), e(p.method or "—"), e(p.status or "—")]
            if p.reference:
                bits.append("ref " + e(p.reference))
            if p.created_at:
                bits.append(e(format_time_long(p.created_at, utc=self.utc)))
            bits += [f"{e(k)}: {e(v)}" for k, v in p.extra]
            rows.append("• " + " · ".join(bits))
        if rows:
            text += "<br>" + "<br>".join(rows)
        elif order.line_money is not LineMoney.MAJOR:
            text += "<br><i>No payment records.</i>"
        return text

    # clipboard ---------------------------------------------------------------------
    def copy_order_number(self) -> None:
        if self.detail is not None:
            QGuiApplication.clipboard().setText(self.detail.order.number)
            self.copied.emit("Order number copied")

    def copy_order_text(self) -> None:
        if self.detail is not None:
            QGuiApplication.clipboard().setText(order_as_text(self.detail))
            self.copied.emit("Order copied as text")


def _pretty(raw: str) -> str:
    if not raw:
        return "(the server's JSON was not kept for this order)"
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw



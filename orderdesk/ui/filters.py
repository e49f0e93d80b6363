"""The search box, status tabs and filter bar, and the ``OrderQuery`` they describe."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabBar,
    QWidget,
)

from orderdesk.models.query import OrderQuery, PaymentFilter
from orderdesk.models.status import StatusCategory
from orderdesk.ui.format import format_decimal, parse_amount

SEARCH_DEBOUNCE_MS = 250
_NO_DATE = QDate(2000, 1, 1)


class SearchBox(QLineEdit):
    """Search as you type (debounced); Esc clears it."""

    searchChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Search orders: number, customer, e-mail, product, notes…  "
                                "(Ctrl+F)")
        self.setClearButtonEnabled(True)
        self.setAccessibleName("Search orders")
        self.setMinimumWidth(320)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._timer.timeout.connect(self.flush)
        self.textEdited.connect(lambda _: self._timer.start())
        self.returnPressed.connect(self.flush)
        self._last = ""

    def flush(self) -> None:
        self._timer.stop()
        text = self.text().strip()
        if text != self._last:
            self._last = text
            self.searchChanged.emit(text)

    def set_text_silently(self, text: str) -> None:
        with QSignalBlocker(self):
            self.setText(text)
        self._last = text.strip()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            self.flush()
            return
        super().keyPressEvent(event)


class StatusTabs(QTabBar):
    """``All`` plus one tab per status category, each with its live count."""

    categoryChanged = Signal(object)  #: StatusCategory | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Status")
        self.setExpanding(False)
        self.setDrawBase(False)
        self.setUsesScrollButtons(True)
        self.setElideMode(Qt.TextElideMode.ElideNone)
        self.setDocumentMode(True)
        self.addTab("All")
        self.setTabData(0, None)
        for category in StatusCategory:
            i = self.addTab(category.label)
            self.setTabData(i, category.value)
            self.setTabToolTip(i, f"Only orders that are {category.label.lower()}")
        self.currentChanged.connect(lambda _: self.categoryChanged.emit(self.category()))
        self.update_counts({}, None)

    def category(self) -> StatusCategory | None:
        data = self.tabData(self.currentIndex())
        return StatusCategory(data) if data else None

    def set_category(self, category: StatusCategory | None, *, silent: bool = True) -> None:
        for i in range(self.count()):
            if self.tabData(i) == (category.value if category else None):
                if silent:
                    with QSignalBlocker(self):
                        self.setCurrentIndex(i)
                else:
                    self.setCurrentIndex(i)
                self.setTabVisible(i, True)
                return

    def tab_index(self, category: StatusCategory | None) -> int:
        for i in range(self.count()):
            if self.tabData(i) == (category.value if category else None):
                return i
        return -1

    def update_counts(self, counts: dict[StatusCategory, int], total: int | None) -> None:
        """Tabs show their counts; empty categories hide (unless selected)."""
        all_count = sum(counts.values()) if counts else total
        with QSignalBlocker(self):
            self.setTabText(0, "All" if all_count is None else f"All  {all_count:,}")
            for i in range(1, self.count()):
                category = StatusCategory(self.tabData(i))
                n = counts.get(category, 0)
                self.setTabText(i, f"{category.label}  {n:,}")
                self.setTabVisible(i, n > 0 or i == self.currentIndex())


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day).astimezone()


class FilterBar(QWidget):
    """Every filter of ``OrderQuery`` a clerk uses, in one row."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Filters")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)

        def label(text: str, buddy: QWidget) -> None:
            lab = QLabel(text)
            lab.setBuddy(buddy)
            lab.setObjectName("filterLabel")
            row.addWidget(lab)
            row.addWidget(buddy)

        self.date_from = self._date_edit("Created from (any)")
        self.date_to = self._date_edit("Created up to and including (any)")
        label("&Created", self.date_from)
        dash = QLabel("–")
        row.addWidget(dash)
        row.addWidget(self.date_to)

        self.total_min = self._amount_edit("min", "Smallest total")
        self.total_max = self._amount_edit("max", "Largest total")
        label("&Total", self.total_min)
        row.addWidget(QLabel("–"))
        row.addWidget(self.total_max)

        self.payment = self._combo("Payment state", [("Any payment", None),
                                                      ("Paid", PaymentFilter.PAID.value),
                                                      ("Unpaid", PaymentFilter.UNPAID.value),
                                                      ("Outstanding",
                                                       PaymentFilter.OUTSTANDING.value)])
        row.addWidget(self.payment)
        self.payment_method = self._combo("Payment method", [("Any method", None)])
        row.addWidget(self.payment_method)
        self.shipping_method = self._combo("Shipping method", [("Any shipping", None)])
        row.addWidget(self.shipping_method)
        self.country = self._combo("Country", [("Any country", None)])
        row.addWidget(self.country)
        self.notes = self._combo("Notes", [("Notes: any", None), ("With notes", True),
                                           ("No notes", False)])
        row.addWidget(self.notes)
        self.problems = self._combo("Pricing check", [("Check: any", None),
                                                      ("⚠ Problems", True),
                                                      ("✓ Reconciled", False)])
        row.addWidget(self.problems)
        self.connection = self._combo("Connection", [("Connection", None)])
        row.addWidget(self.connection)
        row.addStretch(1)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setAccessibleName("Clear filters")
        self.clear_button.setToolTip("Show every order again (search, status and filters)")
        row.addWidget(self.clear_button)

    # widgets ---------------------------------------------------------------------
    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setMinimumDate(_NO_DATE)
        edit.setSpecialValueText("any")
        edit.setDate(_NO_DATE)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setFixedWidth(104)
        edit.setAccessibleName(name)
        edit.setToolTip(name + " — clear with Delete")
        edit.dateChanged.connect(lambda _: self.changed.emit())
        QShortcut(QKeySequence(Qt.Key.Key_Delete), edit, lambda: edit.setDate(_NO_DATE),
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return edit

    def _amount_edit(self, placeholder: str, name: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(name)
        edit.setToolTip(name + " (inclusive)")
        edit.setFixedWidth(64)
        edit.editingFinished.connect(self._amount_done)
        return edit

    def _amount_done(self) -> None:
        for edit in (self.total_min, self.total_max):
            ok = not edit.text().strip() or parse_amount(edit.text()) is not None
            edit.setProperty("invalid", not ok)
            edit.style().unpolish(edit)
            edit.style().polish(edit)
        self.changed.emit()

    def _combo(self, name: str, items: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.setToolTip(f"{name}: the first entry means any")
        combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        for text, data in items:
            combo.addItem(text, data)
        combo.currentIndexChanged.connect(lambda _: self.changed.emit())
        return combo

    def set_choices(self, field: str, values: list[str]) -> None:
        """Fill a picker (``payment_method``, ``shipping_method``, ``country``,
        ``connection``) keeping the current choice."""
        combo: QComboBox = getattr(self, field)
        current = combo.currentData()
        with QSignalBlocker(combo):
            while combo.count() > 1:
                combo.removeItem(1)
            for value in values:
                combo.addItem(value, value)
            if current is not None and combo.findData(current) < 0:
                combo.addItem(current, current)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)

    # query -------------------------------------------------------------------------
    def apply_to(self, query: OrderQuery) -> OrderQuery:
        """``query`` with this bar's filters."""
        def picked(combo: QComboBox) -> tuple[str, ...]:
            data = combo.currentData()
            return (data,) if data else ()

        created_from = created_to = None
        if self.date_from.date() != _NO_DATE:
            created_from = _local_midnight(_pydate(self.date_from.date()))
        if self.date_to.date() != _NO_DATE:
            created_to = _local_midnight(_pydate(self.date_to.date()) + timedelta(days=1))
        payment = self.payment.currentData()
        return replace(
            query,
            created_from=created_from, created_to=created_to,
            total_min=parse_amount(self.total_min.text()),
            total_max=parse_amount(self.total_max.text()),
            payment=PaymentFilter(payment) if payment else None,
            payment_methods=picked(self.payment_method),
            shipping_methods=picked(self.shipping_method),
            countries=picked(self.country),
            has_notes=self.notes.currentData(),
            has_problems=self.problems.currentData(),
            connections=picked(self.connection),
        )

    def show_query(self, query: OrderQuery) -> None:
        """Set the widgets from ``query`` without emitting ``changed``."""
        blockers = [QSignalBlocker(w) for w in self._widgets()]

        def pick(combo: QComboBox, values: tuple[Any, ...] | Any) -> None:
            value = values[0] if isinstance(values, tuple) and values else (
                None if isinstance(values, tuple) else values)
            if value is not None and combo.findData(value) < 0:
                combo.addItem(str(value), value)
            combo.setCurrentIndex(max(0, combo.findData(value)) if value is not None else 0)

        def day(value: datetime | None, shift: int = 0) -> QDate:
            if value is None:
                return _NO_DATE
            local = value.astimezone() - timedelta(days=shift)
            return QDate(local.year, local.month, local.day)

        self.date_from.setDate(day(query.created_from))
        self.date_to.setDate(day(query.created_to, 1))
        self.total_min.setText("" if query.total_min is None
                               else format_decimal(query.total_min, 2).replace(",", ""))
        self.total_max.setText("" if query.total_max is None
                               else format_decimal(query.total_max, 2).replace(",", ""))
        pick(self.payment, query.payment.value if query.payment else None)
        pick(self.payment_method, query.payment_methods)
        pick(self.shipping_method, query.shipping_methods)
        pick(self.country, query.countries)
        pick(self.notes, query.has_notes)
        pick(self.problems, query.has_problems)
        pick(self.connection, query.connections)
        del blockers

    def clear(self) -> None:
        self.show_query(OrderQuery())

    def _widgets(self) -> list[QWidget]:
        return [self.date_from, self.date_to, self.total_min, self.total_max, self.payment,
                self.payment_method, self.shipping_method, self.country, self.notes,
                self.problems, self.connection]

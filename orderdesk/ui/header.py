"""The order table's header: click to sort, Shift+click to add a sort key, right-click
to choose columns; column order, widths and visibility are kept as a plain layout."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QHeaderView, QMenu, QWidget

from orderdesk.models.columns import COLUMNS, DEFAULT_COLUMNS
from orderdesk.models.query import SortKey
from orderdesk.ui.table_model import OrderTableModel, default_descending

DEFAULT_WIDTHS = {"number": 92, "created": 118, "updated": 118, "customer": 124,
                  "email": 160, "status": 134, "lines": 46, "quantity": 40, "total": 84,
                  "paid": 80, "outstanding": 94, "payment_method": 100,
                  "shipping_method": 90, "country": 80, "connection": 124, "synced": 84,
                  "problems": 54}
#: The first layout: what a clerk scans first (who, state, money), then the rest.
#: The Connection column (shown with several connections) sits beside the order number.
DEFAULT_ORDER = ("number", "connection", "created", "customer", "status", "quantity",
                 "total", "paid", "outstanding", "problems", "payment_method", "country",
                 "email", "lines", "shipping_method", "updated", "synced")


def default_layout(several_connections: bool = False) -> list[dict[str, Any]]:
    """The first layout; with several connections the Connection column shows too (the
    same shop's orders can come through more than one, and nothing else tells them
    apart in the table)."""
    order = [k for k in DEFAULT_ORDER if k in {c.key for c in COLUMNS}]
    order += [c.key for c in COLUMNS if c.key not in order]
    shown = set(DEFAULT_COLUMNS) | ({CONNECTION} if several_connections else set())
    return [{"key": key, "width": DEFAULT_WIDTHS.get(key, 100), "visible": key in shown}
            for key in order]


CONNECTION = "connection"


def next_sort(keys: tuple[SortKey, ...], model: OrderTableModel, section: int,
              add: bool) -> tuple[SortKey, ...] | None:
    """The sort after a click on ``section`` (``add`` = Shift held)."""
    col = model.columns[section]
    if col.sort is None:
        return None
    position = next((i for i, k in enumerate(keys) if k.field is col.sort), None)
    if add:
        if position is None:
            return (*keys, SortKey(col.sort, default_descending(col)))
        flipped = SortKey(col.sort, not keys[position].descending)
        return (*keys[:position], flipped, *keys[position + 1:])
    if position == 0 and len(keys) == 1:
        return (SortKey(col.sort, not keys[0].descending),)
    if position is not None:
        return (SortKey(col.sort, keys[position].descending),)
    return (SortKey(col.sort, default_descending(col)),)


class OrderHeader(QHeaderView):
    #: the sort keys the person asked for
    sortRequested = Signal(tuple)
    #: column order, widths or visibility changed
    layoutChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsMovable(True)
        self.setSectionsClickable(True)
        self.setHighlightSections(False)
        self.setStretchLastSection(False)
        self.setSortIndicatorShown(False)
        self.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setMinimumSectionSize(40)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.sectionClicked.connect(self._clicked)
        self.sectionMoved.connect(self._moved)
        self.sectionResized.connect(self._moved)  # by the clerk (ours block signals)
        self.setAccessibleName("Order table columns")
        self._modifiers = Qt.KeyboardModifier.NoModifier
        #: the columns are the default layout, not one the clerk chose or a saved one
        self.is_default = True
        self._several = False

    def order_model(self) -> OrderTableModel:
        model = self.model()
        assert isinstance(model, OrderTableModel)
        return model

    # sorting -------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._modifiers = event.modifiers()
        super().mousePressEvent(event)

    def _clicked(self, section: int) -> None:
        add = bool(self._modifiers & Qt.KeyboardModifier.ShiftModifier)
        self.click_section(section, add=add)

    def click_section(self, section: int, *, add: bool = False) -> None:
        model = self.order_model()
        keys = next_sort(model.sort_keys, model, section, add)
        if keys is not None:
            self.sortRequested.emit(keys)

    # columns -----------------------------------------------------------------------
    def _menu(self, pos: QPoint) -> None:
        self.column_menu().exec(self.mapToGlobal(pos))

    def column_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setTitle("Columns")
        model = self.order_model()
        for logical, col in enumerate(model.columns):
            action = QAction(col.label, menu)
            action.setCheckable(True)
            action.setChecked(not self.isSectionHidden(logical))
            action.toggled.connect(lambda on, i=logical: self.set_visible(i, on))
            menu.addAction(action)
        menu.addSeparator()
        reset = menu.addAction("Reset columns")
        reset.triggered.connect(lambda: self.apply_layout(None))
        return menu

    def _moved(self, *_: object) -> None:
        """A column moved or resized by the clerk: the layout is theirs now."""
        self.is_default = False
        self.layoutChanged.emit()

    def set_several_connections(self, several: bool) -> None:
        """With several connections the default layout shows the Connection column: shown
        now if the columns are still the default ones (a layout the clerk chose stays)."""
        if several == self._several:
            return
        self._several = several
        if self.is_default:
            logical = self.order_model().column_index(CONNECTION)
            self._show(logical, several)

    def set_visible(self, logical: int, visible: bool) -> None:
        """Show or hide a column (the clerk's choice: the layout is no longer the
        default)."""
        if self._show(logical, visible):
            self.is_default = False

    def _show(self, logical: int, visible: bool) -> bool:
        if not visible and self.count() - self.hiddenSectionCount() <= 1:
            return False  # keep at least one column
        blocker = self.blockSignals(True)  # (hiding resizes the section: not the clerk's)
        self.setSectionHidden(logical, not visible)
        self.blockSignals(blocker)
        if visible and self.sectionSize(logical) < 40:
            key = self.order_model().columns[logical].key
            blocker = self.blockSignals(True)
            self.resizeSection(logical, DEFAULT_WIDTHS.get(key, 100))
            self.blockSignals(blocker)
        self.layoutChanged.emit()
        return True

    def visible_keys(self) -> list[str]:
        model = self.order_model()
        out = []
        for visual in range(self.count()):
            logical = self.logicalIndex(visual)
            if not self.isSectionHidden(logical):
                out.append(model.columns[logical].key)
        return out

    def layout_state(self) -> list[dict[str, Any]]:
        """Columns in visual order: key, width, visible (JSON for the settings file)."""
        model = self.order_model()
        out = []
        for visual in range(self.count()):
            logical = self.logicalIndex(visual)
            hidden = self.isSectionHidden(logical)
            out.append({"key": model.columns[logical].key,
                        "width": self.sectionSize(logical) if not hidden else
                        DEFAULT_WIDTHS.get(model.columns[logical].key, 100),
                        "visible": not hidden})
        return out

    def apply_layout(self, state: list[dict[str, Any]] | None) -> None:
        """Restore a saved layout; ``None`` (or garbage) restores the defaults."""
        model = self.order_model()
        keys = [c.key for c in model.columns]
        self.is_default = not isinstance(state, list)
        if not isinstance(state, list):
            state = default_layout(self._several)
        wanted = [s for s in state if isinstance(s, dict) and s.get("key") in keys]
        seen = {s["key"] for s in wanted}
        # columns added since the layout was saved go at the end, shown by default
        wanted += [{"key": c.key, "width": DEFAULT_WIDTHS.get(c.key, 100),
                    "visible": c.key in DEFAULT_COLUMNS}
                   for c in model.columns if c.key not in seen]
        blocker = self.blockSignals(True)
        try:
            for visual, item in enumerate(wanted):
                logical = keys.index(item["key"])
                current = self.visualIndex(logical)
                if current != visual:
                    self.moveSection(current, visual)
                width = item.get("width")
                if isinstance(width, int) and 20 <= width <= 2000:
                    self.resizeSection(logical, width)
                self.setSectionHidden(logical, not item.get("visible", True))
            if self.count() - self.hiddenSectionCount() == 0:
                self.setSectionHidden(0, False)
        finally:
            self.blockSignals(blocker)
        self.viewport().update()
        self.layoutChanged.emit()

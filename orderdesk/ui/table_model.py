"""``OrderTableModel``: the ids of the current query, rows read in pages on demand.

The model never holds all orders. It keeps the ordered internal ids of the current
query in an ``array('q')`` and an LRU cache of rows read 200 at a time when the view
asks for them. Filtering and sorting are queries on the cache run off the GUI
thread; the result replaces the ids in one reset (or, when only more rows arrive
for the same query, one insert). ``flags()`` and ``rowCount()`` never touch the store.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from orderdesk.models.columns import COLUMNS, ColumnType, OrderColumn
from orderdesk.models.errors import OrderdeskError
from orderdesk.models.query import OrderQuery, SortField, SortKey
from orderdesk.models.rows import ChangeSet, OrderRow
from orderdesk.models.status import StatusCategory
from orderdesk.services.orders import OrderService
from orderdesk.ui.format import format_money, format_time, format_time_long, freshness
from orderdesk.ui.tasks import TaskRunner

IdRole = Qt.ItemDataRole.UserRole + 1  #: the row's internal order id (int)
ValueRole = Qt.ItemDataRole.UserRole + 2  #: the cell's raw value (Decimal, OrderStatus...)
RowRole = Qt.ItemDataRole.UserRole + 3  #: the whole OrderRow, or None while unknown

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
_ARROWS = {False: "▲", True: "▼"}
_WARN = QColor("#b45309")
_MUTED = QColor("#8a8f98")


@dataclass(frozen=True, slots=True)
class QueryCounts:
    """What the status tabs and the count label show for the current filters."""

    per_status: dict[StatusCategory, int]
    matched: int  #: orders matching every filter, status included
    total: int  #: every cached order


def matched_from(counts: dict[StatusCategory, int], query: OrderQuery) -> int:
    if query.categories:
        return sum(counts.get(c, 0) for c in query.categories)
    return sum(counts.values())


def default_descending(col: OrderColumn) -> bool:
    """Newest, largest first for figures and times; A→Z for text."""
    return col.type in (ColumnType.MONEY, ColumnType.DATETIME, ColumnType.INT,
                        ColumnType.PROBLEMS)


class OrderTableModel(QAbstractTableModel):
    PAGE_SIZE = 200
    MAX_CACHED_ROWS = 20 * PAGE_SIZE
    #: Look up this many ids by scanning the id array before building the id → row dict.
    SCAN_LOOKUPS = 16

    loadingChanged = Signal(bool)
    #: QueryCounts, whenever counts for the current query are known
    countsChanged = Signal(object)
    #: the ids were replaced (after a query); the view may restore its selection
    idsReplaced = Signal()
    #: every id of the current query is loaded
    loaded = Signal()
    #: an OrderdeskError (or other exception) from a background query
    loadFailed = Signal(object)

    def __init__(self, service: OrderService, parent: QObject | None = None,
                 *, runner: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.columns: tuple[OrderColumn, ...] = COLUMNS
        self.runner = runner or TaskRunner(self, threads=2)
        self._ids: array[int] = array("q")
        self._index: dict[int, int] | None = None
        self._scans = 0
        self._cache: OrderedDict[int, OrderRow | None] = OrderedDict()
        self._query = OrderQuery()
        self._generation = 0
        self._loading = False
        self._complete = False
        self.utc = False
        self.counts: QueryCounts | None = None
        #: (filters, per-status counts, total) of the last completed query
        self._counted: tuple[OrderQuery, dict[StatusCategory, int], int] | None = None
        #: (per-status counts, total) for the current query, once known
        self._fresh: tuple[dict[StatusCategory, int], int] | None = None

    # the current query --------------------------------------------------------------
    @property
    def query(self) -> OrderQuery:
        return self._query

    @property
    def sort_keys(self) -> tuple[SortKey, ...]:
        return self._query.sort

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def is_complete(self) -> bool:
        """Every id of the current query is in the model."""
        return self._complete

    def set_query(self, query: OrderQuery) -> None:
        """Run ``query`` in the background: first page at once, then all ids."""
        changed_sort = query.sort != self._query.sort
        self._query = query
        if changed_sort:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        self._start(first_page=True)

    def refresh(self) -> None:
        """Re-run the current query (after a sync) and swap the ids in one go."""
        self._counted = None
        self._start(first_page=not self._ids)

    def set_sort(self, keys: Sequence[SortKey]) -> None:
        self.set_query(replace(self._query, sort=tuple(keys)))

    def _start(self, *, first_page: bool) -> None:
        self._generation += 1
        generation = self._generation
        query = self._query
        service = self.service
        page = self.PAGE_SIZE
        self._complete = False
        self._set_loading(True)
        if first_page:
            # Only the first page: painted before the counts and the other ids are read.
            def first() -> tuple[array[int], list[OrderRow]]:
                ids = service.ids(query, limit=page)
                return ids, service.rows(ids)

            self.runner.submit("first", first,
                               lambda r: self._on_first(generation, *r), self._on_error)

        # Counts per status (what the tabs show) depend neither on the sort nor on the
        # status chosen: a re-sort or another tab reuses them. Otherwise they are read
        # on the second worker, alongside the ids (SQLite runs without the GIL).
        filters = replace(query, categories=(), statuses=(), sort=())
        if self._counted and self._counted[0] == filters:
            self._fresh = (self._counted[1], self._counted[2])
        else:
            self._fresh = None

            def counts() -> tuple[dict[StatusCategory, int], int]:
                return service.counts(query), service.total()

            self.runner.submit("counts", counts,
                               lambda r: self._on_counts(generation, filters, *r),
                               self._on_error)

        self.runner.submit("all", lambda: service.ids(query),
                           lambda ids: self._on_all(generation, ids), self._on_error)

    def _on_counts(self, generation: int, filters: OrderQuery,
                   per: dict[StatusCategory, int], total: int) -> None:
        if generation != self._generation:
            return
        self._counted = (filters, per, total)
        self._fresh = (per, total)
        self._finish()

    def _finish(self) -> None:
        """Once both the ids and the counts of the current query are in."""
        if not self._complete or self._fresh is None or not self._loading:
            return
        per, total = self._fresh
        self._set_counts(QueryCounts(per, len(self._ids), total))
        self._set_loading(False)
        self.loaded.emit()

    def _on_first(self, generation: int, ids: array[int], rows: list[OrderRow]) -> None:
        if generation != self._generation or self._complete:
            return
        self.beginResetModel()
        self._ids = ids
        self._index = None
        self._scans = 0
        self._complete = False
        for row in rows:
            self._remember(row.id, row)
        self.endResetModel()
        self.idsReplaced.emit()

    def _on_all(self, generation: int, ids: array[int]) -> None:
        if generation != self._generation:
            return
        shown = len(self._ids)
        if shown and len(ids) >= shown and ids[:shown] == self._ids:
            if len(ids) > shown:  # the same query, more rows: keep scroll and selection
                self.beginInsertRows(QModelIndex(), shown, len(ids) - 1)
                self._ids = ids
                self._index = None
                self.endInsertRows()
        else:
            self.beginResetModel()
            self._ids = ids
            self._index = None
            self._scans = 0
            self.endResetModel()
            self.idsReplaced.emit()
        self._complete = True
        self._finish()

    def _on_error(self, exc: Exception) -> None:
        self._set_loading(False)
        self.loadFailed.emit(exc)

    def _set_counts(self, counts: QueryCounts) -> None:
        self.counts = counts
        self.countsChanged.emit(counts)

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loadingChanged.emit(loading)

    # changes from a sync ----------------------------------------------------------
    def apply_changes(self, changes: ChangeSet) -> None:
        """Forget cached rows that changed, repaint, and re-query in the background."""
        if not changes:
            return
        for order_id in (*changes.changed, *changes.removed):
            self._cache.pop(order_id, None)
        if self._ids:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._ids) - 1, len(self.columns) - 1))
        self.refresh()

    def set_utc(self, utc: bool) -> None:
        self.utc = utc
        if self._ids:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._ids) - 1, len(self.columns) - 1),
                                  [Qt.ItemDataRole.DisplayRole])

    # ids and rows -------------------------------------------------------------------
    @property
    def ids(self) -> array[int]:
        return self._ids

    def id_at(self, row: int) -> int | None:
        if 0 <= row < len(self._ids):
            return self._ids[row]
        return None

    def row_of(self, order_id: int) -> int | None:
        """Row of an id. A few lookups scan the id array (C speed); more build a dict."""
        if self._index is None:
            if self._scans < self.SCAN_LOOKUPS:
                self._scans += 1
                try:
                    return self._ids.index(order_id)
                except ValueError:
                    return None
            self._index = {order_id: row for row, order_id in enumerate(self._ids)}
        return self._index.get(order_id)

    def rows_of(self, ids: Iterable[int]) -> list[int]:
        found = (self.row_of(i) for i in ids)
        return [r for r in found if r is not None]

    def ids_in_rows(self, ranges: Iterable[tuple[int, int]]) -> array[int]:
        """Ids for inclusive row ranges (a selection), without reading any row."""
        out: array[int] = array("q")
        for top, bottom in ranges:
            out.extend(self._ids[top:bottom + 1])
        return out

    def order_row(self, row: int) -> OrderRow | None:
        """The cached row, reading its page from the store when it is not cached."""
        if not 0 <= row < len(self._ids):
            return None
        order_id = self._ids[row]
        if order_id in self._cache:
            self._cache.move_to_end(order_id)
            return self._cache[order_id]
        self._fetch_page(row // self.PAGE_SIZE)
        return self._cache.get(order_id)

    def cached_rows(self) -> int:
        return len(self._cache)

    def _fetch_page(self, page: int) -> None:
        start = page * self.PAGE_SIZE
        wanted = self._ids[start:start + self.PAGE_SIZE].tolist()
        try:
            found = {row.id: row for row in self.service.rows(wanted)}
        except OrderdeskError:
            found = {}  # shown as placeholders; the next query reads them again
        for order_id in wanted:
            self._remember(order_id, found.get(order_id))

    def _remember(self, order_id: int, row: OrderRow | None) -> None:
        self._cache[order_id] = row
        self._cache.move_to_end(order_id)
        while len(self._cache) > self.MAX_CACHED_ROWS:
            self._cache.popitem(last=False)

    # Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def column_index(self, key: str) -> int:
        for i, col in enumerate(self.columns):
            if col.key == key:
                return i
        raise KeyError(key)

    def sort_position(self, col: OrderColumn) -> tuple[int, bool] | None:
        """(1-based position, descending) of the column in the sort keys."""
        for i, key in enumerate(self._query.sort, start=1):
            if col.sort is not None and key.field is col.sort:
                return i, key.descending
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        col = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            pos = self.sort_position(col)
            if pos is None:
                return col.label
            number = str(pos[0]) if len(self._query.sort) > 1 else ""
            return f"{col.label} {_ARROWS[pos[1]]}{number}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{col.label}: click to sort by it, Shift+click to add it as another "
                    "sort key; right-click to choose columns")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col.type in (ColumnType.MONEY, ColumnType.INT):
                return _RIGHT
            return _LEFT
        if role == Qt.ItemDataRole.UserRole:
            return col.key
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not (0 <= r < len(self._ids) and 0 <= c < len(self.columns)):
            return None
        if role == IdRole:
            return self._ids[r]
        col = self.columns[c]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col.type in (ColumnType.MONEY, ColumnType.INT):
                return _RIGHT
            if col.type is ColumnType.PROBLEMS:
                return _CENTER
            return _LEFT
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                        Qt.ItemDataRole.ForegroundRole, ValueRole, RowRole,
                        Qt.ItemDataRole.AccessibleTextRole):
            return None
        row = self.order_row(r)
        if role == RowRole:
            return row
        if row is None:
            if role == Qt.ItemDataRole.DisplayRole and c == 0:
                return "(removed)" if self._ids[r] in self._cache else "…"
            return None
        value = col.value(row)
        if role == ValueRole:
            return value
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(col, row, value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(col, row, value)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col.type is ColumnType.PROBLEMS and value:
                return QBrush(_WARN)
            if row.status.category is StatusCategory.DELETED:
                return QBrush(_MUTED)
        return None

    def _display(self, col: OrderColumn, row: OrderRow, value: Any) -> str:
        kind = col.type
        if kind is ColumnType.MONEY:
            return format_money(value, row.currency)
        if kind is ColumnType.DATETIME:
            if col.sort is SortField.SYNCED:
                return freshness(value)
            return format_time(value, utc=self.utc)
        if kind is ColumnType.STATUS:
            return str(value.label)
        if kind is ColumnType.PROBLEMS:
            return f"⚠ {value}" if value else ""
        if kind is ColumnType.INT:
            return str(value)
        return "" if value is None else str(value)

    def _tooltip(self, col: OrderColumn, row: OrderRow, value: Any) -> str | None:
        kind = col.type
        if kind is ColumnType.PROBLEMS:
            if value:
                return f"{value} pricing problem(s): the server's figures disagree with the lines"
            return "Every figure reconciles with the order's lines"
        if kind is ColumnType.DATETIME:
            return format_time_long(value, utc=self.utc)
        if kind is ColumnType.STATUS:
            return f"{row.status.label} (the shop calls it “{row.status.raw}”)"
        if kind is ColumnType.TEXT and value:
            return str(value)
        return None

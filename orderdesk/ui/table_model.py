"""``OrderTableModel``: the current query's rows, read by windows on demand.

The model never holds all orders, and does not need all ids either. Its row count
comes from a count; the ids of a window of 200 rows come from the store
(``ORDER BY <keys>, id LIMIT 200 OFFSET k``), and so do their rows, when the view
first asks for them. When an index gives the query's order (the store says so), any
window costs milliseconds, however deep; for a large result, once the first rows are
painted, a background job reads anchors (the sort values of every ANCHOR_EVERY-th
row), and a deep window is then a seek from the anchor before it instead of an
``OFFSET`` scan (a million orders: 0.3 ms instead of 9-15 ms at row 500,000).
When no index gives the order (a search, a multi-key sort, a rare tab + column
combination), windows are read by their own query (slower: the store sorts or walks
the matches) until someone scrolls past the first ones;
then all ids are read once in the background.
Filtering and sorting are queries run off the GUI thread; the result replaces the
rows in one reset. ``flags()`` and ``rowCount()`` never touch the store.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
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
_WARN_BRUSH = QBrush(_WARN)
_MUTED_BRUSH = QBrush(_MUTED)
_UNKNOWN: Any = object()
_DELETED = StatusCategory.DELETED
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)


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


#: the roles answered from the row (the others need no row, or are not answered)
_ROW_ROLES = frozenset(int(r) for r in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.AccessibleTextRole, IdRole, ValueRole, RowRole))
_ANSWERED = _ROW_ROLES | {_ALIGN}


def _alignment(col: OrderColumn) -> Qt.AlignmentFlag:
    if col.type in (ColumnType.MONEY, ColumnType.INT):
        return _RIGHT
    if col.type is ColumnType.PROBLEMS:
        return _CENTER
    return _LEFT


class OrderTableModel(QAbstractTableModel):
    PAGE_SIZE = 200
    MAX_CACHED_ROWS = 20 * PAGE_SIZE
    #: Id windows kept (PAGE_SIZE ids each) when the model does not hold all ids.
    MAX_WINDOWS = 64
    #: Look up this many ids by scanning the id array before building the id → row dict.
    SCAN_LOOKUPS = 16
    #: Rows read from the store at a time (within a window of ids).
    ROW_BLOCK = 50
    #: Windows read by query before all ids of an unindexed order are read.
    EAGER_WINDOWS = 2
    #: Background jobs start after the first paint, or after this long without one.
    PAINT_WAIT_MS = 100
    #: Ids ``rows_of`` places by a count query each when they are not in memory.
    MAX_POSITION_QUERIES = 16
    #: Rows between two anchors (the sort values of a row, read in the background after
    #: the first paint): a window is then a seek to the anchor before it and a skip of
    #: at most this many index entries, instead of ``OFFSET`` over every row before it.
    ANCHOR_EVERY = 4000
    #: Anchors only for results this large (below, ``OFFSET`` costs about a millisecond).
    ANCHOR_MIN_ROWS = 50_000
    #: The anchors job starts this long after the first paint: started at once, its
    #: statements' compilation (the GIL) slowed the GUI thread's events right after the
    #: paint (re-sort 32 -> 51 ms in ui_bench); nobody reaches a deep row that fast.
    ANCHOR_WAIT_MS = 250

    loadingChanged = Signal(bool)
    #: QueryCounts, whenever counts for the current query are known
    countsChanged = Signal(object)
    #: the rows were replaced (after a query); the view may restore its selection
    idsReplaced = Signal()
    #: the current query is complete: row count known, every row reachable, counts in
    loaded = Signal()
    #: an OrderdeskError (or other exception) from a background query
    loadFailed = Signal(object)

    def __init__(self, service: OrderService, parent: QObject | None = None,
                 *, runner: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.columns: tuple[OrderColumn, ...] = COLUMNS
        # plain ints: Qt reads them as an alignment; a Python enum costs a conversion
        self._align = tuple(int(_alignment(col)) for col in self.columns)
        self._problem_columns = frozenset(
            i for i, col in enumerate(self.columns) if col.type is ColumnType.PROBLEMS)
        #: each cached row's display texts, formatted on first paint (same keys as _cache)
        self._cells: dict[int, list[str | None]] = {}
        #: (position, row, its texts, its default foreground) of the row data() last
        #: answered for: a paint asks ~5 roles of each cell, row after row
        self._last: tuple[int, OrderRow, list[str | None], QBrush | None] | None = None
        self.runner = runner or TaskRunner(self, threads=2)
        self._count = 0  #: rows shown
        self._all: array[int] | None = None  #: every id, when held (see module doc)
        self._windows: OrderedDict[int, array[int]] = OrderedDict()  #: window → ids
        self._windowed = False  #: windows are read on demand (an index gives the order)
        #: sort values of rows 0, ANCHOR_EVERY, 2 × ANCHOR_EVERY... of the shown result,
        #: once read (windows are then read by seeking from them); None until then
        self._anchors: list[tuple[object, ...]] | None = None
        self._anchors_requested = 0  #: generation whose anchors job is submitted
        self._anchors_pending = 0  #: generation whose anchors job waits ANCHOR_WAIT_MS
        self._stale = False  #: a sync changed the cache; the refresh is not shown yet
        self._index: dict[int, int] | None = None
        self._scans = 0
        self._cache: OrderedDict[int, OrderRow | None] = OrderedDict()
        self._query = OrderQuery()
        self._generation = 0
        self._loading = False
        self._shown = False  #: the first window of the current query is in the model
        self._pending_count: int | None = None  #: the row count, once known
        self._first: tuple[array[int], bool] | None = None  #: first window, until shown
        self._filters = OrderQuery(sort=())  #: the current query without status or sort
        self._refreshing = False  #: the current query is re-run after a sync
        self._paint_pending = 0  #: generation whose first paint starts the background jobs
        self._started = 0  #: generation whose background jobs are submitted
        self._all_requested = 0  #: generation whose all-ids job is submitted
        self._all_loading = False  #: that job is under way (painting defers windows)
        self._later: tuple[int, int] | None = None  #: (generation, window) read in the background
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
        """The row count is exact and every row can be read: windows by index, or
        every id in the model."""
        return self._complete

    def set_query(self, query: OrderQuery) -> None:
        """Run ``query`` in the background: first window and count, then (only when no
        index gives its order) all ids."""
        # The header's sort arrows change with the rows, in the reset that shows them:
        # announcing them now made Qt repaint the old rows once more (15-50 ms of the
        # GUI thread at a million orders) before the new ones arrived.
        self._query = query
        self._refreshing = False
        self._start()

    def refresh(self) -> None:
        """Re-run the current query (after a sync): positions may have shifted, so every
        id window read before is dropped when the new first window arrives."""
        self._counted = None
        self._refreshing = True
        self._start()

    def set_sort(self, keys: Sequence[SortKey]) -> None:
        self.set_query(replace(self._query, sort=tuple(keys)))

    def _start(self) -> None:
        self._generation += 1
        self._all_loading = False
        self._later = None
        generation = self._generation
        query = self._query
        service = self.service
        page = self.PAGE_SIZE
        block = self.ROW_BLOCK
        self._complete = False
        self._shown = False
        self._pending_count = None
        self._first = None
        self._set_loading(True)

        # Counts per status (what the tabs show) depend neither on the sort nor on the
        # status chosen: a re-sort or another tab reuses them, and so does the row count.
        filters = replace(query, categories=(), statuses=(), sort=())
        known: int | None = None
        if self._counted and self._counted[0] == filters:
            self._fresh = (self._counted[1], self._counted[2])
            if not query.statuses:
                known = matched_from(self._counted[1], query)
        else:
            self._fresh = None

        def first() -> tuple[array[int], list[OrderRow], bool]:
            ids = service.ids(query, limit=page)
            windowed = len(ids) == page and service.ordered_by_index(query)
            return ids, service.rows(ids[:block]), windowed

        self.runner.submit("first", first,
                           lambda r: self._on_first(generation, *r), self._on_error)
        if known is not None:
            self._pending_count = known
        else:  # alongside the first window, on the other worker
            self.runner.submit("count", lambda: service.match_count(query),
                               lambda n: self._on_count(generation, n), self._on_error)
        self._filters = filters

    def _on_first(self, generation: int, ids: array[int], rows: list[OrderRow],
                  windowed: bool) -> None:
        if generation != self._generation:
            return
        for row in rows:
            self._remember(row.id, row)
        if len(ids) < self.PAGE_SIZE:
            self._pending_count = len(ids)  # the whole result is this window
        self._first = (ids, windowed)
        self._show()

    def _on_count(self, generation: int, count: int) -> None:
        if generation != self._generation or self._pending_count is not None:
            return
        self._pending_count = count
        if self._shown:  # the first window is on screen: the other rows join it
            if self._all is None:
                self._resize(count)
            self._check_complete()
            self._anchor(generation)
        else:
            self._show()

    def _show(self) -> None:
        """Show the first window: at once for a new query (the count, read alongside,
        grows the rows when it arrives); after a refresh, only with the count, in one
        reset, so that the scroll bar and the rows restored do not jump."""
        if self._first is None or (self._pending_count is None and self._refreshing):
            return
        (ids, windowed), self._first = self._first, None
        exact = self._pending_count is not None
        count = self._pending_count if self._pending_count is not None else len(ids)
        generation = self._generation
        self.beginResetModel()
        self._last = None
        self._count = count
        self._windows.clear()
        self._windows[0] = ids
        self._anchors = None
        self._all = ids if len(ids) < self.PAGE_SIZE or (exact and len(ids) >= count) else None
        self._windowed = windowed
        self._index = None
        self._scans = 0
        self._shown = True
        self._stale = False
        self.endResetModel()
        self.idsReplaced.emit()
        self._check_complete()
        # The rest waits until a view has painted the first rows (the first data()
        # call; at the latest after PAINT_WAIT_MS): on 2 cores, a worker reading many
        # rows or ids slows the GUI thread (the CPU and the GIL).
        self._paint_pending = generation
        QTimer.singleShot(self.PAINT_WAIT_MS, self, lambda: self._background(generation))

    def _painting(self) -> None:
        generation, self._paint_pending = self._paint_pending, 0
        QTimer.singleShot(0, self, lambda: self._background(generation))

    def _load_all(self) -> None:
        """Read every id of an order no index gives, once, in the background: when a
        window past the first ones is wanted (someone scrolls), not before; until it
        arrives windows are read by their own query."""
        if self._all is not None or self._windowed or self._all_requested == self._generation:
            return
        self._all_requested = generation = self._generation
        self._all_loading = True
        service, query = self.service, self._query

        def failed(exc: Exception) -> None:
            if generation == self._generation:
                self._all_loading = False  # windows are read by their own query again
            self._on_error(exc)

        self.runner.submit("all", lambda: service.ids(query),
                           lambda r: self._on_all(generation, r), failed)

    def _background(self, generation: int) -> None:
        """After the first paint: the counts per status (when not known)."""
        if generation != self._generation or self._started == generation:
            return
        self._started = generation
        self._paint_pending = 0
        service, query, filters = self.service, self._query, self._filters
        if self._fresh is None:
            def counts() -> tuple[dict[StatusCategory, int], int]:
                return service.counts(query), service.total()

            self.runner.submit("counts", counts,
                               lambda r: self._on_counts(generation, filters, *r),
                               self._on_error)
        self._anchor(generation)

    @property
    def anchors_pending(self) -> bool:
        """The current query's anchors job waits to start (see ANCHOR_WAIT_MS)."""
        return self._anchors_pending == self._generation

    def _anchor(self, generation: int, *, now: bool = False) -> None:
        """After the first paint (ANCHOR_WAIT_MS after it), for a large result in an
        index's order: read the anchors (the sort values of every ANCHOR_EVERY-th row)
        in the background. A newer query stops the job between two of its steps."""
        if now:
            self._anchors_pending = 0
        if (generation != self._generation or self._started != generation
                or self._anchors_requested == generation or not self._windowed
                or self._all is not None or self._pending_count is None
                or self._count < self.ANCHOR_MIN_ROWS):
            return
        if not now:
            if self._anchors_pending != generation:
                self._anchors_pending = generation
                QTimer.singleShot(self.ANCHOR_WAIT_MS, self,
                                  lambda: self._anchor(generation, now=True))
            return
        self._anchors_requested = generation
        service, query, every = self.service, self._query, self.ANCHOR_EVERY

        def anchors() -> list[tuple[object, ...]] | None:
            return service.anchors(query, every,
                                   cancelled=lambda: self._generation != generation)

        self.runner.submit("anchors", anchors,
                           lambda r: self._on_anchors(generation, r),
                           lambda _exc: None)  # windows are read by OFFSET instead

    def _on_anchors(self, generation: int, anchors: list[tuple[object, ...]] | None
                    ) -> None:
        if generation == self._generation and self._windowed:
            self._anchors = anchors

    def _resize(self, count: int) -> None:
        self._last = None
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        elif count < self._count:
            self.beginRemoveRows(QModelIndex(), count, self._count - 1)
            self._count = count
            self.endRemoveRows()

    def _on_all(self, generation: int, ids: array[int]) -> None:
        if generation != self._generation:
            return
        self._all_loading = False
        self._later = None
        self._all = ids
        self._last = None
        self._index = None
        self._scans = 0
        self._resize(len(ids))
        # Windows read meanwhile were read from the same query; the list is the truth.
        self._windows.clear()
        if self._count:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._count - 1, len(self.columns) - 1))
        self._pending_count = len(ids)
        self._check_complete()

    def _on_counts(self, generation: int, filters: OrderQuery,
                   per: dict[StatusCategory, int], total: int) -> None:
        if generation != self._generation:
            return
        self._counted = (filters, per, total)
        self._fresh = (per, total)
        self._check_complete()

    def _check_complete(self) -> None:
        """Complete: the first window shown and the row count exact. Every row can then
        be read (by index windows, from all ids, or, while an unindexed order's ids
        are still arriving, by a window query)."""
        if not self._shown or self._pending_count is None:
            return
        self._complete = True
        if self._fresh is None or not self._loading:
            return
        per, total = self._fresh
        self._set_counts(QueryCounts(per, self._count, total))
        self._set_loading(False)
        self.loaded.emit()

    def _on_error(self, exc: Exception) -> None:
        self._stale = False  # no refresh will come to lift it: read windows again
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
        self._last = None
        for order_id in (*changes.changed, *changes.removed):
            self._cache.pop(order_id, None)
            self._cells.pop(order_id, None)
        # Positions may have shifted: until the refresh is shown, read no window that
        # is not in memory (it would mix old and new positions); placeholders instead.
        self._stale = True
        self._anchors = None
        if self._count:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._count - 1, len(self.columns) - 1))
        self.refresh()

    def set_utc(self, utc: bool) -> None:
        self.utc = utc
        self._last = None
        self._cells.clear()
        if self._count:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._count - 1, len(self.columns) - 1),
                                  [Qt.ItemDataRole.DisplayRole])

    # ids and rows -------------------------------------------------------------------
    @property
    def ids(self) -> array[int]:
        """Every id of the current query, in order (read from the store when the model
        holds only windows of them: for an export of everything, not for painting)."""
        if self._all is not None:
            return self._all
        return self.ids_in_rows([(0, self._count - 1)]) if self._count else array("q")

    def _window(self, window: int, *, fetch: bool = True,
                defer: bool = False) -> array[int] | None:
        """The ids of one window of PAGE_SIZE rows. ``defer`` (painting): ``None`` for a
        window past the first ones of an order no index gives while every id is being
        read: its own query (a sort of every match, then OFFSET) would hold the GUI
        thread 0.3-1.2 s at a million orders. The rows show "…" until that query, run
        in the background (:meth:`_read_later`), or the list of every id brings them."""
        if self._all is not None:
            start = window * self.PAGE_SIZE
            return self._all[start:start + self.PAGE_SIZE]
        ids = self._windows.get(window)
        if ids is not None:
            self._windows.move_to_end(window)
            return ids
        if not fetch or self._stale:
            return None
        if window >= self.EAGER_WINDOWS:
            self._load_all()
            if defer and self._all_loading:
                self._read_later(window)
                return None
        start = window * self.PAGE_SIZE
        anchors = self._anchors
        try:
            if anchors is not None and start // self.ANCHOR_EVERY < len(anchors):
                at, skip = divmod(start, self.ANCHOR_EVERY)
                ids = self.service.ids_from(self._query, anchors[at], limit=self.PAGE_SIZE,
                                            offset=skip)
            else:
                ids = self.service.ids(self._query, limit=self.PAGE_SIZE, offset=start)
        except OrderdeskError:
            return None
        self._windows[window] = ids
        while len(self._windows) > self.MAX_WINDOWS:
            self._windows.popitem(last=False)
        return ids

    def _read_later(self, window: int) -> None:
        """Read a deferred window in the background: the newest one wanted only (a job
        still queued for an older one does nothing), repainted when it arrives."""
        generation = self._generation
        if self._later == (generation, window):
            return
        self._later = (generation, window)
        service, query = self.service, self._query
        start, size = window * self.PAGE_SIZE, self.PAGE_SIZE

        def read() -> array[int] | None:
            if self._later != (generation, window):
                return None  # another window is wanted now, or every id came
            return service.ids(query, limit=size, offset=start)

        def failed(exc: Exception) -> None:
            if self._later == (generation, window):
                self._later = None
            self._on_error(exc)

        self.runner.submit("window", read,
                           lambda ids: self._on_later(generation, window, ids), failed)

    def _on_later(self, generation: int, window: int, ids: array[int] | None) -> None:
        if self._later == (generation, window):
            self._later = None
        if ids is None or generation != self._generation or self._all is not None:
            return
        self._windows[window] = ids
        while len(self._windows) > self.MAX_WINDOWS:
            self._windows.popitem(last=False)
        top = window * self.PAGE_SIZE
        bottom = min(self._count, top + self.PAGE_SIZE) - 1
        if top <= bottom:
            self._last = None
            self.dataChanged.emit(self.index(top, 0),
                                  self.index(bottom, len(self.columns) - 1))

    def id_at(self, row: int, *, fetch: bool = True, defer: bool = False) -> int | None:
        if not 0 <= row < self._count:
            return None
        if self._all is not None:
            return self._all[row] if row < len(self._all) else None
        ids = self._window(row // self.PAGE_SIZE, fetch=fetch, defer=defer)
        offset = row % self.PAGE_SIZE
        return ids[offset] if ids is not None and offset < len(ids) else None

    def row_of(self, order_id: int) -> int | None:
        """Row of an id: from the ids in memory (a few lookups scan the array at C
        speed, more build a dict), else by a count in the store."""
        found = self._row_in_memory(order_id)
        if found is not None or self._all is not None:
            return found
        try:
            where = self.service.positions(self._query, [order_id])
        except OrderdeskError:
            return None
        row = where.get(order_id)
        return row if row is not None and row < self._count else None

    def _row_in_memory(self, order_id: int) -> int | None:
        if self._all is None:
            for window, ids in self._windows.items():
                try:
                    return window * self.PAGE_SIZE + ids.index(order_id)
                except ValueError:
                    continue
            return None
        if self._index is None:
            if self._scans < self.SCAN_LOOKUPS:
                self._scans += 1
                try:
                    return self._all.index(order_id)
                except ValueError:
                    return None
            self._index = {order_id: row for row, order_id in enumerate(self._all)}
        return self._index.get(order_id)

    def rows_of(self, ids: Iterable[int]) -> list[int]:
        """Rows of ids (a selection to restore): those in memory, and up to
        MAX_POSITION_QUERIES more placed by the store."""
        out: list[int] = []
        missing: list[int] = []
        for order_id in ids:
            row = self._row_in_memory(order_id)
            if row is not None:
                out.append(row)
            elif self._all is None:
                missing.append(order_id)
        if missing:
            try:
                where = self.service.positions(self._query,
                                               missing[:self.MAX_POSITION_QUERIES])
            except OrderdeskError:
                where = {}
            out.extend(r for r in where.values() if r < self._count)
        return out

    def ids_in_rows(self, ranges: Iterable[tuple[int, int]]) -> array[int]:
        """Ids for inclusive row ranges (a selection), without reading any row: from
        the ids in memory, or one window query per range not in memory."""
        out: array[int] = array("q")
        page = self.PAGE_SIZE
        for top, bottom in ranges:
            top, bottom = max(0, top), min(bottom, self._count - 1)
            if top > bottom:
                continue
            if self._all is not None:
                out.extend(self._all[top:bottom + 1])
                continue
            windows = range(top // page, bottom // page + 1)
            if len(windows) <= 2 * self.MAX_WINDOWS and all(
                    w in self._windows for w in windows):
                for w in windows:
                    ids = self._windows[w]
                    lo = max(top - w * page, 0)
                    hi = min(bottom - w * page + 1, len(ids))
                    out.extend(ids[lo:hi])
            else:
                out.extend(self.service.ids(self._query, limit=bottom - top + 1,
                                            offset=top))
        return out

    def order_row(self, row: int, *, fetch: bool = True,
                  defer: bool = False) -> OrderRow | None:
        """The cached row, reading its window from the store when it is not cached
        (``defer``: see :meth:`_window`)."""
        # fast path (every painted cell comes here): the id in memory, the row cached
        page = self.PAGE_SIZE
        ids = self._all if self._all is not None else self._windows.get(row // page)
        if ids is not None and 0 <= row < self._count:
            at = row if self._all is not None else row % page
            if at < len(ids):
                found = self._cache.get(ids[at], _UNKNOWN)
                if found is not _UNKNOWN:
                    self._cache.move_to_end(ids[at])
                    return cast("OrderRow | None", found)
        order_id = self.id_at(row, fetch=fetch, defer=defer)
        if order_id is None:
            return None
        if order_id in self._cache:
            self._cache.move_to_end(order_id)
            return self._cache[order_id]
        if not fetch:
            return None
        self._fetch_rows(row)
        return self._cache.get(order_id)

    def cached_rows(self) -> int:
        return len(self._cache)

    def _fetch_rows(self, row: int) -> None:
        """Read the rows of ROW_BLOCK rows around ``row`` (a jump paints ~40 rows:
        decoding a whole window of 200 would be wasted)."""
        page = self.PAGE_SIZE
        ids = self._window(row // page)
        if ids is None:
            return
        start = (row % page) // self.ROW_BLOCK * self.ROW_BLOCK
        wanted = [i for i in ids[start:start + self.ROW_BLOCK].tolist() if i not in self._cache]
        try:
            found = {row.id: row for row in self.service.rows(wanted)}
        except OrderdeskError:
            found = {}  # shown as placeholders; the next query reads them again
        for order_id in wanted:
            self._remember(order_id, found.get(order_id))

    def _remember(self, order_id: int, row: OrderRow | None) -> None:
        self._last = None
        self._cells.pop(order_id, None)
        self._cache[order_id] = row
        self._cache.move_to_end(order_id)
        while len(self._cache) > self.MAX_CACHED_ROWS:
            old, _ = self._cache.popitem(last=False)
            self._cells.pop(old, None)

    # Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _FLAGS

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
        # Called ~3,000 times a paint (each visible cell, several roles): plain int
        # roles, and each row's texts and colours formatted once, kept with the row.
        role = int(role)
        if role not in _ANSWERED:
            return None  # font, background, decoration...: asked for every cell
        r, c = index.row(), index.column()
        if not (0 <= r < self._count and 0 <= c < len(self.columns)):
            return None
        if role == _ALIGN:
            return self._align[c]
        if role == IdRole:
            return self.id_at(r)
        last = self._last
        if last is not None and last[0] == r:  # the row of the cell before (a paint)
            row, cells, muted = last[1], last[2], last[3]
        else:
            found = self.order_row(r, defer=role != RowRole)
            if found is None:
                if role == _DISPLAY and c == 0:
                    order_id = self.id_at(r, fetch=False)
                    return ("(removed)" if order_id is not None and order_id in self._cache
                            else "…")
                return None
            row = found
            kept = self._cells.get(row.id)
            if kept is None:
                kept = self._cells[row.id] = [None] * len(self.columns)
            cells = kept
            muted = _MUTED_BRUSH if row.status.category is _DELETED else None
            self._last = (r, row, cells, muted)
        if role == _DISPLAY or role == _ACCESSIBLE:
            if self._paint_pending:
                self._painting()
            text = cells[c]
            if text is None:
                col = self.columns[c]
                text = self._display(col, row, col.value(row))
                if col.sort is not SortField.SYNCED:  # "2 min ago" ages: not kept
                    cells[c] = text
            return text
        if role == _FOREGROUND:
            if row.problems and c in self._problem_columns:
                return _WARN_BRUSH
            return muted
        if role == RowRole:
            return row
        col = self.columns[c]
        value = col.value(row)
        if role == ValueRole:
            return value
        if role == _TOOLTIP:
            return self._tooltip(col, row, value)
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

"""The main window: search, status tabs, filters, the order table and the detail pane."""

from __future__ import annotations

import gc
import time
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QItemSelectionRange,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from orderdesk.models.errors import OrderdeskError
from orderdesk.models.query import OrderQuery
from orderdesk.models.rows import ChangeSet
from orderdesk.services.connections import ConnectionService
from orderdesk.services.context import AppContext
from orderdesk.services.orders import ConnectionSummary, OrderDetail, OrderService
from orderdesk.services.sync import SyncService
from orderdesk.sync.progress import SyncProgress, SyncResult
from orderdesk.ui.delegates import StatusBadgeDelegate
from orderdesk.ui.detail import DetailPane
from orderdesk.ui.filters import FilterBar, SearchBox, StatusTabs
from orderdesk.ui.format import freshness
from orderdesk.ui.header import OrderHeader
from orderdesk.ui.sync_control import SyncController, error_text
from orderdesk.ui.table_model import OrderTableModel, QueryCounts
from orderdesk.ui.tasks import TaskRunner
from orderdesk.ui.views import (
    COLUMNS_KEY,
    CURRENT_KEY,
    ViewStore,
    query_from_json,
    query_to_json,
)
from orderdesk.ui.widgets import Banner

AUTOSYNC_KEY = "ui.autosync_minutes"
UTC_KEY = "ui.utc"
SPLITTER_KEY = "ui.splitter"
#: Selections larger than this are not restored id by id after a re-query.
MAX_RESTORED_SELECTION = 2000
#: a running sync's pages reach the table at most every CHANGES_MIN_MS, and after a
#: pause of CHANGES_COST_FACTOR times the last refresh (capped at CHANGES_MAX_MS): the
#: table's queries then take ~1/10 of the time (the sync runs in this process, and they
#: hold its interpreter lock part of the time)
CHANGES_MIN_MS = 400
CHANGES_COST_FACTOR = 10
CHANGES_MAX_MS = 30_000
#: a refresh that has not loaded after this long no longer holds the next one back
CHANGES_WAIT_MAX_S = 30.0


def _ranges(selection: QItemSelection) -> list[QItemSelectionRange]:
    return [selection.at(i) for i in range(selection.size())]


class OrderTableView(QTableView):
    """The order table: J/K for next/previous, Enter to open the detail pane."""

    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.setTabKeyNavigation(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(28)
        self.verticalHeader().setMinimumSectionSize(20)
        self.setAccessibleName("Orders")

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        # The headers get a selection model of their own that stays empty. Qt's header
        # asks "is this whole column selected?" for every visible section on each paint,
        # one model call per row: after Ctrl+A on 200k rows that took 15 s a paint.
        if model is not None:
            for header in (self.horizontalHeader(), self.verticalHeader()):
                header.setSelectionModel(QItemSelectionModel(model, header))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        plain = not (event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                          | Qt.KeyboardModifier.AltModifier))
        if plain and key in (Qt.Key.Key_J, Qt.Key.Key_K):
            self.step(1 if key == Qt.Key.Key_J else -1)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.openRequested.emit()
            return
        super().keyPressEvent(event)

    def step(self, delta: int) -> None:
        model = self.model()
        if model is None or not model.rowCount():
            return
        current = self.currentIndex()
        row = current.row() + delta if current.isValid() else 0
        row = max(0, min(model.rowCount() - 1, row))
        column = current.column() if current.isValid() else self.horizontalHeader().logicalIndex(0)
        index = model.index(row, max(0, column))
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.scrollTo(index)


class MainWindow(QMainWindow):
    """One orderdesk window over one :class:`AppContext`."""

    #: a detail was shown (tests wait on it)
    detailShown = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = OrderService(ctx.store)
        self.views = ViewStore(ctx.config)
        self.runner = TaskRunner(self, threads=2)
        self.sync = SyncController(SyncService(ctx), self)
        self.demo_session: Any = None
        self._closed = False
        self._restore: dict[str, Any] | None = None
        self._choices_loaded = False  #: filter pickers filled (again after each sync)
        self._connections_pending = False  #: summaries to read once the table is shown
        self._pending_changes = ChangeSet()
        self._results: dict[str, SyncResult] = {}
        self._summaries: list[ConnectionSummary] = []
        self.setWindowTitle("orderdesk")
        self.setAccessibleName("orderdesk")
        self.resize(1400, 850)

        self.model = OrderTableModel(self.service, self)
        self._build_ui()
        self._build_actions()
        self._connect()
        self._restore_state()
        # Everything built so far (modules, Qt wrappers, SQLAlchemy's tables) lives as
        # long as the window: keep it out of the cyclic GC's full collections, which
        # otherwise walk it all (~0.15 s with the GIL held, at a million orders while
        # a worker reads ids) whenever enough objects have been made.
        gc.freeze()

    # building ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        col = QVBoxLayout(central)
        col.setContentsMargins(10, 6, 10, 4)
        col.setSpacing(6)

        self.demo_banner = Banner("demo")
        self.demo_banner.setAccessibleName("Demo mode")
        self.demo_banner.add_action("Connections…", self.open_connections,
                                    "Add a real connection")
        col.addWidget(self.demo_banner)
        self.error_banner = Banner("error")
        self.error_banner.setAccessibleName("Problem")
        col.addWidget(self.error_banner)

        top = QHBoxLayout()
        top.setSpacing(8)
        self.search = SearchBox()
        top.addWidget(self.search, 3)
        self.view_combo = QComboBox()
        self.view_combo.setAccessibleName("Saved views")
        self.view_combo.setToolTip("Saved views: a named search, filters, sort and columns")
        self.view_combo.setMinimumWidth(170)
        self.view_combo.setPlaceholderText("Saved views")
        top.addWidget(self.view_combo)
        self.view_button = QToolButton()
        self.view_button.setText("View")
        self.view_button.setAccessibleName("View menu")
        self.view_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        top.addWidget(self.view_button)
        top.addStretch(1)
        self.count_label = QLabel("Loading…")
        self.count_label.setObjectName("countLabel")
        self.count_label.setAccessibleName("Order count")
        top.addWidget(self.count_label)
        col.addLayout(top)

        self.tabs = StatusTabs()
        col.addWidget(self.tabs)
        self.filter_bar = FilterBar()
        col.addWidget(self.filter_bar)

        self.table = OrderTableView()
        self.header = OrderHeader(self.table)
        self.table.setHorizontalHeader(self.header)
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(self.model.column_index("status"),
                                            StatusBadgeDelegate(self.table))
        self.detail = DetailPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([860, 520])
        col.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        bar = self.statusBar()
        self.status_message = QLabel()
        bar.addWidget(self.status_message, 1)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Sync progress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        bar.addPermanentWidget(self.progress)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel sync")
        self.cancel_button.hide()
        bar.addPermanentWidget(self.cancel_button)
        self.connection_status = QLabel()
        self.connection_status.setObjectName("connectionStatus")
        self.connection_status.setAccessibleName("Connections status")
        self.connection_status.setTextFormat(Qt.TextFormat.RichText)
        bar.addPermanentWidget(self.connection_status)

    def _build_actions(self) -> None:
        tools = QToolBar("Main")
        tools.setObjectName("mainToolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(tools)

        self.sync_action = QAction("⟳ Sync", self)
        self.sync_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.sync_action.setToolTip("Fetch new and changed orders (F5)")
        self.sync_action.triggered.connect(lambda: self.start_sync())
        self.full_sync_action = QAction("Full sync (check every order)", self)
        self.full_sync_action.triggered.connect(lambda: self.start_sync(full=True))
        self.connections_action = QAction("Connections…", self)
        self.connections_action.triggered.connect(self.open_connections)
        self.export_action = QAction("Export…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.triggered.connect(self.open_export)
        self.export_action.setToolTip("Export the selected or filtered orders "
                                      "to CSV or PDF (Ctrl+E)")
        self.clear_action = QAction("Clear filters", self)
        self.clear_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.clear_action.triggered.connect(self.clear_filters)
        self.utc_action = QAction("Show times in UTC", self)
        self.utc_action.setCheckable(True)
        self.utc_action.toggled.connect(self.set_utc)
        self.save_view_action = QAction("Save view…", self)
        self.save_view_action.setShortcut(QKeySequence("Ctrl+S"))
        self.save_view_action.triggered.connect(lambda: self.save_view())
        self.delete_view_action = QAction("Delete view", self)
        self.delete_view_action.triggered.connect(self.delete_current_view)
        self.filters_action = QAction("Filter bar", self)
        self.filters_action.setCheckable(True)
        self.filters_action.setChecked(True)
        self.filters_action.toggled.connect(self.filter_bar.setVisible)
        self.detail_action = QAction("Detail pane", self)
        self.detail_action.setCheckable(True)
        self.detail_action.setChecked(True)
        self.detail_action.toggled.connect(self.detail.setVisible)

        for action in (self.sync_action, self.connections_action, self.export_action):
            tools.addAction(action)
        tools.addSeparator()
        tools.addAction(self.clear_action)
        tools.addAction(self.utc_action)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.connections_action)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        sync_menu = menu.addMenu("&Sync")
        sync_menu.addAction(self.sync_action)
        sync_menu.addAction(self.full_sync_action)
        self.auto_menu = sync_menu.addMenu("Automatic sync")
        self.auto_group = QActionGroup(self)
        for minutes in (0, 5, 15, 30, 60):
            act = QAction("Off" if not minutes else f"Every {minutes} min", self)
            act.setCheckable(True)
            act.setData(minutes)
            act.triggered.connect(lambda _=False, m=minutes: self.set_autosync(m))
            self.auto_group.addAction(act)
            self.auto_menu.addAction(act)
        view_menu = menu.addMenu("&View")
        self.view_menu = view_menu
        view_menu.addAction(self.save_view_action)
        view_menu.addAction(self.delete_view_action)
        view_menu.addSeparator()
        view_menu.addAction(self.clear_action)
        view_menu.addAction(self.utc_action)
        view_menu.addAction(self.filters_action)
        view_menu.addAction(self.detail_action)
        self.columns_menu = view_menu.addMenu("Columns")
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.view_button.setMenu(view_menu)

        self.autosync = QTimer(self)
        self.autosync.timeout.connect(lambda: self.start_sync(quiet=True))
        self.freshness_timer = QTimer(self)
        self.freshness_timer.setInterval(60_000)
        self.freshness_timer.timeout.connect(self.refresh_connections)
        self.freshness_timer.start()
        self._changes_timer = QTimer(self)
        self._changes_timer.setSingleShot(True)
        self._changes_timer.setInterval(CHANGES_MIN_MS)
        self._changes_timer.timeout.connect(self._flush_changes)
        #: when the table began its refresh for a sync's changes (until it has loaded)
        self._changes_began: float | None = None
        self._layout_timer = QTimer(self)
        self._layout_timer.setSingleShot(True)
        self._layout_timer.setInterval(500)
        self._layout_timer.timeout.connect(self.save_layout)

        for seq, slot in (("Ctrl+F", self.focus_search), ("Esc", self.escape),
                          ("Ctrl+L", self.focus_table)):
            QShortcut(QKeySequence(seq), self, slot)

    def _connect(self) -> None:
        self.search.searchChanged.connect(lambda _: self.requery(user=True))
        self.tabs.categoryChanged.connect(lambda _: self.requery(user=True))
        self.filter_bar.changed.connect(lambda: self.requery(user=True))
        self.filter_bar.clear_button.clicked.connect(self.clear_filters)
        self.header.sortRequested.connect(self._sort_requested)
        self.header.layoutChanged.connect(lambda: self._layout_timer.start())
        self.model.countsChanged.connect(self._counts_changed)
        self.model.loadingChanged.connect(self._loading_changed)
        self.model.modelAboutToBeReset.connect(self._before_reset)
        self.model.modelReset.connect(self._after_reset)
        self.model.loaded.connect(self._loaded)
        self.model.loadFailed.connect(self._query_failed)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.openRequested.connect(self.open_detail)
        self.table.doubleClicked.connect(lambda _: self.open_detail())
        self.view_combo.activated.connect(self._view_chosen)
        self.detail.copied.connect(lambda text: self.show_status(text))
        self.sync.started.connect(self._sync_started)
        self.sync.progressed.connect(self._sync_progress)
        self.sync.finished.connect(self._sync_finished)
        self.cancel_button.clicked.connect(self.sync.cancel)

    # state ----------------------------------------------------------------------------
    def _setting(self, key: str, default: Any = None) -> Any:
        try:
            return self.ctx.config.setting(key, default)
        except OrderdeskError:
            return default

    def _set_setting(self, key: str, value: Any) -> None:
        try:
            self.ctx.config.set_setting(key, value)
        except OrderdeskError as exc:
            self.show_error(exc.message, exc.details)

    def _restore_state(self) -> None:
        self.utc_action.setChecked(bool(self._setting(UTC_KEY, False)))
        minutes = self._setting(AUTOSYNC_KEY, 0)
        self.set_autosync(minutes if isinstance(minutes, int) else 0, save=False)
        sizes = self._setting(SPLITTER_KEY)
        if isinstance(sizes, list) and len(sizes) == 2 and all(isinstance(s, int) for s in sizes):
            self.splitter.setSizes(sizes)
        self._fill_views()
        last = self.views.last()
        view = self.views.get(last) if last else None
        if view is not None:
            query, columns = view
            self.header.apply_layout(columns if columns else self._setting(COLUMNS_KEY))
            self.view_combo.setCurrentIndex(self.view_combo.findText(last or ""))
        else:
            self.header.apply_layout(self._setting(COLUMNS_KEY))
            query = query_from_json(self._setting(CURRENT_KEY))
        self.show_query(query)
        self.model.set_query(self.current_query())
        # the connections' summaries (a count of orders each) once the table is shown:
        # at a million orders they would compete with the first paint for the CPU
        self._connections_pending = True

    def save_layout(self) -> None:
        # the default layout is not saved: it follows the connections (see the header)
        self._set_setting(COLUMNS_KEY,
                          None if self.header.is_default else self.header.layout_state())

    def save_state(self) -> None:
        self.save_layout()
        self._set_setting(CURRENT_KEY, query_to_json(self.current_query()))
        self._set_setting(SPLITTER_KEY, self.splitter.sizes())

    # the query -----------------------------------------------------------------------
    def current_query(self) -> OrderQuery:
        category = self.tabs.category()
        query = OrderQuery(text=self.search.text().strip(),
                           categories=(category,) if category else (),
                           sort=self.model.sort_keys)
        return self.filter_bar.apply_to(query)

    def show_query(self, query: OrderQuery) -> None:
        """Set search, tab and filters from ``query`` (no re-query)."""
        self.search.set_text_silently(query.text)
        category = query.categories[0] if len(query.categories) == 1 else None
        self.tabs.set_category(category)
        self.filter_bar.show_query(query)
        self.model._query = replace(self.model.query, sort=query.sort)

    def requery(self, *, user: bool = False) -> None:
        if user and self.view_combo.currentIndex() >= 0:
            self.view_combo.setCurrentIndex(-1)  # the view no longer describes the table
            self.views.set_last(None)
        self.model.set_query(self.current_query())

    def _sort_requested(self, keys: tuple[Any, ...]) -> None:
        self.model.set_query(replace(self.current_query(), sort=keys))
        if self.view_combo.currentIndex() >= 0:
            self.view_combo.setCurrentIndex(-1)
            self.views.set_last(None)

    def clear_filters(self) -> None:
        self.show_query(OrderQuery(sort=self.model.sort_keys))
        self.requery(user=True)
        self.table.setFocus()

    def _counts_changed(self, counts: QueryCounts) -> None:
        self.tabs.update_counts(counts.per_status, counts.total)
        filtered = counts.matched != counts.total
        self.count_label.setText(
            f"{counts.matched:,} of {counts.total:,} orders" if filtered
            else f"{counts.total:,} orders")
        self.clear_action.setEnabled(self.current_query().is_filtered)
        self.filter_bar.clear_button.setEnabled(self.current_query().is_filtered)

    def _loading_changed(self, loading: bool) -> None:
        if loading:
            self.show_status("Loading orders…")
        else:
            self.show_status("")

    def _query_failed(self, exc: Exception) -> None:
        self._changes_loaded()
        self._refresh_connections_once()
        message, details = error_text(exc)
        self.show_error("The orders could not be read from the cache. " + message, details)

    # selection across re-queries ----------------------------------------------------------
    def selected_ids(self) -> list[int]:
        selection = self.table.selectionModel().selection()
        ranges = [(r.top(), r.bottom()) for r in _ranges(selection)]
        return self.model.ids_in_rows(ranges).tolist()

    def current_id(self) -> int | None:
        index = self.table.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def _before_reset(self) -> None:
        selection = self.table.selectionModel().selection()
        count = sum(r.bottom() - r.top() + 1 for r in _ranges(selection))
        rows = self.model.rowCount()
        self._restore = {
            "current": self.current_id(),
            "all": bool(rows) and count >= rows and self.model.is_complete,
            "ids": self.selected_ids() if count <= MAX_RESTORED_SELECTION else [],
            "scroll": self.table.verticalScrollBar().value(),
            "refresh": self.model.query == getattr(self, "_last_query", None),
        }
        self._last_query = self.model.query

    def _after_reset(self) -> None:
        self._last_query = self.model.query
        # Lay the rows out now rather than on Qt's delayed-layout timer, which would
        # paint the table a second time (at a million rows, while the model's
        # background jobs compete for the CPU).
        self.table.doItemsLayout()
        QTimer.singleShot(0, self._apply_restore)

    def _refresh_connections_once(self) -> None:
        if self._connections_pending:
            self._connections_pending = False
            self.refresh_connections()

    def _loaded(self) -> None:
        self._changes_loaded()
        self._refresh_connections_once()
        self._apply_restore()
        if not self._choices_loaded:  # then after each sync (values change only then)
            self._load_filter_choices()

    def _apply_restore(self) -> None:
        state = self._restore
        if state is None:
            return
        model = self.model
        sel = self.table.selectionModel()
        current_row = model.row_of(state["current"]) if state["current"] is not None else None
        if state["all"] and model.is_complete:
            self.table.selectAll()
        elif state["ids"]:
            selection = QItemSelection()
            last = model.columnCount() - 1
            for row in sorted(model.rows_of(state["ids"])):
                selection.select(model.index(row, 0), model.index(row, last))
            sel.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if current_row is not None:
            column = max(0, self.table.currentIndex().column())
            sel.setCurrentIndex(model.index(current_row, column),
                                QItemSelectionModel.SelectionFlag.NoUpdate)
        if state["refresh"]:
            self.table.verticalScrollBar().setValue(state["scroll"])
        elif current_row is not None:
            self.table.scrollTo(model.index(current_row, 0),
                                QAbstractItemView.ScrollHint.PositionAtCenter)
        else:
            self.table.scrollToTop()
        # keep trying until every id is loaded: the current order may be further down
        if model.is_complete or current_row is not None:
            self._restore = None
            if current_row is None and state["current"] is not None:
                self.detail.show_detail(None)

    # detail pane ------------------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        order_id = self.model.id_at(current.row()) if current.isValid() else None
        if order_id is None:
            self.runner.cancel("detail")
            self.detail.show_detail(None)
            return
        if self.detail.detail is not None and self.detail.detail.id == order_id:
            return
        service = self.service
        self.runner.submit("detail", lambda: service.detail(order_id), self._show_detail,
                           self._detail_failed)

    def _show_detail(self, detail: OrderDetail | None) -> None:
        self.detail.utc = self.model.utc
        self.detail.show_detail(detail)
        self.detailShown.emit(detail)

    def _detail_failed(self, exc: Exception) -> None:
        message, details = error_text(exc)
        self.show_error("This order could not be read. " + message, details)

    def open_detail(self) -> None:
        if not self.detail.isVisible():
            self.detail_action.setChecked(True)
        if not self.table.currentIndex().isValid():
            self.table.step(0)
        self.detail.tabs.setFocus()

    # keyboard -------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def focus_table(self) -> None:
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def escape(self) -> None:
        if self.search.text():
            self.search.clear()
            self.search.flush()
        elif self.error_banner.isVisible():
            self.error_banner.dismiss()
        self.table.setFocus()

    # settings actions -----------------------------------------------------------------------
    def set_utc(self, utc: bool) -> None:
        self.model.set_utc(utc)
        self.detail.utc = utc
        if self.detail.detail is not None:
            self.detail.show_detail(self.detail.detail)
        self._set_setting(UTC_KEY, utc)

    def set_autosync(self, minutes: int, *, save: bool = True) -> None:
        for act in self.auto_group.actions():
            act.setChecked(act.data() == minutes)
        if minutes > 0:
            self.autosync.start(minutes * 60_000)
        else:
            self.autosync.stop()
        if save:
            self._set_setting(AUTOSYNC_KEY, minutes)

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        for action in self.header.column_menu().actions():
            action.setParent(self.columns_menu)
            self.columns_menu.addAction(action)

    # saved views -------------------------------------------------------------------------------
    def _fill_views(self) -> None:
        current = self.view_combo.currentText() if self.view_combo.currentIndex() >= 0 else None
        self.view_combo.blockSignals(True)
        self.view_combo.clear()
        for name in self.views.names():
            self.view_combo.addItem(name)
        self.view_combo.setCurrentIndex(self.view_combo.findText(current) if current else -1)
        self.view_combo.blockSignals(False)
        self.delete_view_action.setEnabled(bool(self.views.names()))

    def save_view(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "Save view", "Name of this view "
                                            "(search, filters, sort and columns):")
            if not ok:
                return
        name = name.strip()
        if not name:
            return
        try:
            self.views.save(name, self.current_query(), self.header.layout_state())
        except OrderdeskError as exc:
            self.show_error(exc.message, exc.details)
            return
        self._fill_views()
        self.view_combo.setCurrentIndex(self.view_combo.findText(name))
        self.show_status(f"View “{name}” saved")

    def apply_view(self, name: str) -> None:
        view = self.views.get(name)
        if view is None:
            return
        query, columns = view
        if columns:
            self.header.apply_layout(columns)
        self.show_query(query)
        self.model.set_query(self.current_query())
        self.views.set_last(name)
        self.view_combo.setCurrentIndex(self.view_combo.findText(name))

    def _view_chosen(self, index: int) -> None:
        if index >= 0:
            self.apply_view(self.view_combo.itemText(index))

    def delete_current_view(self) -> None:
        name = self.view_combo.currentText() if self.view_combo.currentIndex() >= 0 else None
        if not name:
            self.show_status("Choose a saved view first")
            return
        self.views.delete(name)
        self._fill_views()
        self.show_status(f"View “{name}” deleted")

    # messages ---------------------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status_message.setText(text)

    def show_error(self, message: str, details: str = "") -> None:
        self.error_banner.show_message(message, details, kind="error")

    def show_demo_banner(self) -> None:
        self.demo_banner.show_message(
            "Demo mode: these orders come from orderdesk's built-in demo shop, not from a real "
            "one. To work with your shop, add a connection (Connections… or "
            "`orderdesk connection add`).", kind="demo")

    # filter pickers and connections --------------------------------------------------------------
    def _load_filter_choices(self) -> None:
        service = self.service

        def load() -> dict[str, list[str]]:
            return {field: service.distinct(field)
                    for field in ("payment_method", "shipping_method", "country")}

        def done(choices: dict[str, list[str]]) -> None:
            for field, values in choices.items():
                self.filter_bar.set_choices(field, values)
            self._choices_loaded = True

        self.runner.submit("choices", load, done, lambda _exc: None)

    def refresh_connections(self) -> None:
        service = self.service
        self.runner.submit("connections", service.connections, self._connections_loaded,
                           lambda _exc: None)

    def _connections_loaded(self, summaries: list[ConnectionSummary]) -> None:
        self._summaries = summaries
        self.filter_bar.set_choices("connection", [s.name for s in summaries])
        self.header.set_several_connections(len(summaries) > 1)
        parts = []
        for s in summaries:
            result = self._results.get(s.name)
            if result is None:
                color, state = "#6b7280", ""
            elif result.ok:
                color, state = "#16a34a", "online"
            elif result.outcome == "cancelled":
                color, state = "#ca8a04", "cancelled"
            else:
                color, state = "#dc2626", "offline"
            parts.append(f"<span style='color:{color}'>●</span> {s.name} · "
                         f"{freshness(s.last_success)}" + (f" ({state})" if state else ""))
        self.connection_status.setText("  ".join(parts) if parts else "No connections")
        self.connection_status.setToolTip(
            "\n".join(f"{s.name} ({s.kind}): {s.orders:,} orders, last successful sync "
                      f"{freshness(s.last_success)}" for s in summaries))

    # sync -------------------------------------------------------------------------------------
    def sync_names(self) -> list[str]:
        """Connections a sync covers: the configured ones, demo ones only while the demo runs."""
        try:
            configured = self.ctx.config.connections()
        except OrderdeskError as exc:
            self.show_error(exc.message, exc.details)
            return []
        demo = set(self.demo_session.connection_names) if self.demo_session else set()
        return [c.name for c in configured if not c.demo or c.name in demo]

    def start_sync(self, *, full: bool = False, names: list[str] | None = None,
                   quiet: bool = False) -> bool:
        if self.sync.running:
            return False
        wanted = names if names is not None else self.sync_names()
        if not wanted:
            if not quiet:
                self.show_error("There is no connection to sync yet. Add one with "
                                "Connections… (or `orderdesk connection add`).")
            return False
        return self.sync.start(wanted, full=full)

    def _sync_started(self) -> None:
        self.sync_action.setEnabled(False)
        self.full_sync_action.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Syncing…")
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.show_status("Syncing…")

    def _sync_progress(self, progress: SyncProgress) -> None:
        if progress.phase == "indexing":
            # what was fetched is in (all of it, or up to a cancel or an error); the
            # cache's sort indexes are built (~20 s at a million orders)
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"{progress.connection}: indexing…")
            # the build runs to its end either way (a cache left without its indexes
            # would build them when it is next opened, before the window shows)
            self.cancel_button.setEnabled(False)
            self.show_status(f"Syncing {progress.connection}: indexing the cache for "
                             "sorting and search…")
            return
        fraction = progress.fraction
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        total = f" of {progress.total:,}" if progress.total else ""
        self.progress.setFormat(f"{progress.connection}: {progress.orders:,}{total}")
        self.show_status(f"Syncing {progress.connection}: {progress.orders:,}{total} orders, "
                         f"{progress.pages} page(s)")
        if progress.changes:
            self._pending_changes = self._pending_changes + progress.changes
            if not self._changes_timer.isActive():
                self._changes_timer.start()

    def _flush_changes(self, *, final: bool = False) -> bool:
        """Show a running sync's committed pages in the table: one refresh at a time, and
        the next one only after a pause of a few times what the last one took. A first
        sync into an empty cache writes without the sort indexes, so each refresh reads
        and sorts every order so far (0.1-0.5 s at 100k orders); refreshing every 400 ms
        made a 100k-order sync in the window 11-27 % slower than without the window (~40
        refreshes), with a pause of 3x 5-12 %, of 10x 5 % (8 refreshes). ``final``: the
        sync has ended; shown at once, and the next sync starts with the shortest pause.
        Returns whether the table refreshes for them."""
        began = self._changes_began
        if not final and began is not None and time.monotonic() - began < CHANGES_WAIT_MAX_S:
            self._changes_timer.start()  # the last refresh is still loading
            return False
        changes, self._pending_changes = self._pending_changes, ChangeSet()
        if final:
            self._changes_began = None
            self._changes_timer.setInterval(CHANGES_MIN_MS)
        if not changes:
            return False
        if not final:
            self._changes_began = time.monotonic()
        self.model.apply_changes(changes)
        return True

    def _changes_loaded(self) -> None:
        """The table has loaded (or failed): the next refresh for a sync may start after
        ``CHANGES_COST_FACTOR`` times what this one took."""
        began, self._changes_began = self._changes_began, None
        if began is not None:
            spent_ms = (time.monotonic() - began) * 1000
            self._changes_timer.setInterval(
                int(min(CHANGES_MAX_MS, max(CHANGES_MIN_MS, CHANGES_COST_FACTOR * spent_ms))))

    def _sync_finished(self, results: list[SyncResult]) -> None:
        self._changes_timer.stop()
        if not self._flush_changes(final=True):  # (applying changes refreshes the table)
            self.model.refresh()
        for result in results:
            self._results[result.connection] = result
        self.sync_action.setEnabled(True)
        self.full_sync_action.setEnabled(True)
        self.progress.hide()
        self.cancel_button.hide()
        failed = [r for r in results if r.outcome == "failed"]
        added = sum(r.added for r in results)
        changed = sum(r.changed for r in results)
        if failed:
            message = " ".join(f"{r.connection}: {r.message}" for r in failed)
            details = "\n".join(f"{r.connection} ({r.mode}): {r.message}\n  " +
                                "\n  ".join(r.errors) for r in failed)
            self.show_error("Sync failed. " + message, details)
        elif any(r.outcome == "cancelled" for r in results):
            self.show_status("Sync cancelled; everything fetched so far is kept")
        else:
            self.error_banner.hide()
            self.show_status(f"Synced: {added:,} new, {changed:,} changed")
        self.refresh_connections()
        self._load_filter_choices()

    # demo mode ---------------------------------------------------------------------------------
    def start_demo(self, orders: int = 5000) -> None:
        """Start the built-in demo shop off the GUI thread, then sync it with progress."""
        from orderdesk.services.demo import DemoSession

        ctx = self.ctx
        window = self

        def start() -> Any:
            session = DemoSession.start(ctx, orders=orders)
            if window._closed:  # closed while starting: do not leave a server behind
                session.stop()
                return None
            return session

        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting demo shop…")
        self.progress.show()
        self.show_status("Starting the demo shop…")
        self.show_demo_banner()
        self.runner.submit("demo", start, self._demo_started, self._demo_failed)

    def _demo_started(self, session: Any) -> None:
        if session is None:
            return
        self.demo_session = session
        self.progress.hide()
        self.refresh_connections()
        self.start_sync(names=list(session.connection_names))

    def _demo_failed(self, exc: Exception) -> None:
        self.progress.hide()
        message, details = error_text(exc)
        self.show_error("The demo shop could not start. " + message, details)

    # dialogs ---------------------------------------------------------------------------------
    def open_connections(self) -> None:
        from orderdesk.ui.connections_dialog import ConnectionsDialog

        dialog = ConnectionsDialog(ConnectionService(self.ctx), self)
        dialog.connectionsChanged.connect(self.refresh_connections)
        dialog.connectionsChanged.connect(self.model.refresh)
        dialog.connectionsChanged.connect(self._load_filter_choices)
        dialog.exec()

    def export_context(self) -> dict[str, Any]:
        """What the export dialog is given: selection, query, visible columns, count."""
        counts = self.model.counts
        return {
            "selected_ids": self.selected_ids(),
            "query": self.model.query,
            "visible_columns": self.header.visible_keys(),
            "total_count": counts.matched if counts else self.model.rowCount(),
        }

    def open_export(self) -> None:
        from orderdesk.services.export import ExportService
        from orderdesk.ui.export_dialog import ExportDialog

        dialog = ExportDialog(self, ExportService(self.ctx.store), **self.export_context())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog = dialog
        dialog.open()  # window-modal, without a nested event loop

    # closing ---------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save the layout and stop background work (before the cache closes)."""
        if self._closed:
            return
        self._closed = True
        self.autosync.stop()
        self.freshness_timer.stop()
        self._layout_timer.stop()
        self.save_state()
        dialog = getattr(self, "export_dialog", None)
        if dialog is not None:
            try:
                dialog.wait_for_export()  # a running export reads the cache we close next
            except RuntimeError:  # already deleted on close
                pass
        self.sync.shutdown()
        self.runner.shutdown()
        self.model.runner.shutdown()
        if self.demo_session is not None:
            self.demo_session.stop()
            self.demo_session = None


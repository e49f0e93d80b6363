"""The main window on a store filled from the factories."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt

from orderdesk.models.query import OrderQuery, SortField, SortKey
from orderdesk.models.rows import ChangeSet
from orderdesk.models.status import StatusCategory
from orderdesk.services.context import AppContext
from orderdesk.services.orders import OrderService
from orderdesk.sync.progress import SyncProgress
from orderdesk.ui import main_window as mw
from orderdesk.ui.main_window import MainWindow
from orderdesk.ui.table_model import ValueRole
from orderdesk.ui.views import COLUMNS_KEY
from tests.ui.data import fill

TIMEOUT = 10_000


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.model.is_complete and not window.model.is_loading,
                    timeout=TIMEOUT)


@pytest.fixture
def open_window(qtbot, data_dir: Path) -> Iterator:
    opened: list[tuple[MainWindow, AppContext]] = []

    def make() -> MainWindow:
        ctx = AppContext.open(data_dir)
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.show()
        opened.append((window, ctx))
        settle(qtbot, window)
        return window

    yield make
    for window, ctx in opened:
        window.close()
        ctx.close()


def close(window: MainWindow) -> None:
    window.close()
    window.ctx.close()


def click_header(qtbot, window: MainWindow, key: str, *, shift: bool = False) -> None:
    header = window.header
    logical = window.model.column_index(key)
    x = header.sectionViewportPosition(logical) + header.sectionSize(logical) // 2
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, modifier,
                     QPoint(x, header.height() // 2))


def test_table_shows_the_store_count(open_window, ctx):
    window = open_window()
    total = OrderService(window.ctx.store).total()
    assert window.model.rowCount() == total == 120
    assert window.count_label.text() == "120 orders"
    assert window.tabs.tabText(0) == "All  120"


def test_search_filters_to_the_services_count(qtbot, open_window):
    window = open_window()
    expected = OrderService(window.ctx.store).count(OrderQuery(text="hana"))
    assert 0 < expected < 120
    window.search.setFocus()
    qtbot.keyClicks(window.search, "hana")
    qtbot.waitUntil(lambda: window.model.query.text == "hana", timeout=TIMEOUT)
    settle(qtbot, window)
    assert window.model.rowCount() == expected
    assert window.count_label.text() == f"{expected} of 120 orders"
    # Esc clears the search
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.model.query.text == "", timeout=TIMEOUT)
    settle(qtbot, window)
    assert window.model.rowCount() == 120


def test_sort_by_total_descending_then_shift_click_adds_a_key(qtbot, open_window):
    window = open_window()
    click_header(qtbot, window, "total")
    qtbot.waitUntil(lambda: window.model.sort_keys
                    == (SortKey(SortField.TOTAL, descending=True),), timeout=TIMEOUT)
    settle(qtbot, window)
    model = window.model
    col = model.column_index("total")
    totals = [model.data(model.index(r, col), ValueRole) for r in range(model.rowCount())]
    assert totals[0] == max(totals)
    assert model.headerData(col, Qt.Orientation.Horizontal) == "Total ▼"
    # a second click flips the direction
    click_header(qtbot, window, "total")
    qtbot.waitUntil(lambda: window.model.sort_keys[0].descending is False, timeout=TIMEOUT)
    settle(qtbot, window)
    assert model.data(model.index(0, col), ValueRole) == min(totals)
    # Shift+click adds a second key, shown with its index in the header
    click_header(qtbot, window, "customer", shift=True)
    qtbot.waitUntil(lambda: len(window.model.sort_keys) == 2, timeout=TIMEOUT)
    assert window.model.sort_keys == (SortKey(SortField.TOTAL),
                                      SortKey(SortField.CUSTOMER))
    assert model.headerData(col, Qt.Orientation.Horizontal) == "Total ▲1"
    assert model.headerData(model.column_index("customer"),
                            Qt.Orientation.Horizontal) == "Customer ▲2"


def test_a_resort_paints_the_new_rows_once_with_their_arrow(qtbot, open_window):
    """No paint of the old rows between the click and the new rows (it cost 15-50 ms
    of the GUI thread at a million orders); the header's arrow comes with the rows."""
    window = open_window()
    settle(qtbot, window)
    table, header = window.table.viewport(), window.table.horizontalHeader().viewport()
    paints: list[tuple[str, bool]] = []

    class Spy(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                paints.append(("table" if watched is table else "header",
                               window.model._shown))
            return False

    service = window.model.service
    ids = service.ids

    def slow_ids(*args, **kwargs):  # as a large cache: paints would come in between
        time.sleep(0.2)
        return ids(*args, **kwargs)

    spy = Spy()
    table.installEventFilter(spy)
    header.installEventFilter(spy)
    service.ids = slow_ids
    try:
        window.model.set_sort([SortKey(SortField.CUSTOMER)])
        qtbot.waitUntil(lambda: window.model._shown and ("table", True) in paints,
                        timeout=TIMEOUT)
        qtbot.waitUntil(lambda: ("header", True) in paints, timeout=TIMEOUT)
    finally:
        del service.ids
        table.removeEventFilter(spy)
        header.removeEventFilter(spy)
    assert ("table", False) not in paints  # the old rows were not painted again
    col = window.model.column_index("customer")
    assert window.model.headerData(col, Qt.Orientation.Horizontal) == "Customer ▲"


def test_status_tab_filters(qtbot, open_window):
    window = open_window()
    service = OrderService(window.ctx.store)
    expected = service.count(OrderQuery(categories=(StatusCategory.SHIPPED,)))
    assert expected
    index = window.tabs.tab_index(StatusCategory.SHIPPED)
    assert window.tabs.isTabVisible(index)
    assert window.tabs.tabText(index) == f"Shipped  {expected}"
    window.tabs.setCurrentIndex(index)
    qtbot.waitUntil(lambda: window.model.query.categories == (StatusCategory.SHIPPED,),
                    timeout=TIMEOUT)
    settle(qtbot, window)
    assert window.model.rowCount() == expected
    status_col = window.model.column_index("status")
    assert all(window.model.data(window.model.index(r, status_col), ValueRole).category
               is StatusCategory.SHIPPED for r in range(window.model.rowCount()))
    # one click clears every filter
    window.filter_bar.clear_button.click()
    qtbot.waitUntil(lambda: not window.model.query.categories, timeout=TIMEOUT)
    settle(qtbot, window)
    assert window.model.rowCount() == 120


def test_filter_bar_total_and_payment(qtbot, open_window):
    window = open_window()
    bar = window.filter_bar
    bar.total_min.setText("150")
    bar.total_min.editingFinished.emit()
    qtbot.waitUntil(lambda: window.model.query.total_min == Decimal(150), timeout=TIMEOUT)
    settle(qtbot, window)
    expected = OrderService(window.ctx.store).count(OrderQuery(total_min=Decimal(150)))
    assert window.model.rowCount() == expected
    assert window.count_label.text() == f"{expected} of 120 orders"


def test_selecting_an_order_shows_lines_and_totals(qtbot, open_window):
    window = open_window()
    window.table.setFocus()
    with qtbot.waitSignal(window.detailShown, timeout=TIMEOUT):
        window.table.selectRow(0)
    detail = window.detail.detail
    order_id = window.model.ids[0]
    assert detail is not None and detail.id == order_id
    assert window.detail.title.text() == f"Order {detail.order.number}"
    assert window.detail.lines_model.rowCount() == len(detail.order.lines) == 2
    assert window.detail.lines_model.data(window.detail.lines_model.index(0, 0)) \
        == detail.order.lines[0].product_name
    assert window.detail.checks_model.rowCount() == len(detail.pricing.checks)
    assert "Total formula" in window.detail.formula.text()
    assert '"id"' in window.detail.raw.toPlainText()
    # J moves to the next order
    with qtbot.waitSignal(window.detailShown, timeout=TIMEOUT):
        qtbot.keyClick(window.table, Qt.Key.Key_J)
    assert window.detail.detail.id == window.model.ids[1]
    with qtbot.waitSignal(window.detailShown, timeout=TIMEOUT):
        qtbot.keyClick(window.table, Qt.Key.Key_K)
    assert window.detail.detail.id == window.model.ids[0]


def test_ctrl_a_selects_everything(qtbot, open_window):
    window = open_window()
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.selected_ids()) == 120
    assert window.export_context()["selected_ids"] == window.model.ids.tolist()


def test_column_layout_persists(qtbot, open_window):
    window = open_window()
    header = window.header
    email = window.model.column_index("email")
    total = window.model.column_index("total")
    header.set_visible(email, False)
    header.resizeSection(total, 177)
    header.moveSection(header.visualIndex(total), 0)
    layout = header.layout_state()
    assert layout[0] == {"key": "total", "width": 177, "visible": True}
    close(window)

    again = open_window()
    assert again.header.layout_state() == layout
    assert again.header.isSectionHidden(email)
    assert again.header.visible_keys()[0] == "total"


def test_connection_column_shows_by_default_with_several_connections(qtbot, open_window,
                                                                       data_dir):
    """One connection: no Connection column. Several (the same orders can come through
    more than one): the default layout shows it, a layout the clerk chose is kept, and
    the default layout is not saved (it follows the connections)."""
    window = open_window()
    connection = window.model.column_index("connection")
    qtbot.waitUntil(lambda: len(window._summaries) == 1, timeout=TIMEOUT)
    assert window.header.isSectionHidden(connection) and window.header.is_default
    close(window)
    ctx = AppContext.open(data_dir)
    fill(ctx, 3, connection="customer")
    ctx.close()

    again = open_window()
    qtbot.waitUntil(lambda: len(again._summaries) == 2, timeout=TIMEOUT)
    assert not again.header.isSectionHidden(connection)
    assert again.header.is_default
    assert "connection" in again.header.visible_keys()
    close(again)
    assert again.ctx.config.setting(COLUMNS_KEY) is None

    third = open_window()
    qtbot.waitUntil(lambda: len(third._summaries) == 2, timeout=TIMEOUT)
    third.header.set_visible(connection, False)  # the clerk's choice
    assert not third.header.is_default
    close(third)
    fourth = open_window()
    qtbot.waitUntil(lambda: len(fourth._summaries) == 2, timeout=TIMEOUT)
    assert fourth.header.isSectionHidden(connection)


def test_saved_views_persist_and_restore(qtbot, open_window):
    window = open_window()
    window.search.setText("anna")
    window.search.flush()
    window.tabs.setCurrentIndex(window.tabs.tab_index(StatusCategory.PROCESSING))
    window.model.set_sort([SortKey(SortField.TOTAL, descending=True)])
    settle(qtbot, window)
    window.header.set_visible(window.model.column_index("country"), False)
    window.save_view("Anna processing")
    expected = window.model.rowCount()
    # something else is on screen when the window closes
    window.clear_filters()
    settle(qtbot, window)
    window.apply_view("Anna processing")
    settle(qtbot, window)
    assert window.model.rowCount() == expected
    close(window)

    again = open_window()
    assert [again.view_combo.itemText(i) for i in range(again.view_combo.count())] \
        == ["Anna processing"]
    assert again.view_combo.currentText() == "Anna processing"
    query = again.model.query
    assert query.text == "anna"
    assert query.categories == (StatusCategory.PROCESSING,)
    assert query.sort == (SortKey(SortField.TOTAL, descending=True),)
    assert again.header.isSectionHidden(again.model.column_index("country"))
    assert again.model.rowCount() == expected
    # changing a filter leaves the view; the next start restores that state instead
    again.clear_filters()
    settle(qtbot, again)
    assert again.view_combo.currentIndex() == -1
    close(again)
    third = open_window()
    assert third.model.query.text == ""
    assert third.model.rowCount() == 120
    third.delete_current_view()  # nothing chosen: harmless
    third.apply_view("Anna processing")
    third.delete_current_view()
    assert third.view_combo.count() == 0


def test_utc_toggle(qtbot, open_window):
    window = open_window()
    col = window.model.column_index("created")
    window.utc_action.setChecked(True)
    assert window.model.data(window.model.index(0, col)).endswith("UTC")
    window.utc_action.setChecked(False)
    assert not window.model.data(window.model.index(0, col)).endswith("UTC")


def test_sync_without_connections_explains(qtbot, open_window):
    window = open_window()
    assert not window.start_sync()
    assert window.error_banner.isVisible()
    assert "connection" in window.error_banner.label.text().lower()


def test_ctrl_e_opens_the_export_dialog_with_the_selection(qtbot, open_window):
    window = open_window()
    assert window.export_action.isEnabled()
    window.table.selectRow(2)
    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog.isVisible()
    assert dialog.selected_ids == [window.model.ids[2]]
    assert dialog.filtered_count == 120
    dialog.reject()


def test_sync_progress_says_when_the_cache_is_indexed(open_window) -> None:
    """A first sync into an empty cache builds the sort indexes once every order is in
    (~20 s at a million): the bar turns busy and the status says so, instead of
    standing at 100 %."""
    window = open_window()
    window._sync_started()
    window._sync_progress(SyncProgress("shop", "fetching", 3, 3000, 10000))
    assert (window.progress.maximum(), window.progress.value()) == (1000, 300)
    assert "3,000 of 10,000" in window.status_message.text()
    window._sync_progress(SyncProgress("shop", "indexing", 10, 10000, 10000))
    assert window.progress.maximum() == 0  # busy
    assert "indexing" in window.progress.format()
    assert "indexing the cache for sorting and search" in window.status_message.text()
    assert not window.cancel_button.isEnabled()  # the build is not cut short
    window._sync_finished([])
    window._sync_started()
    assert window.cancel_button.isEnabled()


def test_a_syncs_changes_refresh_the_table_one_at_a_time_with_pauses(
        qtbot, open_window, monkeypatch) -> None:
    """While a refresh for a sync's pages loads, later pages wait; the next refresh
    comes after CHANGES_COST_FACTOR times what the last one took (at least 400 ms), and
    the sync's end shows everything at once."""
    # any refresh then asks for the longest pause, kept short for the test
    monkeypatch.setattr(mw, "CHANGES_COST_FACTOR", 100_000)
    monkeypatch.setattr(mw, "CHANGES_MAX_MS", 1500)
    window = open_window()
    window._sync_started()
    applied: list[ChangeSet] = []
    real = window.model.apply_changes

    def spy(changes: ChangeSet) -> None:
        applied.append(changes)
        real(changes)

    monkeypatch.setattr(window.model, "apply_changes", spy)
    window._sync_progress(progress_with(added=(1,)))
    window._flush_changes()
    assert applied == [ChangeSet(added=(1,))] and window._changes_began is not None
    window._sync_progress(progress_with(added=(2,)))
    window._flush_changes()  # the first refresh still loads: nothing more yet
    assert len(applied) == 1 and window._changes_timer.isActive()
    began = window._changes_began
    settle(qtbot, window)
    qtbot.waitUntil(lambda: window._changes_began is None, timeout=TIMEOUT)
    assert time.monotonic() - began > 0.00002  # so 100,000x that is over 1.5 s
    interval = window._changes_timer.interval()
    assert interval == 1500
    qtbot.waitUntil(lambda: len(applied) == 2, timeout=interval + TIMEOUT)
    assert applied[1] == ChangeSet(added=(2,))
    settle(qtbot, window)
    window._sync_progress(progress_with(added=(3,)))
    window._sync_finished([])  # the end flushes at once and resets the pause
    assert applied[2] == ChangeSet(added=(3,))
    settle(qtbot, window)  # ... which the end's own refresh does not set again
    assert window._changes_timer.interval() == mw.CHANGES_MIN_MS
    assert window._changes_began is None


def progress_with(*, added: tuple[int, ...]) -> SyncProgress:
    """A sync's progress for a committed page that added these order ids."""
    return SyncProgress("shop", "fetching", 1, 100, 1000, ChangeSet(added=added))

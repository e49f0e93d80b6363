"""The table model by windows: rows at any position, selection, refresh after a sync.

A small window size makes the 120 test orders span many windows, so that windows
read by query (an index gives the order) and the all-ids path (a search or a
multi-key sort: no index gives the order) are both exercised."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel

from orderdesk.models.query import OrderQuery, SortField, SortKey
from orderdesk.models.status import StatusCategory
from orderdesk.services.context import AppContext
from orderdesk.services.orders import OrderService
from orderdesk.ui.main_window import MainWindow
from orderdesk.ui.table_model import IdRole, OrderTableModel, RowRole
from tests.reference import expected_ids
from tests.ui.data import varied_order

TIMEOUT = 10_000
PAGE = 7

QUERIES = {
    "created": (OrderQuery(), True),
    "total": (OrderQuery(sort=(SortKey(SortField.TOTAL, descending=True),)), True),
    "customer": (OrderQuery(sort=(SortKey(SortField.CUSTOMER),)), True),
    "status": (OrderQuery(sort=(SortKey(SortField.STATUS),)), True),
    "tab": (OrderQuery(categories=(StatusCategory.PROCESSING,)), True),
    "search": (OrderQuery(text="berg"), False),
    "search sorted": (OrderQuery(text="costa", sort=(SortKey(SortField.TOTAL),)), False),
    "two keys": (OrderQuery(sort=(SortKey(SortField.COUNTRY),
                                  SortKey(SortField.TOTAL, descending=True))), False),
}


def reference(ctx: AppContext, query: OrderQuery) -> list[int]:
    """The query's order computed in Python from the orders themselves."""
    ids = ctx.store.ids(OrderQuery(sort=()))
    orders = [(i, ctx.store.get(i)) for i in ids]
    return expected_ids([(i, o) for i, o in orders if o is not None], query)


def windowed_model(qtbot, ctx: AppContext, query: OrderQuery) -> OrderTableModel:
    model = OrderTableModel(OrderService(ctx.store))
    model.PAGE_SIZE = PAGE
    model.MAX_WINDOWS = 4
    model.MAX_CACHED_ROWS = 3 * PAGE
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.set_query(query)
    qtbot.waitUntil(lambda: model.is_complete and not model.runner.busy(), timeout=TIMEOUT)
    return model


@pytest.mark.parametrize("name", list(QUERIES))
def test_rows_at_any_position_equal_the_reference_order(qtbot, ctx, name):
    query, indexed = QUERIES[name]
    expected = reference(ctx, query)
    assert len(expected) > 2 * PAGE or not indexed
    model = windowed_model(qtbot, ctx, query)
    assert model.rowCount() == len(expected)
    # windows, not all ids (an unindexed order reads all ids once someone scrolls)
    assert (model._all is None) == (len(expected) > PAGE)
    rows = list(range(len(expected)))
    random.Random(name).shuffle(rows)
    for r in rows:
        assert model.data(model.index(r, 0), IdRole) == expected[r], r
        row = model.data(model.index(r, 1), RowRole)
        assert row is not None and row.id == expected[r]
        assert len(model._windows) <= model.MAX_WINDOWS
    qtbot.waitUntil(lambda: not model.runner.busy(), timeout=TIMEOUT)
    deep = len(expected) > model.EAGER_WINDOWS * PAGE  # rows past the first windows read
    assert (model._all is not None) == (not indexed and deep)
    assert model.ids.tolist() == expected
    for r in rows[:10]:
        assert model.row_of(expected[r]) == r
    assert model.row_of(-5) is None
    assert sorted(model.rows_of([expected[r] for r in rows[:5]])) == sorted(rows[:5])
    assert model.ids_in_rows([(3, 17), (40, 41)]).tolist() == (
        expected[3:18] + expected[40:42])
    model.runner.shutdown()


@pytest.mark.parametrize("name", ["search", "two keys"])
def test_rows_are_right_before_all_ids_arrive(qtbot, ctx, name):
    """No index gives the order: until the background list is in, each window is
    read by its own query, with the same rows."""
    query, _ = QUERIES[name]
    expected = reference(ctx, query)
    model = OrderTableModel(OrderService(ctx.store))
    model.PAGE_SIZE = PAGE
    model.PAINT_WAIT_MS = 60_000  # no view paints: the background jobs do not start
    model.set_query(query)
    qtbot.waitUntil(lambda: model.is_complete, timeout=TIMEOUT)
    assert model._all is None and model.rowCount() == len(expected)
    for r in reversed(range(len(expected))):
        assert model.data(model.index(r, 0), IdRole) == expected[r], r
        row = model.data(model.index(r, 1), RowRole)
        assert row is not None and row.id == expected[r]
    model.runner.shutdown()


def test_windowed_model_passes_modeltester(qtbot, qtmodeltester, ctx):
    model = windowed_model(qtbot, ctx, QUERIES["total"][0])
    qtmodeltester.check(model)
    model.runner.shutdown()


def test_refresh_after_inserts_shows_every_row_once(qtbot, ctx):
    query = QUERIES["total"][0]
    model = windowed_model(qtbot, ctx, query)
    for r in range(50, 70):  # windows read before the sync
        model.data(model.index(r, 0))
    changes = ctx.store.upsert_page("staff", [varied_order(900 + i) for i in range(9)])
    assert len(changes.added) == 9
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.apply_changes(changes)
    qtbot.waitUntil(lambda: model.is_complete, timeout=TIMEOUT)
    expected = reference(ctx, query)
    assert model.rowCount() == len(expected) == 129
    shown = [model.data(model.index(r, 0), IdRole) for r in range(model.rowCount())]
    assert shown == expected
    model.runner.shutdown()


@pytest.fixture
def small_windows(monkeypatch):
    monkeypatch.setattr(OrderTableModel, "PAGE_SIZE", 10)
    monkeypatch.setattr(OrderTableModel, "MAX_WINDOWS", 6)  # more than the view shows


def open_window(qtbot, data_dir) -> tuple[MainWindow, AppContext]:
    ctx = AppContext.open(data_dir)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model.is_complete and not window.model.is_loading,
                    timeout=TIMEOUT)
    return window, ctx


def test_selection_and_export_of_selected_rows(qtbot, data_dir, small_windows):
    window, ctx = open_window(qtbot, data_dir)
    try:
        model = window.model
        expected = reference(ctx, model.query)
        assert model._all is None  # windows of 10 ids, 6 kept
        selection = QItemSelection()
        last = model.columnCount() - 1
        for top, bottom in ((15, 34), (80, 81), (117, 119)):
            selection.select(model.index(top, 0), model.index(bottom, last))
        window.table.selectionModel().select(
            selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        want = expected[15:35] + expected[80:82] + expected[117:120]
        assert window.selected_ids() == want
        assert window.export_context()["selected_ids"] == want
        window.table.selectAll()
        assert window.export_context()["selected_ids"] == expected
    finally:
        window.shutdown()
        ctx.close()


def test_current_order_and_selection_survive_a_refresh(qtbot, data_dir, small_windows):
    window, ctx = open_window(qtbot, data_dir)
    try:
        model = window.model
        expected = reference(ctx, model.query)
        current = expected[75]
        window.table.setCurrentIndex(model.index(75, 2))
        with qtbot.waitSignal(window.detailShown, timeout=TIMEOUT):
            pass
        assert window.detail.detail is not None and window.detail.detail.id == current
        # new orders sort before it (newest first): its row moves down
        changes = ctx.store.upsert_page("staff", [varied_order(700 + i) for i in range(4)])
        with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
            window.model.apply_changes(changes)
        qtbot.waitUntil(lambda: window._restore is None, timeout=TIMEOUT)
        after = reference(ctx, model.query)
        assert model.rowCount() == len(after) == 124
        assert window.current_id() == current
        assert window.table.currentIndex().row() == after.index(current)
        assert window.selected_ids() == [current]
        # J moves to the next row of the new order
        with qtbot.waitSignal(window.detailShown, timeout=TIMEOUT):
            window.table.step(1)
        assert window.detail.detail is not None
        assert window.detail.detail.id == after[after.index(current) + 1]
    finally:
        window.shutdown()
        ctx.close()


@pytest.fixture
def anchored(monkeypatch):
    """Anchors for any result, one every ANCHOR rows (not a multiple of the window)."""
    monkeypatch.setattr(OrderTableModel, "ANCHOR_MIN_ROWS", 0)
    monkeypatch.setattr(OrderTableModel, "ANCHOR_EVERY", ANCHOR)
    monkeypatch.setattr(OrderTableModel, "ANCHOR_WAIT_MS", 10)


ANCHOR = 17


def anchored_model(qtbot, ctx: AppContext, query: OrderQuery) -> OrderTableModel:
    model = windowed_model(qtbot, ctx, query)
    model.data(model.index(0, 0))  # the first paint starts the background jobs
    qtbot.waitUntil(lambda: model._anchors is not None and not model.runner.busy(),
                    timeout=TIMEOUT)
    assert not model.anchors_pending
    return model


@pytest.mark.parametrize("name", [n for n, (_, indexed) in QUERIES.items() if indexed])
def test_anchored_windows_equal_the_reference_order(qtbot, ctx, anchored, name, monkeypatch):
    """Windows read by seeking from anchors (ties of a status sort, descending keys,
    a status tab in its (category, created) index): every position as the reference."""
    query, _ = QUERIES[name]
    expected = reference(ctx, query)
    model = anchored_model(qtbot, ctx, query)
    assert model._anchors is not None and len(model._anchors) == -(-len(expected) // ANCHOR)
    offsets = []
    plain = model.service.ids
    monkeypatch.setattr(model.service, "ids", lambda q, **kw: (
        offsets.append(kw.get("offset", 0)), plain(q, **kw))[1])
    rows = list(range(len(expected)))
    random.Random(name).shuffle(rows)
    for r in rows:
        assert model.data(model.index(r, 0), IdRole) == expected[r], r
    assert not [o for o in offsets if o]  # no window read by OFFSET
    model.runner.shutdown()


def test_anchors_are_dropped_when_the_model_refreshes(qtbot, ctx, anchored):
    query = QUERIES["total"][0]
    model = anchored_model(qtbot, ctx, query)
    old = model._anchors
    changes = ctx.store.upsert_page("staff", [varied_order(900 + i) for i in range(9)])
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.apply_changes(changes)
    assert model._anchors is None  # until the new result's anchors are read
    model.data(model.index(0, 0))
    qtbot.waitUntil(lambda: model._anchors is not None and not model.runner.busy(),
                    timeout=TIMEOUT)
    assert model._anchors != old
    expected = reference(ctx, query)
    assert [model.data(model.index(r, 0), IdRole) for r in range(model.rowCount())] == expected
    # another query: the anchors of the old one are never used for it
    other = QUERIES["customer"][0]
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.set_query(other)
    assert model._anchors is None
    expected = reference(ctx, other)
    assert [model.data(model.index(r, 0), IdRole) for r in range(model.rowCount())] == expected
    model.runner.shutdown()


def test_no_anchors_for_small_results_or_unindexed_orders(qtbot, ctx, anchored, monkeypatch):
    monkeypatch.setattr(OrderTableModel, "ANCHOR_MIN_ROWS", 1000)
    model = windowed_model(qtbot, ctx, QUERIES["total"][0])
    model.data(model.index(0, 0))
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not model.runner.busy(), timeout=TIMEOUT)
    assert model._anchors is None and model._anchors_requested == 0
    assert not model.anchors_pending
    monkeypatch.setattr(OrderTableModel, "ANCHOR_MIN_ROWS", 0)
    with qtbot.waitSignal(model.loaded, timeout=TIMEOUT):
        model.set_query(QUERIES["two keys"][0])
    model.data(model.index(0, 0))
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not model.runner.busy(), timeout=TIMEOUT)
    assert model._anchors is None and model._anchors_requested != model._generation
    model.runner.shutdown()


def test_painting_a_deep_unindexed_window_reads_it_in_the_background(qtbot, ctx,
                                                                     monkeypatch):
    """No index gives the order: a window past the first ones, asked for by a paint
    while every id is being read, is not read by its own query on the GUI thread (a
    sort of every match: 0.3-1.2 s at 1M) but in the background; its rows show "…"
    and are repainted with the right orders when the window (or every id) arrives.
    Other roles (RowRole) still read at once."""
    import threading

    from PySide6.QtCore import Qt

    query, _ = QUERIES["two keys"]
    expected = reference(ctx, query)
    assert len(expected) > 4 * PAGE
    service = OrderService(ctx.store)
    gui = threading.current_thread()
    gui_window_reads: list[int] = []
    gate = threading.Event()
    original_ids = service.ids

    def ids(q, limit=None, offset=0):
        if threading.current_thread() is gui and offset:
            gui_window_reads.append(offset)
        if limit is None:  # every id: held until the gate opens
            gate.wait(TIMEOUT / 1000)
        return original_ids(q, limit=limit, offset=offset)

    monkeypatch.setattr(service, "ids", ids)
    model = OrderTableModel(service)
    model.PAGE_SIZE = PAGE
    model.set_query(query)
    qtbot.waitUntil(lambda: model.is_complete, timeout=TIMEOUT)
    display = Qt.ItemDataRole.DisplayRole
    deep, deeper = len(expected) - 1, 3 * PAGE
    with qtbot.waitSignal(model.dataChanged, timeout=TIMEOUT):
        assert model.data(model.index(deep, 0), display) == "…"
        assert model.data(model.index(deep, 1), display) is None
    assert gui_window_reads == [] and model._all is None  # the window came on its own
    assert model.data(model.index(deep, 0), IdRole) == expected[deep]
    assert model.data(model.index(deep, 0), display) not in ("…", None)
    # a second deep window while every id is still on its way: the same
    assert model.data(model.index(deeper, 0), display) == "…"
    qtbot.waitUntil(lambda: model.data(model.index(deeper, 0), display) != "…",
                    timeout=TIMEOUT)
    assert gui_window_reads == []
    with qtbot.waitSignal(model.dataChanged, timeout=TIMEOUT):
        gate.set()
    qtbot.waitUntil(lambda: model._all is not None, timeout=TIMEOUT)
    assert model.ids.tolist() == expected
    row = model.data(model.index(deep, 1), RowRole)
    assert row is not None and row.id == expected[deep]
    assert gui_window_reads == []
    model.runner.shutdown()


def test_a_failed_id_list_lets_painting_read_windows_again(qtbot, ctx, monkeypatch):
    from PySide6.QtCore import Qt

    from orderdesk.models.errors import StoreError

    query, _ = QUERIES["two keys"]
    expected = reference(ctx, query)
    service = OrderService(ctx.store)
    model = OrderTableModel(service)
    model.PAGE_SIZE = PAGE
    model.set_query(query)
    qtbot.waitUntil(lambda: model.is_complete, timeout=TIMEOUT)
    original = service.ids

    def failing(q, limit=None, offset=0):
        if limit is None:
            raise StoreError("disk gone")
        return original(q, limit=limit, offset=offset)

    monkeypatch.setattr(service, "ids", failing)
    deep = len(expected) - 1
    with qtbot.waitSignal(model.loadFailed, timeout=TIMEOUT):
        assert model.data(model.index(deep, 0), Qt.ItemDataRole.DisplayRole) == "…"
    assert model.data(model.index(deep, 0), IdRole) == expected[deep]
    assert model.data(model.index(deep, 0), Qt.ItemDataRole.DisplayRole) not in ("…", None)
    model.runner.shutdown()

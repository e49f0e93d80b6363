"""The Qt models: qtmodeltester, paging, the LRU bound, flags without reads."""

from __future__ import annotations

from factories import ecommerce_doc_order
from PySide6.QtCore import Qt

from orderdesk.models.pricing import reconcile
from orderdesk.models.query import OrderQuery, SortField, SortKey
from orderdesk.models.rows import ChangeSet
from orderdesk.services.context import AppContext
from orderdesk.services.orders import OrderService
from orderdesk.ui.detail import ChecksTableModel, LinesTableModel
from orderdesk.ui.table_model import IdRole, OrderTableModel, RowRole, ValueRole
from tests.ui.data import varied_order


def loaded_model(qtbot, ctx: AppContext, query: OrderQuery | None = None) -> OrderTableModel:
    model = OrderTableModel(OrderService(ctx.store))
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.set_query(query or OrderQuery())
    return model


def test_order_table_model_passes_modeltester(qtbot, qtmodeltester, ctx):
    model = loaded_model(qtbot, ctx)
    assert model.rowCount() == OrderService(ctx.store).total() == 120
    qtmodeltester.check(model)
    model.runner.shutdown()


def test_first_page_then_all_ids(qtbot, ctx):
    model = OrderTableModel(OrderService(ctx.store))
    model.PAGE_SIZE = 25
    with qtbot.waitSignal(model.idsReplaced, timeout=10_000):
        model.set_query(OrderQuery())
    assert model.rowCount() in (25, 120)  # the first page is shown before all ids
    qtbot.waitUntil(lambda: model.is_complete, timeout=10_000)
    assert model.rowCount() == 120
    model.runner.shutdown()


def test_rows_are_read_in_pages_and_cache_is_bounded(qtbot, ctx):
    model = OrderTableModel(OrderService(ctx.store))
    model.PAGE_SIZE = 10
    model.MAX_CACHED_ROWS = 30
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.set_query(OrderQuery())
    before = model.cached_rows()
    # flags and rowCount never read rows
    for row in range(model.rowCount()):
        assert model.flags(model.index(row, 0)) & Qt.ItemFlag.ItemIsSelectable
    assert model.cached_rows() == before
    for row in range(model.rowCount()):
        assert model.data(model.index(row, 0)) is not None
        assert model.cached_rows() <= 30
    # the id role never reads either
    assert model.data(model.index(5, 0), IdRole) == model.ids[5]
    model.runner.shutdown()


def test_sort_by_total_descending(qtbot, ctx):
    query = OrderQuery(sort=(SortKey(SortField.TOTAL, descending=True),))
    model = loaded_model(qtbot, ctx, query)
    col = model.column_index("total")
    totals = [model.data(model.index(r, col), ValueRole) for r in range(model.rowCount())]
    assert totals[0] == max(t for t in totals if t is not None)
    assert model.headerData(col, Qt.Orientation.Horizontal) == "Total ▼"
    model.runner.shutdown()


def test_row_of_scans_then_builds_an_index(qtbot, ctx):
    model = loaded_model(qtbot, ctx)
    ids = model.ids.tolist()
    for _ in range(2):
        for row, order_id in enumerate(ids):
            assert model.row_of(order_id) == row
    assert model.row_of(-1) is None
    model.runner.shutdown()


def test_apply_changes_requeries(qtbot, ctx):
    model = loaded_model(qtbot, ctx)
    changes = ctx.store.upsert_page("staff", [varied_order(500 + i) for i in range(3)])
    assert changes.added
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.apply_changes(changes)
    assert model.rowCount() == 123
    model.apply_changes(ChangeSet())  # nothing: nothing happens
    model.runner.shutdown()


def test_detail_models_pass_modeltester(qtmodeltester):
    for order in (varied_order(3), ecommerce_doc_order()):
        pricing = reconcile(order)
        lines = LinesTableModel()
        lines.set_order(order, pricing)
        assert lines.rowCount() == len(order.lines)
        qtmodeltester.check(lines)
        checks = ChecksTableModel()
        checks.set_checks(pricing.checks, order.currency)
        qtmodeltester.check(checks)
    lines = LinesTableModel()
    lines.set_order(varied_order(1), reconcile(varied_order(1)))
    assert lines.data(lines.index(0, 2)) == "€" + str(
        reconcile(varied_order(1)).lines[0].unit_price)


def test_cells_answered_row_by_row_follow_changes(qtbot, ctx):
    """data() keeps the row of the cell before (a paint asks a row's cells in turn):
    texts still follow another row, the UTC switch and a sync's changes, and Qt reads
    the alignment it answers."""
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

    model = loaded_model(qtbot, ctx)
    number, created = model.column_index("number"), model.column_index("created")
    rows = [model.order_row(r) for r in range(3)]
    for r in (0, 1, 0, 2, 2, 1):  # cells of other rows between
        assert model.data(model.index(r, number)) == rows[r].number
        assert model.data(model.index(r, 0), IdRole) == rows[r].id
    local = model.data(model.index(0, created))
    model.set_utc(True)
    assert model.data(model.index(0, created)).endswith(" UTC") and local != model.data(
        model.index(0, created))
    total = model.index(0, model.column_index("total"))
    option = QStyleOptionViewItem()
    QStyledItemDelegate().initStyleOption(option, total)
    assert option.displayAlignment & Qt.AlignmentFlag.AlignRight
    assert option.text == model.data(total)
    # a sync changed the first row: the next paint reads it again, not the kept one
    assert model.data(model.index(0, number), RowRole) is rows[0]
    model.apply_changes(ChangeSet(changed=(rows[0].id,)))
    again = model.data(model.index(0, number), RowRole)
    assert again is not None and again is not rows[0] and again.id == rows[0].id
    qtbot.waitUntil(lambda: model.is_complete, timeout=10_000)
    model.runner.shutdown()

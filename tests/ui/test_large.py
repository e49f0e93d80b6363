"""A large id list: Ctrl+A and painting must not ask the model about every row."""

from __future__ import annotations

from array import array
from collections import Counter

from orderdesk.models.query import OrderQuery
from orderdesk.models.status import StatusCategory
from orderdesk.ui.main_window import OrderTableView
from orderdesk.ui.table_model import OrderTableModel

N = 300_000


class FakeService:
    """OrderService's read API over N ids and no rows (rows show as placeholders)."""

    def __init__(self) -> None:
        self.row_reads = 0
        self.id_reads = 0

    def ids(self, query: OrderQuery, *, limit: int | None = None,
            offset: int = 0) -> array[int]:
        self.id_reads += 1
        return array("q", range(offset + 1, min(N, offset + (limit or N)) + 1))

    def match_count(self, query: OrderQuery) -> int:
        return N

    def ordered_by_index(self, query: OrderQuery) -> bool:
        return True

    def positions(self, query: OrderQuery, ids):
        return {i: i - 1 for i in ids if 1 <= i <= N}

    def rows(self, ids):
        self.row_reads += 1
        return []

    def counts(self, query: OrderQuery) -> dict[StatusCategory, int]:
        return {StatusCategory.PAID: N}

    def total(self) -> int:
        return N


class CountingModel(OrderTableModel):
    def __init__(self, service) -> None:
        super().__init__(service)
        self.calls: Counter[str] = Counter()

    def flags(self, index):
        self.calls["flags"] += 1
        return super().flags(index)


def test_select_all_on_a_large_table_stays_cheap(qtbot):
    service = FakeService()
    model = CountingModel(service)
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.set_query(OrderQuery())
    assert model.rowCount() == N
    view = OrderTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    model.calls.clear()
    view.selectAll()
    view.viewport().repaint()
    view.horizontalHeader().viewport().repaint()
    qtbot.wait(100)  # let every queued paint run; the bound below holds whenever it runs
    assert model.calls["flags"] < 5_000
    assert view.selectionModel().selection().size() == 1
    assert service.row_reads <= 3  # only the visible page(s)
    assert service.id_reads <= 3  # the model holds windows of ids, never all N
    assert len(model._windows) <= 3 and model._all is None
    model.runner.shutdown()

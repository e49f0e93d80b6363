"""The window on the demo shop: start it, sync from the window, see the orders."""

from __future__ import annotations

from pathlib import Path

from orderdesk.models.query import OrderQuery
from orderdesk.services.context import AppContext
from orderdesk.services.orders import OrderService
from orderdesk.ui.app import needs_demo
from orderdesk.ui.main_window import MainWindow


def test_window_syncs_the_demo_shop(qtbot, tmp_path: Path):
    ctx = AppContext.open(tmp_path / "data")
    assert needs_demo(ctx)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    try:
        progress: list[object] = []
        window.sync.progressed.connect(progress.append)
        with qtbot.waitSignal(window.sync.finished, timeout=120_000) as finished:
            window.start_demo(orders=300)
            assert window.demo_banner.isVisible()
        results = finished.args[0]
        assert results and all(r.ok for r in results), [r.message for r in results]
        assert progress  # pages were reported while it ran
        qtbot.waitUntil(lambda: window.model.is_complete and not window.model.is_loading,
                        timeout=20_000)
        service = OrderService(ctx.store)
        synced = service.total()
        assert synced > 0
        assert window.model.rowCount() == synced
        assert window.count_label.text() == f"{synced:,} orders"
        assert "online" in window.connection_status.text()
        # a search on synced data agrees with the service
        first = window.model.order_row(0)
        assert first is not None
        window.search.setText(first.number)
        window.search.flush()
        expected = service.count(OrderQuery(text=first.number))
        qtbot.waitUntil(lambda: window.model.is_complete
                        and window.model.rowCount() == expected, timeout=20_000)
        # F5 again: an incremental sync that changes nothing and keeps the table
        with qtbot.waitSignal(window.sync.finished, timeout=120_000) as again:
            assert window.start_sync()
        assert all(r.ok for r in again.args[0])
    finally:
        window.close()
        assert window.demo_session is None  # stopped on close
        ctx.close()

import csv
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from orderdesk.models import OrderQuery
from orderdesk.services.export import ExportService
from orderdesk.store import OrderStore
from orderdesk.ui.export_dialog import (
    FORMAT_CSV,
    FORMAT_PDF_PER_ORDER,
    SCOPE_ALL,
    SCOPE_SELECTED,
    ExportDialog,
)


def make_dialog(qtbot: Any, service: ExportService, ids: list[int], **kw: Any) -> ExportDialog:
    dialog = ExportDialog(None, service, selected_ids=ids, query=kw.get("query", OrderQuery()),
                          visible_columns=kw.get("columns", ["number", "customer", "total"]),
                          total_count=kw.get("total", 10))
    qtbot.addWidget(dialog)
    return dialog


def test_csv_of_selected_orders(qtbot: Any, service: ExportService, store: OrderStore,
                                all_ids: list[int], tmp_path: Path) -> None:
    chosen = all_ids[:3]
    dialog = make_dialog(qtbot, service, chosen)
    assert dialog.scope() == SCOPE_SELECTED and dialog.format() == FORMAT_CSV
    assert dialog.chosen_columns() == ["number", "customer", "total"]
    assert dialog.destination.text().endswith(".csv")
    out = tmp_path / "sel.csv"
    dialog.destination.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=10_000)
    assert dialog.last_error == ""
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["number"] for r in rows] == [r.number for r in store.rows(chosen)]
    assert list(rows[0]) == ["number", "customer", "total", "currency"]
    assert dialog.open_button.isVisible() or not dialog.isVisible()
    assert dialog.result_folder() == tmp_path
    assert "Exported 3 orders" in dialog.status.text()


def test_empty_selection_disables_that_scope(qtbot: Any, service: ExportService,
                                             tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, service, [], total=0)
    assert not dialog.scope_selected.isEnabled()
    assert not dialog.scope_filtered.isEnabled()
    assert dialog.scope() == SCOPE_ALL
    assert dialog.scope_all.accessibleName()


def test_cancel_leaves_no_file(qtbot: Any, store: OrderStore, tmp_path: Path) -> None:
    entered, go = threading.Event(), threading.Event()

    class SlowService(ExportService):
        def export_csv(self, path: Any, **kwargs: Any) -> Any:
            inner = kwargs.pop("progress")

            def progress(done: int, total: int) -> None:
                entered.set()
                go.wait(10)
                inner(done, total)

            return super().export_csv(path, progress=progress, **kwargs)

    dialog = make_dialog(qtbot, SlowService(store), [])
    dialog.set_scope(SCOPE_ALL)
    out = tmp_path / "cancelled.csv"
    dialog.destination.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert entered.wait(10)
    assert dialog.is_running() and dialog.cancel_button.text() == "Cancel"
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    go.set()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=10_000)
    assert "cancelled" in dialog.status.text().lower()
    assert not [p for p in tmp_path.iterdir() if "sqlite3" not in p.name]


def test_failure_shows_a_readable_message(qtbot: Any, service: ExportService,
                                          tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, service, [1])
    dialog.destination.setText(str(tmp_path / "missing" / "x.csv"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=10_000)
    assert "does not exist" in dialog.last_error
    assert "Traceback" not in dialog.status.text()
    assert dialog.export_button.isEnabled()


@pytest.mark.usefixtures("qapp")
def test_pdf_per_order_from_dialog(qtbot: Any, service: ExportService, all_ids: list[int],
                                   tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, service, all_ids[:2])
    dialog.set_format(FORMAT_PDF_PER_ORDER)
    assert not dialog.csv_box.isEnabled()
    assert not dialog.destination.text().endswith(".csv")
    dialog.destination.setText(str(tmp_path / "pdfs"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=20_000)
    assert dialog.last_error == ""
    assert len(list((tmp_path / "pdfs").glob("*.pdf"))) == 2
    assert dialog.result_folder() == tmp_path / "pdfs"


def test_widgets_have_accessible_names(qtbot: Any, service: ExportService) -> None:
    dialog = make_dialog(qtbot, service, [1])
    for widget in (dialog.scope_selected, dialog.format_csv, dialog.columns,
                   dialog.lines_check, dialog.bom_check, dialog.meta_check, dialog.destination,
                   dialog.browse_button, dialog.export_button, dialog.cancel_button,
                   dialog.progress):
        assert widget.accessibleName(), widget

"""The export dialog (Ctrl+E): scope, format, CSV options, destination; runs off the GUI thread.

It talks only to an ``ExportService`` (duck-typed here, so this module imports no
store code): the export runs on a ``QThread`` with a progress bar and Cancel, a
failure shows the error's clerk-readable message (never a traceback), and a
success offers to open the folder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Qt, QThread, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from orderdesk.models.columns import BY_KEY, COLUMNS
from orderdesk.models.errors import CancelledError, OrderdeskError
from orderdesk.models.query import OrderQuery
from orderdesk.services.export import ExportService

log = logging.getLogger(__name__)

SCOPE_SELECTED, SCOPE_FILTERED, SCOPE_ALL = "selected", "filtered", "all"
FORMAT_CSV, FORMAT_PDF, FORMAT_PDF_PER_ORDER = "csv", "pdf", "pdf-per-order"


class CancelFlag:
    """Cancel token handed to the service (it polls ``cancelled`` between chunks)."""

    def __init__(self) -> None:
        self.cancelled = False


class ExportWorker(QObject):
    """Runs one export job on its thread and reports back with signals."""

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Callable[[Callable[[int, int], None], CancelFlag], Any],
                 flag: CancelFlag) -> None:
        super().__init__()
        self.job = job
        self.flag = flag
        self._last = 0.0

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last > 0.05:  # at most ~20 updates a second
            self._last = now
            self.progress.emit(done, total)

    @Slot()
    def run(self) -> None:
        try:
            result = self.job(self._progress, self.flag)
        except CancelledError:
            self.cancelled.emit()
        except OrderdeskError as exc:
            log.warning("export failed: %s (%s)", exc.message, exc.details)
            self.failed.emit(exc.message)
        except Exception as exc:  # a bug: say so plainly, keep the traceback in the log
            log.exception("export failed")
            self.failed.emit(f"The export failed unexpectedly ({type(exc).__name__}: {exc}). "
                             "No file was written.")
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit()


class ExportDialog(QDialog):
    def __init__(self, parent: QWidget | None, service: ExportService, *,
                 selected_ids: Sequence[int], query: OrderQuery,
                 visible_columns: Sequence[str], total_count: int) -> None:
        super().__init__(parent)
        self.service = service
        self.selected_ids = list(selected_ids)
        self.query = query
        self.filtered_count = int(total_count)
        self.all_count = self._count_all()
        self.export_thread: QThread | None = None
        self.worker: ExportWorker | None = None
        self.flag: CancelFlag | None = None
        self.last_result: Any = None
        self.last_error = ""
        self._auto_destination = ""
        self.setWindowTitle("Export orders")
        self.setAccessibleName("Export orders")
        self.setModal(True)
        self._build(visible_columns)
        self._choose_defaults()

    # building ------------------------------------------------------------------------------
    def _count_all(self) -> int:
        try:
            return int(self.service.total())
        except OrderdeskError:
            return 0

    def _build(self, visible_columns: Sequence[str]) -> None:
        layout = QVBoxLayout(self)

        scope_box = QGroupBox("Orders to export")
        scope_layout = QVBoxLayout(scope_box)
        n_sel, n_fil, n_all = len(self.selected_ids), self.filtered_count, self.all_count
        self.scope_selected = QRadioButton(f"&Selected orders ({n_sel:,})")
        self.scope_filtered = QRadioButton(f"Orders matching the current &filter ({n_fil:,})")
        self.scope_all = QRadioButton(f"&All cached orders ({n_all:,})")
        self.scope_group = QButtonGroup(self)
        for button, count, name in ((self.scope_selected, n_sel, "Export the selected orders"),
                                    (self.scope_filtered, n_fil,
                                     "Export the orders matching the filter"),
                                    (self.scope_all, n_all, "Export all cached orders")):
            button.setAccessibleName(name)
            button.setEnabled(count > 0)
            self.scope_group.addButton(button)
            scope_layout.addWidget(button)
        layout.addWidget(scope_box)

        format_box = QGroupBox("Format")
        format_layout = QVBoxLayout(format_box)
        self.format_csv = QRadioButton("&CSV spreadsheet (one file)")
        self.format_pdf = QRadioButton("&PDF, all orders in one file")
        self.format_pdf_each = QRadioButton("PDF, &one file per order (into a folder)")
        self.format_group = QButtonGroup(self)
        for button, name in ((self.format_csv, "CSV format"),
                             (self.format_pdf, "PDF, one file"),
                             (self.format_pdf_each, "PDF, one file per order")):
            button.setAccessibleName(name)
            self.format_group.addButton(button)
            format_layout.addWidget(button)
        layout.addWidget(format_box)

        self.csv_box = QGroupBox("CSV options")
        csv_layout = QVBoxLayout(self.csv_box)
        columns_label = QLabel("Co&lumns (check to include, drag to reorder):")
        self.columns = QListWidget()
        self.columns.setAccessibleName("Columns to export")
        self.columns.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.columns.setMaximumHeight(150)
        columns_label.setBuddy(self.columns)
        visible = [k for k in visible_columns if k in BY_KEY]
        ordered = visible + [c.key for c in COLUMNS if c.key not in visible]
        for key in ordered:
            item = QListWidgetItem(f"{BY_KEY[key].label} ({key})")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if key in visible
                               else Qt.CheckState.Unchecked)
            self.columns.addItem(item)
        self.lines_check = QCheckBox("One row per &line item")
        self.lines_check.setAccessibleName("One row per line item")
        self.bom_check = QCheckBox("Add a &BOM (helps Excel read UTF-8)")
        self.bom_check.setAccessibleName("Add a byte order mark")
        self.meta_check = QCheckBox("Write a &metadata file (.meta.json) to check the export")
        self.meta_check.setAccessibleName("Write a metadata sidecar file")
        self.meta_check.setChecked(True)
        for widget in (columns_label, self.columns, self.lines_check, self.bom_check,
                       self.meta_check):
            csv_layout.addWidget(widget)
        layout.addWidget(self.csv_box)

        dest_form = QFormLayout()
        row = QHBoxLayout()
        self.destination = QLineEdit()
        self.destination.setAccessibleName("Destination file or folder")
        self.browse_button = QPushButton("Bro&wse…")
        self.browse_button.setAccessibleName("Choose the destination")
        row.addWidget(self.destination, 1)
        row.addWidget(self.browse_button)
        dest_label = QLabel("&Save to:")
        dest_label.setBuddy(self.destination)
        dest_form.addRow(dest_label, row)
        layout.addLayout(dest_form)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Export progress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Export status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open &folder")
        self.open_button.setAccessibleName("Open the folder with the export")
        self.open_button.setVisible(False)
        self.export_button = QPushButton("&Export")
        self.export_button.setAccessibleName("Start the export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.setAccessibleName("Close")
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        self.format_group.buttonToggled.connect(self._format_changed)
        self.scope_group.buttonToggled.connect(lambda *_: self._update_enabled())
        self.browse_button.clicked.connect(self.browse)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.cancel_or_close)
        self.open_button.clicked.connect(self.open_folder)

    def _choose_defaults(self) -> None:
        for button in (self.scope_selected, self.scope_filtered, self.scope_all):
            if button.isEnabled():
                button.setChecked(True)
                break
        self.format_csv.setChecked(True)
        self._format_changed()

    # state ---------------------------------------------------------------------------------
    def scope(self) -> str:
        if self.scope_selected.isChecked():
            return SCOPE_SELECTED
        if self.scope_filtered.isChecked():
            return SCOPE_FILTERED
        return SCOPE_ALL

    def set_scope(self, scope: str) -> None:
        {SCOPE_SELECTED: self.scope_selected, SCOPE_FILTERED: self.scope_filtered,
         SCOPE_ALL: self.scope_all}[scope].setChecked(True)

    def format(self) -> str:
        if self.format_pdf.isChecked():
            return FORMAT_PDF
        if self.format_pdf_each.isChecked():
            return FORMAT_PDF_PER_ORDER
        return FORMAT_CSV

    def set_format(self, fmt: str) -> None:
        {FORMAT_CSV: self.format_csv, FORMAT_PDF: self.format_pdf,
         FORMAT_PDF_PER_ORDER: self.format_pdf_each}[fmt].setChecked(True)

    def chosen_columns(self) -> list[str]:
        out = []
        for row in range(self.columns.count()):
            item = self.columns.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def is_running(self) -> bool:
        return self.export_thread is not None

    def _default_folder(self) -> Path:
        for location in (QStandardPaths.StandardLocation.DocumentsLocation,
                         QStandardPaths.StandardLocation.HomeLocation):
            folder = QStandardPaths.writableLocation(location)
            if folder and Path(folder).is_dir():
                return Path(folder)
        return Path.cwd()

    def _default_destination(self) -> str:
        stamp = time.strftime("%Y-%m-%d-%H%M")
        name = {FORMAT_CSV: f"orders-{stamp}.csv", FORMAT_PDF: f"orders-{stamp}.pdf",
                FORMAT_PDF_PER_ORDER: f"orders-{stamp}"}[self.format()]
        current = self.destination.text().strip()
        folder = Path(current).parent if current else self._default_folder()
        return str(folder / name)

    def _format_changed(self, *_: object) -> None:
        current = self.destination.text().strip()
        if not current or current == self._auto_destination:
            self._auto_destination = self._default_destination()
            self.destination.setText(self._auto_destination)
        self._update_enabled()

    def _update_enabled(self) -> None:
        running = self.is_running()
        self.csv_box.setEnabled(not running and self.format() == FORMAT_CSV)
        has_scope = self.scope_group.checkedButton() is not None
        self.export_button.setEnabled(not running and has_scope)
        for widget in (self.destination, self.browse_button):
            widget.setEnabled(not running)
        for button in (self.scope_selected, self.scope_filtered, self.scope_all,
                       self.format_csv, self.format_pdf, self.format_pdf_each):
            button.setEnabled(not running and (button not in self._empty_scopes()))
        self.cancel_button.setText("Cancel" if running else "Close")
        self.cancel_button.setAccessibleName("Cancel the export" if running else "Close")

    def _empty_scopes(self) -> list[QRadioButton]:
        counts = ((self.scope_selected, len(self.selected_ids)),
                  (self.scope_filtered, self.filtered_count), (self.scope_all, self.all_count))
        return [button for button, count in counts if count <= 0]

    # actions -------------------------------------------------------------------------------
    def browse(self) -> None:
        current = self.destination.text().strip() or self._default_destination()
        if self.format() == FORMAT_PDF_PER_ORDER:
            chosen = QFileDialog.getExistingDirectory(self, "Folder for the PDF files",
                                                      str(Path(current).parent))
        else:
            pattern = "CSV files (*.csv)" if self.format() == FORMAT_CSV else "PDF files (*.pdf)"
            chosen, _ = QFileDialog.getSaveFileName(self, "Export to", current, pattern)
        if chosen:
            self.destination.setText(chosen)

    def _job(self) -> Callable[[Callable[[int, int], None], CancelFlag], Any] | None:
        text = self.destination.text().strip()
        if not text:
            self._show_error("Choose where to save the export.")
            return None
        path = Path(text).expanduser()
        fmt = self.format()
        if fmt == FORMAT_CSV and not path.suffix:
            path = path.with_suffix(".csv")
        elif fmt == FORMAT_PDF and not path.suffix:
            path = path.with_suffix(".pdf")
        scope = self.scope()
        kwargs: dict[str, Any] = {}
        if scope == SCOPE_SELECTED:
            kwargs["ids"] = list(self.selected_ids)
        elif scope == SCOPE_FILTERED:
            kwargs["query"] = self.query
        service = self.service
        if fmt == FORMAT_CSV:
            columns = self.chosen_columns()
            if not columns:
                self._show_error("Choose at least one column.")
                return None
            kwargs.update(columns=columns, lines=self.lines_check.isChecked(),
                          bom=self.bom_check.isChecked(), metadata=self.meta_check.isChecked())
            return lambda progress, flag: service.export_csv(path, progress=progress,
                                                             cancel=flag, **kwargs)
        kwargs["mode"] = "batch" if fmt == FORMAT_PDF else "per-order"
        return lambda progress, flag: service.export_pdf(path, progress=progress, cancel=flag,
                                                         **kwargs)

    def start_export(self) -> None:
        if self.is_running():
            return
        job = self._job()
        if job is None:
            return
        self.last_result = None
        self.last_error = ""
        self.open_button.setVisible(False)
        self.flag = CancelFlag()
        self.worker = ExportWorker(job, self.flag)
        self.export_thread = QThread(self)
        self.worker.moveToThread(self.export_thread)
        self.export_thread.started.connect(self.worker.run)
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_success)
        self.worker.failed.connect(self._on_failure)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.done.connect(self._on_done)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self._set_status("Exporting…")
        self.export_thread.start()
        self._update_enabled()
        self.cancel_button.setFocus()

    def cancel(self) -> None:
        if self.flag is not None:
            self.flag.cancelled = True
            self._set_status("Cancelling…")

    def cancel_or_close(self) -> None:
        if self.is_running():
            self.cancel()
        else:
            self.reject()

    def open_folder(self) -> None:
        folder = self.result_folder()
        if folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def result_folder(self) -> Path | None:
        result = self.last_result
        if result is None:
            return None
        folder = getattr(result, "folder", None)
        if folder is not None:
            return Path(folder)
        return Path(result.path).parent

    # worker reports ------------------------------------------------------------------------
    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done:,} of {total:,} orders")

    @Slot(object)
    def _on_success(self, result: Any) -> None:
        self.last_result = result
        orders = getattr(result, "orders", 0)
        where = getattr(result, "folder", None) or result.path
        rows = getattr(result, "rows", None)
        detail = f" ({rows:,} rows)" if rows is not None and rows != orders else ""
        self._set_status(f"Exported {orders:,} orders{detail} to {where} "
                         f"in {result.seconds:.1f} s.")
        self.open_button.setVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)

    @Slot(str)
    def _on_failure(self, message: str) -> None:
        self._show_error(message)
        self.progress.setVisible(False)

    @Slot()
    def _on_cancelled(self) -> None:
        self._set_status("Export cancelled. No file was written.")
        self.progress.setVisible(False)

    @Slot()
    def _on_done(self) -> None:
        thread = self.export_thread
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        if self.worker is not None:
            self.worker.deleteLater()
        self.export_thread = self.worker = None
        self.flag = None
        self._update_enabled()
        if self.open_button.isVisible():
            self.open_button.setFocus()

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020;" if error else "")
        self.status.setText(text)

    def _show_error(self, message: str) -> None:
        self.last_error = message
        self._set_status(message, error=True)

    # closing -------------------------------------------------------------------------------
    def wait_for_export(self, timeout_ms: int = 30_000) -> None:
        """Cancel a running export and wait for its thread (used when closing)."""
        if self.export_thread is not None:
            self.cancel()
            self.export_thread.quit()
            self.export_thread.wait(timeout_ms)

    def reject(self) -> None:
        if self.is_running():
            self.cancel()
            return  # closes once the worker has stopped: press Close again
        super().reject()

    def closeEvent(self, event: Any) -> None:
        if self.is_running():
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def done(self, r: int) -> None:
        if self.is_running():
            self.wait_for_export()
        super().done(r)

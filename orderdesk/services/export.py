"""``ExportService``: CSV and PDF exports of selected, filtered or all cached orders.

Every method blocks: call it from a worker thread (the export dialog does) or
from the CLI. Each takes ``progress(done, total)`` and ``cancel`` (a function
answering "stop?" or an object with a ``cancelled`` attribute), returns a small
result, and raises only :class:`~orderdesk.models.errors.OrderdeskError`
subclasses: :class:`ExportCancelled` when cancelled, :class:`ExportError` for a
destination that cannot be written. A cancelled or failed export leaves no file
under the chosen name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from orderdesk.export.common import (
    Cancel,
    CsvExportResult,
    ExportCancelled,
    ExportError,
    PdfExportResult,
    Progress,
    SimpleCancelToken,
)
from orderdesk.models.errors import DataError
from orderdesk.models.query import OrderQuery
from orderdesk.store import OrderStore

__all__ = [
    "CsvExportResult",
    "ExportCancelled",
    "ExportError",
    "ExportService",
    "PdfExportResult",
    "PdfMode",
    "SimpleCancelToken",
]

PdfMode = Literal["batch", "per-order"]


class ExportService:
    def __init__(self, store: OrderStore) -> None:
        self.store = store

    # scope ------------------------------------------------------------------------------
    def resolve(self, ids: Sequence[int] | None = None,
                query: OrderQuery | None = None) -> Sequence[int]:
        """The ids to export: ``ids`` as given (selection order), else ``query``'s
        result in its sort order, else every cached order (newest first)."""
        if ids is not None and query is not None:
            raise DataError("Export either the selected orders or a filter, not both.")
        if ids is not None:
            return list(dict.fromkeys(map(int, ids)))
        return self.store.ids(query if query is not None else OrderQuery())

    def count(self, query: OrderQuery | None = None) -> int:
        """Orders a filter matches (all cached orders when ``query`` is None)."""
        if query is None:
            return self.store.total_orders()
        return self.store.count(query.without_sort())

    def total(self) -> int:
        return self.store.total_orders()

    @staticmethod
    def _scope(ids: Sequence[int] | None, query: OrderQuery | None) -> dict[str, Any]:
        if ids is not None:
            return {"scope": "selected", "query": None, "sort": "selection order",
                    "selected": len(ids)}
        if query is not None:
            return {"scope": "filtered", "query": query.describe(),
                    "sort": [str(k) for k in query.sort]}
        everything = OrderQuery()
        return {"scope": "all", "query": everything.describe(),
                "sort": [str(k) for k in everything.sort]}

    @staticmethod
    def default_name(kind: Literal["csv", "pdf", "folder"], when: datetime | None = None) -> str:
        """A file (or folder) name for a new export: ``orders-2026-03-01-1030.csv``."""
        stamp = (when or datetime.now()).strftime("%Y-%m-%d-%H%M")
        return f"orders-{stamp}" + {"csv": ".csv", "pdf": ".pdf", "folder": ""}[kind]

    # CSV ----------------------------------------------------------------------------------
    def export_csv(self, path: str | Path, *, ids: Sequence[int] | None = None,
                   query: OrderQuery | None = None, columns: Sequence[str] | None = None,
                   lines: bool = False, bom: bool = False, metadata: bool = True,
                   progress: Progress | None = None,
                   cancel: Cancel | None = None) -> CsvExportResult:
        """Orders as CSV at ``path`` (+ ``PATH.meta.json`` unless ``metadata=False``).

        ``columns``: keys of ``orderdesk.models.columns.COLUMNS`` in order (default
        ``DEFAULT_COLUMNS``); ``lines``: one row per line item; ``bom``: UTF-8 BOM.
        """
        from orderdesk.export.csv_export import write_csv

        chosen = self.resolve(ids, query)
        return write_csv(self.store, Path(path), chosen, columns=columns, lines=lines, bom=bom,
                         metadata=metadata, meta=self._scope(ids, query), progress=progress,
                         cancel=cancel)

    # PDF ----------------------------------------------------------------------------------
    def export_pdf(self, path: str | Path, *, ids: Sequence[int] | None = None,
                   query: OrderQuery | None = None, mode: PdfMode = "batch",
                   page_size: str = "A4", tz: tzinfo | None = None,
                   progress: Progress | None = None,
                   cancel: Cancel | None = None) -> PdfExportResult:
        """Order documents as PDF: ``batch`` = one file at ``path``, each order on new
        pages; ``per-order`` = one file per order in the folder ``path`` (created if
        missing), named from the order number.

        Needs a ``QGuiApplication``: one is created (offscreen when there is no
        display) if this runs on the main thread and none exists; call
        :func:`orderdesk.export.qt.ensure_gui_app` first when exporting from a
        worker thread without a GUI.
        """
        from orderdesk.export.pdf_export import write_batch, write_per_order

        chosen = self.resolve(ids, query)
        if mode == "batch":
            return write_batch(self.store, Path(path), chosen, page_size=page_size, tz=tz,
                               progress=progress, cancel=cancel)
        if mode == "per-order":
            return write_per_order(self.store, Path(path), chosen, page_size=page_size,
                                   tz=tz, progress=progress, cancel=cancel)
        raise DataError(f"unknown PDF mode {mode!r} (choose batch or per-order)")

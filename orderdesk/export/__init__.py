"""CSV and PDF exports of cached orders (PDF needs Qt's GUI module, imported lazily).

Entry point for the UI and CLI: :class:`orderdesk.services.export.ExportService`.
"""

from orderdesk.export.common import (
    CsvExportResult,
    ExportCancelled,
    ExportError,
    PdfExportResult,
    SimpleCancelToken,
)

__all__ = [
    "CsvExportResult",
    "ExportCancelled",
    "ExportError",
    "PdfExportResult",
    "SimpleCancelToken",
]

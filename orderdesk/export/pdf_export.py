"""PDF export: an order summary (invoice layout) per order, batched or one file each.

Rendering (:mod:`orderdesk.export.pdf_paint`): each order's texts are placed by
hand (a measuring pass decides line breaks, page breaks, the lines table's
header repeated on continuation pages and "Page i of n"), then drawn with
``QPainter`` onto a ``QPdfWriter`` (``newPage`` between pages and orders), so
text stays real, selectable text. Order text is drawn as plain strings: it is
never interpreted as HTML or rich text. This replaced one ``QTextDocument`` per
order (building, laying out and drawing it was about half of a page's time).

Fonts: "Orderdesk Sans" (``fonts/``: Noto Sans without its hinting, bundled: Latin,
Greek and Cyrillic text needs no installed font, and a one-order file closes in about
half the time, as Qt no longer runs each embedded glyph's hinting program), then the
installed families as fallbacks (Noto Sans, DejaVu Sans; Noto Sans CJK, Noto
Sans/Naskh Arabic and Noto Sans Hebrew for other scripts). ✓ and ⚠ are vector marks.
Debian packages for the other scripts: ``fonts-noto-core``, ``fonts-noto-cjk``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import tzinfo
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QFontDatabase, QPageLayout, QPageSize, QPainter, QPdfWriter

from orderdesk.export.common import (
    Cancel,
    ExportError,
    PdfExportResult,
    Progress,
    atomic_path,
    cancel_check,
    commit,
    os_error,
    report,
    safe_filename,
)
from orderdesk.export.pdf_paint import LINE_WIDTHS, NO_MARK, RESOLUTION, PaintRenderer, money_text
from orderdesk.export.qt import ensure_gui_app
from orderdesk.store import OrderStore
from orderdesk.store import bulk as reader

log = logging.getLogger(__name__)

__all__ = ["BUNDLED_FAMILY", "FONT_DIR", "FONT_FAMILIES", "LINE_WIDTHS", "MARGINS_MM",
           "NO_MARK", "PAGE_SIZES", "RESOLUTION", "font_families", "money_text", "write_batch",
           "write_per_order"]

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "LETTER": QPageSize.PageSizeId.Letter,
              "A5": QPageSize.PageSizeId.A5, "LEGAL": QPageSize.PageSizeId.Legal}
MARGINS_MM = QMarginsF(16, 14, 16, 10)
#: The bundled family (:data:`FONT_DIR`, registered by :func:`font_families`).
BUNDLED_FAMILY = "Orderdesk Sans"
FONT_DIR = Path(__file__).resolve().parent / "fonts"
#: Preferred families, first found wins for Latin text; the rest are fallbacks.
FONT_FAMILIES = (BUNDLED_FAMILY, "Noto Sans", "DejaVu Sans", "Liberation Sans",
                 "Noto Sans CJK JP", "Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans Hebrew",
                 "Noto Sans Devanagari", "Noto Sans Thai")


_families: list[str] = []
_families_lock = threading.Lock()  # two exports may start at once (window and CLI threads)


def _register_bundled() -> None:
    """Add the bundled fonts to Qt's font database (this process only; nothing is
    installed). A missing or unreadable file only costs speed: the installed families
    are the fallbacks."""
    for path in sorted(FONT_DIR.glob("*.ttf")):
        if QFontDatabase.addApplicationFont(str(path)) < 0:
            log.warning("could not load the bundled font %s; PDFs use installed fonts", path)


def font_families() -> list[str]:
    """``FONT_FAMILIES`` that are installed or bundled, in order (looked up once per
    process)."""
    with _families_lock:
        if not _families:
            _register_bundled()
            installed = set(QFontDatabase.families())
            _families.extend([f for f in FONT_FAMILIES if f in installed] or ["Sans Serif"])
        return list(_families)


# -- rendering --------------------------------------------------------------------------

def _page_size(name: str) -> QPageSize:
    key = name.strip().upper()
    if key not in PAGE_SIZES:
        raise ExportError(f"Unknown page size {name!r}; choose one of "
                          f"{', '.join(s.title() for s in PAGE_SIZES)}.")
    return QPageSize(PAGE_SIZES[key])


def _new_renderer(writer: QPdfWriter, page_size: str, tz: tzinfo | None) -> PaintRenderer:
    layout = QPageLayout(_page_size(page_size), QPageLayout.Orientation.Portrait,
                         MARGINS_MM, QPageLayout.Unit.Millimeter)
    return PaintRenderer(writer, layout, font_families(), tz)


def _open(writer: QPdfWriter, painter: QPainter, target: Path) -> None:
    if not painter.begin(writer):
        raise ExportError(f"The PDF file {target} could not be created. Check that the "
                          "folder exists and you may write to it.")


def write_batch(store: OrderStore, path: Path, ids: Sequence[int], *, page_size: str = "A4",
                tz: tzinfo | None = None, progress: Progress | None = None,
                cancel: Cancel | None = None) -> PdfExportResult:
    """All orders into one PDF at ``path``, each starting on a new page."""
    started = time.perf_counter()
    ensure_gui_app()
    check = cancel_check(cancel)
    total = len(ids)
    if not total:
        raise ExportError("There are no orders to export.")
    path = Path(path)
    done = pages = 0
    check()
    report(progress, 0, total)
    with atomic_path(path) as tmp:
        writer = QPdfWriter(str(tmp))
        writer.setTitle(f"Orders ({total})")
        renderer = _new_renderer(writer, page_size, tz)
        painter = QPainter()
        _open(writer, painter, path)
        try:
            for chunk in reader.iter_orders(store, ids):
                for _oid, order in chunk:
                    check()
                    pages += renderer.draw(painter, order, first=done == 0)
                    done += 1
                    report(progress, done, total)
        finally:
            painter.end()
        check()
        commit(tmp, path)
    return PdfExportResult(paths=(path,), orders=done, pages=pages,
                           seconds=time.perf_counter() - started, mode="batch")


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate.casefold() in used:
        candidate = f"{name}-{n}"
        n += 1
    used.add(candidate.casefold())
    return candidate


def write_per_order(store: OrderStore, folder: Path, ids: Sequence[int], *,
                    page_size: str = "A4", tz: tzinfo | None = None,
                    progress: Progress | None = None,
                    cancel: Cancel | None = None) -> PdfExportResult:
    """One PDF per order in ``folder`` (created if missing), named from the order number.

    Files are rendered into a hidden staging folder inside ``folder`` and moved
    into place only when every order is done: a cancelled or failed export
    leaves nothing behind. Two orders with the same number (different
    connections) get ``NUMBER-CONNECTION.pdf``; existing files of the same name
    are replaced.
    """
    started = time.perf_counter()
    ensure_gui_app()
    check = cancel_check(cancel)
    total = len(ids)
    if not total:
        raise ExportError("There are no orders to export.")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file. Choose a folder for one PDF per order.")
    if not folder.parent.is_dir():
        raise ExportError(f"The folder {folder.parent} does not exist. "
                          "Choose an existing folder.")
    check()
    report(progress, 0, total)
    try:
        folder.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".orderdesk-export-", dir=folder))
    except OSError as exc:
        raise os_error(exc, folder / "x.pdf") from exc
    done = pages = 0
    renderer: PaintRenderer | None = None
    used: set[str] = set()
    names: list[str] = []
    try:
        for chunk in reader.iter_orders(store, ids):
            for _oid, order in chunk:
                check()
                stem = safe_filename(order.number, fallback=f"order-{order.remote_id}")
                if stem.casefold() in used:
                    stem = safe_filename(f"{order.number}-{order.connection}")
                name = _unique(stem, used) + ".pdf"
                writer = QPdfWriter(str(staging / name))
                writer.setTitle(f"Order {order.number}")
                if renderer is None:
                    renderer = _new_renderer(writer, page_size, tz)
                else:
                    renderer.use(writer)
                painter = QPainter()
                _open(writer, painter, folder / name)
                try:
                    pages += renderer.draw(painter, order, first=True)
                finally:
                    painter.end()
                names.append(name)
                done += 1
                report(progress, done, total)
        check()
        final: list[Path] = []
        for name in names:
            os.replace(staging / name, folder / name)
            final.append(folder / name)
    except OSError as exc:
        raise os_error(exc, folder / "x.pdf") from exc
    finally:
        with suppress(OSError):
            shutil.rmtree(staging)
    return PdfExportResult(paths=tuple(final), orders=done, pages=pages,
                           seconds=time.perf_counter() - started, mode="per-order",
                           folder=folder)

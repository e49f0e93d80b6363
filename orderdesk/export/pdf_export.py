"""PDF export: an order summary (invoice layout) per order, batched or one file each.

Rendering is Qt's rich text: one ``QTextDocument`` per order, laid out for the
``QPdfWriter``'s resolution and page size, drawn page by page with a ``QPainter``
(``newPage`` between pages and orders), so text stays real, selectable text.
Tables use ``<thead>``: when an order flows over several pages, the lines
table's header row repeats. Every value taken from an order goes through
``html.escape`` before it enters the HTML.

Fonts: installed system fonts, chosen by family with fallbacks (Noto Sans, then
DejaVu Sans; Noto Sans CJK, Noto Sans/Naskh Arabic and Noto Sans Hebrew for other
scripts, DejaVu Sans for ✓/⚠). Debian packages: ``fonts-noto-core``,
``fonts-noto-cjk``, ``fonts-dejavu-core``.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from orderdesk import __version__
from orderdesk.export import reader
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
from orderdesk.export.qt import ensure_gui_app
from orderdesk.models.entities import Address, Order
from orderdesk.models.money import Money
from orderdesk.models.pricing import FigureCheck, Reconciliation, reconcile
from orderdesk.store import OrderStore

RESOLUTION = 300  #: device pixels per inch the documents are laid out at
PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "LETTER": QPageSize.PageSizeId.Letter,
              "A5": QPageSize.PageSizeId.A5, "LEGAL": QPageSize.PageSizeId.Legal}
MARGINS_MM = QMarginsF(16, 14, 16, 10)
FOOTER_MM = 9.0
#: Preferred families, first found wins for Latin text; the rest are fallbacks.
FONT_FAMILIES = ("Noto Sans", "DejaVu Sans", "Liberation Sans", "Noto Sans CJK JP",
                 "Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans Hebrew",
                 "Noto Sans Devanagari", "Noto Sans Thai")
_COUNT_CHECKS = {"quantity", "line count"}
_LINE_CHECK = re.compile(r"^line \d+ ")
OK_MARK, BAD_MARK, NO_MARK = "✓", "⚠", "–"


def font_families() -> list[str]:
    """``FONT_FAMILIES`` that are installed (plus DejaVu Sans for symbols), in order."""
    installed = set(QFontDatabase.families())
    chosen = [f for f in FONT_FAMILIES if f in installed]
    return chosen or ["Sans Serif"]


def _font(point_size: float, families: list[str]) -> QFont:
    font = QFont()
    font.setFamilies(families)
    font.setPointSizeF(point_size)
    return font


# -- HTML -------------------------------------------------------------------------------

def esc(text: object) -> str:
    """Order text → HTML: escaped, line breaks kept."""
    return html.escape(str(text), quote=True).replace("\r\n", "\n").replace("\n", "<br/>")


def money_text(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    plain = Decimal(Money(amount, currency).plain())
    return f"{plain:,f}"


def _when(value: datetime | None, tz: tzinfo | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(tz) if tz is not None else value.astimezone()
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def _address(addr: Address | None) -> list[str]:
    if addr is None:
        return []
    out = addr.lines()
    if addr.mobile:
        out.append(addr.mobile)
    return out


def _check_value(check: FigureCheck, value: Decimal | None, currency: str) -> str:
    if value is None:
        return "—"
    if check.name in _COUNT_CHECKS:
        return f"{value:f}"
    return money_text(value, currency)


STYLE = """
body { color: #1a1a1a; }
h1 { font-size: 17pt; font-weight: 600; margin: 0; }
.muted { color: #666666; }
.small { font-size: 7.5pt; }
.label { color: #666666; font-size: 7.5pt; text-transform: uppercase; }
th { background-color: #eef1f5; color: #333333; font-weight: 600; text-align: left; }
.num { text-align: right; }
.total td { font-weight: 600; }
.bad { color: #b45309; font-weight: 600; }
.ok { color: #15803d; }
"""


def order_html(order: Order, recon: Reconciliation, *, px: float, tz: tzinfo | None) -> str:
    """The order summary as Qt rich text. ``px`` = device pixels per CSS pixel."""
    cur = order.currency
    pad = max(1, round(3 * px))
    rule = (f"border-collapse: collapse; border-style: solid; border-color: #c9ced6; "
            f"border-width: {px:.2f}px;")
    parts: list[str] = []
    add = parts.append
    # heading ------------------------------------------------------------------------
    status = esc(order.status.label)
    if order.status.known and order.status.raw.strip().lower() != order.status.label.lower():
        status += f' <span class="muted small">({esc(order.status.raw)})</span>'
    add(f'<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f'<td width="60%"><h1>Order {esc(order.number)}</h1>'
        f'<span class="muted">{esc(order.connection)} · {esc(order.kind.value)}'
        f' · id {esc(order.remote_id)}</span></td>'
        f'<td width="40%" align="right">'
        f'<span class="label">Status</span> <b>{status}</b><br/>'
        f'<span class="label">Created</span> {esc(_when(order.created_at, tz))}<br/>'
        f'<span class="label">Updated</span> {esc(_when(order.updated_at, tz))}<br/>'
        f'<span class="label">Currency</span> {esc(cur or "—")}'
        f'</td></tr></table>')
    add(f'<hr style="height: {px:.2f}px;"/>')
    # customer and address -----------------------------------------------------------
    cust: list[str] = []
    if order.customer is not None:
        c = order.customer
        cust += [c.display_name, c.email, c.mobile]
        if c.username and c.username != c.display_name:
            cust.append(f"@{c.username}")
    cust = [x for x in cust if x] or ["—"]
    bill = _address(order.billing) or ["—"]
    methods = []
    if order.payment_method and order.payment_method.name:
        methods.append(f'<span class="label">Payment</span> {esc(order.payment_method.name)}')
    if order.shipping_method and order.shipping_method.name:
        methods.append(f'<span class="label">Shipping</span> {esc(order.shipping_method.name)}')
    add(f'<table width="100%" cellspacing="0" cellpadding="{pad}"><tr>'
        f'<td width="40%"><span class="label">Customer</span><br/>'
        f'{"<br/>".join(esc(x) for x in cust)}</td>'
        f'<td width="35%"><span class="label">Billing address</span><br/>'
        f'{"<br/>".join(esc(x) for x in bill)}</td>'
        f'<td width="25%">{"<br/>".join(methods)}</td></tr></table>')
    # lines --------------------------------------------------------------------------
    add(f'<p><b>Items</b> <span class="muted small">({len(order.lines)} lines, '
        f'{sum(f.quantity for f in recon.lines)} pieces)</span></p>')
    add(f'<table width="100%" cellspacing="0" cellpadding="{pad}" border="{px:.2f}" '
        f'style="{rule}"><thead><tr>'
        f'<th width="4%" class="num">#</th><th width="46%">Product</th>'
        f'<th width="14%" class="num">Unit price</th><th width="12%" class="num">Discount</th>'
        f'<th width="8%" class="num">Qty</th><th width="16%" class="num">Total</th>'
        f'</tr></thead><tbody>')
    for n, (line, fig) in enumerate(zip(order.lines, recon.lines, strict=True), start=1):
        extra = [x for x in (line.variant, line.offer) if x]
        name = esc(line.product_name or "—")
        if extra:
            name += f'<br/><span class="muted small">{esc(" · ".join(extra))}</span>'
        add(f'<tr><td class="num">{n}</td><td>{name}</td>'
            f'<td class="num">{money_text(fig.unit_price, cur)}</td>'
            f'<td class="num">{money_text(fig.discount, cur) if fig.discount else ""}</td>'
            f'<td class="num">{fig.quantity}</td>'
            f'<td class="num">{money_text(fig.total, cur)}</td></tr>')
    if not order.lines:
        add('<tr><td></td><td class="muted">No line items</td><td></td><td></td><td></td>'
            '<td></td></tr>')
    add('</tbody></table>')
    if recon.line_exponent is None:
        add('<p class="bad small">Line amounts match the order at no scale; they are shown '
            'as sent (smallest currency unit).</p>')
    # totals -------------------------------------------------------------------------
    checks = [c for c in recon.checks if not _LINE_CHECK.match(c.name)]
    add(f'<p><b>Totals</b> <span class="muted small">server figure beside the figure '
        f'recomputed from the lines ({esc(cur)})</span></p>')
    add(f'<table width="66%" align="right" cellspacing="0" cellpadding="{pad}" '
        f'border="{px:.2f}" style="{rule}"><thead><tr><th width="36%">Figure</th>'
        f'<th width="23%" class="num">Server</th><th width="25%" class="num">Recomputed</th>'
        f'<th width="16%" class="num">Check</th></tr></thead><tbody>')
    for check in checks:
        mark = (f'<span class="ok">{OK_MARK}</span>' if check.ok and check.compared
                else NO_MARK if check.ok else f'<span class="bad">{BAD_MARK}</span>')
        row_class = ' class="total"' if check.name == "total" else ""
        add(f'<tr{row_class}><td>{esc(check.name.capitalize())}</td>'
            f'<td class="num">{_check_value(check, check.server, cur)}</td>'
            f'<td class="num">{_check_value(check, check.recomputed, cur)}</td>'
            f'<td class="num">{mark}</td></tr>')
    add('</tbody></table>')
    add(f'<p class="muted small" align="right">Total formula: {esc(recon.total_formula)}</p>')
    # payments -----------------------------------------------------------------------
    state = recon.payment_state.value.replace("_", " ")
    add(f'<p><b>Payments</b> <span class="muted small">({esc(state)})</span></p>')
    if order.payments:
        add(f'<table width="100%" cellspacing="0" cellpadding="{pad}" border="{px:.2f}" '
            f'style="{rule}"><thead><tr><th width="24%">Date</th><th width="18%">Method</th>'
            f'<th width="16%">Status</th><th width="26%">Reference</th>'
            f'<th width="16%" class="num">Amount</th></tr></thead><tbody>')
        for p in order.payments:
            add(f'<tr><td>{esc(_when(p.created_at, tz))}</td><td>{esc(p.method or "—")}</td>'
                f'<td>{esc(p.status or "—")}</td><td>{esc(p.reference or "—")}</td>'
                f'<td class="num">{money_text(p.amount, cur)}</td></tr>')
        add('</tbody></table>')
    add(f'<table width="66%" align="right" cellspacing="0" cellpadding="{pad}">'
        f'<tr><td>Paid</td><td class="num">{money_text(recon.amount_paid, cur)} {esc(cur)}'
        f'</td></tr><tr class="total"><td>Outstanding</td>'
        f'<td class="num">{money_text(recon.amount_outstanding, cur)} {esc(cur)}</td></tr>'
        f'</table>')
    # notes and problems -------------------------------------------------------------
    if order.has_notes:
        add(f'<p><b>Notes</b></p><p>{esc(order.notes.strip())}</p>')
    if recon.problems:
        add(f'<p class="bad">{BAD_MARK} Figures that do not add up</p><ul>')
        add("".join(f'<li class="small">{esc(p)}</li>' for p in recon.problems))
        add('</ul>')
    return "".join(parts)


# -- rendering --------------------------------------------------------------------------

def _page_size(name: str) -> QPageSize:
    key = name.strip().upper()
    if key not in PAGE_SIZES:
        raise ExportError(f"Unknown page size {name!r}; choose one of "
                          f"{', '.join(s.title() for s in PAGE_SIZES)}.")
    return QPageSize(PAGE_SIZES[key])


class _Renderer:
    """Lays out and draws order documents onto one ``QPdfWriter``."""

    def __init__(self, writer: QPdfWriter, page_size: str, tz: tzinfo | None) -> None:
        writer.setResolution(RESOLUTION)
        writer.setPageLayout(QPageLayout(_page_size(page_size), QPageLayout.Orientation.Portrait,
                                         MARGINS_MM, QPageLayout.Unit.Millimeter))
        writer.setCreator(f"orderdesk {__version__}")
        self.writer = writer
        self.tz = tz
        self.px = RESOLUTION / 96
        area = writer.pageLayout().paintRectPixels(RESOLUTION)
        self.width = float(area.width())
        footer = FOOTER_MM / 25.4 * RESOLUTION
        self.height = float(area.height()) - footer
        self.footer_top = self.height + footer * 0.35
        self.families = font_families()
        self.body_font = _font(9.0, self.families)
        self.footer_font = _font(7.0, self.families)
        self.stamp = datetime.now(UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def document(self, order: Order) -> QTextDocument:
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(self.writer)
        doc.setDefaultFont(self.body_font)
        doc.setDocumentMargin(0)
        doc.setDefaultStyleSheet(STYLE)
        doc.setHtml(order_html(order, reconcile(order), px=self.px, tz=self.tz))
        doc.setPageSize(QSizeF(self.width, self.height))
        return doc

    def draw(self, painter: QPainter, order: Order, *, first: bool) -> int:
        """Draw ``order`` from a new page; returns its page count."""
        doc = self.document(order)
        pages = max(1, doc.pageCount())
        for index in range(pages):
            if not (first and index == 0) and not self.writer.newPage():
                raise ExportError("The PDF file could not be extended (is the disk full?).")
            painter.save()
            painter.translate(0, -index * self.height)
            doc.drawContents(painter, QRectF(0, index * self.height, self.width, self.height))
            painter.restore()
            self._footer(painter, order, index + 1, pages)
        return pages

    def _footer(self, painter: QPainter, order: Order, page: int, pages: int) -> None:
        painter.save()
        painter.setPen(QPen(QColor("#c9ced6"), self.px * 0.75))
        painter.drawLine(0, round(self.footer_top), round(self.width), round(self.footer_top))
        painter.setPen(QColor("#666666"))
        painter.setFont(self.footer_font)
        box = QRectF(0, self.footer_top + self.px * 3, self.width, self.px * 16)
        left = f"{order.connection} · Order {order.number} · printed {self.stamp}"
        painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), left)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop),
                         f"Page {page} of {pages}")
        painter.restore()


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
        renderer = _Renderer(writer, page_size, tz)
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
                renderer = _Renderer(writer, page_size, tz)
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

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
from typing import Any

from PySide6.QtCore import QMarginsF, QPointF, QRect, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QPyTextObject,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextLength,
    QTextOption,
    QTextTableCellFormat,
    QTextTableFormat,
)

from orderdesk import __version__
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
from orderdesk.export.qt import ensure_gui_app, keep_none_alive
from orderdesk.models.entities import Address, Order
from orderdesk.models.money import Money
from orderdesk.models.pricing import FigureCheck, Reconciliation, reconcile
from orderdesk.store import OrderStore
from orderdesk.store import bulk as reader

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
NO_MARK = "–"
LINE_WIDTHS = (7, 43, 14, 12, 8, 16)  #: the lines table's columns, % of the width


#: ``QTextFormat`` object types of the ✓ and ⚠ marks, drawn as vector paths (:class:`_Mark`)
OK_OBJECT = QTextFormat.ObjectTypes.UserObject + 1
BAD_OBJECT = QTextFormat.ObjectTypes.UserObject + 2
OK_COLOR, BAD_COLOR = "#15803d", "#b45309"
#: Characters of our own texts (pricing formulas and problems) that Noto Sans lacks,
#: replaced so that no fallback font is embedded for them; order data is left alone
_SUBSTITUTES = str.maketrans({"\u2212": "\u2013"})  # minus sign → en dash


class _Mark(QPyTextObject):
    """Draws ✓ (``ok``) or ⚠ inline as a vector path.

    Noto Sans has neither glyph; as text they came from DejaVu Sans, a third font
    embedded in every file (about 3 ms per file when the PDF is closed, a sixth of
    a one-order file's time). Drawn, they look the same at any zoom. The size and
    the paths are made once: Qt asks for the size several times per mark while it
    lays a document out.
    """

    def __init__(self, ok: bool, em: float, color: str) -> None:
        super().__init__()
        self.ok = ok
        w, h = em * 0.85, em * 0.76
        self.size = QSizeF(w, h)
        if ok:
            self.pen = QPen(QColor(color), h * 0.12)
            self.pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            self.pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            self.path = QPainterPath(QPointF(w * 0.12, h * 0.55))
            self.path.lineTo(QPointF(w * 0.4, h * 0.85))
            self.path.lineTo(QPointF(w * 0.9, h * 0.12))
        else:
            self.brush = QColor(color)
            self.path = QPainterPath(QPointF(w * 0.5, h * 0.05))
            self.path.lineTo(QPointF(w * 0.98, h * 0.95))
            self.path.lineTo(QPointF(w * 0.02, h * 0.95))
            self.path.closeSubpath()
            self.bang = QPainterPath()
            self.bang.addRect(QRectF(w * 0.45, h * 0.32, w * 0.1, h * 0.36))
            self.bang.addRect(QRectF(w * 0.45, h * 0.75, w * 0.1, h * 0.1))

    def intrinsicSize(self, doc: QTextDocument, pos: int, fmt: QTextFormat) -> QSizeF:
        return self.size

    def drawObject(self, painter: QPainter, rect: QRectF | QRect, doc: QTextDocument, pos: int,
                   fmt: QTextFormat) -> None:
        painter.save()
        painter.translate(QRectF(rect).topLeft())
        if self.ok:
            painter.setPen(self.pen)
            painter.drawPath(self.path)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.fillPath(self.path, self.brush)
            painter.fillPath(self.bang, QColor("#ffffff"))
        painter.restore()


_families: list[str] = []


def font_families() -> list[str]:
    """``FONT_FAMILIES`` that are installed, in order (looked up once per process)."""
    if not _families:
        installed = set(QFontDatabase.families())
        _families.extend([f for f in FONT_FAMILIES if f in installed] or ["Sans Serif"])
    return list(_families)


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


class _Formats:
    """Character and block formats shared by every document of one renderer."""

    def __init__(self, families: list[str], width: float, px: float) -> None:
        def char(size: float, *, bold: bool = False, color: str = "#1a1a1a",
                 caps: bool = False) -> QTextCharFormat:
            fmt = QTextCharFormat()
            fmt.setFontFamilies(families)
            fmt.setFontPointSize(size)
            fmt.setFontWeight(QFont.Weight.DemiBold if bold else QFont.Weight.Normal)
            fmt.setForeground(QColor(color))
            if caps:
                fmt.setFontCapitalization(QFont.Capitalization.AllUppercase)
                fmt.setFontLetterSpacing(104)
            return fmt

        self.width = width
        self.px = px
        self.text = char(9)
        self.bold = char(9, bold=True)
        self.title = char(17, bold=True)
        self.section = char(10, bold=True)
        self.muted = char(7.5, color="#666666")
        self.label = char(6.5, color="#666666", caps=True)
        self.ok = char(9, color=OK_COLOR)  # ✓ comes from DejaVu Sans: no bold face to embed
        self.bad = char(9, bold=True, color=BAD_COLOR)
        self.header = char(8, bold=True, color="#333333")
        self.fm_text = QFontMetricsF(self.text.font())
        self._blocks: dict[tuple[Any, ...], QTextBlockFormat] = {}
        self.ok_mark = self._mark(self.ok, OK_OBJECT)
        self.bad_mark = self._mark(self.bad, BAD_OBJECT)
        # table formats, made once per renderer (they are values, copied on insert)
        self.info_table = QTextTableFormat()
        self.info_table.setBorder(0)
        self.info_table.setCellPadding(0)
        self.info_table.setCellSpacing(0)
        self.info_table.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
        self.info_table.setColumnWidthConstraints(
            [QTextLength(QTextLength.Type.PercentageLength, p) for p in (38, 37, 25)])
        self.info_table.setTopMargin(4 * px)
        self.info_table.setBottomMargin(8 * px)
        self.lines_table = QTextTableFormat()
        self.lines_table.setHeaderRowCount(1)
        # No grid: a header band and whitespace, as the totals and payments below. Qt
        # draws a collapsed grid cell by cell: a quarter of each page's layout and drawing.
        self.lines_table.setBorder(0)
        self.lines_table.setCellSpacing(0)
        self.lines_table.setCellPadding(2.5 * px)
        self.lines_table.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
        self.lines_table.setColumnWidthConstraints(
            [QTextLength(QTextLength.Type.PercentageLength, p) for p in LINE_WIDTHS])
        self.right = QTextBlockFormat()
        self.right.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.head_cell = QTextTableCellFormat()
        self.head_cell.setBackground(QColor("#eef1f5"))

    @staticmethod
    def _mark(base: QTextCharFormat, kind: int) -> QTextCharFormat:
        fmt = QTextCharFormat(base)
        fmt.setObjectType(kind)
        return fmt

    def mark(self, ok: bool) -> tuple[str, QTextCharFormat]:
        """A run drawing ✓ (``ok``) or ⚠: the object replacement character."""
        return ("\ufffc", self.ok_mark if ok else self.bad_mark)

    def block(self, *, tabs: Sequence[tuple[float, bool]] = (), indent: float = 0,
              top: float = 0, bottom: float = 0, background: str | None = None,
              align_right: bool = False) -> QTextBlockFormat:
        """A block format, made once per distinct set of arguments (formats are values)."""
        key = (tuple(tabs), indent, top, bottom, background, align_right)
        fmt = self._blocks.get(key)
        if fmt is None:
            fmt = self._blocks[key] = self._block(*key)
        return fmt

    def _block(self, tabs: Sequence[tuple[float, bool]], indent: float, top: float,
               bottom: float, background: str | None, align_right: bool) -> QTextBlockFormat:
        fmt = QTextBlockFormat()
        # Qt scales tab positions by the paint device's resolution (unlike margins)
        fmt.setTabPositions([QTextOption.Tab(pos / self.px,
                                             QTextOption.TabType.RightTab if right
                                             else QTextOption.TabType.LeftTab)
                             for pos, right in tabs])
        fmt.setLeftMargin(indent)
        fmt.setTopMargin(top * self.px)
        fmt.setBottomMargin(bottom * self.px)
        if background:
            fmt.setBackground(QColor(background))
        if align_right:
            fmt.setAlignment(Qt.AlignmentFlag.AlignRight)
        return fmt

    def elide(self, text: str, width: float) -> str:
        return self.fm_text.elidedText(text, Qt.TextElideMode.ElideRight, width)


def _line(cursor: QTextCursor, block: QTextBlockFormat | None,
          *runs: tuple[str, QTextCharFormat]) -> None:
    """Start a new block (unless ``block`` is None: continue the current one) with runs."""
    if block is not None:
        cursor.insertBlock(block)
    for text, fmt in runs:
        cursor.insertText(text, fmt)


def build_document(doc: QTextDocument, order: Order, recon: Reconciliation, f: _Formats,
                   tz: tzinfo | None) -> None:
    """Fill ``doc`` with the order summary. Order text is inserted as plain text
    (``QTextCursor.insertText``): it is never parsed as HTML or rich text."""
    cursor = QTextCursor(doc)
    cursor.beginEditBlock()
    try:
        _fill(cursor, order, recon, f, tz)
    finally:
        cursor.endEditBlock()


def _fill(cursor: QTextCursor, order: Order, recon: Reconciliation, f: _Formats,
          tz: tzinfo | None) -> None:
    cur = order.currency
    w = f.width
    half = w * 0.58
    right = [(w, True)]
    # heading ------------------------------------------------------------------------
    status = order.status.label
    if order.status.known and order.status.raw.strip().lower() != status.lower():
        status += f" ({order.status.raw})"
    cursor.setBlockFormat(f.block(tabs=right))
    _line(cursor, None, (f.elide(f"Order {order.number}", half), f.title), ("\t", f.text),
          ("Status  ", f.label), (status, f.bold))
    _line(cursor, f.block(tabs=right), (f.elide(f"{order.connection} · {order.kind.value}",
                                                half), f.muted),
          ("\t", f.text), ("Created  ", f.label), (_when(order.created_at, tz), f.text))
    _line(cursor, f.block(tabs=right), (f.elide(f"id {order.remote_id}", half), f.muted),
          ("\t", f.text), ("Updated  ", f.label), (_when(order.updated_at, tz), f.text))
    rule = QTextBlockFormat(f.block(tabs=right, bottom=6))
    rule.setProperty(QTextFormat.Property.BlockTrailingHorizontalRulerWidth,
                     QTextLength(QTextLength.Type.PercentageLength, 100))
    _line(cursor, rule, ("\t", f.text), ("Currency  ", f.label), (cur or "—", f.text))
    # customer, billing address, methods: one row of three cells ----------------------
    cust: list[str] = []
    if order.customer is not None:
        c = order.customer
        cust += [c.display_name, c.email, c.mobile]
        if c.username and c.username != c.display_name:
            cust.append(f"@{c.username}")
    cust = [x for x in cust if x] or ["—"]
    bill = _address(order.billing) or ["—"]
    methods: list[tuple[str, str]] = []
    if order.payment_method and order.payment_method.name:
        methods.append(("Payment", order.payment_method.name))
    if order.shipping_method and order.shipping_method.name:
        methods.append(("Shipping", order.shipping_method.name))
    table = cursor.insertTable(1, 3, f.info_table)
    for col, (label, values) in enumerate((("Customer", cust), ("Billing address", bill))):
        cell = table.cellAt(0, col).firstCursorPosition()
        cell.insertText(label, f.label)
        for value in values:
            cell.insertBlock()
            cell.insertText(value, f.text)
    cell = table.cellAt(0, 2).firstCursorPosition()
    for n, (label, value) in enumerate(methods):
        if n:
            cell.insertBlock()
        cell.insertText(label, f.label)
        cell.insertBlock()
        cell.insertText(value, f.text)
    cursor.movePosition(QTextCursor.MoveOperation.End)
    # lines ----------------------------------------------------------------------------
    pieces = sum(fig.quantity for fig in recon.lines)
    _line(cursor, f.block(top=4, bottom=3), ("Items", f.section),
          (f"   {len(order.lines)} lines, {pieces} pieces", f.muted))
    _lines_table(cursor, order, recon, f)
    cursor.movePosition(QTextCursor.MoveOperation.End)
    if recon.line_exponent is None:
        _line(cursor, f.block(), ("Line amounts match the order at no scale; they are shown "
                                  "as sent (smallest currency unit).", f.bad))
    # totals ---------------------------------------------------------------------------
    indent = w * 0.36
    area = w - indent
    tabs = [(area * 0.55, True), (area * 0.82, True), (area - 4 * f.px, True)]
    _line(cursor, f.block(top=10, bottom=3), ("Totals", f.section),
          (f"   server figure beside the figure recomputed from the lines ({cur})", f.muted))
    _line(cursor, f.block(tabs=tabs, indent=indent, background="#eef1f5", top=0, bottom=0),
          (" Figure", f.header), ("\tServer", f.header), ("\tRecomputed", f.header),
          ("\tCheck", f.header))
    for n, check in enumerate(c for c in recon.checks if not _LINE_CHECK.match(c.name)):
        fmt = f.bold if check.name == "total" else f.text
        mark, mark_fmt = (f.mark(True) if check.ok and check.compared
                          else (NO_MARK, f.muted) if check.ok else f.mark(False))
        shade = "#f7f8fa" if n % 2 else None
        _line(cursor, f.block(tabs=tabs, indent=indent, background=shade, top=1, bottom=1),
              (" " + check.name.capitalize().translate(_SUBSTITUTES), fmt),
              ("\t" + _check_value(check, check.server, cur), fmt),
              ("\t" + _check_value(check, check.recomputed, cur), fmt),
              ("\t", fmt), (mark, mark_fmt))
    formula = recon.total_formula.translate(_SUBSTITUTES)
    _line(cursor, f.block(align_right=True, top=2), (f"Total formula: {formula}", f.muted))
    # payments -------------------------------------------------------------------------
    state = recon.payment_state.value.replace("_", " ")
    _line(cursor, f.block(top=10, bottom=3), ("Payments", f.section), (f"   {state}", f.muted))
    if order.payments:
        cols = [(w * 0.24, False), (w * 0.42, False), (w * 0.58, False), (w - 4 * f.px, True)]
        _line(cursor, f.block(tabs=cols, background="#eef1f5"), (" Date", f.header),
              ("\tMethod", f.header), ("\tStatus", f.header), ("\tReference", f.header),
              ("\tAmount", f.header))
        for p in order.payments:
            _line(cursor, f.block(tabs=cols, top=1, bottom=1),
                  (" " + _when(p.created_at, tz), f.text),
                  ("\t" + f.elide(p.method or "—", w * 0.17), f.text),
                  ("\t" + f.elide(p.status or "—", w * 0.15), f.text),
                  ("\t" + f.elide(p.reference or "—", w * 0.22), f.text),
                  ("\t" + money_text(p.amount, cur), f.text))
    else:
        _line(cursor, f.block(), ("No payment records.", f.muted))
    money_tabs = [(area - 4 * f.px, True)]
    _line(cursor, f.block(tabs=money_tabs, indent=indent, top=4),
          (" Paid", f.text), (f"\t{money_text(recon.amount_paid, cur)} {cur}", f.text))
    _line(cursor, f.block(tabs=money_tabs, indent=indent, background="#eef1f5", top=1,
                          bottom=1),
          (" Outstanding", f.bold), (f"\t{money_text(recon.amount_outstanding, cur)} {cur}",
                                     f.bold))
    # notes and problems ---------------------------------------------------------------
    if order.has_notes:
        _line(cursor, f.block(top=10, bottom=3), ("Notes", f.section))
        for text in order.notes.strip().splitlines() or [""]:
            _line(cursor, f.block(), (text, f.text))
    if recon.problems:
        _line(cursor, f.block(top=10, bottom=3), f.mark(False),
              (" Figures that do not add up", f.bad))
        for problem in recon.problems:
            _line(cursor, f.block(indent=8 * f.px),
                  ("• " + problem.translate(_SUBSTITUTES), f.muted))


def _lines_table(cursor: QTextCursor, order: Order, recon: Reconciliation,
                 f: _Formats) -> None:
    cur = order.currency
    rows = max(1, len(order.lines))
    table = cursor.insertTable(rows + 1, len(LINE_WIDTHS), f.lines_table)
    right = f.right
    head = f.head_cell
    numeric = (True, False, True, True, True, True)
    for col, title in enumerate(("#", "Product", "Unit price", "Discount", "Qty", "Total")):
        cell = table.cellAt(0, col)
        cell.setFormat(head)
        pos = cell.firstCursorPosition()
        if numeric[col]:
            pos.setBlockFormat(right)
        pos.insertText(title, f.header)
    if not order.lines:
        table.cellAt(1, 1).firstCursorPosition().insertText("No line items", f.muted)
        return
    for row, (line, fig) in enumerate(zip(order.lines, recon.lines, strict=True), start=1):
        values = (str(row), line.product_name or "—", money_text(fig.unit_price, cur),
                  money_text(fig.discount, cur) if fig.discount else "", str(fig.quantity),
                  money_text(fig.total, cur))
        for col, value in enumerate(values):
            pos = table.cellAt(row, col).firstCursorPosition()
            if numeric[col]:
                pos.setBlockFormat(right)
            pos.insertText(value, f.text)
            if col == 1:
                extra = " · ".join(x for x in (line.variant, line.offer) if x)
                if extra:
                    pos.insertBlock()
                    pos.insertText(extra, f.muted)


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
        self.layout = QPageLayout(_page_size(page_size), QPageLayout.Orientation.Portrait,
                                  MARGINS_MM, QPageLayout.Unit.Millimeter)
        self.use(writer)
        self.tz = tz
        self.px = RESOLUTION / 96
        area = self.layout.paintRectPixels(RESOLUTION)
        self.width = float(area.width())
        footer = FOOTER_MM / 25.4 * RESOLUTION
        self.height = float(area.height()) - footer
        self.footer_top = self.height + footer * 0.35
        self.families = font_families()
        self.body_font = _font(9.0, self.families)
        self.footer_font = _font(7.0, self.families)
        self.formats = _Formats(self.families, self.width, self.px)
        self.stamp = datetime.now(UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        em = 9.0 * RESOLUTION / 72  # the marks' 9 pt text, in device pixels
        self.ok_mark = _Mark(True, em, OK_COLOR)
        self.bad_mark = _Mark(False, em, BAD_COLOR)

    def use(self, writer: QPdfWriter) -> None:
        """Draw on ``writer`` from now on (per-order mode: one writer per file)."""
        writer.setResolution(RESOLUTION)
        writer.setPageLayout(self.layout)
        writer.setCreator(f"orderdesk {__version__}")
        self.writer = writer

    def document(self, order: Order) -> QTextDocument:
        keep_none_alive()
        doc = QTextDocument()
        doc.setDefaultFont(self.body_font)
        doc.setDocumentMargin(0)
        layout = doc.documentLayout()
        layout.setPaintDevice(self.writer)
        layout.registerHandler(OK_OBJECT, self.ok_mark)
        layout.registerHandler(BAD_OBJECT, self.bad_mark)
        doc.setPageSize(QSizeF(self.width, self.height))
        # One edit block: the text is laid out once, for the writer and the page size.
        build_document(doc, order, reconcile(order), self.formats, self.tz)
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
    renderer: _Renderer | None = None
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
                    renderer = _Renderer(writer, page_size, tz)
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

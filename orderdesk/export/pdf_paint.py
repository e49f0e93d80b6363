"""The order summary placed and drawn by hand with ``QPainter`` (no ``QTextDocument``).

One :class:`PaintRenderer` per export holds the fonts, their ``QFontMetricsF``
(for the writer's resolution), pens, brushes, column edges and the ✓/⚠ marks;
an order is first *placed*: every text gets its position, line breaks and page
breaks are decided (the lines table's header row is repeated at the top of a
continuation page), which gives the page count; then the pages are drawn with
plain ``QPainter.drawText(x, y, text)`` and the footer "Page i of n".

Order text is only ever passed to ``drawText`` as a string: it is never parsed
as HTML or rich text. Fonts are the bundled family, then the installed ones
(``font_families``), with Qt's per-character fallback (CJK, Arabic...) as in the
``QTextDocument`` renderer. Long texts are wrapped on spaces (or anywhere in a word
that does not fit) and, past a few lines in a table cell, elided with "…".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGlyphRun,
    QPageLayout,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextLayout,
)

from orderdesk import __version__
from orderdesk.export.common import ExportError
from orderdesk.export.qt import keep_none_alive
from orderdesk.models.entities import Address, Order
from orderdesk.models.money import Money
from orderdesk.models.pricing import FigureCheck, Reconciliation, reconcile

RESOLUTION = 300
FOOTER_MM = 9.0
LINE_WIDTHS = (7, 43, 14, 12, 8, 16)  #: the lines table's columns, % of the width
NO_MARK = "–"
OK_COLOR, BAD_COLOR = "#15803d", "#b45309"
BAND, SHADE = "#eef1f5", "#f7f8fa"
_COUNT_CHECKS = {"quantity", "line count"}
_LINE_CHECK = re.compile(r"^line \d+ ")
_SUBSTITUTES = str.maketrans({"\u2212": "\u2013"})  # minus sign → en dash (see pdf_export)
#: control characters drawn as a space (a one-line text never breaks or tabs)
_CONTROLS = str.maketrans({c: " " for c in (*map(chr, range(32)), "\x7f", "\u2028",
                                            "\u2029", "\x85")})

_FIGURE_CHARS = "0123456789,.-–—+ "  # texts of these: advance = sum of the characters'
_CACHE = 50_000  #: most texts whose widths or glyph runs are kept per export

# styles: index into the renderer's fonts, metrics and pens
TEXT, BOLD, TITLE, SECTION, MUTED, LABEL, BAD, HEADER, FOOTER = range(9)
_STYLES: tuple[tuple[float, bool, str, bool], ...] = (
    # point size, bold, colour, small caps label
    (9, False, "#1a1a1a", False), (9, True, "#1a1a1a", False), (17, True, "#1a1a1a", False),
    (10, True, "#1a1a1a", False), (7.5, False, "#666666", False),
    (6.5, False, "#666666", True), (9, True, BAD_COLOR, False),
    (8, True, "#333333", False), (7, False, "#666666", False),
)

# placed items: (kind, ...) with device-pixel coordinates on the page
_T, _FILL, _MARK, _RULE = range(4)


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


def one_line(text: object) -> str:
    """Order text for one line: control characters (tabs, line breaks) as spaces."""
    return str(text).translate(_CONTROLS)


class _Mark:
    """✓ (``ok``) or ⚠ as a vector path, made once (Noto Sans has neither glyph)."""

    def __init__(self, ok: bool, em: float, color: str) -> None:
        self.ok = ok
        w, h = em * 0.85, em * 0.76
        self.width, self.height = w, h
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
            self.white = QColor("#ffffff")

    def draw(self, painter: QPainter, x: float, top: float) -> None:
        painter.save()
        painter.translate(x, top)
        if self.ok:
            painter.setPen(self.pen)
            painter.drawPath(self.path)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.fillPath(self.path, self.brush)
            painter.fillPath(self.bang, self.white)
        painter.restore()


class _Pages:
    """Places blocks top to bottom, starting a new page when one does not fit."""

    def __init__(self, height: float) -> None:
        self.height = height
        self.pages: list[list[tuple[Any, ...]]] = [[]]
        self.items = self.pages[0]
        self.y = 0.0
        self.on_break: Callable[[], None] | None = None

    def need(self, h: float) -> float:
        """The top of a block ``h`` high (on a new page if it does not fit here)."""
        if self.y + h > self.height and self.y > 0:
            self.items = []
            self.pages.append(self.items)
            self.y = 0.0
            if self.on_break is not None:
                self.on_break()
        return self.y


class PaintRenderer:
    """Places and draws order summaries onto a ``QPdfWriter`` (same API as the
    ``QTextDocument`` renderer: :meth:`use` a writer, :meth:`draw` an order)."""

    def __init__(self, writer: QPdfWriter, layout: QPageLayout, families: list[str],
                 tz: tzinfo | None) -> None:
        self.layout = layout
        self.use(writer)
        self.tz = tz
        px = self.px = RESOLUTION / 96
        area = layout.paintRectPixels(RESOLUTION)
        w = self.width = float(area.width())
        footer = FOOTER_MM / 25.4 * RESOLUTION
        self.height = float(area.height()) - footer
        self.footer_top = self.height + footer * 0.35
        self.fonts: list[QFont] = []
        self.pens: list[QColor] = []
        for size, bold, color, caps in _STYLES:
            font = QFont()
            font.setFamilies(families)
            font.setPointSizeF(size)
            font.setWeight(QFont.Weight.DemiBold if bold else QFont.Weight.Normal)
            if caps:
                font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 104)
            self.fonts.append(font)
            self.pens.append(QColor(color))
        self.fm = [QFontMetricsF(f, writer) for f in self.fonts]
        self.ascent = [m.ascent() for m in self.fm]
        self.line = [m.lineSpacing() for m in self.fm]
        self._adv: dict[tuple[int, str], float] = {}
        self._chars: list[dict[str, float]] = [{} for _ in self.fonts]
        self._seen: set[tuple[int, str]] = set()
        self._runs: dict[tuple[int, str], tuple[float, list[QGlyphRun]]] = {}
        self.stamp = datetime.now(UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        em = 9.0 * RESOLUTION / 72
        self.ok_mark = _Mark(True, em, OK_COLOR)
        self.bad_mark = _Mark(False, em, BAD_COLOR)
        self.colors = {c: QColor(c) for c in (BAND, SHADE)}
        self.rule_pen = QPen(QColor("#1a1a1a"), px * 0.75)
        self.footer_pen = QPen(QColor("#c9ced6"), px * 0.75)
        # Qt's text tables scale their padding and margins by the resolution once more
        # than blocks do: the same figures keep the QTextDocument renderer's look.
        self.pad = 2.5 * px * px
        self.inset = 4 * px
        edges = [0.0]
        for p in LINE_WIDTHS:
            edges.append(edges[-1] + w * p / 100)
        self.cols = edges
        self.numeric = (True, False, True, True, True, True)
        self.head_titles = ("#", "Product", "Unit price", "Discount", "Qty", "Total")
        self.indent = w * 0.36
        area_w = w - self.indent
        self.tot_tabs = (self.indent + area_w * 0.55, self.indent + area_w * 0.82,
                         w - 4 * px)
        self.pay_tabs = (w * 0.24, w * 0.42, w * 0.58, w - 4 * px)

    def use(self, writer: QPdfWriter) -> None:
        """Draw on ``writer`` from now on (per-order mode: one writer per file)."""
        writer.setResolution(RESOLUTION)
        writer.setPageLayout(self.layout)
        writer.setCreator(f"orderdesk {__version__}")
        self.writer = writer

    # -- measuring ------------------------------------------------------------------

    def adv(self, style: int, text: str) -> float:
        """The advance width of ``text`` (memoised; figures summed per character)."""
        key = (style, text)
        a = self._adv.get(key)
        if a is None:
            if text.isascii() and not text.strip(_FIGURE_CHARS):
                chars = self._chars[style]
                a = 0.0
                for ch in text:
                    c = chars.get(ch)
                    if c is None:
                        c = chars[ch] = self.fm[style].horizontalAdvance(ch)
                    a += c
                return a
            a = self.fm[style].horizontalAdvance(text)
            if len(self._adv) < _CACHE:
                self._adv[key] = a
        return a

    def _glyphs(self, style: int, text: str) -> tuple[float, list[QGlyphRun]] | None:
        """``text``'s glyph runs (and the ascent they sit on) once it is drawn a second
        time: drawing cached runs skips Qt's shaping, half the cost of ``drawText``."""
        key = (style, text)
        if key not in self._seen:
            if len(self._seen) < _CACHE:
                self._seen.add(key)
            return None
        if len(self._runs) >= _CACHE:
            return None
        layout = QTextLayout(text, self.fonts[style], self.writer)
        layout.beginLayout()
        line = layout.createLine()
        layout.endLayout()
        runs = (line.ascent(), layout.glyphRuns())
        self._runs[key] = runs
        return runs

    def elide(self, style: int, text: str, width: float) -> str:
        text = one_line(text)
        if self.adv(style, text) <= width:
            return text
        return self.fm[style].elidedText(text, Qt.TextElideMode.ElideRight, width)

    def wrap(self, style: int, text: str, width: float, max_lines: int = 0) -> list[str]:
        """``text`` (one paragraph) in lines no wider than ``width``: broken at spaces,
        a word wider than a line broken anywhere; past ``max_lines`` elided."""
        text = one_line(text)
        if self.adv(style, text) <= width:
            return [text]
        fm = self.fm[style]
        lines: list[str] = []
        cur = ""
        for word in text.split(" "):
            cand = f"{cur} {word}" if cur else word
            if fm.horizontalAdvance(cand) <= width:
                cur = cand
                continue
            if cur:
                lines.append(cur)
            while len(word) > 1 and fm.horizontalAdvance(word) > width:
                lo, hi = 1, len(word) - 1  # the longest prefix that fits (at least 1)
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if fm.horizontalAdvance(word[:mid]) <= width:
                        lo = mid
                    else:
                        hi = mid - 1
                lines.append(word[:lo])
                word = word[lo:]
            cur = word
        lines.append(cur)
        if max_lines and len(lines) > max_lines:
            rest = " ".join(lines[max_lines - 1:])
            lines = [*lines[:max_lines - 1],
                     fm.elidedText(rest, Qt.TextElideMode.ElideRight, width)]
        return lines

    # -- placing --------------------------------------------------------------------

    def place(self, order: Order) -> list[list[tuple[Any, ...]]]:
        """Every page of ``order``: lists of placed items (text, fills, marks, rules)."""
        recon = reconcile(order)
        flow = _Pages(self.height)
        self._heading(flow, order)
        self._info(flow, order)
        self._lines(flow, order, recon)
        self._totals(flow, order, recon)
        self._payments(flow, order, recon)
        self._notes(flow, order, recon)
        return flow.pages

    def _heading(self, flow: _Pages, order: Order) -> None:
        tz, w, px = self.tz, self.width, self.px
        half = w * 0.58
        status = order.status.label
        if order.status.known and order.status.raw.strip().lower() != status.lower():
            status += f" ({order.status.raw})"
        rows = (
            ((f"Order {order.number}", TITLE), "STATUS", (status, BOLD)),
            ((f"{order.connection} · {order.kind.value}", MUTED), "CREATED",
             (_when(order.created_at, tz), TEXT)),
            ((f"id {order.remote_id}", MUTED), "UPDATED", (_when(order.updated_at, tz), TEXT)),
            (None, "CURRENCY", (order.currency or "—", TEXT)),
        )
        label_gap = self.adv(LABEL, "  ")
        y = 0.0
        for left, label, (raw, vstyle) in rows:
            styles = [vstyle, LABEL] + ([left[1]] if left else [])
            asc = max(self.ascent[s] for s in styles)
            h = max(self.line[s] for s in styles)
            base = y + asc
            label_w = self.adv(LABEL, label) + label_gap
            value = self.elide(vstyle, raw, w * 0.45 - label_w)  # the right column
            vx = w - self.adv(vstyle, value)
            lx = vx - label_w
            flow.items.append((_T, vx, base, vstyle, value))
            flow.items.append((_T, lx, base, LABEL, label))
            if left:  # the left column ends before the right one starts
                text = self.elide(left[1], left[0], min(half, lx - 6 * px))
                flow.items.append((_T, 0.0, base, left[1], text))
            y += h
        flow.items.append((_RULE, QLineF(0, y + px, w, y + px)))
        flow.y = y + px + 6 * px

    def _info(self, flow: _Pages, order: Order) -> None:
        w, px = self.width, self.px
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
            methods.append(("PAYMENT", order.payment_method.name))
        if order.shipping_method and order.shipping_method.name:
            methods.append(("SHIPPING", order.shipping_method.name))
        top = flow.y + 4 * px * px
        x0, x1, x2 = 0.0, w * 0.38, w * 0.75
        cells: list[tuple[float, float, list[tuple[str, int]]]] = [
            (x0, x1 - x0 - 4 * px, [("CUSTOMER", LABEL)] + [(v, TEXT) for v in cust]),
            (x1, x2 - x1 - 4 * px, [("BILLING ADDRESS", LABEL)] + [(v, TEXT) for v in bill]),
            (x2, w - x2, [p for label, v in methods for p in ((label, LABEL), (v, TEXT))]),
        ]
        items = flow.items
        bottom = top
        for x, width, rows in cells:
            y = top
            for text, style in rows:
                for part in self.wrap(style, text, width, 3):
                    items.append((_T, x, y + self.ascent[style], style, part))
                    y += self.line[style]
            bottom = max(bottom, y)
        flow.y = bottom + 8 * px * px

    def _section(self, flow: _Pages, title: str, note: str, top: float, bottom: float,
                 keep: float, mark: bool = False) -> None:
        """A section heading (bold title, muted note), kept with ``keep`` below it."""
        px = self.px
        h = max(self.line[SECTION], self.line[MUTED])
        top *= px  # section gaps as the QTextDocument renderer's (scaled once more)
        bottom *= px
        y = flow.need(top * px + h + bottom * px + keep) + top * px
        if flow.y == 0:
            y = 0.0
        base = y + max(self.ascent[SECTION], self.ascent[MUTED])
        x = 0.0
        if mark:
            flow.items.append((_MARK, False, x, base - self.bad_mark.height))
            x += self.bad_mark.width + self.adv(BAD, " ")
        flow.items.append((_T, x, base, BAD if mark else SECTION, title))
        if note:
            x += self.adv(BAD if mark else SECTION, title)
            flow.items.append((_T, x + self.adv(MUTED, "   "), base, MUTED, note))
        flow.y = y + h + bottom * px

    def _columns(self, figures: list[tuple[str, str, str, str, str]]) -> list[float]:
        """The lines table's column edges: the default ones, unless a figure is wider than
        its column; then that column grows and the product column gives the room."""
        cols = self.cols
        if not figures:
            return cols
        need = [0.0] * len(cols)
        for row in figures:
            for i, text in zip((0, 2, 3, 4, 5), row, strict=True):
                a = self.adv(TEXT, text)
                if a > need[i]:
                    need[i] = a
        widths = [cols[i + 1] - cols[i] for i in range(len(cols) - 1)]
        grow = [max(0.0, need[i] + 2 * self.pad - widths[i]) if i != 1 else 0.0
                for i in range(len(widths))]
        if not any(grow):
            return cols
        widths = [wd + g for wd, g in zip(widths, grow, strict=True)]
        widths[1] = max(self.width * 0.15, widths[1] - sum(grow))
        over = sum(widths) - self.width
        if over > 0:  # still too wide (a narrow page): the grown columns give it back
            total_grow = sum(grow)
            widths = [wd - over * g / total_grow for wd, g in zip(widths, grow, strict=True)]
        edges = [0.0]
        for wd in widths:
            edges.append(edges[-1] + wd)
        return edges

    def _lines(self, flow: _Pages, order: Order, recon: Reconciliation) -> None:
        cur = order.currency
        pad, numeric = self.pad, self.numeric
        head_h = self.line[HEADER] + 2 * pad
        rows: list[tuple[float, list[tuple[str, int, list[str]]]]] = []
        text_line, muted_line = self.line[TEXT], self.line[MUTED]
        figures = [(str(n), money_text(fig.unit_price, cur),
                    money_text(fig.discount, cur) if fig.discount else "", str(fig.quantity),
                    money_text(fig.total, cur))
                   for n, fig in enumerate(recon.lines, start=1)]
        cols = self._columns(figures)
        name_w = cols[2] - cols[1] - 2 * pad
        for line, (n, unit, disc, qty, total) in zip(order.lines, figures, strict=True):
            name = self.wrap(TEXT, line.product_name or "—", name_w, 6)
            extra_text = " · ".join(x for x in (line.variant, line.offer) if x)
            extra = self.wrap(MUTED, extra_text, name_w, 2) if extra_text else []
            cells = [(n, TEXT, []), ("\n".join(name), TEXT, extra)]
            tall = len(name) * text_line + len(extra) * muted_line
            for col, figure in ((2, unit), (3, disc), (4, qty), (5, total)):
                room = cols[col + 1] - cols[col] - 2 * pad
                if self.adv(TEXT, figure) > room:  # only on a page too narrow for it
                    parts = self.wrap(TEXT, figure, room)
                    figure = "\n".join(parts)
                    tall = max(tall, len(parts) * text_line)
                cells.append((figure, TEXT, []))
            rows.append((tall + 2 * pad, cells))
        pieces = sum(fig.quantity for fig in recon.lines)
        first = rows[0][0] if rows else text_line + 2 * pad
        self._section(flow, "Items", f"{len(order.lines)} lines, {pieces} pieces", 4, 1,
                      head_h + first)

        def header() -> None:
            y = flow.y
            items = flow.items
            items.append((_FILL, QRectF(0, y, self.width, head_h), BAND))
            base = y + pad + self.ascent[HEADER]
            for col, title in enumerate(self.head_titles):
                if numeric[col]:
                    x = cols[col + 1] - pad - self.adv(HEADER, title)
                else:
                    x = cols[col] + pad
                items.append((_T, x, base, HEADER, title))
            flow.y = y + head_h

        header()
        if not rows:
            y = flow.y
            flow.items.append((_T, cols[1] + pad, y + pad + self.ascent[MUTED], MUTED,
                               "No line items"))
            flow.y = y + text_line + 2 * pad
            return
        flow.on_break = header
        asc, masc = self.ascent[TEXT], self.ascent[MUTED]
        for h, cells in rows:
            y = flow.need(h)
            items = flow.items
            base = y + pad + asc
            for col, (text, style, extra) in enumerate(cells):
                if not text:
                    continue
                if numeric[col]:
                    b = base
                    for part in text.split("\n"):
                        items.append((_T, cols[col + 1] - pad - self.adv(style, part), b,
                                      style, part))
                        b += text_line
                    continue
                b = base
                for part in text.split("\n"):
                    items.append((_T, cols[col] + pad, b, style, part))
                    b += text_line
                b += masc - asc
                for part in extra:
                    items.append((_T, cols[col] + pad, b, MUTED, part))
                    b += muted_line
            flow.y = y + h
        flow.on_break = None
        if recon.line_exponent is None:
            self._para(flow, BAD, "Line amounts match the order at no scale; they are shown "
                       "as sent (smallest currency unit).", 0.0, 0)

    def _para(self, flow: _Pages, style: int, text: str, x: float, top: float) -> None:
        lines = self.wrap(style, text, self.width - x)
        step = self.line[style]
        first = True
        for part in lines:
            y = flow.need(step + (top * self.px if first else 0))
            if first and flow.y > 0:
                y += top * self.px
            first = False
            flow.items.append((_T, x, y + self.ascent[style], style, part))
            flow.y = y + step

    def _totals(self, flow: _Pages, order: Order, recon: Reconciliation) -> None:
        cur, px, w = order.currency, self.px, self.width
        indent, inset = self.indent, self.inset
        t1, t2, t3 = self.tot_tabs
        head_h = self.line[HEADER]
        row_h = self.line[BOLD] + 3 * px
        self._section(flow, "Totals", f"server figure beside the figure recomputed from "
                      f"the lines ({one_line(cur)})", 10, 3, head_h + row_h)
        checks = [c for c in recon.checks if not _LINE_CHECK.match(c.name)]
        rows = [(BOLD if c.name == "total" else TEXT, c.name.capitalize().translate(_SUBSTITUTES),
                 _check_value(c, c.server, cur), _check_value(c, c.recomputed, cur), c)
                for c in checks]
        # columns move left when figures are wider than their columns (huge figures)
        gap = 8 * px
        name_w = max([self.adv(r[0], r[1]) for r in rows] + [self.adv(HEADER, "Figure")])
        srv_w = max([self.adv(r[0], r[2]) for r in rows] + [self.adv(HEADER, "Server")])
        rec_w = max([self.adv(r[0], r[3]) for r in rows] + [self.adv(HEADER, "Recomputed")])
        chk_w = self.adv(HEADER, "Check")
        need = inset + name_w + srv_w + rec_w + chk_w + 3 * gap + (w - t3)
        if indent + need > w:
            indent = max(0.0, w - need)
        t1 = max(t1, indent + inset + name_w + gap + srv_w)
        t2 = max(t2, t1 + gap + rec_w)
        if t2 + gap + chk_w > t3:
            t2 = t3 - chk_w - gap
            t1 = min(t1, t2 - rec_w - gap)
        y = flow.need(head_h)
        items = flow.items
        items.append((_FILL, QRectF(indent, y, w - indent, head_h), BAND))
        base = y + self.ascent[HEADER]
        items.append((_T, indent + inset, base, HEADER, "Figure"))
        for right, title in ((t1, "Server"), (t2, "Recomputed"), (t3, "Check")):
            items.append((_T, right - self.adv(HEADER, title), base, HEADER, title))
        flow.y = y + head_h
        asc = self.ascent[TEXT]
        for n, (style, name, server, recomputed, check) in enumerate(rows):
            y = flow.need(row_h)
            items = flow.items
            if n % 2:
                items.append((_FILL, QRectF(indent, y, w - indent, row_h), SHADE))
            base = y + 1.5 * px + asc
            items.append((_T, indent + inset, base, style, name))
            for right, text in ((t1, server), (t2, recomputed)):
                items.append((_T, right - self.adv(style, text), base, style, text))
            if check.ok and check.compared:
                items.append((_MARK, True, t3 - self.ok_mark.width,
                              base - self.ok_mark.height))
            elif check.ok:
                items.append((_T, t3 - self.adv(MUTED, NO_MARK), base, MUTED, NO_MARK))
            else:
                items.append((_MARK, False, t3 - self.bad_mark.width,
                              base - self.bad_mark.height))
            flow.y = y + row_h
        formula = f"Total formula: {recon.total_formula.translate(_SUBSTITUTES)}"
        for part in self.wrap(MUTED, formula, w - indent):
            y = flow.need(self.line[MUTED] + 2 * px) + 2 * px
            flow.items.append((_T, w - self.adv(MUTED, part), y + self.ascent[MUTED], MUTED,
                               part))
            flow.y = y + self.line[MUTED]

    def _payments(self, flow: _Pages, order: Order, recon: Reconciliation) -> None:
        cur, px, w, tz = order.currency, self.px, self.width, self.tz
        inset = self.inset
        c1, c2, c3, right = self.pay_tabs
        head_h = self.line[HEADER]
        row_h = self.line[TEXT] + 2 * px
        state = recon.payment_state.value.replace("_", " ")
        self._section(flow, "Payments", state, 10, 3,
                      head_h + row_h if order.payments else row_h)
        asc = self.ascent[TEXT]
        if order.payments:
            dates = [_when(p.created_at, tz) for p in order.payments]
            amounts = [money_text(p.amount, cur) for p in order.payments]
            gap = 6 * px
            # columns move right when a date is wider than its column (a narrow page)
            c1 = max(c1, inset + max(self.adv(TEXT, d) for d in dates) + gap)
            c2 = max(c2, c1 + (c2 - self.pay_tabs[0]))
            c3 = max(c3, c2 + (c3 - self.pay_tabs[1]))
            ref_w = right - max(self.adv(TEXT, a) for a in amounts) - gap - c3
            y = flow.need(head_h)
            items = flow.items
            items.append((_FILL, QRectF(0, y, w, head_h), BAND))
            base = y + self.ascent[HEADER]
            for x, title in ((inset, "Date"), (c1, "Method"), (c2, "Status"),
                             (c3, "Reference")):
                items.append((_T, x, base, HEADER, title))
            items.append((_T, right - self.adv(HEADER, "Amount"), base, HEADER, "Amount"))
            flow.y = y + head_h
            for p, date, amount in zip(order.payments, dates, amounts, strict=True):
                y = flow.need(row_h)
                items = flow.items
                base = y + px + asc
                for x, text in ((inset, date),
                                (c1, self.elide(TEXT, p.method or "—", c2 - c1 - gap)),
                                (c2, self.elide(TEXT, p.status or "—", c3 - c2 - gap)),
                                (c3, self.elide(TEXT, p.reference or "—", ref_w)),
                                (right - self.adv(TEXT, amount), amount)):
                    items.append((_T, x, base, TEXT, text))
                flow.y = y + row_h
        else:
            self._para(flow, MUTED, "No payment records.", 0.0, 0)
        indent = self.indent
        code = one_line(cur)
        for n, (label, figure, style) in enumerate((
                ("Paid", recon.amount_paid, TEXT),
                ("Outstanding", recon.amount_outstanding, BOLD))):
            h = self.line[style] + 2 * px
            top = 4 * px if n == 0 else 0.0
            y = flow.need(top + h)
            if flow.y > 0:
                y += top
            items = flow.items
            if n:
                items.append((_FILL, QRectF(indent, y, w - indent, h), BAND))
            base = y + px + self.ascent[style]
            text = f"{money_text(figure, cur)} {code}"
            items.append((_T, indent + inset, base, style, label))
            items.append((_T, right - self.adv(style, text), base, style, text))
            flow.y = y + h

    def _notes(self, flow: _Pages, order: Order, recon: Reconciliation) -> None:
        if order.has_notes:
            self._section(flow, "Notes", "", 10, 3, self.line[TEXT])
            for text in order.notes.strip().splitlines() or [""]:
                self._para(flow, TEXT, text, 0.0, 0)
        if recon.problems:
            self._section(flow, "Figures that do not add up", "", 10, 3, self.line[MUTED],
                          mark=True)
            for problem in recon.problems:
                self._para(flow, MUTED, "• " + problem.translate(_SUBSTITUTES),
                           8 * self.px, 0)

    # -- drawing --------------------------------------------------------------------

    def draw(self, painter: QPainter, order: Order, *, first: bool) -> int:
        """Draw ``order`` from a new page; returns its page count."""
        keep_none_alive()  # Qt's void calls return an unowned None on CPython 3.11
        pages = self.place(order)
        n = len(pages)
        fonts, pens, colors = self.fonts, self.pens, self.colors
        marks = {True: self.ok_mark, False: self.bad_mark}
        text, glyphs, runs = painter.drawText, painter.drawGlyphRun, self._runs
        for index, items in enumerate(pages):
            if not (first and index == 0) and not self.writer.newPage():
                raise ExportError("The PDF file could not be extended (is the disk full?).")
            style = -1
            for item in items:
                kind = item[0]
                if kind == _T:
                    if item[3] != style:
                        style = item[3]
                        painter.setFont(fonts[style])
                        painter.setPen(pens[style])
                    cached = runs.get((style, item[4])) or self._glyphs(style, item[4])
                    if cached is None:
                        text(QPointF(item[1], item[2]), item[4])
                    else:
                        at = QPointF(item[1], item[2] - cached[0])
                        for run in cached[1]:
                            glyphs(at, run)
                elif kind == _FILL:
                    painter.fillRect(item[1], colors[item[2]])
                elif kind == _MARK:
                    marks[item[1]].draw(painter, item[2], item[3])
                    style = -1
                else:
                    painter.setPen(self.rule_pen)
                    painter.drawLine(item[1])
                    style = -1
            self._footer(painter, order, index + 1, n)
        return n

    def _footer(self, painter: QPainter, order: Order, page: int, pages: int) -> None:
        top = self.footer_top
        painter.setPen(self.footer_pen)
        painter.drawLine(QLineF(0, top, self.width, top))
        painter.setPen(self.pens[FOOTER])
        painter.setFont(self.fonts[FOOTER])
        base = top + self.px * 3 + self.ascent[FOOTER]
        left = self.elide(FOOTER, f"{order.connection} · Order {order.number} · printed "
                          f"{self.stamp}", self.width * 0.75)
        painter.drawText(QPointF(0, base), left)
        right = f"Page {page} of {pages}"
        painter.drawText(QPointF(self.width - self.adv(FOOTER, right), base), right)

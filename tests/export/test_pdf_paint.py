"""The hand-placed PDF renderer (``pdf_paint``): pages, repeated headers, figures, text."""

from __future__ import annotations

import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from factories import shop_order
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter

from orderdesk.export.pdf_export import MARGINS_MM, font_families
from orderdesk.export.pdf_paint import TEXT, PaintRenderer, money_text
from orderdesk.models import Customer, OrderLine, OrderStatus, ServerFigures
from orderdesk.services.export import ExportService
from orderdesk.store import OrderStore
from tests.export.data import pdf_text

pytestmark = [
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
    pytest.mark.usefixtures("qapp"),
]

MARKUP = "<b>x</b>&amp;"


def varied_lines(n: int) -> tuple[OrderLine, ...]:
    """Lines whose figures all differ: unit price, discount, quantity and total."""
    out = []
    for i in range(1, n + 1):
        qty = i % 4 + 1
        unit = Decimal(1000 + i * 37)
        disc = Decimal(i % 3 * 25)
        out.append(OrderLine(remote_id=str(i), product_name=f"Gadget {i}", quantity=qty,
                             unit_price=unit, unit_discount=disc, subtotal=unit * qty,
                             discount=disc * qty, total=(unit - disc) * qty,
                             variant="Blue" if i % 5 == 0 else ""))
    return tuple(out)


@pytest.fixture
def long_store(store: OrderStore) -> OrderStore:
    store.upsert_page("staff", [shop_order("300", number="VARIED-90", lines=varied_lines(90),
                                           figures=ServerFigures())])
    return store


def test_long_order_pages_numbers_and_repeated_header(long_store: OrderStore,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "varied.pdf"
    result = ExportService(long_store).export_pdf(out, ids=long_store.find("VARIED-90"))
    assert result.pages >= 3
    assert pdf_text(out).count("\f") == result.pages
    for page in range(1, result.pages + 1):
        text = pdf_text(out, page)
        assert f"Page {page} of {result.pages}" in text
        assert "VARIED-90" in text  # the footer names the order on every page
        if page > 1 and "Gadget" in text:
            # the lines table's header row is drawn again on a continuation page
            for title in ("Product", "Unit price", "Discount", "Qty", "Total"):
                assert title in text, (page, title)
    assert "CUSTOMER" in pdf_text(out, 1) and "CUSTOMER" not in pdf_text(out, 2)


def test_every_line_figure_is_drawn(long_store: OrderStore, tmp_path: Path) -> None:
    out = tmp_path / "varied.pdf"
    ExportService(long_store).export_pdf(out, ids=long_store.find("VARIED-90"))
    words = pdf_text(out).split()
    for line in varied_lines(90):
        unit = line.unit_price / 100
        total = (line.total or Decimal(0)) / 100
        for figure in (line.product_name.split()[1], money_text(unit, "EUR"),
                       money_text(total, "EUR"), str(line.quantity)):
            assert figure in words, (line.product_name, figure)
        if line.discount:
            assert money_text((line.discount or Decimal(0)) / 100, "EUR") in words


def test_order_text_is_never_markup(store: OrderStore, tmp_path: Path) -> None:
    mug = shop_order().lines[0]
    order = shop_order("400", number="MARKUP-1", notes=f"note {MARKUP}",
                       customer=Customer(id="9", full_name=f"Ann {MARKUP}", email="a@b.c"),
                       lines=(replace(mug, product_name=f"Mug {MARKUP}"),),
                       figures=ServerFigures())
    store.upsert_page("staff", [order])
    out = tmp_path / "m.pdf"
    ExportService(store).export_pdf(out, ids=store.find("MARKUP-1"))
    text = pdf_text(out)
    assert f"Ann {MARKUP}" in text and f"Mug {MARKUP}" in text and f"note {MARKUP}" in text


def test_wrap_fits_and_elides() -> None:
    r = _renderer()
    width = 600.0
    text = "word " * 40 + "X" * 200 + " 東京" * 30
    lines = r.wrap(TEXT, text, width)
    assert len(lines) > 3 and "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(r.fm[TEXT].horizontalAdvance(line) <= width for line in lines)
    short = r.wrap(TEXT, text, width, 3)
    assert len(short) == 3 and short[-1].endswith("…")
    assert r.wrap(TEXT, "a\tb\nc", width) == ["a b c"]


def _renderer(size: QPageSize.PageSizeId = QPageSize.PageSizeId.A4) -> PaintRenderer:
    writer = QPdfWriter(str(Path("/dev/null")))
    layout = QPageLayout(QPageSize(size), QPageLayout.Orientation.Portrait,
                         MARGINS_MM, QPageLayout.Unit.Millimeter)
    return PaintRenderer(writer, layout, font_families(), None)


def _overlaps(r: PaintRenderer, items: list[tuple[object, ...]]) -> list[tuple[str, str]]:
    boxes = []
    for item in items:
        if item[0] != 0:
            continue
        _kind, x, base, style, text = item
        assert isinstance(x, float) and isinstance(base, float) and isinstance(style, int)
        assert isinstance(text, str)
        a = r.fm[style].ascent() * 0.8  # glyph boxes, not the line's leading
        boxes.append((x, base - a, x + r.adv(style, text), base, text))
    return [(b[4], c[4]) for i, b in enumerate(boxes) for c in boxes[i + 1:]
            if b[0] < c[2] and c[0] < b[2] and b[1] < c[3] and c[1] < b[3]]


def test_placed_texts_stay_on_the_page_and_never_overlap(long_store: OrderStore) -> None:
    huge = OrderLine(remote_id="1", product_name="Gold bar " * 12, quantity=12345,
                     unit_price=Decimal(123456789012), unit_discount=Decimal(1234567890),
                     subtotal=Decimal(123456789012 * 12345),
                     discount=Decimal(1234567890 * 12345),
                     total=Decimal((123456789012 - 1234567890) * 12345))
    long_store.upsert_page("staff", [shop_order(
        "500", number="N-" + "9" * 80, lines=(huge,), figures=ServerFigures(),
        status=OrderStatus.from_raw("wc-custom-partially-shipped-awaiting-more-stock"),
        customer=Customer(id="5", full_name="Maximilian von Hohenzollern " * 6,
                          email="x" * 90 + "@example.com"),
        notes="A very long note line " * 40)])
    for r, number in ((_renderer(), "VARIED-90"), (_renderer(), "N-" + "9" * 80),
                      (_renderer(QPageSize.PageSizeId.A5), "N-" + "9" * 80)):
        order = long_store.get(long_store.find(number)[0])
        assert order is not None
        pages = r.place(order)
        for items in pages:
            texts = [i for i in items if i[0] == 0]
            assert all(0 <= i[1] and i[1] + r.adv(i[3], i[4]) <= r.width + 1 for i in texts)
            assert all(0 <= i[2] <= r.height for i in texts)
            assert _overlaps(r, items) == []

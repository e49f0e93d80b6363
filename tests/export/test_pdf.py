import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from orderdesk.export.common import ExportCancelled, ExportError, safe_filename
from orderdesk.models import OrderQuery
from orderdesk.services.export import ExportService
from orderdesk.store import OrderStore
from tests.export.data import UNICODE_NAMES, pdf_text

pytestmark = [
    pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                       reason="needs poppler-utils (pdftotext, pdftoppm)"),
    pytest.mark.usefixtures("qapp"),
]


def page_count(path: Path) -> int:
    return pdf_text(path).count("\f")


def test_batch_pdf_has_every_order_as_text(service: ExportService, store: OrderStore,
                                           all_ids: list[int], tmp_path: Path) -> None:
    out = tmp_path / "batch.pdf"
    result = service.export_pdf(out)
    assert result.paths == (out,) and result.orders == len(all_ids)
    assert result.pages == page_count(out) >= len(all_ids)
    text = pdf_text(out)
    for oid in all_ids:
        order = store.get(oid)
        assert order is not None
        assert f"Order {order.number}" in text
        for line in order.lines:
            assert line.product_name.strip() in text
    assert "33.49" in text and "173.97" in text  # totals (shop order, ecommerce doc)
    assert "Tea 東京" in text
    # Japanese, Greek, Cyrillic as real text. NFKC: Qt's ToUnicode map for Noto CJK
    # names some shared glyphs by their Kangxi radical (山 comes out as U+2F2D).
    folded = unicodedata.normalize("NFKC", text)
    for name in UNICODE_NAMES[:3]:
        assert name in folded
    assert "<b>bold</b>" in text  # notes are text, never markup


def _pixels(path: Path, tmp_path: Path, wanted: Callable[[QColor], bool]) -> int:
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile",
                    str(path), str(tmp_path / "px")], check=True)
    image = QImage(str(tmp_path / "px.png"))
    return sum(1 for y in range(image.height()) for x in range(0, image.width(), 2)
               if wanted(image.pixelColor(x, y)))


def test_marks_are_drawn_and_need_no_symbol_font(store: OrderStore, tmp_path: Path) -> None:
    """✓ and ⚠ are vector drawings: no third font (DejaVu) is embedded for them; the
    text is in the bundled font, not an installed one."""
    from dataclasses import replace
    from decimal import Decimal

    from factories import shop_order

    good = shop_order("900", number="GOOD-1")
    bad = shop_order("901", number="BAD-1")
    bad = replace(bad, figures=replace(bad.figures, total=Decimal("99.00")))
    store.upsert_page("staff", [good, bad])
    service = ExportService(store)
    for number, colour in (("GOOD-1", lambda c: c.green() > c.red() + 60
                            and c.green() > c.blue() + 30),
                           ("BAD-1", lambda c: c.red() > c.blue() + 80
                            and c.green() > c.blue() + 20 and c.red() > 150)):
        out = tmp_path / f"{number}.pdf"
        service.export_pdf(out, ids=store.find(number))
        fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True,
                               text=True).stdout
        names = [line.split()[0] for line in fonts.splitlines()[2:]]
        assert "DejaVu" not in fonts and "NotoSans-Regular" not in names
        # Latin text in the bundled faces; "Tea 東京" needs the installed CJK fallback
        assert {n.split("+")[-1] for n in names} == {
            "OrderdeskSans-Regular", "OrderdeskSans-Bold", "NotoSansCJKjp-Regular"}, fonts
        assert _pixels(out, tmp_path, colour) > 20, number
    assert "Figures that do not add up" in pdf_text(tmp_path / "BAD-1.pdf")


def test_each_order_starts_a_new_page(service: ExportService, all_ids: list[int],
                                      store: OrderStore, tmp_path: Path) -> None:
    out = tmp_path / "b.pdf"
    service.export_pdf(out, ids=all_ids[:3])
    for page, oid in enumerate(all_ids[:3], start=1):
        order = store.get(oid)
        assert order is not None
        assert pdf_text(out, page).lstrip().startswith(f"Order {order.number}")


def test_long_order_flows_with_repeated_header(big_store: OrderStore, tmp_path: Path) -> None:
    service = ExportService(big_store)
    out = tmp_path / "long.pdf"
    ids = big_store.find("LONG-200")
    result = service.export_pdf(out, ids=ids)
    assert result.pages >= 3
    for page in range(1, result.pages + 1):
        text = pdf_text(out, page)
        assert f"Page {page} of {result.pages}" in text
        if "Widget number" in text:
            assert "Unit price" in text  # the lines table header repeats on each page
    everything = pdf_text(out)
    assert all(f"Widget number {i}\n" in everything for i in (1, 100, 200))


def test_page_one_renders_ink(service: ExportService, tmp_path: Path) -> None:
    out = tmp_path / "ink.pdf"
    service.export_pdf(out)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 300
    dark = sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
               if image.pixelColor(x, y).lightness() < 128)
    assert dark > 200


def test_per_order_files(service: ExportService, store: OrderStore, all_ids: list[int],
                         tmp_path: Path) -> None:
    folder = tmp_path / "each"
    result = service.export_pdf(folder, mode="per-order", ids=all_ids[:4])
    assert result.folder == folder and len(result.paths) == 4
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in result.paths)
    for path, oid in zip(result.paths, all_ids[:4], strict=True):
        order = store.get(oid)
        assert order is not None
        assert path.name == safe_filename(order.number) + ".pdf"
        assert f"Order {order.number}" in pdf_text(path)


def test_per_order_duplicate_numbers_get_distinct_names(store: OrderStore,
                                                        tmp_path: Path) -> None:
    from factories import shop_order

    store.upsert_page("shop", [shop_order("1", connection="shop")])  # K-1 in both
    ids = store.find("K-1")
    assert len(ids) == 2
    result = ExportService(store).export_pdf(tmp_path / "dup", mode="per-order", ids=ids)
    assert sorted(p.name for p in result.paths) == ["K-1-shop.pdf", "K-1.pdf"] or \
        sorted(p.name for p in result.paths) == ["K-1-staff.pdf", "K-1.pdf"]


@pytest.mark.parametrize("mode", ["batch", "per-order"])
def test_cancel_leaves_nothing(service: ExportService, tmp_path: Path, mode: str) -> None:
    polls: list[int] = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 3

    target = tmp_path / ("x.pdf" if mode == "batch" else "folder")
    with pytest.raises(ExportCancelled):
        service.export_pdf(target, mode=mode, cancel=cancel)  # type: ignore[arg-type]
    leftovers = [p for p in tmp_path.rglob("*") if "sqlite3" not in p.name and p != target]
    assert leftovers == []
    assert not target.exists() or not any(target.iterdir())


def test_errors_are_clerk_readable(service: ExportService, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        service.export_pdf(tmp_path / "nope" / "x.pdf")
    with pytest.raises(ExportError, match="no orders"):
        service.export_pdf(tmp_path / "x.pdf", ids=[])
    with pytest.raises(ExportError, match="is a file"):
        (tmp_path / "file").write_text("x")
        service.export_pdf(tmp_path / "file", mode="per-order")


def test_safe_filename() -> None:
    assert safe_filename("K-1") == "K-1"
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename('a<b>:c"d|e?f*') == "a_b_c_d_e_f"
    assert safe_filename("CON") == "_CON"
    assert safe_filename("   ") == "order"
    assert safe_filename("東京 #1") == "東京_#1"
    assert len(safe_filename("x" * 500).encode()) <= 100


def test_query_scope(service: ExportService, store: OrderStore, tmp_path: Path) -> None:
    out = tmp_path / "q.pdf"
    result = service.export_pdf(out, query=OrderQuery(connections=("shop",)))
    assert result.orders == 1
    assert "Wireless Headphones" in pdf_text(out)

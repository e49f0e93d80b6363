"""The PDF export's bundled font (``orderdesk/export/fonts``): present, licensed, loaded
first, without hinting, and covering the scripts of the demo's names."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from PySide6.QtGui import QFontDatabase, QRawFont

from orderdesk.export import pdf_export
from orderdesk.export.pdf_export import BUNDLED_FAMILY, FONT_DIR, font_families

pytestmark = pytest.mark.usefixtures("qapp")

FACES = ("OrderdeskSans-Regular.ttf", "OrderdeskSans-Bold.ttf")


def table_tags(path: Path) -> set[str]:
    """The tags of a TrueType file's tables (its table directory)."""
    data = path.read_bytes()
    (count,) = struct.unpack_from(">H", data, 4)
    return {data[12 + 16 * i:16 + 16 * i].decode("latin-1") for i in range(count)}


def test_faces_and_licence_ship_in_the_package() -> None:
    assert sorted(p.name for p in FONT_DIR.glob("*.ttf")) == sorted(FACES)
    licence = (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL Open Font License" in licence and "Noto Sans" in licence


@pytest.mark.parametrize("face", FACES)
def test_faces_have_no_hinting_programs(face: str) -> None:
    """The reason they are bundled: Qt loads each glyph it embeds through FreeType, which
    runs these programs (BENCHMARKS.md, "PDF fonts")."""
    tags = table_tags(FONT_DIR / face)
    assert {"glyf", "cmap", "GPOS"} <= tags
    assert not tags & {"fpgm", "prep", "cvt "}


def test_bundled_family_comes_first() -> None:
    families = font_families()
    assert families[0] == BUNDLED_FAMILY
    assert set(QFontDatabase.styles(BUNDLED_FAMILY)) >= {"Regular", "Bold"}
    assert families == pdf_export.font_families()  # looked up once


@pytest.mark.parametrize("face", FACES)
def test_faces_cover_latin_greek_and_cyrillic(face: str) -> None:
    font = QRawFont(str(FONT_DIR / face), 12)
    assert font.isValid() and font.familyName() == BUNDLED_FAMILY
    for text in ("Łukasz Zieliński", "Jörg Schulz", "Ірина Бондаренко", "Αθήνα",
                 "Crème Watch €1.234,56 — 0–9 № ½"):
        missing = [ch for ch in text if not font.supportsCharacter(ord(ch))]
        assert not missing, (face, missing)


def test_an_unreadable_bundled_font_is_only_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A damaged install costs speed, not the export: installed fonts are the fallback."""
    (tmp_path / "OrderdeskSans-Regular.ttf").write_bytes(b"not a font")
    monkeypatch.setattr(pdf_export, "FONT_DIR", tmp_path)
    with caplog.at_level("WARNING", logger="orderdesk.export.pdf_export"):
        pdf_export._register_bundled()
    assert "could not load the bundled font" in caplog.text
    assert "OrderdeskSans-Regular.ttf" in caplog.text

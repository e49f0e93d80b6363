"""Make the PDF export's bundled fonts (``orderdesk/export/fonts/``) from Noto Sans.

    uv run --with fonttools python scripts/make_pdf_fonts.py [NOTO_DIR]

``NOTO_DIR`` holds ``NotoSans-Regular.ttf`` and ``NotoSans-Bold.ttf`` (default: Debian's
``fonts-noto-core``, ``/usr/share/fonts/truetype/noto``). Each is written without its
TrueType hinting (the ``fpgm``, ``prep`` and ``cvt`` programs and every glyph's
instructions) and renamed "Orderdesk Sans" (the OFL asks a modified font not to pass as
the original; Noto has no reserved name).

Why: closing a PDF file embeds a subset of each font it used, and Qt loads each glyph of
the subset through FreeType, which runs the glyph's hinting program at the font's design
size: ~6 ms of a one-order file's ~17 (BENCHMARKS.md, "PDF fonts"). Hinting fits
outlines to a screen's pixel grid; a PDF is drawn from the outlines at any size, so it
has no use for it, and the files read the same. Needs fontTools (not a dependency of
orderdesk: this runs only when the fonts are remade).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-not-found]
from fontTools.ttLib.tables import ttProgram  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "orderdesk" / "export" / "fonts"
FAMILY = "Orderdesk Sans"
STYLES = ("Regular", "Bold")
#: the hinting programs and tables made from them; DSIG: a signature the changes void
HINTING_TABLES = ("fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX", "DSIG")


def dehint(font: TTFont) -> None:
    for tag in HINTING_TABLES:
        if tag in font:
            del font[tag]
    glyf = font["glyf"]
    for name in glyf.keys():
        glyph = glyf[name]
        if hasattr(glyph, "program"):
            empty = ttProgram.Program()
            empty.fromBytecode(b"")
            glyph.program = empty
    maxp = font["maxp"]
    maxp.maxStorage = maxp.maxFunctionDefs = maxp.maxInstructionDefs = 0
    maxp.maxStackElements = maxp.maxSizeOfInstructions = maxp.maxTwilightPoints = 0
    maxp.maxZones = 1
    if "gasp" in font:  # no grid-fitting at any size; smoothing stays on
        font["gasp"].gaspRange = {0xFFFF: 0x000A}


def rename(font: TTFont, style: str) -> None:
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    table = font["name"]
    version = (table.getDebugName(5) or "Version ?").split(";", 1)[0]
    names = {1: FAMILY, 3: f"{version.removeprefix('Version ')};orderdesk;{postscript}",
             4: f"{FAMILY} {style}", 5: f"{version}; hinting removed", 6: postscript,
             16: FAMILY}
    for record in table.names:
        if record.nameID in names:
            record.string = names[record.nameID]


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else Path("/usr/share/fonts/truetype/noto")
    missing = [f"NotoSans-{s}.ttf" for s in STYLES if not (source / f"NotoSans-{s}.ttf").is_file()]
    if missing:
        print(f"{source} lacks {', '.join(missing)} (Debian: apt-get install fonts-noto-core)",
              file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for style in STYLES:
        # recalcTimestamp: the same input makes the same bytes (no "modified" time)
        font = TTFont(source / f"NotoSans-{style}.ttf", recalcTimestamp=False)
        dehint(font)
        rename(font, style)
        target = OUT / f"OrderdeskSans-{style}.ttf"
        font.save(target)
        print(f"{target}: {target.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

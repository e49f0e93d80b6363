"""Awkward text used by the export tests, and reading a PDF's text back."""

import subprocess
from pathlib import Path

INJECTIONS = ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1:A2)", "\tTabbed", "\rCarriage"]
UNICODE_NAMES = ["山田 太郎", "Γιώργος Παπαδόπουλος", "Иван Петров", "محمد علي", "Zoë 😀"]


def pdf_text(path: Path, page: int | None = None) -> str:
    """The text layer of a PDF (all pages, or one), via poppler's ``pdftotext``."""
    args = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout

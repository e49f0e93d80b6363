"""The Qt side of exports: a ``QGuiApplication`` for PDF rendering from CLI or tests."""

from __future__ import annotations

import os
import sys
import threading

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication

from orderdesk.export.common import ExportError

_app: QGuiApplication | None = None
_NONE_RESERVE = 1 << 40


def keep_none_alive() -> None:
    """Work around PySide6 6.12 (abi3) on CPython < 3.12 dropping a reference to ``None``.

    Every call of a Qt method that returns ``void`` (``setX``, ``insertText``...)
    returns ``None`` without taking a reference: CPython 3.12 made ``None``
    immortal, 3.11 did not, so after a few thousand such calls the interpreter
    aborts with "Fatal Python error: none_dealloc". This gives ``None`` a reserve
    of 2**40 references (what immortality means in 3.12), so the reference count
    cannot reach zero. Harmless and idempotent; a no-op on 3.12+ and on debug
    builds (whose object header differs).
    """
    if sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return
    import ctypes

    count = ctypes.c_ssize_t.from_address(id(None))
    if count.value < _NONE_RESERVE // 2:
        count.value += _NONE_RESERVE


def ensure_gui_app() -> QGuiApplication:
    """The running ``QGuiApplication``, creating one if there is none.

    Without a display (no ``DISPLAY``/``WAYLAND_DISPLAY`` and no
    ``QT_QPA_PLATFORM`` set) the ``offscreen`` platform is chosen, so the CLI
    renders PDFs on a headless machine. Must be called on the main thread when it
    has to create the application.
    """
    global _app
    keep_none_alive()
    existing = QCoreApplication.instance()
    if isinstance(existing, QGuiApplication):
        return existing
    if existing is not None:
        raise ExportError("PDF export needs a graphical Qt application, but a console-only "
                          "one is running.")
    if threading.current_thread() is not threading.main_thread():
        raise ExportError("PDF export could not start: call ensure_gui_app() on the main "
                          "thread first.")
    if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")
            or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    _app = QGuiApplication(sys.argv[:1] or ["orderdesk"])
    return _app

"""The Qt side of exports: a ``QGuiApplication`` for PDF rendering from CLI or tests."""

from __future__ import annotations

import os
import sys
import threading

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication

from orderdesk.export.common import ExportError

_app: QGuiApplication | None = None


def ensure_gui_app() -> QGuiApplication:
    """The running ``QGuiApplication``, creating one if there is none.

    Without a display (no ``DISPLAY``/``WAYLAND_DISPLAY`` and no
    ``QT_QPA_PLATFORM`` set) the ``offscreen`` platform is chosen, so the CLI
    renders PDFs on a headless machine. Must be called on the main thread when it
    has to create the application.
    """
    global _app
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

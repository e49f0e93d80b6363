"""``main()``: the desktop window of orderdesk."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from orderdesk.models.errors import OrderdeskError
from orderdesk.services.context import AppContext, CheckStopped, Opening
from orderdesk.ui.main_window import MainWindow

#: Orders the demo shop serves when the window starts it.
DEMO_ORDERS = 5000


def resources_dir() -> Path | None:
    """``resources/`` of a source checkout (icons, stylesheet), if present."""
    for candidate in (Path(__file__).resolve().parents[2] / "resources",
                      Path(sys.prefix) / "share" / "orderdesk" / "resources"):
        if candidate.is_dir():
            return candidate
    return None


def style_app(app: QApplication) -> None:
    app.setStyle("Fusion")
    folder = resources_dir()
    if folder is None:
        return
    qss = folder / "orderdesk.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    icon = folder / "orderdesk.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def get_app(argv: list[str] | None = None) -> QApplication:
    existing = QCoreApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("orderdesk")
    app.setApplicationDisplayName("orderdesk")
    app.setOrganizationName("orderdesk")
    return app


def needs_demo(ctx: AppContext) -> bool:
    """True when no real (non-demo) connection is configured."""
    try:
        return not [c for c in ctx.config.connections() if not c.demo]
    except OrderdeskError:
        return False


#: steps of the check's progress bar
_CHECK_STEPS = 1000


def open_context(data_dir: str | Path | None) -> AppContext:
    """``AppContext.open``; when it must check the cache first (its first sync was cut
    short by the computer stopping: the whole file is read, about a minute for a
    million orders), on a thread while a dialog shows how far it has come, the window
    not frozen. Its Quit button (or Escape) stops the check: ``CheckStopped``, the
    cache left as it was, checked again at the next start."""
    if not AppContext.checks_first(data_dir):
        return AppContext.open(data_dir)
    dialog = QProgressDialog(
        "Checking the order cache: its first sync was cut short when the computer\n"
        "stopped. This can take a minute for a large cache.", "&Quit", 0, 0)
    dialog.setWindowTitle("orderdesk")
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.show()
    opening = Opening(data_dir)
    while True:
        try:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if dialog.wasCanceled():  # Quit, Escape or closing the dialog
                opening.stop()
            share = opening.share
            if share is not None and not opening.stopping:
                if dialog.maximum() != _CHECK_STEPS:
                    dialog.setRange(0, _CHECK_STEPS)
                dialog.setValue(round(share * _CHECK_STEPS))
            if opening.done.wait(0.02):
                break
        except KeyboardInterrupt:  # Ctrl-C in the terminal that started it: as Quit
            opening.stop()
    dialog.close()
    dialog.deleteLater()
    return opening.result()


def _tell_recovered(window: QWidget, moved: Path) -> None:
    """Say that the cache was found damaged and set aside (``OrderStore.recovered``)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, "orderdesk",
        "The order cache was found damaged: its first sync was cut short when the "
        "computer stopped. "
        "It was set aside and a new, empty cache started; sync to fetch the orders "
        "again. Your connections and settings are unchanged.", parent=window)
    box.setDetailedText(f"The damaged cache was moved to:\n{moved}")
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()


def main(*, data_dir: str | None = None, demo: bool = False,
         argv: list[str] | None = None) -> int:
    """Open the window on ``data_dir`` and run until it closes; the exit code.

    Demo mode (the built-in demo shop, synced in the background) starts when
    ``demo`` is true or when no real connection is configured yet.
    """
    app = get_app(argv)
    style_app(app)
    try:
        ctx = open_context(data_dir)
    except CheckStopped:  # the clerk chose Quit while the cache was being checked
        return 0
    except OrderdeskError as exc:
        box = QMessageBox(QMessageBox.Icon.Critical, "orderdesk", exc.message)
        if exc.details:
            box.setDetailedText(exc.details)
        box.exec()
        return 1
    if demo and any(not c.demo for c in ctx.config.connections()):
        # An explicit --demo next to real connections runs in a folder of its own,
        # so that demo orders never mix with the shop's.
        demo_dir = ctx.data_dir / "demo"
        ctx.close()
        try:
            ctx = open_context(demo_dir)
        except CheckStopped:
            return 0
    window = MainWindow(ctx)
    try:
        window.show()
        if ctx.store.recovered is not None:
            _tell_recovered(window, ctx.store.recovered)
        if demo or needs_demo(ctx):
            window.start_demo(DEMO_ORDERS)
        return int(app.exec())
    finally:
        window.shutdown()
        ctx.close()

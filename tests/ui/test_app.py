"""``main()`` opens and closes the window; sync failures become a readable message."""

from __future__ import annotations

import _thread
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from orderdesk.api import HttpTransport
from orderdesk.config import ConnectionConfig
from orderdesk.services.connections import ConnectionService
from orderdesk.services.context import AppContext
from orderdesk.services.sync import SyncService
from orderdesk.store import unsynced
from orderdesk.ui.app import main, needs_demo
from orderdesk.ui.main_window import MainWindow
from tests.store.test_unsynced import _damage, _left_in_bulk


def add_unreachable(ctx: AppContext, monkeypatch) -> None:
    monkeypatch.setenv("UNREACHABLE_TOKEN", "t")
    ConnectionService(ctx).add(ConnectionConfig(
        name="far-away", kind="shop-staff", base_url="http://127.0.0.1:1",
        token_env="UNREACHABLE_TOKEN", timeout_s=2.0))


def test_main_opens_the_window_and_returns(qtbot, data_dir: Path, monkeypatch):
    ctx = AppContext.open(data_dir)
    add_unreachable(ctx, monkeypatch)
    assert not needs_demo(ctx)
    ctx.close()
    seen: list[MainWindow] = []

    def close_when_shown() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].model.is_complete:
            seen.append(windows[0])
            windows[0].close()
        else:
            QTimer.singleShot(20, close_when_shown)

    QTimer.singleShot(0, close_when_shown)
    assert main(data_dir=str(data_dir)) == 0
    assert seen and seen[0].model.rowCount() == 120
    assert seen[0].demo_session is None


def test_failed_sync_shows_a_message_with_details(qtbot, ctx, monkeypatch):
    add_unreachable(ctx, monkeypatch)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.sync.service = SyncService(
        ctx, transport_factory=lambda: HttpTransport(timeout=2.0, max_retries=0))
    with qtbot.waitSignal(window.sync.finished, timeout=60_000) as finished:
        assert window.start_sync()
        assert window.progress.isVisible() and window.cancel_button.isVisible()
    assert finished.args[0][0].outcome == "failed"
    banner = window.error_banner
    assert banner.isVisible()
    assert banner.label.text().startswith("Sync failed. far-away:")
    assert "Traceback" not in banner.label.text()
    assert banner.details_button.isVisible()
    banner.details_button.click()
    assert banner.details.isVisible() and banner.details.toPlainText()
    assert not window.progress.isVisible()
    assert window.sync_action.isEnabled()
    qtbot.waitUntil(lambda: "offline" in window.connection_status.text(), timeout=10_000)
    window.close()


def test_main_says_when_a_damaged_cache_was_set_aside(qtbot, data_dir: Path, monkeypatch):
    """A first sync cut short by the machine stopping left a damaged cache: the window
    opens on a new one and says where the old one went."""
    ctx = AppContext.open(data_dir)
    add_unreachable(ctx, monkeypatch)  # a real connection: no demo starts
    ctx.close()
    path = data_dir / "orders.sqlite3"
    for old in data_dir.glob("orders.sqlite3*"):  # this folder's cache holds orders
        old.unlink()
    _left_in_bulk(path, "another-boot", os.getpid())
    _damage(path)
    seen: list[tuple[str, str]] = []

    def close_when_told() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        boxes = windows[0].findChildren(QMessageBox) if windows else []
        if boxes and boxes[0].isVisible():
            seen.append((boxes[0].text(), boxes[0].detailedText()))
            boxes[0].close()
            windows[0].close()
        else:
            QTimer.singleShot(20, close_when_told)

    QTimer.singleShot(0, close_when_told)
    assert main(data_dir=str(data_dir)) == 0
    [(message, details)] = seen
    assert "damaged" in message and "sync to fetch the orders again" in message
    [moved] = data_dir.glob("orders.damaged-*.sqlite3")
    assert str(moved) in details


def test_main_shows_that_it_checks_the_cache_first(qtbot, data_dir: Path, monkeypatch):
    """The check after a machine stop reads the whole cache (about a minute for a
    million orders): a busy dialog says so meanwhile, and the window is not frozen."""
    ctx = AppContext.open(data_dir)
    add_unreachable(ctx, monkeypatch)
    ctx.close()
    path = data_dir / "orders.sqlite3"
    for old in data_dir.glob("orders.sqlite3*"):
        old.unlink()
    _left_in_bulk(path, "another-boot", os.getpid())
    assert AppContext.checks_first(data_dir)
    real = unsynced.intact

    def slow(p: Path, progress: Any = None) -> bool:
        time.sleep(0.5)  # a large cache
        return real(p, progress)

    monkeypatch.setattr(unsynced, "intact", slow)
    seen: list[str] = []

    def watch() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible():
                seen.append(w.labelText())
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if windows:
            windows[0].close()
        else:
            QTimer.singleShot(20, watch)

    QTimer.singleShot(0, watch)
    assert main(data_dir=str(data_dir)) == 0
    assert seen and seen[0].startswith("Checking the order cache")
    assert not AppContext.checks_first(data_dir)  # checked, sound, kept
    assert not list(data_dir.glob("orders.damaged-*"))


@pytest.mark.parametrize("how", ["quit", "ctrl-c"])
def test_quit_while_the_cache_is_checked(qtbot, data_dir: Path, monkeypatch, how: str):
    """The check's dialog shows how far it has come; its Quit button (or Ctrl-C in the
    terminal that started the app) stops the check and the app, and leaves the cache
    as it was (checked again at the next start)."""
    ctx = AppContext.open(data_dir)
    ctx.close()
    path = data_dir / "orders.sqlite3"
    for old in data_dir.glob("orders.sqlite3*"):
        old.unlink()
    _left_in_bulk(path, "another-boot", os.getpid())

    def long_check(p: Path, progress: Any = None) -> bool:
        for step in range(1, 1000):  # 50 s at most: Quit must end it long before
            time.sleep(0.05)
            if not progress(min(1.0, step / 100)):
                raise unsynced.CheckStopped()
        raise AssertionError("the check was not stopped")

    monkeypatch.setattr(unsynced, "intact", long_check)
    seen: list[tuple[int, int]] = []

    def quit_when_it_shows_progress() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible() and w.value() > 0:
                seen.append((w.value(), w.maximum()))
                if how == "quit":
                    w.cancel()  # what its Quit button (or Escape) does
                else:
                    threading.Timer(0.05, _thread.interrupt_main).start()
                return
        QTimer.singleShot(20, quit_when_it_shows_progress)

    QTimer.singleShot(0, quit_when_it_shows_progress)
    started = time.monotonic()
    assert main(data_dir=str(data_dir)) == 0
    assert time.monotonic() - started < 20
    [(value, maximum)] = seen
    assert maximum == 1000 and 0 < value < maximum
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]
    assert path.exists() and unsynced.marker(path).exists()
    assert AppContext.checks_first(data_dir)  # checked again at the next start
    assert not list(data_dir.glob("orders.damaged-*"))

"""Render the main window on the demo shop to a PNG (docs/screenshot-main.png).

    QT_QPA_PLATFORM=offscreen python -m orderdesk.ui.screenshot docs/screenshot-main.png
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from orderdesk.services.context import AppContext
from orderdesk.ui.app import get_app, style_app
from orderdesk.ui.main_window import MainWindow


def _spin(app: QApplication, done: Callable[[], bool], timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get ready in time")
        app.processEvents()
        time.sleep(0.01)


def render(out: Path, *, orders: int = 600, width: int = 1400, height: int = 850,
           row: int = 3) -> Path:
    app = get_app()
    style_app(app)
    with tempfile.TemporaryDirectory(prefix="orderdesk-shot-") as folder:
        ctx = AppContext.open(Path(folder))
        window = MainWindow(ctx)
        try:
            window.resize(width, height)
            window.show()
            finished: list[object] = []
            window.sync.finished.connect(finished.append)
            window.start_demo(orders=orders)
            _spin(app, lambda: bool(finished))
            _spin(app, lambda: window.model.is_complete and not window.model.is_loading)
            window.table.setFocus()
            window.table.selectRow(row)
            _spin(app, lambda: window.detail.detail is not None)
            for _ in range(30):
                app.processEvents()
                time.sleep(0.01)
            out.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(out))
        finally:
            window.close()
            ctx.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshot-main.png"))
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--row", type=int, default=3)
    args = parser.parse_args()
    print(render(args.out, orders=args.orders, row=args.row))


if __name__ == "__main__":
    main()

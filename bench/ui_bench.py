"""The read paths at scale: the real main window over a cache, offscreen.

Run as ``python -m bench.ui_bench DB_FILE [--runs R]`` (the suite runs it in a child
process, so that memory is the window's alone); prints one JSON object.

Each figure is wall time on the GUI thread from the user's action to the table
painted (``viewport().repaint()`` returns with real rows in the visible rows):

* ``first_paint_s``: ``MainWindow`` constructed and shown → first rows painted;
* re-sort, filter, search: the query set → the rows of the new result painted and the
  model *complete*: its row count exact and every row readable, anywhere (by index
  windows, or by window queries until the ids of an order no index gives arrive).
  ``*_first_rows_s`` is the first paint alone (earlier when the count comes later);
  ``settled_s`` in the details is when every background job of the query is done as
  well (all ids, counts per status, the anchors of a large index-ordered result,
  which start 250 ms after the first paint). Each is next to its limit: the same SQL
  statement the store runs for all ids, executed with plain ``sqlite3`` on the same
  file and fetched into Python (``fetchall``), which the model no longer needs;
* ``scroll_s``: jump to the middle row → painted (the query settled: a deep window is
  a seek from an anchor, not an ``OFFSET`` scan);
* ``rss_mb`` / ``rss_anon_mb``: ``/proc/self/status`` after all that, read before the
  limits are measured (they fetch a million ids into this process).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QAbstractItemView, QWidget

from orderdesk.config.connections import ConfigStore
from orderdesk.config.secrets import SecretStore
from orderdesk.demo.constants import REFERENCE_DATE
from orderdesk.export.qt import keep_none_alive
from orderdesk.models.query import OrderQuery, SortField, SortKey
from orderdesk.models.status import StatusCategory
from orderdesk.services.context import AppContext
from orderdesk.store import (
    OrderStore,
    querying,
)
from orderdesk.ui.app import get_app
from orderdesk.ui.main_window import MainWindow

#: (name, sort key) of the re-sorts measured; the last one is the default sort.
SORTS: tuple[tuple[str, SortKey], ...] = (
    ("total", SortKey(SortField.TOTAL, descending=True)),
    ("customer", SortKey(SortField.CUSTOMER)),
    ("status", SortKey(SortField.STATUS)),
    ("created", SortKey(SortField.CREATED, descending=True)),
)
#: Status tabs measured: a small, a middle-sized and the largest one.
STATUSES = (StatusCategory.PROCESSING, StatusCategory.CANCELLED, StatusCategory.COMPLETED)


def _now() -> float:
    return time.perf_counter()


def memory() -> dict[str, float]:
    out: dict[str, float] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


class PaintCounter(QObject):
    """Counts the paint events a widget receives."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


class JumpTrace(QObject):
    """Timestamps of one jump (``--trace``): the store's window-ids queries (by
    ``OFFSET``, or ``ids_from`` an anchor) and rows queries, and each paint of the
    table's viewport, as (step, start, duration) in ms from the jump; undone by
    ``done``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window = window
        self.steps: list[tuple[str, float, float]] = []
        service = window.model.service
        self._saved = {"ids": service.ids, "ids_from": service.ids_from, "rows": service.rows}
        for name, fn in self._saved.items():
            setattr(service, name, self._timed(name, fn))
        window.table.viewport().installEventFilter(self)

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = _now()
            try:
                return fn(*args, **kwargs)
            finally:
                self.steps.append((name, t0, _now() - t0))
        return timed

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and watched is self.window.table.viewport():
            t0 = _now()
            self.window.table.viewportEvent(event)
            model = self.window.model
            order_id = model.id_at(max(0, self.window.table.rowAt(0)), fetch=False)
            real = order_id is not None and model._cache.get(order_id) is not None
            self.steps.append(("paint (real rows)" if real else "paint (placeholders)",
                               t0, _now() - t0))
            return True
        return False

    def done(self, t0: float) -> list[tuple[str, float, float]]:
        self.window.table.viewport().removeEventFilter(self)
        service = self.window.model.service
        for name, fn in self._saved.items():
            setattr(service, name, fn)
        return [(name, round((start - t0) * 1e3, 2), round(took * 1e3, 2))
                for name, start, took in self.steps]


class Bench:
    def __init__(self, db: Path, runs: int, *, trace: bool = False) -> None:
        self.trace = trace
        keep_none_alive()  # PySide6 6.12 on CPython 3.11 (see orderdesk.export.qt)
        self.app = get_app([])
        self.db = db
        self.runs = runs
        self.tmp = Path(tempfile.mkdtemp(prefix="orderdesk-ui-bench-"))
        self.window: MainWindow | None = None
        self.paints: PaintCounter | None = None
        self.ctx: AppContext | None = None
        self.raw = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    # plumbing -------------------------------------------------------------------------
    def spin(self, until: Callable[[], bool], timeout: float = 120.0) -> None:
        """Run Qt's event loop (as the app does: idle, the GIL free for the workers)
        until ``until()``, checked every millisecond."""
        if until():
            return
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(1)
        deadline = _now() + timeout
        failed = [False]

        def check() -> None:
            if until():
                loop.quit()
            elif _now() > deadline:
                failed[0] = True
                loop.quit()

        timer.timeout.connect(check)
        timer.start()
        loop.exec()
        timer.stop()
        if failed[0]:
            raise TimeoutError("the window did not get there in time")

    def open_window(self) -> MainWindow:
        folder = self.tmp / f"data-{_now()}"
        folder.mkdir()
        self.ctx = AppContext(data_dir=folder, config=ConfigStore(folder / "config.json"),
                              secrets=SecretStore(), store=OrderStore(self.db))
        window = MainWindow(self.ctx)
        window.resize(1400, 850)
        window.show()
        self.window = window
        self.paints = PaintCounter(window.table.viewport())
        return window

    def close_window(self) -> None:
        if self.window is not None:
            self.window.shutdown()
            self.window.close()
            self.window.deleteLater()
            self.window = None
            QCoreApplication.sendPostedEvents(None, 0)
            self.app.processEvents()
        if self.ctx is not None:
            self.ctx.close()
            self.ctx = None

    def idle(self) -> None:
        w = self.window
        assert w is not None
        self.spin(lambda: not w.runner.busy() and not w.model.runner.busy()
                  and not w.model.anchors_pending and w.model.is_complete)

    def painted(self) -> bool:
        """Repaint the table now; True when its top visible row had a real row."""
        w = self.window
        assert w is not None
        w.table.viewport().repaint()
        return self.top_row_known()

    def top_row_known(self) -> bool:
        w = self.window
        assert w is not None
        if w.model.rowCount() == 0:
            return True
        # without reading anything itself: only what painting has read counts
        order_id = w.model.id_at(max(0, w.table.rowAt(0)), fetch=False)
        return order_id is not None and w.model._cache.get(order_id) is not None

    def wait_painted(self) -> None:
        """Until Qt has painted the table (its own pending update, as a user sees it)
        with real rows at the top; forces a repaint only if Qt had none pending."""
        for _ in range(3):  # updates are posted events; delayed layouts 0-ms timers
            self.app.processEvents()
        if not self.top_row_known():
            self.spin(self.painted)
        # else: either Qt painted the new rows, or nothing visible changed (more ids
        # arriving below the visible rows only move the scroll bar)

    def query_change(self, change: Callable[[], None]) -> tuple[float, float, float]:
        """(first rows painted, complete and painted, settled) seconds after
        ``change()``. Complete: the row count exact and any row readable (model's
        ``is_complete``); settled: every background job of the query done too (all
        ids of an order no index gives, counts per status for the tabs, anchors)."""
        w = self.window
        assert w is not None
        replaced = [0]

        def on_replaced() -> None:
            replaced[0] += 1

        w.model.idsReplaced.connect(on_replaced)
        try:
            t0 = _now()
            change()
            self.spin(lambda: replaced[0] > 0 or w.model.is_complete)
            self.wait_painted()
            first = _now() - t0
            self.spin(lambda: w.model.is_complete)
            self.wait_painted()
            done = _now() - t0
        finally:
            w.model.idsReplaced.disconnect(on_replaced)
        self.idle()
        return first, done, _now() - t0

    def _bare_sql(self, query: OrderQuery) -> str:
        """The store's own SQL for ``query``, with its values inlined."""
        assert self.ctx is not None
        store = self.ctx.store
        stmt = querying.ids_select(query, {c.name: c.id for c in store.list_connections()},
                                   store.dialect)
        return str(stmt.compile(dialect=store.engine.dialect,
                                compile_kwargs={"literal_binds": True}))

    def limit(self, query: OrderQuery) -> float:
        """The store's own SQL for ``query``, run bare with sqlite3 and fetched."""
        sql = self._bare_sql(query)
        times = []
        for _ in range(self.runs):
            t0 = _now()
            self.raw.execute(sql).fetchall()
            times.append(_now() - t0)
        return statistics.median(times)

    def cold_limit(self, query: OrderQuery) -> float:
        """As ``limit``, on a new connection each run: SQLite's page cache empty (the
        OS cache warm), as for the app, whose connection last read another index."""
        sql = self._bare_sql(query)
        times = []
        for _ in range(self.runs):
            t0 = _now()
            db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
            db.execute(sql).fetchall()
            db.close()
            times.append(_now() - t0)
        return statistics.median(times)

    def plan(self, query: OrderQuery, *, window: bool = False) -> str:
        """SQLite's plan for all ids of ``query`` or (``window``) for its first window
        as the store reads it (a search: by the plan the store picks for it)."""
        assert self.ctx is not None
        store = self.ctx.store
        plan = store._search_plan(query, 0, 200) if window else querying.SORT
        stmt = querying.ids_select(query, {c.name: c.id for c in store.list_connections()},
                                   store.dialect, plan=plan)
        if window:
            stmt = stmt.limit(200)
        sql = str(stmt.compile(dialect=store.engine.dialect,
                               compile_kwargs={"literal_binds": True}))
        steps = "; ".join(r[-1] for r in self.raw.execute("EXPLAIN QUERY PLAN " + sql))
        return f"[{plan}] {steps}" if window else steps

    # the measurements -------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        firsts: list[float] = []
        builds: list[float] = []

        def first_paint() -> None:
            self.close_window()
            t0 = _now()
            model = self.open_window().model
            t1 = _now()
            self.spin(lambda: model.rowCount() > 0)
            self.wait_painted()
            firsts.append(_now() - t1)
            builds.append(t1 - t0)
            self.spin(lambda: model.is_complete)
            out["first_complete_s"] = _now() - t1

        # one window for everything until the memory is read; more first paints after
        first_paint()
        phases: dict[str, float] = {"opened": memory().get("RssAnon", 0.0)}
        w = self.window
        assert w is not None
        self.idle()
        n = w.model.rowCount()
        out["rows"] = n
        base = w.current_query()
        plans: dict[str, str] = {}

        # The window's work first, then its memory, then the limits: the bare SQL
        # fetches a million ids into this process, which would count as the window's.
        sorts: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in SORTS}
        for _ in range(self.runs):
            for name, key in SORTS:
                sorts[name].append(self.query_change(lambda k=key: w._sort_requested((k,))))
        phases["sorted"] = memory().get("RssAnon", 0.0)

        base = w.current_query()  # sorted by the default key again
        filters: dict[str, OrderQuery] = {
            f"status {c}": replace(base, categories=(c,)) for c in STATUSES}
        filters["created last 30 days"] = replace(
            base, created_from=REFERENCE_DATE - timedelta(days=30))
        ftimes = self.time_queries(filters, base)
        phases["filtered"] = memory().get("RssAnon", 0.0)

        terms = self.search_terms()
        searches = {f"search {t!r}": replace(base, text=t) for t in terms}
        stimes = self.time_queries(searches, base)
        phases["searched"] = memory().get("RssAnon", 0.0)

        target = n // 2
        scrolls = []
        traces: list[list[tuple[str, float, float]]] = []
        for i in range(self.runs):
            row = target + i * 1000  # a page not read before
            trace = JumpTrace(w) if self.trace else None
            t0 = _now()
            w.table.scrollTo(w.model.index(row, 0),
                             QAbstractItemView.ScrollHint.PositionAtTop)
            self.wait_painted()
            scrolls.append(_now() - t0)
            if trace is not None:
                traces.append(trace.done(t0))
            assert w.table.rowAt(0) == row, (w.table.rowAt(0), row)
        out["scroll_s"] = statistics.median(scrolls)
        out["scroll_row"] = target
        if self.trace:
            out["scroll_trace"] = traces
            out["scroll_data_calls"] = self.count_data_calls(target + self.runs * 1000)

        mem = memory()
        out["rss_mb"] = mem.get("VmRSS", 0.0)
        out["rss_anon_mb"] = mem.get("RssAnon", 0.0)
        out["rss_file_mb"] = mem.get("RssFile", 0.0)
        out["rss_peak_mb"] = mem.get("VmHWM", 0.0)
        out["rss_anon_mb_after"] = phases

        detail: dict[str, Any] = {}
        sort_base = replace(base, sort=())
        for name, key in SORTS:
            query = replace(sort_base, sort=(key,))
            detail[name] = {
                "first_rows_s": statistics.median(t[0] for t in sorts[name]),
                "s": statistics.median(t[1] for t in sorts[name]),
                "settled_s": statistics.median(t[2] for t in sorts[name]),
                "limit_s": self.limit(query),
                "cold_limit_s": self.cold_limit(query),
            }
            plans[f"sort {name}"] = self.plan(query)
        out.update(_slowest("resort", detail))
        out["resort_cold_limit_s"] = max(detail.values(), key=lambda d: d["s"])["cold_limit_s"]
        out.update(_slowest("filter", self.query_details(filters, ftimes, plans)))
        out.update(_slowest("search", self.query_details(searches, stimes, plans)))
        out["plans"] = plans
        for _ in range(self.runs - 1):
            first_paint()
        out["first_paint_s"] = statistics.median(firsts)
        out["window_build_s"] = statistics.median(builds)
        self.close_window()
        return out

    def count_data_calls(self, row: int) -> dict[str, float]:
        """``data()`` calls of one more jump (untimed: counting slows them), per
        painted cell."""
        w = self.window
        assert w is not None
        profile = cProfile.Profile()
        profile.enable()
        try:
            w.table.scrollTo(w.model.index(row, 0),
                             QAbstractItemView.ScrollHint.PositionAtTop)
            self.wait_painted()
        finally:
            profile.disable()
        stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        calls = sum(v[1] for k, v in stats.items()
                    if k[2] == "data" and k[0].endswith("table_model.py"))
        table = w.table
        last = table.rowAt(table.viewport().height() - 1)
        rows = (last if last >= 0 else w.model.rowCount() - 1) - table.rowAt(0) + 1
        header = table.horizontalHeader()
        cols = sum(1 for c in range(header.count())
                   if not header.isSectionHidden(c)
                   and header.sectionViewportPosition(c) < table.viewport().width()
                   and header.sectionViewportPosition(c) + header.sectionSize(c) > 0)
        return {"calls": calls, "cells": rows * cols,
                "per_cell": round(calls / max(1, rows * cols), 2)}

    def time_queries(self, queries: dict[str, OrderQuery], base: OrderQuery
                     ) -> dict[str, list[tuple[float, float, float]]]:
        w = self.window
        assert w is not None
        times: dict[str, list[tuple[float, float, float]]] = {k: [] for k in queries}
        for _ in range(self.runs):
            for name, query in queries.items():
                times[name].append(self.query_change(lambda q=query: w.model.set_query(q)))
                self.query_change(lambda: w.model.set_query(base))
        return times

    def query_details(self, queries: dict[str, OrderQuery],
                      times: dict[str, list[tuple[float, float, float]]],
                      plans: dict[str, str]) -> dict[str, Any]:
        detail: dict[str, Any] = {}
        for name, query in queries.items():
            detail[name] = {
                "first_rows_s": statistics.median(t[0] for t in times[name]),
                "s": statistics.median(t[1] for t in times[name]),
                "settled_s": statistics.median(t[2] for t in times[name]),
                "limit_s": self.limit(query),
                "rows": len(self.raw.execute(self._bare_sql(query)).fetchall()),
            }
            plans[name] = self.plan(query)
            if query.text:
                plans[f"{name}, first window"] = self.plan(query, window=True)
        return detail

    def search_terms(self) -> list[str]:
        """A customer's surname and a product word, taken from the data (seeded)."""
        (n,) = self.raw.execute("SELECT max(id) FROM orders").fetchone()
        customer, product = self.raw.execute(
            "SELECT o.customer, l.product_name FROM orders o JOIN order_lines l "
            "ON l.order_id = o.id WHERE o.id >= ? AND o.customer != '' LIMIT 1",
            (max(1, n // 2),)).fetchone()
        return [customer.split()[-1], product.split()[0]]



def _slowest(prefix: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The figures of the slowest query of a group (its time and limit), the latest
    first rows among them, and the group's detail, under ``prefix``'s keys."""
    worst = max(detail.values(), key=lambda d: d["s"])
    return {f"{prefix}_s": worst["s"], f"{prefix}_limit_s": worst["limit_s"],
            f"{prefix}_first_rows_s": max(d["first_rows_s"] for d in detail.values()),
            f"{prefix}_detail": detail}

def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trace", action="store_true",
                        help="time the steps of each scroll jump (store queries, paints) "
                             "and count data() calls a cell")
    args = parser.parse_args(argv)
    result = Bench(args.db, args.runs, trace=args.trace).run()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    return result


if __name__ == "__main__":
    main()
    os._exit(0)  # skip Qt's teardown of a window-sized process; everything is closed

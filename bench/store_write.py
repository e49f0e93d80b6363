"""What the cache costs to write, part by part: ``python -m bench.store_write [N] [TRIALS]``.

Takes the stored rows of ``N`` orders from the benchmark's cache (``bench.generate``,
built first if missing) and writes them into a fresh store (``OrderStore`` in its bulk
load state, ``begin_bulk``) with plain ``sqlite3``, in pages of 1,000 orders as a sync
writes them, then builds the order indexes (``migrations.ensure_indexes``), as a first
full sync does. Four loads, each adding a
part: the order rows; their lines and payments; the detail and raw JSON; the
full-text row. Prints one JSON line per trial with the CPU seconds of each load and
of the index build: the differences are what each part costs, without HTTP, Python
reading or the worker (BENCHMARKS.md, "Sync and CSV, 2026-12-07 afternoon").
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

PAGE = 1000
PARTS = ("orders", "lines", "docs", "fts")


def _read(db: Path, n: int) -> dict[str, Any]:
    """The stored rows of orders ``1..n``; lines and payments grouped by page."""
    src = sqlite3.connect(db)
    try:
        out: dict[str, Any] = {
            "orders": src.execute("SELECT * FROM orders WHERE id <= ? ORDER BY id",
                                  (n,)).fetchall(),
            "docs": src.execute("SELECT * FROM order_docs WHERE order_id <= ? "
                                "ORDER BY order_id", (n,)).fetchall(),
            "fts": src.execute("SELECT rowid, body FROM orders_fts WHERE rowid <= ? "
                               "ORDER BY rowid", (n,)).fetchall(),
        }
        for table in ("order_lines", "payments"):
            cols = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
            at = cols.index("order_id")
            pages: list[list[Any]] = [[] for _ in range(0, n, PAGE)]
            for row in src.execute(f"SELECT * FROM {table} WHERE order_id <= ? "
                                   "ORDER BY order_id", (n,)):
                pages[(row[at] - 1) // PAGE].append(row)
            out[table] = pages
        return out
    finally:
        src.close()


def _load(rows: dict[str, Any], parts: tuple[str, ...], path: Path) -> tuple[float, float]:
    from orderdesk.store import OrderStore
    from orderdesk.store.migrations import ensure_indexes

    # the store's own empty schema, and its bulk load's state: the order indexes but
    # the unique one dropped, the full-text index's bulk merge setting
    store = OrderStore(path)
    try:
        store.begin_bulk()
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=OFF")  # as the store's bulk load writes
            db.execute("PRAGMA wal_autocheckpoint=20000")

            def insert(table: str, batch: list[Any]) -> None:
                if batch:
                    marks = ", ".join("?" * len(batch[0]))
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)

            orders = rows["orders"]
            t0 = time.process_time()
            for page, start in enumerate(range(0, len(orders), PAGE)):
                end = start + PAGE
                db.execute("BEGIN")
                insert("orders", orders[start:end])
                if "lines" in parts:
                    insert("order_lines", rows["order_lines"][page])
                    insert("payments", rows["payments"][page])
                if "docs" in parts:
                    insert("order_docs", rows["docs"][start:end])
                if "fts" in parts:
                    db.executemany("INSERT INTO orders_fts(rowid, body) VALUES (?, ?)",
                                   rows["fts"][start:end])
                db.execute("COMMIT")
            load = time.process_time() - t0
        finally:
            db.close()
        t1 = time.process_time()
        with store.engine.begin() as conn:  # what the bulk load's end builds
            ensure_indexes(conn)
        return load, time.process_time() - t1
    finally:
        store.close()


def main(n: int, trials: int) -> None:
    from bench import generate  # here: keeps ``--help`` free of the project's imports

    # the full benchmark's cache holds the first N orders of any smaller one
    full = generate.cache_file(1_000_000)
    source = full if n <= 1_000_000 and full.exists() else generate.build(
        max(n, PAGE), log=lambda _m: None)
    rows = _read(source, n)
    with tempfile.TemporaryDirectory() as tmp:
        for trial in range(trials):
            out: dict[str, Any] = {"orders": len(rows["orders"]), "trial": trial + 1}
            for k in range(1, len(PARTS) + 1):
                parts = PARTS[:k]
                load, build = _load(rows, parts, Path(tmp) / f"t{trial}-{k}.sqlite3")
                out["+".join(parts) + "_load_s"] = round(load, 3)
                out["+".join(parts) + "_indexes_s"] = round(build, 3)
            print(json.dumps(out), flush=True)


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="python -m bench.store_write",
                                     description="What the cache costs to write, by part.")
    parser.add_argument("orders", type=int, nargs="?", default=100_000)
    parser.add_argument("trials", type=int, nargs="?", default=2)
    args = parser.parse_args()
    if args.orders < 1 or args.trials < 1:
        parser.error("orders and trials must be at least 1")
    main(args.orders, args.trials)

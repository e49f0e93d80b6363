"""A cache of N realistic orders, written straight into the store, kept between runs.

The orders are the demo server's (``orderdesk.demo``: the same generator, the same
seed → the same orders), rendered as the staff endpoint's JSON, normalised by the
shop API's ``normalize`` and encoded by the store's codec, exactly as a sync would
store them. Only the writing differs: worker processes generate and encode chunks
of 4096 orders in parallel, and the parent bulk-inserts them with plain
``sqlite3.executemany`` into the store's own tables, with the secondary indexes
dropped during the load and rebuilt at the end (sorted builds instead of a million
random B-tree inserts per index).

The file is ``bench/.cache/store-n{N}-seed{S}-g{generator}-s{schema}/orders.sqlite3``;
it is built in a temporary folder and renamed into place when complete, so an
interrupted build is never mistaken for a cache.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bench.common import CACHE
from orderdesk.api.shop.normalize import normalize
from orderdesk.demo.constants import GENERATOR_VERSION, REFERENCE_DATE
from orderdesk.demo.generator import CHUNK, OrderFactory, Renderer, World
from orderdesk.models.entities import ConnectionKind, to_micros
from orderdesk.store import OrderStore
from orderdesk.store.codec import EncodedOrder
from orderdesk.store.migrations import LATEST
from orderdesk.store.schema import lines, order_docs, orders, payments
from orderdesk.store.store import CACHE_FILE

CONNECTION = "bench"
CONNECTION_ID = 1
CURRENCY = "EUR"
SYNCED_AT = to_micros(REFERENCE_DATE)

_ORDER_COLS = [c.name for c in orders.columns]
_LINE_COLS = [c.name for c in lines.columns]
_PAY_COLS = [c.name for c in payments.columns]
_DOC_COLS = [c.name for c in order_docs.columns]

Chunk = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]],
              list[tuple[Any, ...]], list[tuple[Any, ...]]]


def cache_dir(n: int, seed: int = 1) -> Path:
    return CACHE / f"store-n{n}-seed{seed}-g{GENERATOR_VERSION}-s{LATEST}"


def cache_file(n: int, seed: int = 1) -> Path:
    return cache_dir(n, seed) / CACHE_FILE


_STATE: dict[tuple[int, int], tuple[OrderFactory, Renderer]] = {}


def encode_chunk(args: tuple[int, int, int]) -> Chunk:
    """Rows of chunk ``index`` of the demo shop ``(n, seed)``, ready for executemany."""
    n, seed, index = args
    state = _STATE.get((n, seed))
    if state is None:
        world = World(seed, n)
        state = _STATE[(n, seed)] = (OrderFactory(world, n), Renderer(world))
    factory, renderer = state
    order_rows, line_rows, pay_rows, docs, fts = [], [], [], [], []
    for row in factory.chunk(index):
        payload = renderer.staff(row)
        raw = orjson.dumps(payload).decode()
        order = normalize(payload, connection=CONNECTION, kind=ConnectionKind.SHOP_STAFF,
                          currency=CURRENCY, raw=raw)
        enc = EncodedOrder(order, CONNECTION_ID)
        oid = int(payload["id"])
        values = {**enc.row, "id": oid, "synced_at": SYNCED_AT}
        order_rows.append(tuple(values[c] for c in _ORDER_COLS))
        for ln in enc.lines:
            line_rows.append(tuple({**ln, "id": None, "order_id": oid}[c] for c in _LINE_COLS))
        for p in enc.payments:
            pay_rows.append(tuple({**p, "id": None, "order_id": oid}[c] for c in _PAY_COLS))
        docs.append(tuple({"order_id": oid, "detail": enc.detail, "raw": enc.raw}[c]
                          for c in _DOC_COLS))
        fts.append((oid, enc.body))
    return order_rows, line_rows, pay_rows, docs, fts


def _chunks(n: int, seed: int, workers: int) -> Iterator[Chunk]:
    jobs = [(n, seed, i) for i in range((n + CHUNK - 1) // CHUNK)]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield encode_chunk(job)
        return
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with ctx.Pool(workers) as pool:
        yield from pool.imap(encode_chunk, jobs, chunksize=1)


def _insert(table: str, cols: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def build(n: int, seed: int = 1, *, workers: int | None = None,
          log: Callable[[str], None] = print) -> Path:
    """The cache file for ``(n, seed)``, building it first if it is not there."""
    target = cache_file(n, seed)
    if target.exists():
        return target
    final = target.parent
    tmp = final.with_name(final.name + f".building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    store = OrderStore(tmp / CACHE_FILE)  # the schema, at its latest version
    store.add_connection(CONNECTION, str(ConnectionKind.SHOP_STAFF), "http://127.0.0.1:1",
                         currency=CURRENCY, display_name="Benchmark shop")
    store.close()

    db = sqlite3.connect(tmp / CACHE_FILE, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-200000")
    (cid,) = db.execute("SELECT id FROM connections WHERE name = ?", (CONNECTION,)).fetchone()
    if cid != CONNECTION_ID:
        raise RuntimeError(f"unexpected connection id {cid}")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('orders', 'order_lines', 'payments')").fetchall()
    for name, _sql in indexes:
        db.execute(f"DROP INDEX {name}")
    ins_order = _insert("orders", _ORDER_COLS)
    ins_line = _insert("order_lines", _LINE_COLS)
    ins_pay = _insert("payments", _PAY_COLS)
    ins_doc = _insert("order_docs", _DOC_COLS)
    done = 0
    workers = workers if workers is not None else max(1, (os.cpu_count() or 2))
    for order_rows, line_rows, pay_rows, docs, fts in _chunks(n, seed, workers):
        db.execute("BEGIN")
        db.executemany(ins_order, order_rows)
        db.executemany(ins_line, line_rows)
        db.executemany(ins_pay, pay_rows)
        db.executemany(ins_doc, docs)
        db.executemany("INSERT INTO orders_fts(rowid, body) VALUES (?, ?)", fts)
        db.execute("COMMIT")
        done += len(order_rows)
        if done % (CHUNK * 25) < CHUNK:
            log(f"  generated {done:,} of {n:,} orders ({time.perf_counter() - started:.0f} s)")
    loaded = time.perf_counter()
    for _name, sql in indexes:
        db.execute(sql)
    db.execute("PRAGMA journal_mode=WAL")
    # No ANALYZE: a user's cache has no statistics either, so the planner must pick
    # the same indexes without them.
    db.close()
    log(f"  indexes built in {time.perf_counter() - loaded:.0f} s")
    if final.exists():  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(final)
    log(f"built a cache of {n:,} orders in {time.perf_counter() - started:.1f} s: {target}")
    return target

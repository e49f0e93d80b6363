"""Sync throughput (shop-staff, full sync over loopback) against its measured limits.

The limit (``sync_limit_orders_per_s``): the same pages fetched with httpx (keep-alive)
+ ``json.loads`` + plain ``sqlite3.executemany`` of a few columns of the orders, their
lines and payments into three bare tables, one transaction per page, WAL (written as
the store's bulk load writes, :data:`SYNCHRONOUS`), no ORM, no normalisation: what the
machine and the server allow before any orderdesk code runs.

The stored-rows limit (``sync_stored_limit_orders_per_s``): the same, but writing
what the cache holds: every column of the store's own tables (an order row, its lines,
payments, the detail document and the order's JSON text, the full-text row) with the
store's indexes (the secondary ones dropped during the load and built at the end, as
a full sync does), from the JSON values as they come (no checks, no conversions).
Between the two limits is the storage work the cache needs; between the stored-rows
limit and orderdesk is orderdesk's own work per order (reading, checking, converting,
hashing, handing pages between processes).

Both sides use pages of :data:`PAGE` orders, the largest the demo server serves
(its ``MAX_LIMIT``; the shop docs name no maximum). ``python -m bench.sync_bench N
[PAGE]`` measures another page size.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import demo_server_process, settled

PAGE = 1000
#: both limits write as the store's bulk load does (``store.unsynced``): checkpoints do
#: not wait for the disk. (Measured on 2026-12-07, 3 alternated rounds of 100k orders:
#: the bare limit 8,553-10,187 orders/s with NORMAL vs 8,247-8,638 with OFF, the
#: stored-rows limit 3,060-3,529 vs 3,045-3,610: no gain for either within the noise;
#: kept the same as the sync's so that no difference of durability favours the sync.)
SYNCHRONOUS = "OFF"


def _orderdesk_sync(url: str, token: str, n: int) -> float:
    # imported here: the sync's worker process (spawn) imports this module again when it
    # is the main one (``python -m bench.sync_bench``), and these would cost it ~0.5 s
    from orderdesk.config.connections import ConnectionConfig
    from orderdesk.models.entities import ConnectionKind
    from orderdesk.services.connections import ConnectionService
    from orderdesk.services.context import AppContext
    from orderdesk.services.sync import SyncService

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ORDERDESK_BENCH_TOKEN"] = token
        ctx = AppContext.open(Path(tmp))
        try:
            ConnectionService(ctx).add(ConnectionConfig(
                name="bench", kind=ConnectionKind.SHOP_STAFF, base_url=url,
                token_env="ORDERDESK_BENCH_TOKEN", page_size=PAGE))
            t0 = time.perf_counter()
            [result] = SyncService(ctx).sync(["bench"], full=True)
            seconds = time.perf_counter() - t0
            if not result.ok or result.added != n:
                raise RuntimeError(f"bench sync failed: {result}")
            return n / seconds
        finally:
            ctx.close()


_SCHEMA = """
CREATE TABLE o (id INTEGER PRIMARY KEY, remote TEXT, key TEXT, status TEXT, created TEXT,
  updated TEXT, customer TEXT, total TEXT, paid TEXT, outstanding TEXT, notes TEXT, raw TEXT);
CREATE TABLE l (order_remote TEXT, name TEXT, unit INTEGER, qty INTEGER, total INTEGER);
CREATE TABLE p (order_remote TEXT, amount TEXT, method TEXT, status TEXT);
"""


def _raw_limit(url: str, token: str, n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "raw.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        db.executescript(_SCHEMA)
        headers = {"Authorization": f"Token {token}"}
        t0 = time.perf_counter()
        done = 0
        with httpx.Client(headers=headers, timeout=60) as http:
            offset = 0
            while True:
                reply = http.get(url + "/api/orders", params={
                    "limit": PAGE, "offset": offset, "ordering": "updated_at"})
                reply.raise_for_status()
                data: dict[str, Any] = json.loads(reply.content, parse_float=Decimal)
                rows = data["results"]
                db.execute("BEGIN")
                db.executemany("INSERT INTO o VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?)", [
                    (str(r["id"]), r["key"], r["status"], r["created_at"], r["updated_at"],
                     json.dumps(r.get("customer_data")), str(r["total"]),
                     str(r["amount_paid"]), str(r["amount_outstanding"]), r.get("notes"),
                     reply.text[:0]) for r in rows])
                db.executemany("INSERT INTO l VALUES (?,?,?,?,?)", [
                    (str(r["id"]), i["product_name"], i["unit_price"], i["quantity"],
                     i["total"]) for r in rows for i in r.get("items") or []])
                db.executemany("INSERT INTO p VALUES (?,?,?,?)", [
                    (str(r["id"]), str(p["amount"]), p.get("method"), p.get("status"))
                    for r in rows for p in r.get("payments") or []])
                db.execute("COMMIT")
                done += len(rows)
                offset += len(rows)
                if not data.get("next") or not rows:
                    break
        seconds = time.perf_counter() - t0
        db.close()
        if done != n:
            raise RuntimeError(f"raw fetch got {done} of {n}")
        return n / seconds


def _stored_rows(r: dict[str, Any], raw: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]],
                                                       list[tuple[Any, ...]], str]:
    """An order's rows for the stored-rows limit: the store's columns filled from the JSON
    values as they are (the order row without its id; lines and payments without their
    order id; the full-text body)."""
    c = r.get("customer_data") or {}
    name = c.get("full_name") or ""
    city = (r.get("billing_city_data") or {}).get("name") or ""
    state = (r.get("billing_state_data") or {}).get("name") or ""
    country = (r.get("billing_country_data") or {}).get("name") or ""
    pm = (r.get("payment_method_data") or {}).get("name") or ""
    sm = (r.get("shipping_method_data") or {}).get("name") or ""
    items = r.get("items") or []
    row = (1, str(r["id"]), r["key"], r["status"], r["status"], "EUR", r["created_at"],
           r["updated_at"], name, name.lower(), c.get("email") or "", pm, sm, country, state,
           city, r.get("notes") or "", bool(r.get("notes")), len(items), r.get("quantity"),
           str(r.get("items_subtotal")), str(r.get("items_discount")), str(r.get("subtotal")),
           str(r.get("shipping_cost")), str(r.get("total_discount")), str(r["total"]),
           str(r.get("amount_paid")), str(r.get("amount_outstanding")), r.get("count"),
           r.get("quantity"), r.get("is_paid"), r.get("is_payable"), str(r.get("amount_paid")),
           str(r.get("amount_outstanding")), "paid", 0, "minor", raw[:40], 0)
    lines = [(pos, str(i["id"]), str(i.get("product")), i["product_name"], "", "", "",
              i["quantity"], str(i["unit_price"]), str(i.get("unit_discount")),
              str(i.get("subtotal")), str(i.get("discount")), str(i.get("total")), None,
              i.get("notes") or "", i.get("created_at"), i.get("updated_at"))
             for pos, i in enumerate(items)]
    pays = [(pos, str(p["id"]), str(p["amount"]), p.get("method") or "", p.get("status") or "",
             p.get("reference") or "", p.get("created_at"), "[]")
            for pos, p in enumerate(r.get("payments") or [])]
    body = "\n".join(x for x in (r["key"], str(r["id"]), name, c.get("username"),
                                  r.get("billing_address"), city, state, country,
                                  *(i["product_name"] for i in items)) if x).lower()
    return row, lines, pays, body


def _stored_limit(url: str, token: str, n: int) -> float:
    from orderdesk.store import OrderStore
    from orderdesk.store.codec import LINE_COLUMNS, ORDER_COLUMNS, PAYMENT_COLUMNS

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.sqlite3"
        store = OrderStore(path)  # the store's own tables and indexes, empty
        store.close()
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        db.execute("PRAGMA wal_autocheckpoint=20000")
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
            "tbl_name = 'orders' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
        ).fetchall()
        for name, _ in indexes:
            db.execute(f"DROP INDEX {name}")
        ocols = (*ORDER_COLUMNS, "synced_at")
        insert_order = (f"INSERT INTO orders ({', '.join(ocols)}) "
                        f"VALUES ({', '.join('?' * len(ocols))})")
        insert_line = (f"INSERT INTO order_lines ({', '.join(LINE_COLUMNS)}, order_id) "
                       f"VALUES ({', '.join('?' * (len(LINE_COLUMNS) + 1))})")
        insert_pay = (f"INSERT INTO payments ({', '.join(PAYMENT_COLUMNS)}, order_id) "
                      f"VALUES ({', '.join('?' * (len(PAYMENT_COLUMNS) + 1))})")
        headers = {"Authorization": f"Token {token}"}
        t0 = time.perf_counter()
        done = 0
        with httpx.Client(headers=headers, timeout=60) as http:
            offset = 0
            while True:
                reply = http.get(url + "/api/orders", params={
                    "limit": PAGE, "offset": offset, "ordering": "updated_at"})
                reply.raise_for_status()
                data: dict[str, Any] = json.loads(reply.content, parse_float=Decimal)
                rows = data["results"]
                raws = [orjson.dumps(r, default=str).decode() for r in rows]
                stored = [_stored_rows(r, raw) for r, raw in zip(rows, raws, strict=True)]
                first = done + 1
                db.execute("BEGIN")
                db.executemany(insert_order, [s[0] for s in stored])
                db.executemany(insert_line, [(*ln, first + k) for k, s in enumerate(stored)
                                             for ln in s[1]])
                db.executemany(insert_pay, [(*p, first + k) for k, s in enumerate(stored)
                                            for p in s[2]])
                db.executemany("INSERT INTO order_docs (order_id, detail, raw) VALUES (?, ?, ?)",
                               [(first + k, orjson.dumps(r.get("customer_data")).decode(),
                                 raws[k]) for k, r in enumerate(rows)])
                db.executemany("INSERT INTO orders_fts (rowid, body) VALUES (?, ?)",
                               [(first + k, s[3]) for k, s in enumerate(stored)])
                db.execute("COMMIT")
                done += len(rows)
                offset += len(rows)
                if not data.get("next") or not rows:
                    break
        for _, sql in indexes:
            db.execute(sql)
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        seconds = time.perf_counter() - t0
        db.close()
        if done != n:
            raise RuntimeError(f"stored-rows fetch got {done} of {n}")
        return n / seconds


def run(n: int, runs: int = 3) -> dict[str, Any]:
    """Medians of ``2 * runs - 1`` rounds (5 for the default 3), each round measuring
    the stored-rows limit, the limit and orderdesk one after the other, the last two
    back to back: a machine whose speed drifts between minutes (these shared ones do,
    by up to a third) moves the limit and the sync of a round together, so
    ``sync_limit_share``, the median of each round's own ratio, is not skewed by it as
    the ratio of three medians taken minutes apart would be."""
    rounds: list[tuple[float, float, float]] = []
    with demo_server_process(n) as (url, token, startup):
        _raw_limit(url, token, n)  # the server renders each order's JSON once: warm it
        for _ in range(2 * runs - 1):
            stored = settled(_stored_limit, url, token, n)
            rounds.append((settled(_raw_limit, url, token, n), stored,
                           settled(_orderdesk_sync, url, token, n)))
    limit, stored, ours = (statistics.median(r[k] for r in rounds) for k in range(3))
    return {"sync_orders_per_s": round(ours), "sync_limit_orders_per_s": round(limit),
            "sync_stored_limit_orders_per_s": round(stored),
            "sync_limit_share": round(statistics.median(o / b for b, _, o in rounds), 3),
            "sync_rounds": [[round(x) for x in r] for r in rounds],
            "demo_startup_s": round(startup, 2)}


if __name__ == "__main__":  # pragma: no cover
    import sys

    if len(sys.argv) > 2:
        PAGE = int(sys.argv[2])
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)))

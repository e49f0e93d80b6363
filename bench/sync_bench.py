"""Sync throughput (shop-staff, full sync over loopback) against its measured limit.

The limit: the same pages fetched with httpx (keep-alive) + ``json.loads`` + plain
``sqlite3.executemany`` of the same rows (orders, lines, payments) in one
transaction per page, WAL, no ORM, no normalisation: what the machine and the
server allow before any orderdesk code runs.

Both sides use pages of :data:`PAGE` orders, the largest the demo server serves
(its ``MAX_LIMIT``; the shop docs name no maximum). ``python -m bench.sync_bench N
[PAGE]`` measures another page size.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.common import demo_server_process, median_of
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models.entities import ConnectionKind
from orderdesk.services.connections import ConnectionService
from orderdesk.services.context import AppContext
from orderdesk.services.sync import SyncService

PAGE = 1000


def _orderdesk_sync(url: str, token: str, n: int) -> float:
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
        db.execute("PRAGMA synchronous=NORMAL")
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


def run(n: int, runs: int = 3) -> dict[str, float]:
    with demo_server_process(n) as (url, token, startup):
        _raw_limit(url, token, n)  # the server renders each order's JSON once: warm it
        limit = median_of(runs, lambda: _raw_limit(url, token, n))
        ours = median_of(runs, lambda: _orderdesk_sync(url, token, n))
    return {"sync_orders_per_s": round(ours), "sync_limit_orders_per_s": round(limit),
            "demo_startup_s": round(startup, 2)}


if __name__ == "__main__":  # pragma: no cover
    import sys

    if len(sys.argv) > 2:
        PAGE = int(sys.argv[2])
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)))

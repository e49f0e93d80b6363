"""The demo shop's orders in SQLite: generation, the on-disk cache, queries, mutations.

Small shops (≤ :data:`MEMORY_LIMIT` orders, no ``data_file``) live in an in-memory
database. Larger ones are generated once into a cache file keyed by
(generator version, seed, N) and opened from there; the cache file is never
written after it is complete: the first mutation copies it to a private working
file that is deleted on :meth:`Dataset.close`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import sqlite3
import tempfile
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Final

from orderdesk.demo.catalog import World
from orderdesk.demo.constants import DEMO_CUSTOMER_ID, GENERATOR_VERSION
from orderdesk.demo.generator import (
    CHUNK,
    COLUMNS,
    OrderFactory,
    Renderer,
    Row,
    restatus,
)
from orderdesk.demo.query import SqlQuery

MEMORY_LIMIT: Final = 50_000
#: Rendered order documents kept per endpoint (bytes; ~1.3 KB each for the staff one).
RENDER_CACHE: Final = 300_000
#: Use worker processes (fork) for the generation of shops at least this big.
PARALLEL_LIMIT: Final = 200_000

_SELECT: Final = ", ".join(f"o.{c}" for c in COLUMNS)
_INSERT: Final = (f"INSERT INTO orders ({', '.join(COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(COLUMNS))})")
_SCHEMA: Final = f"""
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, {', '.join(c for c in COLUMNS if c != 'id')}
);
CREATE TABLE customers (id INTEGER PRIMARY KEY, username TEXT, first_name TEXT,
    last_name TEXT, email TEXT, mobile TEXT, search TEXT);
CREATE TABLE countries (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE states (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE cities (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE payment_methods (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE shipping_methods (id INTEGER PRIMARY KEY, name TEXT);
"""
_INDEXES: Final = """
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_updated ON orders (updated_at);
CREATE INDEX orders_customer ON orders (customer_id);
"""


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "orderdesk-demo-cache"


def cache_name(seed: int, orders: int) -> str:
    return f"orders-v{GENERATOR_VERSION}-seed{seed}-n{orders}.sqlite3"


def _chunk_worker(args: tuple[int, int, int]) -> list[Row]:
    seed, n, index = args
    factory = _WORKER_FACTORY.get((seed, n))
    if factory is None:
        factory = OrderFactory(World(seed, n), n)
        _WORKER_FACTORY[(seed, n)] = factory
    return factory.chunk(index)


_WORKER_FACTORY: dict[tuple[int, int], OrderFactory] = {}


class Dataset:
    """All orders of one demo shop, queried with SQL; used from one thread at a time."""

    def __init__(self, orders: int, seed: int, *, data_file: Path | None = None,
                 cache_dir: Path | None = None) -> None:
        if orders < 0:
            raise ValueError("orders must be >= 0")
        self.orders = orders
        self.seed = seed
        self.world = World(seed, orders)
        self.factory = OrderFactory(self.world, orders)
        self.renderer = Renderer(self.world)
        self.mutation_round = 0
        self._private: Path | None = None
        self._counts: OrderedDict[tuple[str, tuple[object, ...]], int] = OrderedDict()
        #: (updated_at, id) of every order in ``ordering=updated_at`` order, built on demand
        self._by_updated: tuple[list[int], list[int]] | None = None
        #: id → rendered JSON bytes, per endpoint (cleared by :meth:`mutate`)
        self._rendered: dict[str, dict[int, bytes]] = {}
        self.generated = False
        if data_file is None and orders <= MEMORY_LIMIT:
            self.path: Path | None = None
            self.conn = sqlite3.connect(":memory:", check_same_thread=False)
            self._generate(self.conn)
            self._private_db = True
        else:
            path = data_file or (cache_dir or default_cache_dir()) / cache_name(seed, orders)
            self.path = path
            if not self._valid(path):
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                conn = sqlite3.connect(tmp)
                try:
                    self._generate(conn)
                finally:
                    conn.close()
                os.replace(tmp, path)
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                        check_same_thread=False)
            self._private_db = False
        self.conn.execute("PRAGMA cache_size = -65536")
        self.conn.execute("PRAGMA temp_store = MEMORY")

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.conn.close()
        if self._private is not None:
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{self._private}{suffix}").unlink()
            self._private = None

    def _valid(self, path: Path) -> bool:
        if not path.exists():
            return False
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                meta = dict(conn.execute("SELECT k, v FROM meta").fetchall())
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return False
        return all(meta.get(k) == v for k, v in self._meta().items())

    def _meta(self) -> dict[str, str]:
        return {"version": str(GENERATOR_VERSION), "seed": str(self.seed),
                "orders": str(self.orders), "complete": "1"}

    def _generate(self, conn: sqlite3.Connection) -> None:
        self.generated = True
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(_SCHEMA)
        w = self.world
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (c.id, c.username, c.first_name, c.last_name, c.email, c.mobile,
             "\x1f".join([str(c.id), c.first_name, c.last_name, c.email, c.username,
                          c.mobile or ""]).lower())
            for c in w.customers])
        conn.executemany("INSERT INTO countries VALUES (?, ?)",
                         [(c.id, c.name) for c in w.countries])
        conn.executemany("INSERT INTO states VALUES (?, ?)",
                         [(r.id, r.name) for r, _ in w.region_by_id.values()])
        conn.executemany("INSERT INTO cities VALUES (?, ?)",
                         [(i, n) for i, (n, _) in w.city_by_id.items()])
        conn.executemany("INSERT INTO payment_methods VALUES (?, ?)",
                         [(i, n) for i, n, _ in w.payment_methods])
        conn.executemany("INSERT INTO shipping_methods VALUES (?, ?)",
                         [(i, n) for i, n, _ in w.shipping_methods])
        for rows in self._chunks():
            conn.executemany(_INSERT, rows)
        conn.executescript(_INDEXES)
        meta = self._meta()
        meta["next_id"] = str(self.orders + 1)
        conn.executemany("INSERT INTO meta VALUES (?, ?)",
                         [(k, v) for k, v in meta.items() if k != "complete"])
        conn.execute("INSERT INTO meta VALUES ('complete', '1')")
        conn.commit()

    def _chunks(self) -> Iterator[list[Row]]:
        n_chunks = (self.orders + CHUNK - 1) // CHUNK
        workers = os.cpu_count() or 1
        if self.orders < PARALLEL_LIMIT or workers < 2 or os.name != "posix":
            for index in range(n_chunks):
                yield self.factory.chunk(index)
            return
        _WORKER_FACTORY[(self.seed, self.orders)] = self.factory  # inherited by fork
        ctx = multiprocessing.get_context("fork")
        try:
            with ctx.Pool(workers) as pool:
                yield from pool.imap(_chunk_worker,
                                     [(self.seed, self.orders, i) for i in range(n_chunks)],
                                     chunksize=1)
        finally:
            _WORKER_FACTORY.pop((self.seed, self.orders), None)

    # -------------------------------------------------------------- reading
    def count(self, q: SqlQuery, scope: Iterable[tuple[str, object]] = ()) -> int:
        where, args = self._where(q, scope)
        key = (f"{q.from_sql()}|{where}", tuple(args))
        cached = self._counts.get(key)
        if cached is not None:
            self._counts.move_to_end(key)
            return cached
        (n,) = self.conn.execute(
            f"SELECT count(*) FROM {q.from_sql()} WHERE {where}", args).fetchone()
        self._counts[key] = n
        if len(self._counts) > 512:
            self._counts.popitem(last=False)
        return int(n)

    def page(self, q: SqlQuery, scope: Iterable[tuple[str, object]] = ()) -> list[Row]:
        where, args = self._where(q, scope)
        return self.conn.execute(
            f"SELECT {_SELECT} FROM {q.from_sql()} WHERE {where} ORDER BY {q.order} "
            "LIMIT ? OFFSET ?", [*args, q.limit, q.offset]).fetchall()

    @staticmethod
    def _where(q: SqlQuery, scope: Iterable[tuple[str, object]]) -> tuple[str, list[object]]:
        where = list(q.where)
        args = list(q.args)
        extra_w: list[str] = []
        extra_a: list[object] = []
        for sql, arg in scope:
            extra_w.append(sql)
            if arg is not None:
                extra_a.append(arg)
        return " AND ".join(extra_w + where) or "1", extra_a + args

    def updated_order(self) -> tuple[list[int], list[int]] | None:
        """(updated_at, id) of every order sorted as ``ordering=updated_at`` sorts them, as
        two parallel lists, for keyset pages found with ``bisect``; ``None`` when an order
        has no ``updated_at`` (then only SQL knows where NULLs go)."""
        if self._by_updated is None:
            rows = self.conn.execute(
                "SELECT updated_at, id FROM orders ORDER BY updated_at, id").fetchall()
            if rows and rows[0][0] is None:
                return None
            self._by_updated = ([int(u) for u, _ in rows], [int(i) for _, i in rows])
        return self._by_updated

    def updated_range(self, lo: int | None, hi: int | None) -> tuple[int, int] | None:
        """Positions ``[start, end)`` in :meth:`updated_order` of the orders with
        ``lo <= updated_at <= hi`` (either bound may be absent)."""
        index = self.updated_order()
        if index is None:
            return None
        keys = index[0]
        start = 0 if lo is None else bisect_left(keys, lo)
        end = len(keys) if hi is None else bisect_right(keys, hi)
        return start, max(start, end)

    def rendered(self, endpoint: str, ids: list[int],
                 render: Callable[[Row], bytes]) -> list[bytes]:
        """The JSON bytes of each of ``ids`` as ``endpoint`` serves it, rendered once per
        order (and again after a mutation)."""
        cache = self._rendered.setdefault(endpoint, {})
        missing = [i for i in ids if i not in cache]
        if missing:
            if len(cache) + len(missing) > RENDER_CACHE:
                cache.clear()
            for start in range(0, len(missing), 500):
                chunk = missing[start:start + 500]
                for row in self.conn.execute(
                        f"SELECT {_SELECT} FROM orders o WHERE o.id IN "
                        f"({','.join('?' * len(chunk))})", chunk):
                    cache[row[0]] = render(row)
        return [cache[i] for i in ids if i in cache]

    def render_rows(self, endpoint: str, rows: list[Row],
                    render: Callable[[Row], bytes]) -> list[bytes]:
        """As :meth:`rendered`, for rows already read."""
        cache = self._rendered.setdefault(endpoint, {})
        if len(cache) + len(rows) > RENDER_CACHE:
            cache.clear()
        out = []
        for row in rows:
            data = cache.get(row[0])
            if data is None:
                data = cache[row[0]] = render(row)
            out.append(data)
        return out

    def get(self, oid: int) -> Row | None:
        row: Row | None = self.conn.execute(
            f"SELECT {_SELECT} FROM orders o WHERE o.id = ?", (oid,)).fetchone()
        return row

    def all_rows(self) -> list[Row]:
        """Every row, by id (for tests and small shops)."""
        return self.conn.execute(f"SELECT {_SELECT} FROM orders o ORDER BY o.id").fetchall()

    # ------------------------------------------------------------- mutating
    def _writable(self) -> None:
        if self._private_db:
            return
        fd, name = tempfile.mkstemp(prefix="orderdesk-demo-", suffix=".sqlite3",
                                    dir=self.path.parent if self.path else None)
        os.close(fd)
        target = sqlite3.connect(name, check_same_thread=False)
        self.conn.backup(target)
        self.conn.close()
        target.execute("PRAGMA journal_mode = MEMORY")
        target.execute("PRAGMA synchronous = OFF")
        self.conn = target
        self._private = Path(name)
        self._private_db = True

    def mutate(self, count: int) -> dict[str, Any]:
        """Create, update and delete about ``count`` orders (see the module docstring)."""
        self._writable()
        self.mutation_round += 1
        rnd = self.mutation_round
        rng = random.Random(f"orderdesk-demo:{self.seed}:mutate:{rnd}")
        conn = self.conn
        (next_id,) = conn.execute("SELECT v FROM meta WHERE k = 'next_id'").fetchone()
        next_id = int(next_id)
        (max_updated,) = conn.execute("SELECT max(updated_at) FROM orders").fetchone()
        t = int(max_updated or 0) + 1_000_000
        n_delete = count // 5
        n_create = (count - n_delete + 1) // 2
        n_update = count - n_delete - n_create

        touched: set[int] = set()

        def pick(demo: bool) -> int | None:
            for _ in range(20):
                start = 1 + int(rng.random() * max(next_id - 1, 1))
                sql = ("SELECT id FROM orders WHERE id >= ? AND status != 'deleted'"
                       + (" AND customer_id = ?" if demo else "") + " ORDER BY id LIMIT ?")
                params: list[object] = [start]
                if demo:
                    params.append(DEMO_CUSTOMER_ID)
                params.append(len(touched) + 1)
                for (oid,) in conn.execute(sql, params):
                    if oid not in touched:
                        touched.add(oid)
                        return int(oid)
            return None

        created: list[int] = []
        updated: list[int] = []
        deleted: list[int] = []
        hard: list[int] = []
        soft: list[int] = []
        for _ in range(n_create):
            t += 1000
            oid = next_id
            next_id += 1
            cust: int | str = DEMO_CUSTOMER_ID if rng.random() < 0.34 else "random"
            row = self.factory.make(rng, oid, t, updated=t, customer=cust, status="new",
                                    allow_anomaly=False)
            conn.execute(_INSERT, row)
            created.append(oid)
            touched.add(oid)
        for i in range(n_update):
            oid_opt = pick(i % 2 == 0)
            if oid_opt is None:
                break
            t += 1000
            current = self.get(oid_opt)
            assert current is not None
            new = restatus(self.factory, current, rng, t, rnd)
            conn.execute("DELETE FROM orders WHERE id = ?", (oid_opt,))
            conn.execute(_INSERT, new)
            updated.append(oid_opt)
        for i in range(n_delete):
            oid_opt = pick(i % 2 == 1)
            if oid_opt is None:
                break
            t += 1000
            if (i + rnd) % 2 == 0:
                conn.execute("DELETE FROM orders WHERE id = ?", (oid_opt,))
                hard.append(oid_opt)
            else:
                conn.execute(
                    "UPDATE orders SET status = 'deleted', is_payable = 0, is_paid = 0, "
                    "amount_outstanding = 0, updated_at = ? WHERE id = ?", (t, oid_opt))
                soft.append(oid_opt)
            deleted.append(oid_opt)
        conn.execute("UPDATE meta SET v = ? WHERE k = 'next_id'", (str(next_id),))
        conn.commit()
        self._counts.clear()
        self._by_updated = None
        self._rendered.clear()
        return {"created": created, "updated": updated, "deleted": deleted,
                "hard_deleted": hard, "soft_deleted": soft, "round": rnd}


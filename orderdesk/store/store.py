"""``OrderStore``: the local cache. The only code that speaks SQL."""

from __future__ import annotations

import json
import logging
import threading
from array import array
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from orderdesk.models.entities import Order, to_micros
from orderdesk.models.errors import DataError, StoreError
from orderdesk.models.flat import FlatOrder
from orderdesk.models.query import OrderQuery, search_terms
from orderdesk.models.rows import ChangeSet, OrderRow, StoredConnection, SyncLogEntry
from orderdesk.models.status import StatusCategory
from orderdesk.store import querying, unsynced
from orderdesk.store.codec import (
    LINE_COLUMNS,
    ORDER_COLUMNS,
    PAYMENT_COLUMNS,
    EncodedPage,
    decode_order,
    decode_row,
    encode_page,
    from_micros,
)
from orderdesk.store.migrations import (
    FTS_BULK_AUTOMERGE,
    ensure_indexes,
    migrate,
    set_fts_automerge,
)
from orderdesk.store.schema import (
    connections,
    lines,
    order_docs,
    orders,
    payments,
    sync_log,
    sync_state,
)

log = logging.getLogger(__name__)

CACHE_FILE = "orders.sqlite3"
_CHUNK = 500  # bound parameters per IN (...) list
_FETCH = 65536  # ids per fetchmany
#: A search matching under 1 order in this many is read by sorting its matches.
_DRIVE_RATIO = 100


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # 8 MB of page cache a connection (up to five: one per thread). Pages past it are
    # read again from the OS's cache, which costs less than filling a large cache on a
    # cold scan (an OFFSET 500,000 on a new connection: 11-15 ms vs 27-44 ms at 32 MB);
    # the window's RssAnon at a million orders 155 MB instead of 228 MB; the sync's
    # index write rate (bench.index_cost) unchanged within its noise.
    cursor.execute("PRAGMA cache_size=-8000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


#: ``Connection.info`` key: the connection writes a bulk load's pages without syncs
_UNSYNCED = "orderdesk_unsynced"


def _resync(dbapi_conn: Any, record: Any) -> None:
    """Back in the pool: a connection that wrote a bulk load's page without syncs
    syncs again (``synchronous`` is per connection, and pooled ones are reused)."""
    if record.info.pop(_UNSYNCED, False) and dbapi_conn is not None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


#: The columns ``decode_row`` reads, for ``rows()`` (a page of the table).
_ROW_COLUMNS = ("id", "connection_id", "remote_id", "number", "status_raw", "category",
                "created_at", "updated_at", "synced_at", "customer", "email", "line_count",
                "quantity", "currency", "total", "paid", "outstanding", "payment_method",
                "shipping_method", "country", "problems", "has_notes")
_RowValues = namedtuple("_RowValues", _ROW_COLUMNS)  # type: ignore[misc]
_ROW_SELECT = select(*(orders.c[name] for name in _ROW_COLUMNS))


class OrderStore:
    """A cache of orders for any number of connections.

    Thread-safe: each call takes a pooled connection; writes are serialised by
    the database (WAL lets readers go on while a sync writes).
    """

    def __init__(self, url_or_path: str | Path, *, echo: bool = False,
                 check: unsynced.CheckProgress | None = None) -> None:
        """``check``: told how far the check of the file has come, when it must be
        checked first (:meth:`checks_first`), and stops it by returning False
        (``unsynced.CheckStopped``)."""
        url = str(url_or_path)
        #: the cache file (SQLite), None for a database server
        self.path: Path | None = None
        #: where a cache damaged during an interrupted first sync was moved (the machine
        #: stopped; ``unsynced.recover``): this store is a new, empty one
        self.recovered: Path | None = None
        if "://" not in url:
            path = Path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
            self.path = path
            try:
                self.recovered = unsynced.recover(path, check)
            except OSError as exc:
                raise StoreError(f"The order cache at {url} cannot be opened.",
                                 details=str(exc)) from exc
        self.url = url
        try:
            self.engine: Engine = create_engine(url, echo=echo)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
                event.listen(self.engine, "checkin", _resync)
            with self.engine.begin() as conn:
                migrate(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"The order cache at {url} cannot be opened.",
                             details=str(exc)) from exc
        self.dialect = self.engine.dialect.name
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()
        self._fts_counts: dict[str, int] = {}  # MATCH expression -> orders (a hint)
        self._plans: dict[str, bool] = {}  # ids statement -> read off one index
        #: (query, connection ids, NULL anchor key, columns) -> querying.seek_segments
        self._seeks: dict[tuple[Any, ...], list[tuple[Any, Any]]] = {}
        self._id_bounds: tuple[int, int] | None = None  # lowest id, orders: a plan hint

    @classmethod
    def in_dir(cls, data_dir: Path, *,
               check: unsynced.CheckProgress | None = None) -> OrderStore:
        return cls(Path(data_dir) / CACHE_FILE, check=check)

    @staticmethod
    def checks_first(data_dir: Path) -> bool:
        """Whether opening the cache in ``data_dir`` checks the whole file first (its
        first sync was cut short by the machine stopping; ``unsynced.recover``): about
        a minute for a million orders."""
        return unsynced.will_check(Path(data_dir) / CACHE_FILE)

    def close(self) -> None:
        self._stop_flusher()  # closed mid-load: its marker stays for the next open
        self.engine.dispose()

    def _stop_flusher(self) -> None:
        if self._flusher is not None:
            self._flusher.stop()
            self._flusher = None

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError("The order cache could not be updated.", details=str(exc),
                             retriable=True) from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError("The order cache could not be read.", details=str(exc),
                             retriable=True) from exc

    # connections ----------------------------------------------------------------
    def add_connection(self, name: str, kind: str, base_url: str, *, currency: str = "",
                       display_name: str = "") -> StoredConnection:
        """Register a connection, or update its settings if the name exists."""
        values = {"kind": kind, "base_url": base_url, "currency": currency,
                  "display_name": display_name}
        with self._begin() as conn:
            found = conn.execute(select(connections.c.id).where(connections.c.name == name)
                                 ).scalar()
            if found is None:
                found = conn.execute(connections.insert().values(name=name, **values)
                                     ).inserted_primary_key[0]  # type: ignore[index]
            else:
                conn.execute(connections.update().where(connections.c.id == found)
                             .values(**values))
        self._names.clear()
        result = self.connection(name)
        assert result is not None
        return result

    def connection(self, name: str) -> StoredConnection | None:
        for item in self.list_connections():
            if item.name == name:
                return item
        return None

    def list_connections(self) -> list[StoredConnection]:
        with self._read() as conn:
            rows = conn.execute(select(connections).order_by(connections.c.name)).all()
        return [StoredConnection(r.id, r.name, r.kind, r.base_url, r.currency, r.display_name)
                for r in rows]

    def remove_connection(self, name: str) -> int:
        """Delete a connection and everything cached for it; returns the orders removed."""
        with self._begin() as conn:
            cid = conn.execute(select(connections.c.id).where(connections.c.name == name)
                               ).scalar()
            if cid is None:
                return 0
            n = conn.execute(select(func.count()).where(orders.c.connection_id == cid)).scalar()
            if self.dialect == "sqlite":
                conn.execute(text("DELETE FROM orders_fts WHERE rowid IN "
                                  "(SELECT id FROM orders WHERE connection_id = :c)"), {"c": cid})
            conn.execute(connections.delete().where(connections.c.id == cid))
        self._names.clear()
        return int(n or 0)

    def _connection_ids(self) -> dict[str, int]:
        with self._lock:
            if not self._names:
                with self._read() as conn:
                    self._names = dict(conn.execute(
                        select(connections.c.id, connections.c.name)).all())
            return {name: cid for cid, name in self._names.items()}

    def _name(self, cid: int) -> str:
        if cid not in self._names:
            self._names.clear()
            self._connection_ids()
        return self._names.get(cid, "?")

    def _require(self, name: str) -> int:
        cid = self._connection_ids().get(name)
        if cid is None:
            raise StoreError(f"There is no connection named {name!r} in the cache.")
        return cid

    # writing ----------------------------------------------------------------------
    #: between :meth:`begin_bulk` and :meth:`end_bulk`
    _bulk = False
    #: the bulk load's pages are written without syncs (its marker is on disk)
    _unsynced = False
    #: writes them to disk meanwhile (``unsynced.Flusher``)
    _flusher: unsynced.Flusher | None = None

    def upsert_page(self, connection: str, page: Sequence[Order | FlatOrder] | EncodedPage,
                    state: Mapping[str, Any] | None = None,
                    synced_at: datetime | None = None) -> ChangeSet:
        """Write a page of orders and (optionally) the connection's sync state, atomically.

        ``page``: orders, or their rows already encoded (:func:`codec.encode_page`, which
        the sync's worker process runs). Orders whose content did not change only get
        their ``synced_at`` moved on; the change set lists internal ids added and changed.
        """
        cid = self._require(connection)
        if isinstance(page, EncodedPage):
            if page.connection_id != cid:
                raise DataError(f"a page encoded for connection #{page.connection_id} "
                                f"cannot be written to {connection!r}")
            encoded = page
        else:
            for order in page:
                if order.connection != connection:
                    raise DataError(f"order {order.number} belongs to {order.connection!r}, "
                                    f"not {connection!r}")
            encoded = encode_page(page, cid)
        stamp = to_micros(synced_at or _now())
        with self._begin() as conn:
            if self.dialect == "sqlite":
                # During a bulk load, let the WAL grow to ~80 MB between checkpoints
                # (each one copies pages into the database and syncs both files): a
                # quarter less write time per order. Per connection, so set every time.
                conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {_wal_pages(self._bulk)}")
                if self._unsynced:
                    # a bulk load's checkpoints do not wait for the disk (``unsynced``)
                    conn.info[_UNSYNCED] = True
                    conn.exec_driver_sql("PRAGMA synchronous=OFF")
            changes = self._write(conn, encoded, stamp)
            if state is not None:
                self._put_state(conn, cid, state)
        return changes

    def _write(self, conn: Connection, page: EncodedPage, stamp: int) -> ChangeSet:
        """Insert, update or skip each order of the page by its content hash. The child
        rows end with their order's position in the page: when every order is new and
        SQLite numbered them in one run (always, unless ids were deleted at the top),
        the id is ``position + first id`` in the statement itself, else each row gets its
        order's id here."""
        cid, rids, hashes = page.connection_id, page.remote_ids, page.hashes
        mark = self._mark()
        stamp = int(stamp)
        existing: dict[str, tuple[int, str]] = {}
        for chunk in _chunks(rids):
            sql = (f"SELECT remote_id, id, content_hash FROM {orders.name} "
                   f"WHERE connection_id = {mark} AND remote_id IN "
                   f"({', '.join([mark] * len(chunk))})")
            for rid, oid, digest in conn.exec_driver_sql(sql, (cid, *chunk)):
                existing[rid] = (oid, digest)
        new = [i for i, rid in enumerate(rids) if rid not in existing]
        changed = [i for i, rid in enumerate(rids) if rid in existing
                   and existing[rid][1] != hashes[i]]
        same = [existing[rid][0] for i, rid in enumerate(rids) if rid in existing
                and existing[rid][1] == hashes[i]]
        keys = ", ".join(ORDER_COLUMNS)
        oid_of: dict[int, int] = {}
        base: int | None = None
        if new:
            rows = page.orders if len(new) == len(rids) else [page.orders[i] for i in new]
            sqlite = self.dialect == "sqlite"
            before = conn.exec_driver_sql(f"SELECT max(id) FROM {orders.name}").scalar() \
                if sqlite and len(new) == len(rids) else None
            conn.exec_driver_sql(
                f"INSERT INTO {orders.name} ({keys}, synced_at) "
                f"VALUES ({', '.join([mark] * len(ORDER_COLUMNS))}, {stamp})", rows)
            if before is not None:
                last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar()
                if last is not None and int(last) - int(before or 0) == len(rids):
                    base = int(before or 0) + 1
            if base is None:
                fresh = [rids[i] for i in new]
                for chunk in _chunks(fresh):
                    for oid, rid in conn.execute(
                            select(orders.c.id, orders.c.remote_id)
                            .where(orders.c.connection_id == cid,
                                   orders.c.remote_id.in_(chunk))):
                        existing[rid] = (oid, "")
                oid_of.update((i, existing[rids[i]][0]) for i in new)
        if changed:
            ids = [existing[rids[i]][0] for i in changed]
            sets = ", ".join(f"{k} = {mark}" for k in ORDER_COLUMNS)
            conn.exec_driver_sql(
                f"UPDATE {orders.name} SET {sets}, synced_at = {stamp} WHERE id = {mark}",
                [(*page.orders[i], existing[rids[i]][0]) for i in changed])
            for chunk in _chunks(ids):
                conn.execute(delete(lines).where(lines.c.order_id.in_(chunk)))
                conn.execute(delete(payments).where(payments.c.order_id.in_(chunk)))
                conn.execute(delete(order_docs).where(order_docs.c.order_id.in_(chunk)))
                if self.dialect == "sqlite":
                    conn.execute(text("DELETE FROM orders_fts WHERE rowid IN "
                                      f"({','.join(str(int(i)) for i in chunk)})"))
            oid_of.update((i, existing[rids[i]][0]) for i in changed)
        tables: list[tuple[str, Sequence[str], list[tuple[Any, ...]]]] = [
            (lines.name, LINE_COLUMNS, page.lines),
            (payments.name, PAYMENT_COLUMNS, page.payments),
            (order_docs.name, ("detail", "raw"), page.docs)]
        if self.dialect == "sqlite":
            tables.append(("orders_fts", ("body",), page.fts))
        for table, columns, child_rows in tables:
            oid_column = "rowid" if table == "orders_fts" else "order_id"
            values = [mark] * len(columns)
            if table == order_docs.name and self.dialect == "sqlite":
                # the raw JSON may come as its UTF-8 bytes (from the worker process:
                # no decoding and re-encoding of 2.5 KB an order); stored as TEXT
                values[-1] = f"CAST({mark} AS TEXT)"
            elif table == order_docs.name:
                child_rows = [(d, r.decode("utf-8") if isinstance(r, bytes) else r, i)
                              for d, r, i in child_rows]
            if base is not None:  # all new, numbered in one run: no row is touched here
                self._insert_many(conn, table, (*columns, oid_column), child_rows,
                                  values=(*values, f"{mark} + {base}"))
            elif oid_of:
                self._insert_many(conn, table, (*columns, oid_column),
                                  [(*r[:-1], oid_of[r[-1]]) for r in child_rows
                                   if r[-1] in oid_of], values=(*values, mark))
        for chunk in _chunks(same):
            conn.execute(update(orders).where(orders.c.id.in_(chunk)).values(synced_at=stamp))
        first = base if base is not None else 0
        return ChangeSet(
            added=tuple(range(first, first + len(rids))) if base is not None
            else tuple(oid_of[i] for i in new),
            changed=tuple(oid_of[i] for i in changed),
        )

    def _mark(self) -> str:
        return "?" if self.engine.dialect.paramstyle == "qmark" else "%s"

    def _insert_many(self, conn: Connection, table: str, keys: Sequence[str],
                     rows: list[tuple[Any, ...]], *,
                     values: Sequence[str] | None = None) -> None:
        """executemany of plain tuples straight through the driver: the sync's hot path
        (Core's per-row parameter processing costs more than SQLite's insert itself).
        ``values``: the SQL of each column's value (default: a bare parameter each)."""
        if not rows:
            return
        if values is None:
            values = [self._mark()] * len(keys)
        sql = f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join(values)})"
        conn.exec_driver_sql(sql, rows)

    def begin_bulk(self) -> bool:
        """Before a full sync into an empty cache: drop the secondary indexes of the order
        table, so that each order written costs one b-tree insert instead of 22;
        :meth:`end_bulk` builds them again in one sorted pass each (~5x cheaper); and
        let the full-text index merge its segments less often (``FTS_BULK_AUTOMERGE``)
        until :meth:`end_bulk`; and write the pages without waiting for the disk
        (``synchronous=OFF``: checkpoints do not ``fsync``; see :mod:`.unsynced` for why
        that is safe and what an interrupted load leaves). Only
        when the cache holds no order at all (nothing to show or sort yet) and on SQLite;
        returns whether it did. A cache left without them (the process was killed) gets
        them back the next time it is opened."""
        if self.dialect != "sqlite":
            return False
        with self._begin() as conn:
            if conn.execute(select(orders.c.id).limit(1)).first() is not None:
                return False
            for index in orders.indexes:
                if not index.unique:  # (connection, remote id) finds the orders to update
                    index.drop(conn, checkfirst=True)
            set_fts_automerge(conn, FTS_BULK_AUTOMERGE)
        self._bulk = True
        self._unsynced = self.path is not None and unsynced.mark(self.path)
        if self._unsynced and self.path is not None:
            self._flusher = unsynced.Flusher(self.path)
        return True

    def end_bulk(self) -> None:
        """Build the indexes :meth:`begin_bulk` dropped, put back the full-text index's
        merge policy; checkpoint the WAL; sync what the load wrote to disk."""
        was_unsynced, self._unsynced, self._bulk = self._unsynced, False, False
        try:
            with self._begin() as conn:
                ensure_indexes(conn)
            if self.dialect == "sqlite":
                with self._begin() as conn:
                    conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {_wal_pages(False)}")
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            self._stop_flusher()
            if was_unsynced and self.path is not None:
                try:
                    unsynced.settle(self.path)
                except OSError as exc:  # the marker stays: the next open settles it
                    log.warning("could not sync the order cache to disk: %s", exc)

    def mark_deleted(self, connection: str, remote_ids: Iterable[str],
                     state: Mapping[str, Any] | None = None) -> ChangeSet:
        """Orders the server no longer has: kept, but moved to the Deleted category."""
        cid = self._require(connection)
        wanted = list(remote_ids)
        removed: list[int] = []
        with self._begin() as conn:
            for chunk in _chunks(wanted):
                found = conn.execute(
                    select(orders.c.id).where(
                        orders.c.connection_id == cid, orders.c.remote_id.in_(chunk),
                        orders.c.category != str(StatusCategory.DELETED))).scalars().all()
                if found:
                    conn.execute(update(orders).where(orders.c.id.in_(found))
                                 .values(category=str(StatusCategory.DELETED),
                                         content_hash=""))
                    removed += found
            if state is not None:
                self._put_state(conn, cid, state)
        return ChangeSet(removed=tuple(removed))

    # sync state and log ------------------------------------------------------------
    def _put_state(self, conn: Connection, cid: int, state: Mapping[str, Any]) -> None:
        payload = json.dumps(dict(state), sort_keys=True)
        done = conn.execute(sync_state.update().where(sync_state.c.connection_id == cid)
                            .values(state=payload)).rowcount
        if not done:
            conn.execute(sync_state.insert().values(connection_id=cid, state=payload))

    def put_state(self, connection: str, state: Mapping[str, Any]) -> None:
        cid = self._require(connection)
        with self._begin() as conn:
            self._put_state(conn, cid, state)

    def get_state(self, connection: str) -> dict[str, Any]:
        cid = self._require(connection)
        with self._read() as conn:
            raw = conn.execute(select(sync_state.c.state)
                               .where(sync_state.c.connection_id == cid)).scalar()
        return dict(json.loads(raw)) if raw else {}

    def remote_ids(self, connection: str, *, include_deleted: bool = False) -> set[str]:
        cid = self._require(connection)
        stmt = select(orders.c.remote_id).where(orders.c.connection_id == cid)
        if not include_deleted:
            stmt = stmt.where(orders.c.category != str(StatusCategory.DELETED))
        with self._read() as conn:
            return set(conn.execute(stmt).scalars())

    def stale_remote_ids(self, connection: str, before: datetime) -> list[str]:
        """Orders not seen by a sync since ``before`` (candidates for deletion)."""
        cid = self._require(connection)
        stmt = select(orders.c.remote_id).where(
            orders.c.connection_id == cid, orders.c.category != str(StatusCategory.DELETED),
            (orders.c.synced_at < to_micros(before)) | orders.c.synced_at.is_(None))
        with self._read() as conn:
            return list(conn.execute(stmt.order_by(orders.c.id)).scalars())

    def updated_map(self, connection: str, remote_ids: Sequence[str]) -> dict[str, datetime]:
        """Cached ``updated_at`` of those of ``remote_ids`` that are in the cache."""
        cid = self._require(connection)
        out: dict[str, datetime] = {}
        with self._read() as conn:
            for chunk in _chunks(list(remote_ids)):
                for rid, upd in conn.execute(
                        select(orders.c.remote_id, orders.c.updated_at).where(
                            orders.c.connection_id == cid, orders.c.remote_id.in_(chunk))):
                    out[rid] = from_micros(upd)
        return out

    def start_log(self, connection: str, mode: str) -> int:
        cid = self._require(connection)
        with self._begin() as conn:
            result = conn.execute(sync_log.insert().values(
                connection_id=cid, mode=mode, started_at=to_micros(_now()), outcome="running",
                pages=0, fetched=0, added=0, changed=0, removed=0, message="", errors="[]"))
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish_log(self, log_id: int, *, outcome: str, pages: int, fetched: int, added: int,
                   changed: int, removed: int, message: str = "",
                   errors: Sequence[str] = ()) -> None:
        with self._begin() as conn:
            conn.execute(sync_log.update().where(sync_log.c.id == log_id).values(
                ended_at=to_micros(_now()), outcome=outcome, pages=pages, fetched=fetched,
                added=added, changed=changed, removed=removed, message=message,
                errors=json.dumps(list(errors), ensure_ascii=False)))
            if outcome == "success":
                cid = conn.execute(select(sync_log.c.connection_id)
                                   .where(sync_log.c.id == log_id)).scalar_one()
                done = conn.execute(sync_state.update().where(sync_state.c.connection_id == cid)
                                    .values(last_success_at=to_micros(_now()))).rowcount
                if not done:
                    conn.execute(sync_state.insert().values(
                        connection_id=cid, state="{}", last_success_at=to_micros(_now())))

    def sync_log(self, connection: str | None = None, limit: int = 20) -> list[SyncLogEntry]:
        stmt = select(sync_log).order_by(sync_log.c.id.desc()).limit(limit)
        if connection is not None:
            stmt = stmt.where(sync_log.c.connection_id == self._require(connection))
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [SyncLogEntry(
            id=r.id, connection=self._name(r.connection_id), mode=r.mode,
            started_at=from_micros(r.started_at),
            ended_at=None if r.ended_at is None else from_micros(r.ended_at),
            outcome=r.outcome, pages=r.pages, fetched=r.fetched, added=r.added,
            changed=r.changed, removed=r.removed, message=r.message,
            errors=tuple(json.loads(r.errors))) for r in rows]

    def last_success(self, connection: str) -> datetime | None:
        cid = self._require(connection)
        with self._read() as conn:
            value = conn.execute(select(sync_state.c.last_success_at)
                                 .where(sync_state.c.connection_id == cid)).scalar()
        return None if value is None else from_micros(value)

    # reading ----------------------------------------------------------------------
    def ids(self, query: OrderQuery, *, limit: int | None = None,
            offset: int = 0) -> array[int]:
        """Internal ids of the orders matching ``query``, in its sort order; with
        ``limit``/``offset``, one window of that order."""
        plan = self._search_plan(query, offset, limit)
        stmt = querying.ids_select(query, self._connection_ids(), self.dialect, plan=plan)
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        out: array[int] = array("q")
        with self._read() as conn:
            result = conn.execute(stmt)
            try:
                # Straight from the DBAPI cursor: a million ids as SQLAlchemy Row
                # objects cost ~3x the query itself; as 1-tuples into array('q'), ~1.3x.
                cursor = result.cursor
                while rows := cursor.fetchmany(_FETCH):
                    out.extend(chain.from_iterable(rows))
            finally:
                result.close()
        return out

    def match_count(self, query: OrderQuery) -> int:
        """How many orders match ``query`` (one figure, not per status). A search and
        nothing else is counted by the full-text index alone (every order has one
        FTS row), without reading the matching orders."""
        if self.dialect == "sqlite" and querying.is_text_only(query):
            return self._fts_count(querying.fts_query(query))
        stmt = querying.count_select(query, self._connection_ids(), self.dialect)
        with self._read() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def _fts_count(self, match: str) -> int:
        with self._read() as conn:
            found = conn.exec_driver_sql(
                "SELECT count(*) FROM orders_fts WHERE orders_fts MATCH ?", (match,)).scalar()
        n = int(found or 0)
        with self._lock:
            self._fts_counts[match] = n
            while len(self._fts_counts) > 64:
                self._fts_counts.pop(next(iter(self._fts_counts)))
        return n

    def _search_plan(self, query: OrderQuery, offset: int, limit: int | None) -> str:
        """How to read ids ``offset:offset+limit`` of a search (``querying.SORT``,
        ``WALK`` or ``PROBE``). SQLite alone sorts every match (it does not know how
        many orders a term matches): cheap when they are rare, 0.4-0.6 s for a word in
        18 % of a million orders. Walking the sort index and stopping after the
        window's rows is cheap when they are common: testing each order's own text
        costs ~4 µs an order met and nothing up front (5-12 ms for a first window of
        that word); testing against the set of matches costs building the set (~0.4 µs
        a match, 50-100 ms there) and ~0.6 µs an order met; sorting, ~3.8 µs a
        match. The cheapest by those
        rates, with the share of orders matching estimated by the full-text index:
        the rowid of its ``N/100``-th match (~3 ms to step there; rowids ascend, so
        ``N/100`` over the rowids below it is the share), or a remembered count."""
        if self.dialect != "sqlite":
            return querying.SORT
        terms = search_terms(query.text)
        if not terms or any(len(t) < 3 for t in terms):
            return querying.SORT
        match = querying.fts_query(replace(query, text=" ".join(terms)))
        with self._lock:
            n = self._fts_counts.get(match)
            bounds = self._id_bounds
        if bounds is None:
            with self._read() as conn:
                low, total = conn.execute(select(func.min(orders.c.id), func.count())).one()
            bounds = (int(low or 0), int(total or 0))
            with self._lock:
                self._id_bounds = bounds
        low, total = bounds
        if total == 0:
            return querying.SORT
        if n is not None:
            share = n / total
        else:
            k = max(1, total // _DRIVE_RATIO)
            with self._read() as conn:
                kth = conn.exec_driver_sql(
                    "SELECT rowid FROM orders_fts WHERE orders_fts MATCH ? LIMIT 1 OFFSET ?",
                    (match, k - 1)).scalar()
            if kth is None:
                return querying.SORT  # under 1 % match: sorting them is cheap
            share = min(1.0, k / max(1, int(kth) - low + 1))
        matches = share * total
        met = (offset + (limit if limit is not None else matches)) / max(share, 1e-9)
        met = min(met, total)
        costs = {querying.SORT: 3.8 * matches,  # µs, measured at 1M orders (see above)
                 querying.WALK: 0.4 * matches + 0.6 * met,
                 querying.PROBE: 4.0 * met}
        return min(costs, key=lambda plan: costs[plan])

    def ordered_by_index(self, query: OrderQuery) -> bool:
        """Whether any window of ``query``'s order (``ids(limit=, offset=)``) is read
        straight off one index: no sort of the matches, no lookup of each row (a deep
        OFFSET then costs milliseconds). When not, a caller should read all ids once."""
        if self.dialect != "sqlite":
            return False
        stmt = querying.ids_select(query, self._connection_ids(), self.dialect)
        key = str(stmt)
        with self._lock:
            known = self._plans.get(key)
        if known is not None:
            return known
        try:
            sql = str(stmt.compile(dialect=self.engine.dialect,
                                   compile_kwargs={"literal_binds": True}))
        except (SQLAlchemyError, NotImplementedError, TypeError):
            return False
        with self._read() as conn:
            plan = [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
        indexed = bool(plan) and all(
            line.startswith(("SCAN orders USING COVERING INDEX",
                             "SEARCH orders USING COVERING INDEX"))
            and "TEMP B-TREE" not in line for line in plan)
        with self._lock:
            self._plans[key] = indexed
        return indexed

    def anchors(self, query: OrderQuery, every: int, *,
                cancelled: Callable[[], bool] | None = None
                ) -> list[tuple[Any, ...]] | None:
        """The sort values (``querying.sort_expressions`` order, id last) of rows 0,
        ``every``, 2 × ``every``... of ``query``'s order, for ``ids_from``; ``None``
        when its order cannot be sought by key (see ``querying.seek_segments``).
        One snapshot, one step a row returned: each a seek and a skip of ``every``
        index entries (at a million orders, every 4,000: ~250 steps, 60-90 ms).
        ``cancelled()`` is checked before each step (then ``None``)."""
        if not querying.seekable(query):
            return None
        cids = self._connection_ids()
        keys = [expr for expr, _ in querying.sort_expressions(query, cids)]
        first = querying.ids_select(query, cids, self.dialect).with_only_columns(
            *keys).limit(1)
        with self._read() as conn:
            row = conn.execute(first).first()
            out: list[tuple[Any, ...]] = []
            while row is not None:
                if cancelled is not None and cancelled():
                    return None
                out.append(tuple(row))
                found = self._seek(conn, query, out[-1], keys, limit=1, offset=every)
                row = found[0] if found else None
        return out

    def ids_from(self, query: OrderQuery, anchor: Sequence[Any], *, limit: int,
                 offset: int = 0) -> array[int]:
        """Ids ``offset:offset+limit`` of ``query``'s order counted from the order whose
        sort values are ``anchor`` (one of ``anchors``): the same window as
        ``ids(limit=, offset=)`` from the anchor's row, read by seeking the index to the
        anchor instead of stepping over every row before it."""
        with self._read() as conn:
            rows = self._seek(conn, query, anchor, [orders.c.id], limit=limit,
                              offset=offset)
        return array("q", [r[0] for r in rows])

    def _seek(self, conn: Connection, query: OrderQuery, anchor: Sequence[Any],
              columns: Sequence[Any], *, limit: int, offset: int) -> list[Any]:
        cids = self._connection_ids()
        shape = (query, tuple(sorted(cids.items())), anchor[0] is None and len(anchor) > 1,
                 tuple(str(c) for c in columns))
        with self._lock:
            parts = self._seeks.get(shape)
        if parts is None:  # built once per query: building them costs more than a seek
            parts = querying.seek_segments(query, cids, self.dialect, shape[2], columns)
            with self._lock:
                self._seeks[shape] = parts
                while len(self._seeks) > 32:
                    self._seeks.pop(next(iter(self._seeks)))
        values: dict[str, Any] = {"seek_id": anchor[-1]}
        if len(anchor) > 1 and anchor[0] is not None:
            values["seek_key"] = anchor[0]
        out: list[Any] = []
        for rows, count in parts:
            result = conn.execute(rows, {**values, "seek_limit": limit - len(out),
                                         "seek_offset": offset})
            try:
                found = result.cursor.fetchall()
            finally:
                result.close()
            if not found and offset:
                # the part ends before ``offset``: skip it (a count bounded by ``offset``)
                offset -= conn.execute(count, {**values, "seek_offset": offset}
                                       ).scalar() or 0
                continue
            out.extend(found)
            offset = 0
            if len(out) >= limit:
                break
        return out

    def positions(self, query: OrderQuery, ids: Iterable[int]) -> dict[int, int]:
        """Row number (0-based) of each id in ``query``'s order; ids that do not
        match ``query`` are left out. One count per id: for a few ids."""
        cids = self._connection_ids()
        keys = [expr for expr, _ in querying.sort_expressions(query, cids)]
        where = querying.where_clauses(query, cids, self.dialect)
        out: dict[int, int] = {}
        with self._read() as conn:
            for order_id in ids:
                values = conn.execute(select(*keys).where(
                    and_(orders.c.id == order_id, *where))).first()
                if values is None:
                    continue
                before = querying.before_clause(query, cids, tuple(values))
                n = conn.execute(select(func.count()).select_from(orders)
                                 .where(and_(before, *where))).scalar()
                out[order_id] = int(n or 0)
        return out

    def count(self, query: OrderQuery) -> int:
        return sum(self.counts(query).values())

    def counts(self, query: OrderQuery) -> dict[StatusCategory, int]:
        """Orders matching ``query`` per status category."""
        stmt = querying.counts_select(query, self._connection_ids(), self.dialect)
        with self._read() as conn:
            return {StatusCategory(cat): int(n) for cat, n in conn.execute(stmt)}

    def rows(self, ids: Sequence[int]) -> list[OrderRow]:
        """Table rows for ``ids``, in the same order (ids not found are skipped)."""
        found: dict[int, OrderRow] = {}
        with self._read() as conn:
            for chunk in _chunks(list(ids)):
                result = conn.execute(_ROW_SELECT.where(orders.c.id.in_(chunk)))
                try:  # plain tuples from the DBAPI cursor, only the columns a row shows
                    for values in result.cursor.fetchall():
                        row: Any = _RowValues._make(values)
                        found[row.id] = decode_row(row, self._name(row.connection_id))
                finally:
                    result.close()
        return [found[i] for i in ids if i in found]

    def get(self, order_id: int) -> Order | None:
        """One order with everything: lines, payments, customer, address, raw JSON."""
        with self._read() as conn:
            row = conn.execute(select(orders).where(orders.c.id == order_id)).first()
            if row is None:
                return None
            doc = conn.execute(select(order_docs).where(order_docs.c.order_id == order_id)
                               ).first()
            line_rows = conn.execute(select(lines).where(lines.c.order_id == order_id)
                                     .order_by(lines.c.position)).all()
            pay_rows = conn.execute(select(payments).where(payments.c.order_id == order_id)
                                    .order_by(payments.c.position)).all()
        return decode_order(row, doc.detail if doc else "{}", doc.raw if doc else "",
                            self._name(row.connection_id), list(line_rows), list(pay_rows))

    def find(self, reference: str) -> list[int]:
        """Ids of orders a person may mean by ``reference``: ``number``, remote id,
        or either qualified as ``connection:number``."""
        ref = reference.strip()
        conn_name, _, local = ref.rpartition(":")
        stmt = select(orders.c.id)
        if conn_name and conn_name in self._connection_ids():
            stmt = stmt.where(orders.c.connection_id == self._connection_ids()[conn_name])
            ref = local
        stmt = stmt.where((orders.c.number == ref) | (orders.c.remote_id == ref))
        with self._read() as conn:
            return list(conn.execute(stmt.order_by(orders.c.id)).scalars())

    def distinct_values(self, field: str, limit: int = 500) -> list[str]:
        """Values seen in a filterable text column (for filter pickers)."""
        allowed = {"payment_method", "shipping_method", "country", "state", "city",
                   "status_raw", "currency"}
        if field not in allowed:
            raise DataError(f"no distinct values for {field!r}")
        column = orders.c[field]
        stmt = select(column).where(column != "").distinct().order_by(column).limit(limit)
        with self._read() as conn:
            return list(conn.execute(stmt).scalars())

    def total_orders(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(orders)).scalar() or 0)


def _wal_pages(bulk: bool) -> int:
    """WAL pages between automatic checkpoints: SQLite's default, or more for a bulk load."""
    return 20_000 if bulk else 1000


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(f"b_{name}")

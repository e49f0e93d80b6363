"""Batched, read-only readers over the cache for exports (the store's SQL for them).

``OrderStore.rows()`` builds an :class:`OrderRow` per order (about 20k rows/s) and
``OrderStore.get()`` runs four queries per order (about 1.2k orders/s). Exports read
every order in scope, so these readers fetch a chunk of ids at a time:

* :func:`iter_text_rows` (CSV on SQLite) has SQLite compute every cell's final
  text (exact money from the integer storage, ISO dates, formula neutralising),
  so the rows come out of the DB-API cursor ready to be joined;
* :func:`iter_cells` selects only the requested order columns as plain tuples
  and converts money and dates in Python (the portable path);
* :func:`get_many` returns whole :class:`Order` objects for a chunk of ids with
  four queries per chunk, decoded by the store's own codec.

Both are read-only and use the store's tables and codec; they are meant to move
into :class:`OrderStore` (as ``export_cells(ids, keys)`` and ``get_many(ids)``) once
its owner agrees. ``tests/export`` checks that their output equals what the
public ``rows()``/``get()`` give.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from orderdesk.models.entities import (
    ConnectionKind,
    LineMoney,
    Order,
    OrderLine,
    ServerFigures,
)
from orderdesk.models.errors import StoreError
from orderdesk.models.money import from_storage_units
from orderdesk.models.status import OrderStatus, StatusCategory
from orderdesk.store import chunk_reader
from orderdesk.store.codec import decode_order
from orderdesk.store.schema import connections, lines, order_docs, orders, payments
from orderdesk.store.store import OrderStore

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...) list, as the store uses

#: first characters that make a spreadsheet run a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


Cell = Callable[[Any], Any]


@contextmanager
def reading(store: OrderStore) -> Iterator[Connection]:
    """A read connection; database failures become the store's clerk-readable error."""
    try:
        with store.engine.connect() as conn:
            yield conn
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise StoreError("The order cache could not be read.", details=str(exc),
                         retriable=True) from exc


_DAY = 86_400_000_000
_day_cache: dict[int, str] = {}


def _day(days: int) -> str:
    text = _day_cache.get(days)
    if text is None:
        text = (_NAIVE_EPOCH + timedelta(days=days)).date().isoformat()
        if len(_day_cache) < 100_000:
            _day_cache[days] = text
    return text


def micros_iso(value: int | None) -> str:
    """Stored µs since the epoch → ``iso_utc`` text, by integer arithmetic.

    ``2025-01-01T10:30:00Z``; microseconds only when present, as ``iso_utc`` does.
    """
    if value is None:
        return ""
    days, rest = divmod(value, _DAY)
    seconds, micros = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    if micros:
        return f"{_day(days)}T{hour:02d}:{minute:02d}:{second:02d}.{micros:06d}Z"
    return f"{_day(days)}T{hour:02d}:{minute:02d}:{second:02d}Z"


_NAIVE_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def _fraction(units: int) -> str:
    digits = f"{units:04d}".rstrip("0")
    return "." + (digits if len(digits) >= 2 else (digits + "00")[:2])


#: ".00" … ".9999": the decimals of every possible 4-place fraction, computed once.
_FRACTIONS: tuple[str, ...] = tuple(_fraction(i) for i in range(10_000))


def units_text(value: int | None) -> str:
    """Stored money (integer at 4 decimals) → the text of ``from_storage_units``.

    At least two decimals, trailing zeros beyond them dropped: 123400 → ``12.34``,
    50000 → ``5.00``, 12345 → ``1.2345``, -50000 → ``-5.00``. Pure integer work.
    """
    if value is None:
        return ""
    if value < 0:
        whole, frac = divmod(-value, 10_000)
        return f"-{whole}{_FRACTIONS[frac]}"
    whole, frac = divmod(value, 10_000)
    return f"{whole}{_FRACTIONS[frac]}"


def neutralised_sql(expr: ColumnElement[Any], dialect: str = "") -> ColumnElement[Any]:
    """SQL twin of :func:`~orderdesk.export.common.neutralise` (first character test).

    On SQLite, text that sorts at or after ``'A'``, or between ``'.'`` and ``'='``
    (digits), in binary order cannot start with a formula character (all of them are
    below ``'A'``, outside ``'.'``–``'<'``): two byte comparisons settle most cells
    before the ``substr``. Elsewhere the comparison would follow the database's
    collation, so only the ``substr`` test is used.
    """
    starts = [literal(ch) for ch in FORMULA_STARTS]
    neutral = case((func.substr(expr, 1, 1).in_(starts), literal("'") + expr), else_=expr)
    if dialect != "sqlite":
        return neutral
    binary = expr.collate("BINARY")
    return case((binary >= literal("A"), expr),
                (and_(binary >= literal("."), binary < literal("=")), expr),
                else_=neutral)


#: Column key → (SQL expression, converter or None). Keys match
#: ``orderdesk.models.columns.COLUMNS`` (+ ``currency``); a key missing here makes
#: the CSV writer use the public ``OrderStore.rows()`` path instead. Text is
#: neutralised in SQL; money and dates are formatted here.
_MONEY = units_text
_DATE = micros_iso


def sqlite_iso(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQLite twin of :func:`micros_iso`: µs since the epoch → ISO 8601 UTC text.

    From 1970 on (the usual case) ``date() || 'T' || time()``, about 3× cheaper than
    ``strftime``; before 1970 ``strftime`` on the floor of the seconds.
    """
    frac = ((expr % 1_000_000) + 1_000_000) % 1_000_000  # floor modulo, also before 1970
    base = func.strftime("%Y-%m-%dT%H:%M:%S", (expr - frac) // 1_000_000, "unixepoch")
    micros = expr % 1_000_000
    seconds = expr // 1_000_000
    after_1970 = (func.date(seconds, "unixepoch") + literal("T") + func.time(seconds, "unixepoch")
                  + case((micros == 0, literal("Z")),
                         else_=literal(".") + func.substr(micros + 1_000_000, 2) + literal("Z")))
    return case((expr.is_(None), literal("")),
                (expr >= 0, after_1970),
                (frac == 0, base + literal("Z")),
                else_=base + literal(".") + func.substr(literal("000000") + cast(frac, String), -6)
                + literal("Z"))


#: internal key: the order's connection id (not a user-visible column)
CONNECTION_ID = "_connection_id"


def sqlite_money(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQLite twin of :func:`units_text`: stored money → its exact decimal text, ``''`` for NULL.

    Integer arithmetic only (never REAL): the whole part is ``expr / 10000`` (SQLite
    truncates toward zero, so ``-0.5`` needs its own ``-0``), the fraction the last
    four digits of ``10000 + |expr % 10000|``, cut to 2, 3 or 4 places as
    :func:`units_text` does (``abs`` of the remainder cannot overflow, unlike
    ``abs(expr)`` for the smallest 64-bit integer).
    """
    whole = case((and_(expr < 0, expr > -10_000), literal("-0")), else_=expr // 10_000)
    digits = (literal(2) + cast(expr % 100 != 0, Integer)
              + cast(expr % 10 != 0, Integer))
    frac = func.substr(literal(10_000) + func.abs(expr % 10_000), 2, digits)
    # the usual amount, whole cents and not negative, with half the operations
    # (SQLite's || binds tighter than /: the division needs its parentheses)
    cents = (expr // 10_000).self_group().op("||")(literal(".")).op("||")(
        func.substr(expr % 10_000 // 100 + 100, 2))
    return case((expr.is_(None), literal("")),
                (and_(expr >= 0, expr % 100 == 0), cents),
                else_=whole.concat(literal(".")).concat(frac))


def _fast_columns(dialect: str = "") -> dict[str, tuple[ColumnElement[Any], Cell | None]]:
    c = orders.c
    sqlite = dialect == "sqlite"

    def text(expr: ColumnElement[Any]) -> ColumnElement[Any]:
        return neutralised_sql(expr, dialect)

    def date(expr: ColumnElement[Any]) -> tuple[ColumnElement[Any], Cell | None]:
        return (sqlite_iso(expr), None) if sqlite else (expr, _DATE)

    def money(expr: ColumnElement[Any]) -> tuple[ColumnElement[Any], Cell | None]:
        return (sqlite_money(expr), None) if sqlite else (expr, _MONEY)

    return {
        "number": (text(c.number), None),
        "created": date(c.created_at),
        "updated": date(c.updated_at),
        "customer": (text(c.customer), None),
        "email": (text(c.email), None),
        "status": (text(c.status_raw), None),
        "lines": (c.line_count, None),
        "quantity": (c.quantity, None),
        "total": money(c.total),
        "paid": money(c.paid),
        "outstanding": money(c.outstanding),
        "payment_method": (text(c.payment_method), None),
        "shipping_method": (text(c.shipping_method), None),
        "country": (text(c.country), None),
        "connection": (text(connections.c.name), None),
        "synced": date(c.synced_at),
        "problems": (c.problems, None),
        "currency": (text(c.currency), None),
        CONNECTION_ID: (c.connection_id, None),
    }


FAST_KEYS = frozenset(_fast_columns())


Chunk = tuple[list[int], list[Sequence[Any]], list[Sequence[Any]]]


def _json_each_stmt(exprs: Sequence[ColumnElement[Any]], *, ordered: bool,
                    join_connections: bool) -> Any:
    each = func.json_each(bindparam("ids_json", type_=String)).table_valued("key", "value")
    source: Any = orders
    if join_connections:
        source = orders.join(connections, connections.c.id == orders.c.connection_id)
    stmt = select(*exprs).select_from(each.join(source, orders.c.id == each.c.value))
    return stmt.order_by(each.c.key) if ordered else stmt


#: compiled statements of :class:`_Direct` (their text, parameter names and constants)
_COMPILED: dict[tuple[int, str], tuple[Any, str, list[str], dict[str, Any]]] = {}


def _compiled(stmt: Any, engine_dialect: Any) -> tuple[str, list[str], dict[str, Any]]:
    """``stmt``'s SQL text, the names of its positional parameters and its constants."""
    key = (id(stmt), engine_dialect.name)
    got = _COMPILED.get(key)
    if got is None or got[0] is not stmt:
        compiled = stmt.compile(dialect=engine_dialect)
        got = (stmt, str(compiled), list(compiled.positiontup or []), compiled.params)
        if len(_COMPILED) > 64:
            _COMPILED.clear()
        _COMPILED[key] = got
    return got[1], got[2], got[3]


class _Direct:
    """A statement compiled once and run on the DB-API connection: rows are plain
    tuples, without SQLAlchemy's Row objects (about 8 % of the export time)."""

    def __init__(self, conn: Connection, stmt: Any, engine_dialect: Any) -> None:
        self.sql, self.names, self.constants = _compiled(stmt, engine_dialect)
        self.conn = conn
        self.stmt = stmt
        self.raw = conn.connection.driver_connection
        self.direct = (self.raw is not None and "POSTCOMPILE" not in self.sql
                       and bool(self.names))

    def args(self, ids_json: str) -> list[Any]:
        return [ids_json if n == "ids_json" else self.constants[n] for n in self.names]

    def rows(self, ids_json: str) -> list[Any]:
        if self.direct and self.raw is not None:
            return list(self.raw.execute(self.sql, self.args(ids_json)).fetchall())
        return list(self.conn.execute(self.stmt, {"ids_json": ids_json}).fetchall())


#: exports of at least this many orders read their chunks in reader processes
PARALLEL_MIN_IDS = 20_000
#: at most this many reader processes (one per core beyond that gains little: the
#: exporting process joins, encodes and writes what they read)
MAX_READERS = 4
#: ``ORDERDESK_EXPORT_READERS=N`` forces N reader processes (0: read in this process)
READERS_ENV = "ORDERDESK_EXPORT_READERS"


def database_file(store: OrderStore) -> Path | None:
    """The SQLite file behind ``store`` (None: another database, or in memory)."""
    if store.dialect != "sqlite":
        return None
    name = store.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name)
    return path if path.is_file() else None


def reader_processes(store: OrderStore, n_ids: int) -> int:
    """How many reader processes an export of ``n_ids`` orders uses (0: none)."""
    if database_file(store) is None or getattr(sys, "frozen", False) or not sys.executable:
        return 0  # a frozen app has no interpreter to run chunk_reader.py with
    forced = os.environ.get(READERS_ENV, "").strip()
    if forced:
        try:
            return max(0, min(int(forced), 16))
        except ValueError:
            log.warning("%s=%r is not a number of processes; ignored", READERS_ENV, forced)
    if n_ids < PARALLEL_MIN_IDS:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    if cores < 2 or _busy(cores):
        return 0
    return min(MAX_READERS, cores)


def _busy(cores: int) -> bool:
    """Other work already holds every core: reader processes would then only queue for
    them, and were measured slower than reading here (28-46k vs 73-87k rows/s at a load
    of 3-4 on 2 cores). The 1-minute load average says so, and (where the system tells)
    so many processes other than this one are runnable right now: the average lags, and
    work that has just ended (a sync, the window's first load, a benchmark's previous
    step) keeps it high for a minute after the cores are free again."""
    try:
        if os.getloadavg()[0] < cores:
            return False
    except (AttributeError, OSError):  # not on this system (Windows)
        return False
    now = _runnable()
    return now is None or now - 1 >= cores


def _runnable() -> int | None:
    """Processes (threads) running or ready to run now, this one included: Linux's
    ``/proc/loadavg``; ``None`` where there is none."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


#: bytes a reader may run ahead of the export (a few chunks of ~230 KB): with the
#: default 64 KB pipe each reader waited for the export to take every chunk
PIPE_BYTES = 1 << 20


def _widen(fd: int) -> None:
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setsize is not None:
        with suppress(OSError):  # above the system's limit: the default size works too
            fcntl.fcntl(fd, setsize, PIPE_BYTES)


class ReaderGone(Exception):
    """A reader process stopped before it sent all its chunks."""


class ChunkReaders:
    """Reader processes (:mod:`chunk_reader`) running one statement over chunks.

    Chunk ``i`` goes to process ``i % n``; :meth:`next_row` returns the chunks' first
    rows in chunk order. A process is about one chunk ahead of the reader (its next
    chunk's data waits in the pipe), so ``n`` processes run ``n`` chunks at a time.
    """

    def __init__(self, path: Path, sql: str,
                 chunks: Sequence[list[Any]] | Callable[[], Sequence[list[Any]]],
                 processes: int) -> None:
        """``chunks``: each chunk's parameters, or a function giving them (called once the
        processes are started, so that preparing them overlaps their start-up)."""
        self._procs: list[subprocess.Popen[bytes]] = []
        self._next = 0
        try:
            for _ in range(processes):
                # our own interpreter running our own script: no outside input
                self._procs.append(subprocess.Popen(  # noqa: S603
                    [sys.executable, "-I", chunk_reader.__file__], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            if callable(chunks):
                chunks = chunks()
            for k, proc in enumerate(self._procs):
                assert proc.stdin is not None and proc.stdout is not None
                _widen(proc.stdout.fileno())
                proc.stdin.write(marshal.dumps((str(path.resolve()), sql,
                                                 list(chunks[k::processes]))))
                proc.stdin.close()
        except OSError as exc:
            self.close()
            raise ReaderGone(f"could not start: {exc}") from exc

    def next_row(self) -> Any:
        proc = self._procs[self._next % len(self._procs)]
        self._next += 1
        assert proc.stdout is not None
        head = proc.stdout.read(chunk_reader.HEADER.size)
        if len(head) == chunk_reader.HEADER.size:
            (size,) = chunk_reader.HEADER.unpack(head)
            data = proc.stdout.read(size)
            if len(data) == size:
                return marshal.loads(data)  # noqa: S302 - our own child's output
        proc.wait()
        assert proc.stderr is not None
        said = proc.stderr.read().decode("utf-8", "replace").strip()
        raise ReaderGone(f"exit status {proc.returncode}: {said[-500:] or 'no message'}")

    def close(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        self._procs.clear()


def _aggregate_rows(store: OrderStore, run: _Direct, ids: Sequence[int],
                    chunk: int) -> Iterator[tuple[int, Any]]:
    """``(start, first row)`` of ``run`` per chunk of ``ids``: from reader processes
    (:func:`reader_processes`) where they pay, else (and after a reader stopped, for
    the chunks it did not send) on ``run``'s own connection."""
    starts = range(0, len(ids), chunk)
    done = 0
    path = database_file(store)
    processes = min(reader_processes(store, len(ids)), len(starts))
    if path is not None and processes > 0 and run.direct:
        readers: ChunkReaders | None = None
        try:
            readers = ChunkReaders(path, run.sql, lambda: [
                run.args(json.dumps(list(ids[s:s + chunk]))) for s in starts], processes)
            for start in starts:
                row = readers.next_row()
                done += 1
                yield start, row
        except ReaderGone as exc:
            log.warning("An export reader process stopped (%s); the rest is read here.", exc)
        finally:
            if readers is not None:
                readers.close()
    for start in starts[done:]:
        yield start, run.rows(json.dumps(list(ids[start:start + chunk])))[0]


def iter_cells(store: OrderStore, ids: Sequence[int], keys: Sequence[str],
               chunk: int = CHUNK, *, trailing: int = 0) -> Iterator[Chunk]:
    """Per chunk of ``ids``: the ids found, their rows of cells (in ``keys`` order) and,
    for the last ``trailing`` keys, their values as columns instead (left out of the rows).

    Ids not in the cache are skipped, as ``OrderStore.rows`` does. On SQLite the
    chunk goes in as one JSON array (``json_each``) joined in array order: one
    statement compiled once and no reordering in Python, instead of an expanding
    ``IN`` list of hundreds of parameters per chunk. Cells are converted a column
    at a time (``map``), which keeps the per-row Python work small.
    """
    table = _fast_columns(store.dialect)
    exprs = [table[k][0] for k in keys]
    convert = [(n + 1, conv) for n, k in enumerate(keys) if (conv := table[k][1]) is not None]
    joined = orders.join(connections, connections.c.id == orders.c.connection_id)

    split = len(keys) + 1 - trailing

    def cells(rows: Sequence[Sequence[Any]]) -> Chunk:
        if not rows:
            return [], [], [() for _ in range(trailing)]
        cols: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for n, conv in convert:
            cols[n] = tuple(map(conv, cols[n]))
        return list(cols[0]), list(zip(*cols[1:split], strict=True)), cols[split:]

    if store.dialect == "sqlite":
        stmt = _json_each_stmt([orders.c.id, *exprs], ordered=True, join_connections=True)
        with reading(store) as conn:
            run = _Direct(conn, stmt, store.engine.dialect)
            for start in range(0, len(ids), chunk):
                yield cells(run.rows(json.dumps(list(ids[start:start + chunk]))))
        return
    stmt = (select(orders.c.id, *exprs).select_from(joined)
            .where(orders.c.id.in_(bindparam("ids_list", expanding=True))))
    with reading(store) as conn:
        for start in range(0, len(ids), chunk):
            part = list(ids[start:start + chunk])
            found = {row[0]: row for row in conn.execute(stmt, {"ids_list": part}).fetchall()}
            yield cells([found[i] for i in part if i in found])


#: Per chunk: the ids found, rows of ``(id, connection_id, *cells)``, where every cell
#: is ``str`` or ``int`` (never None), already in its final CSV text.
TextChunk = tuple[list[int], list[Sequence[Any]]]
TEXT_SKIP = 2  #: leading columns of a :data:`TextChunk` row that are not cells


def iter_text_rows(store: OrderStore, ids: Sequence[int], keys: Sequence[str],
                   chunk: int = CHUNK) -> Iterator[TextChunk]:
    """Like :func:`iter_cells`, for a CSV writer that only joins cells.

    On SQLite every cell comes out of SQLite as its final text (money, dates,
    neutralised text; NULL as ``''``) and the rows are the DB-API tuples as they
    are: no Python work per cell. The statement has no ``ORDER BY``: the rows come
    in ``json_each`` order as the plan (a scan of the array, then a rowid lookup)
    gives them, and each chunk's ids are compared with the requested ones; a chunk
    that differs (another plan, or missing ids) is read again with ``ORDER BY``.
    Other databases: :func:`iter_cells` with the Python converters.
    """
    if store.dialect != "sqlite":
        yield from _text_rows_portable(store, ids, keys, chunk)
        return
    yield from _read_text_chunks(store, ids, keys, chunk, range(0, len(ids), chunk))


def _read_text_chunks(store: OrderStore, ids: Sequence[int], keys: Sequence[str],
                      chunk: int, starts: Sequence[int]) -> Iterator[TextChunk]:
    fast, ordered = _text_statements(store, tuple(keys))
    first = itemgetter(0)
    with reading(store) as conn:
        run = _Direct(conn, fast, store.engine.dialect)
        again = _Direct(conn, ordered, store.engine.dialect)
        for start in starts:
            part = list(ids[start:start + chunk])
            ids_json = json.dumps(part)
            rows = run.rows(ids_json)
            found = list(map(first, rows))
            if found != part:
                present = set(found)
                if found != [i for i in part if i in present]:
                    rows = again.rows(ids_json)
                    found = list(map(first, rows))
            yield found, rows


#: (dialect, keys) → the unordered and ordered statements of :func:`_read_text_chunks`,
#: built once (about 20 ms each time, plus compiling: a chunk read again for a few
#: rows should not pay that)
_TEXT_STATEMENTS: dict[tuple[str, tuple[str, ...]], tuple[Any, Any]] = {}


def _text_statements(store: OrderStore, keys: tuple[str, ...]) -> tuple[Any, Any]:
    got = _TEXT_STATEMENTS.get((store.dialect, keys))
    if got is None:
        c = orders.c
        exprs = _text_exprs(store.dialect, keys)
        lead = [c.id, c.connection_id]
        join = "connection" in keys
        got = (_json_each_stmt([*lead, *exprs], ordered=False, join_connections=join),
               _json_each_stmt([*lead, *exprs], ordered=True, join_connections=join))
        if len(_TEXT_STATEMENTS) > 32:
            _TEXT_STATEMENTS.clear()
        _TEXT_STATEMENTS[(store.dialect, keys)] = got
    return got


def _text_exprs(dialect: str, keys: Sequence[str]) -> list[ColumnElement[Any]]:
    table = _fast_columns(dialect)
    exprs: list[ColumnElement[Any]] = []
    for key in keys:
        expr = table[key][0]
        if isinstance(expr, Column) and expr.nullable:  # a bare number column
            expr = func.ifnull(expr, literal(""))
        exprs.append(expr)
    return exprs


_LINES_STATEMENTS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _text_lines_stmt(dialect: str, keys: tuple[str, ...]) -> Any:
    """:func:`iter_text_lines`' statement for ``keys``, built once (then its compiled
    text is reused too, :func:`_compiled`): ~8 ms an export before any chunk is read."""
    got = _LINES_STATEMENTS.get((dialect, keys))
    if got is None:
        got = _build_text_lines_stmt(dialect, keys)
        if len(_LINES_STATEMENTS) > 32:
            _LINES_STATEMENTS.clear()
        _LINES_STATEMENTS[(dialect, keys)] = got
    return got


def _build_text_lines_stmt(dialect: str, keys: tuple[str, ...]) -> Any:
    c = orders.c
    # Each order's cells as one JSON array: one function call a row, where joining the
    # cells with ``||`` cost a step and a new string per cell, as much as formatting
    # them (13 cells: 7.4-8.0 vs 10.2-11.2 µs a row). :func:`_csv_lines` makes the lines.
    row = func.json_array(*(func.ifnull(expr, literal("")) for expr in _text_exprs(dialect, keys)))
    aggregates = [func.count(), func.group_concat(c.id),
                  func.group_concat(c.connection_id.distinct()),
                  func.group_concat(row, literal(","))]
    return _json_each_stmt(aggregates, ordered=False, join_connections="connection" in keys)


def _csv_lines(arrays: str) -> str | None:
    r"""The chunk's rows as :func:`_build_text_lines_stmt` gives them (JSON arrays of
    strings and integers joined by ``,``: ``["#1","2025-01-01T10:30:00Z",3],[…]``) as
    lines of cells joined by ``,``, each ended by CRLF; ``None`` when a cell holds a
    character that JSON escapes (``"``, ``\``, a control character such as CR, LF, tab
    or NUL), which is then read as rows.

    Without an escape, every ``"`` in the text delimits a string, so removing them all
    leaves the cells as they are; ``],[`` ends a row, or lies inside a cell that then
    also holds a comma (the caller checks the commas and line ends of the result,
    as it would any line a cell with a comma or a line break spoils).
    """
    if "\\" in arrays:
        return None
    return arrays[1:-1].replace("],[", "\r\n").replace('"', "") + "\r\n"


class TextBlock(NamedTuple):
    """One chunk of :func:`iter_text_lines`."""

    start: int  #: index in ``ids`` of the chunk's first id
    rows: int  #: orders found
    connection_ids: set[int]
    #: the rows' cells (as :func:`iter_text_rows` gives them, without the leading ids)
    #: joined by ``,``, every row ended by CRLF; None when the rows found are not the
    #: chunk's ids in order (missing or repeated ids) or a cell holds a character JSON
    #: escapes (:func:`_csv_lines`): read them with :func:`iter_text_rows`
    text: str | None


def text_lines_supported(store: OrderStore) -> bool:
    return store.dialect == "sqlite"


def iter_text_lines(store: OrderStore, ids: Sequence[int], keys: Sequence[str],
                    chunk: int = CHUNK) -> Iterator[TextBlock]:
    """SQLite only (:func:`text_lines_supported`): :func:`iter_text_rows`' cells, each
    chunk read in one aggregate row (``group_concat`` of each order's cells as a JSON
    array) and made into lines by :func:`_csv_lines`.

    One result row per chunk instead of a row of Python objects per order: no
    per-row stepping through the DB-API, no joining in Python (about 0.2 s of the
    0.6 s the per-row path takes for 100k orders at the cells' cost alone). The
    aggregate runs in ``json_each`` order (no ``ORDER BY``); its ``group_concat`` of
    the ids is compared with the chunk's, and a chunk that differs, or that holds a
    cell JSON escapes, comes back with ``text=None``. NULL cells are written as ``''``
    (as ``csv.writer`` writes None).
    """
    stmt = _text_lines_stmt(store.dialect, tuple(keys))
    with reading(store) as conn:
        run = _Direct(conn, stmt, store.engine.dialect)
        for start, (count, found, conns, text) in _aggregate_rows(store, run, ids, chunk):
            part = ids[start:start + chunk]
            conn_ids = set(map(int, conns.split(","))) if conns else set()
            same = bool(count) and found == ",".join(map(str, part))
            yield TextBlock(start, count, conn_ids, _csv_lines(text) if same else None)


def _text_rows_portable(store: OrderStore, ids: Sequence[int],
                        keys: Sequence[str], chunk: int) -> Iterator[TextChunk]:
    for found, cells, (conns,) in iter_cells(store, ids, [*keys, CONNECTION_ID], chunk,
                                             trailing=1):
        yield found, [(oid, conn, *("" if v is None else v for v in row))
                      for oid, conn, row in zip(found, conns, cells, strict=True)]


def connection_names(store: OrderStore) -> dict[int, str]:
    """Connection id → name, for the ids :func:`iter_text_rows` gives."""
    return {c.id: c.name for c in store.list_connections()}


def get_many(store: OrderStore, ids: Sequence[int]) -> list[tuple[int, Order]]:
    """``(id, order)`` for ``ids`` in order (ids not found skipped), as ``get`` gives them."""
    names = {c.id: c.name for c in store.list_connections()}
    part = list(ids)
    with reading(store) as conn:
        order_rows = {r.id: r for r in conn.execute(select(orders).where(orders.c.id.in_(part)))}
        docs = {r.order_id: r for r in conn.execute(
            select(order_docs).where(order_docs.c.order_id.in_(part)))}
        by_order: dict[int, list[Any]] = defaultdict(list)
        for r in conn.execute(select(lines).where(lines.c.order_id.in_(part))
                              .order_by(lines.c.order_id, lines.c.position)):
            by_order[r.order_id].append(r)
        pays: dict[int, list[Any]] = defaultdict(list)
        for r in conn.execute(select(payments).where(payments.c.order_id.in_(part))
                              .order_by(payments.c.order_id, payments.c.position)):
            pays[r.order_id].append(r)
    out: list[tuple[int, Order]] = []
    for oid in part:
        row = order_rows.get(oid)
        if row is None:
            continue
        doc = docs.get(oid)
        out.append((oid, decode_order(row, doc.detail if doc else "{}", doc.raw if doc else "",
                                      names.get(row.connection_id, "?"),
                                      by_order.get(oid, []), pays.get(oid, []))))
    return out


def iter_orders(store: OrderStore, ids: Sequence[int],
                chunk: int = 100) -> Iterator[list[tuple[int, Order]]]:
    """Whole orders in ``ids`` order, a chunk at a time, paired with their ids."""
    for start in range(0, len(ids), chunk):
        yield get_many(store, ids[start:start + chunk])


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _units(value: int | None) -> Decimal | None:
    return None if value is None else from_storage_units(value)


def pricing_orders(store: OrderStore, ids: Sequence[int]) -> dict[int, Order]:
    """Orders with just what ``pricing.reconcile`` needs for line figures.

    Figures, currency, line unit and lines are exact; customer, address, payments,
    notes and raw JSON are left out (and ``kind`` is taken from the connection).
    For CSV line mode, where ``get_many`` would decode far more than is written.
    """
    kinds = {c.id: c.kind for c in store.list_connections()}
    part = list(ids)
    o = orders.c
    cols = (o.id, o.connection_id, o.remote_id, o.number, o.status_raw, o.category, o.currency,
            o.created_at, o.updated_at, o.items_subtotal, o.items_discount, o.subtotal,
            o.shipping, o.total_discount, o.total, o.srv_paid, o.srv_outstanding,
            o.srv_line_count, o.srv_quantity, o.is_paid, o.is_payable, o.line_money)
    lc = lines.c
    with reading(store) as conn:
        heads = conn.execute(select(*cols).where(o.id.in_(part))).all()
        by_order: dict[int, list[OrderLine]] = defaultdict(list)
        for r in conn.execute(
                select(lc.order_id, lc.remote_id, lc.product_name, lc.quantity, lc.unit_price,
                       lc.product_id, lc.variant, lc.offer, lc.unit_discount, lc.subtotal,
                       lc.discount, lc.total, lc.shipping)
                .where(lc.order_id.in_(part)).order_by(lc.order_id, lc.position)):
            by_order[r[0]].append(OrderLine(
                remote_id=r[1], product_name=r[2], quantity=r[3], unit_price=Decimal(r[4]),
                product_id=r[5], variant=r[6], offer=r[7], unit_discount=_dec(r[8]),
                subtotal=_dec(r[9]), discount=_dec(r[10]), total=_dec(r[11]),
                shipping=_dec(r[12])))
    out: dict[int, Order] = {}
    for h in heads:
        try:
            kind = ConnectionKind(kinds.get(h.connection_id, ""))
        except ValueError:
            kind = ConnectionKind.SHOP_STAFF
        out[h.id] = Order(
            connection="", remote_id=h.remote_id, number=h.number, kind=kind,
            status=OrderStatus(h.status_raw, StatusCategory(h.category)), currency=h.currency,
            created_at=_EPOCH_UTC + timedelta(microseconds=h.created_at),
            updated_at=_EPOCH_UTC + timedelta(microseconds=h.updated_at),
            figures=ServerFigures(
                items_subtotal=_units(h.items_subtotal), items_discount=_units(h.items_discount),
                subtotal=_units(h.subtotal), shipping=_units(h.shipping),
                total_discount=_units(h.total_discount), total=_units(h.total),
                amount_paid=_units(h.srv_paid), amount_outstanding=_units(h.srv_outstanding),
                line_count=h.srv_line_count, quantity=h.srv_quantity,
                is_paid=None if h.is_paid is None else bool(h.is_paid),
                is_payable=None if h.is_payable is None else bool(h.is_payable)),
            line_money=LineMoney(h.line_money), lines=tuple(by_order.get(h.id, ())))
    return out

"""Schema versions, applied in order inside one transaction each.

A small versioned list rather than Alembic: the cache has one owner (this app),
every migration is a few DDL statements that must run on the user's machine at
start-up without a migration environment, and the SQLite-specific parts (FTS5)
need raw DDL anyway. Each step is a function of a Connection; the version table
records the last one applied, so a newer app upgrades an older cache in place
and an older app refuses a newer cache instead of corrupting it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, select, text

from orderdesk.models.errors import StoreError
from orderdesk.store import schema


def _v1(conn: Connection) -> None:
    schema.metadata.create_all(conn)
    if conn.dialect.name == "sqlite":
        # Trigram index over Python-folded text: substring search, any script.
        conn.execute(text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS orders_fts USING fts5("
            "body, tokenize='trigram case_sensitive 1')"
        ))


def _v2(conn: Connection) -> None:
    """Indexes for every sortable column (see ``schema.SORTABLE``): ``(column)``, and
    ``(category, column)`` for the usual sorts of a status tab.

    Sorting all orders by any column becomes an index-only scan in the exact result
    order, and one status tab sorted by a usual column an index range. v1 indexed six
    columns alone and three with the category, so every other sort read the whole
    table and sorted it (1.3 s at a million orders).
    """
    for index in schema.orders.indexes:
        index.create(conn, checkfirst=True)


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1),
    (2, _v2),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, "schema_version"):
        return 0
    value = conn.execute(select(schema.schema_version.c.version)).scalar()
    return int(value or 0)


def migrate(conn: Connection) -> int:
    """Bring the schema to :data:`LATEST`; returns the version found before."""
    found = current_version(conn)
    if found > LATEST:
        raise StoreError(
            f"This cache was written by a newer orderdesk (schema {found}, "
            f"this version knows {LATEST}). Update orderdesk or choose another data folder."
        )
    for version, step in MIGRATIONS:
        if version > found:
            step(conn)
            conn.execute(schema.schema_version.delete())
            conn.execute(schema.schema_version.insert().values(version=version))
    ensure_indexes(conn)
    return found


def ensure_indexes(conn: Connection) -> None:
    """Create any index of the schema that is missing: a bulk load drops the secondary
    indexes of ``orders`` and rebuilds them when it ends; if it never ended (killed),
    the next open of the cache rebuilds them here, and puts back the full-text index's
    usual merge policy (:func:`set_fts_automerge`).

    On SQLite the build sorts with temporary files, not in memory (the store's
    connections sort in memory, ``temp_store=MEMORY``, which suits a query's small
    sorts): measured alone, the 21 order indexes of 100k orders then cost 2.0-2.1 s of
    CPU instead of 4.5-5.3 s; within a whole sync the build went from 2.6 s to 2.0-2.6 s
    (BENCHMARKS.md, "Sync and CSV, 2026-12-07 afternoon")."""
    present = {ix["name"] for ix in inspect(conn).get_indexes(schema.orders.name)}
    missing = [ix for ix in schema.orders.indexes if ix.name not in present]
    sqlite = conn.dialect.name == "sqlite"
    if missing:
        previous = conn.exec_driver_sql("PRAGMA temp_store").scalar() if sqlite else None
        if sqlite:
            conn.exec_driver_sql("PRAGMA temp_store = FILE")
        try:
            for index in missing:
                index.create(conn, checkfirst=True)
        finally:
            if previous is not None:
                conn.exec_driver_sql(f"PRAGMA temp_store = {int(previous)}")
    if sqlite and fts_automerge(conn) != FTS_AUTOMERGE:
        set_fts_automerge(conn, FTS_AUTOMERGE)


#: FTS5's own default: merge 4 segments of a level into one as they appear.
FTS_AUTOMERGE = 4
#: During a bulk load: merge only when 16 segments of a level have piled up. Each
#: posting is rewritten ~half as often (the trigram index is the largest part of the
#: writer's work: 60-90 µs an order at 100k-300k orders, ~15-25 µs less with this);
#: searches measured as fast at 300k orders (0.4-1.1 ms a MATCH either way).
FTS_BULK_AUTOMERGE = 16


def fts_automerge(conn: Connection) -> int:
    """The full-text index's ``automerge`` setting (FTS5 keeps it in its config table,
    absent = the default)."""
    value = conn.execute(text(
        "SELECT v FROM orders_fts_config WHERE k = 'automerge'")).scalar()
    return FTS_AUTOMERGE if value is None else int(value)


def set_fts_automerge(conn: Connection, segments: int) -> None:
    """How many segments of a level the full-text index lets pile up before merging
    them (stored in the index, so it holds for every connection until changed). The
    segments already there are merged by later writes, a little each time."""
    conn.execute(text("INSERT INTO orders_fts(orders_fts, rank) VALUES ('automerge', :n)"),
                 {"n": int(segments)})

"""A reader process for the CSV export's chunks (see ``bulk.ChunkReaders``).

Run as a script by the export (``python -I chunk_reader.py``), it imports nothing but
the standard library, so it starts in a few tens of milliseconds. It reads one job
from standard input (``marshal``: the database path, one SQL statement and the
parameters of each chunk), runs the statement once per chunk on its own read
connection and writes each chunk's first row to standard output as a frame (4-byte
little-endian length, then ``marshal`` data), in job order. SQLite's work then runs
on another core: threads of one process were slower (SQLite's allocator mutex is
shared by its connections), processes are not.

It writes nothing to the database (the connection is opened ``mode=rw`` so that a
missing file is an error, not a new empty cache) and stops when its output is closed.
"""

from __future__ import annotations

import marshal
import sqlite3
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO

#: frame header: the length of the marshal data that follows
HEADER = struct.Struct("<I")


def run(job: tuple[str, str, list[list[Any]]], out: BinaryIO) -> None:
    path, sql, chunks = job
    conn = sqlite3.connect(Path(path).as_uri() + "?mode=rw", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA cache_size=-8000")
        for args in chunks:
            row = conn.execute(sql, args).fetchone()
            data = marshal.dumps(tuple(row) if row is not None else None)
            out.write(HEADER.pack(len(data)))
            out.write(data)
            out.flush()
    finally:
        conn.close()


def main() -> int:  # pragma: no cover - runs in the child (tests/export cover it)
    job = marshal.loads(sys.stdin.buffer.read())  # noqa: S302 - written by the export
    try:
        run(job, sys.stdout.buffer)
    except BrokenPipeError:  # the export stopped reading (cancelled, or failed)
        return 0
    except sqlite3.Error as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

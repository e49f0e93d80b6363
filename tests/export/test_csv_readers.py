"""The CSV export's reader processes (``bulk.ChunkReaders``, ``store/chunk_reader.py``):
the same bytes as reading in the exporting process, a reader that dies is replaced by
reading here, a cancel ends them, and when they are used at all."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import orderdesk.export.csv_export as csv_export
from orderdesk.export.common import ExportCancelled
from orderdesk.export.csv_export import write_csv
from orderdesk.models import OrderQuery
from orderdesk.store import OrderStore, bulk
from tests.export.test_csv_fast import ALL_KEYS, _random_store


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """Every reader process started, to check they ran and that they ended."""
    procs: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real(*args, **kwargs)
        procs.append(proc)
        return proc

    monkeypatch.setattr(bulk.subprocess, "Popen", popen)
    return procs


@pytest.fixture
def random_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OrderStore:
    monkeypatch.setattr(csv_export, "ROW_CHUNK", 40)  # 15 chunks of the 600 orders
    return _random_store(tmp_path / "r.sqlite3", 600, seed=11)


def _export(store: OrderStore, path: Path, ids: list[int], readers: int,
            monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> csv_export.CsvExportResult:
    monkeypatch.setenv(bulk.READERS_ENV, str(readers))
    return write_csv(store, path, ids, columns=ALL_KEYS, metadata=False, **kwargs)


@pytest.mark.parametrize("readers", [1, 2, 3])
def test_reader_processes_write_the_same_bytes(random_store: OrderStore, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               spawned: list[subprocess.Popen[bytes]],
                                               readers: int) -> None:
    ids = list(random_store.ids(OrderQuery()))
    wanted = [*ids[:100], 10**9, *reversed(ids[100:]), ids[5]]  # a missing and a repeated id
    here = _export(random_store, tmp_path / "here.csv", wanted, 0, monkeypatch)
    assert spawned == []
    there = _export(random_store, tmp_path / "there.csv", wanted, readers, monkeypatch)
    assert len(spawned) == readers
    assert all(p.returncode is not None for p in spawned)
    assert (tmp_path / "here.csv").read_bytes() == (tmp_path / "there.csv").read_bytes()
    assert (here.rows, here.orders, here.sha256) == (there.rows, there.orders, there.sha256)
    assert there.orders == len(wanted) - 1


def test_a_reader_that_dies_is_replaced_by_reading_here(
        random_store: OrderStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        spawned: list[subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture) -> None:
    ids = list(random_store.ids(OrderQuery()))
    _export(random_store, tmp_path / "here.csv", ids, 0, monkeypatch)
    real_next = bulk.ChunkReaders.next_row
    real_popen = bulk.subprocess.Popen
    served: list[int] = []

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real_popen(*args, **kwargs)
        if len(spawned) == 2:  # the second reader: stopped before it reads a chunk
            os.kill(proc.pid, signal.SIGSTOP)
        return proc

    def next_row(self: bulk.ChunkReaders) -> Any:
        if len(served) == 1:  # chunk 1 is the second reader's: it dies instead
            spawned[1].kill()
            spawned[1].wait()
        served.append(1)
        return real_next(self)

    monkeypatch.setattr(bulk.subprocess, "Popen", popen)
    monkeypatch.setattr(bulk.ChunkReaders, "next_row", next_row)
    with caplog.at_level(logging.WARNING, logger=bulk.__name__):
        _export(random_store, tmp_path / "there.csv", ids, 2, monkeypatch)
    assert "reader process stopped (exit status -9" in caplog.text
    assert len(served) == 2  # chunk 0 from the first reader, the rest read here
    assert (tmp_path / "here.csv").read_bytes() == (tmp_path / "there.csv").read_bytes()
    assert all(p.returncode is not None for p in spawned)


def test_cancel_ends_the_readers(random_store: OrderStore, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 spawned: list[subprocess.Popen[bytes]]) -> None:
    ids = list(random_store.ids(OrderQuery()))
    calls: list[int] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(ExportCancelled):
        _export(random_store, tmp_path / "c.csv", ids, 2, monkeypatch, cancel=cancel)
    assert len(spawned) == 2
    assert all(p.returncode is not None for p in spawned)  # ended, not left running
    assert not (tmp_path / "c.csv").exists()


def test_a_reader_reports_a_database_it_cannot_open(tmp_path: Path) -> None:
    readers = bulk.ChunkReaders(tmp_path / "missing.sqlite3", "SELECT 1", [[]], 1)
    try:
        with pytest.raises(bulk.ReaderGone, match=r"exit status 3: .*unable to open"):
            readers.next_row()
    finally:
        readers.close()
    assert not (tmp_path / "missing.sqlite3").exists()  # never created by a reader


def test_when_reader_processes_are_used(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = OrderStore(tmp_path / "c.sqlite3")
    monkeypatch.delenv(bulk.READERS_ENV, raising=False)
    monkeypatch.setattr(bulk.os, "getloadavg", lambda: (0.3, 0.3, 0.3), raising=False)
    monkeypatch.setattr(bulk.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert bulk.reader_processes(store, bulk.PARALLEL_MIN_IDS - 1) == 0  # small: not worth it
    assert bulk.reader_processes(store, bulk.PARALLEL_MIN_IDS) == 2  # one per core
    monkeypatch.setattr(bulk.os, "sched_getaffinity", lambda pid: set(range(32)),
                        raising=False)
    assert bulk.reader_processes(store, 10**6) == bulk.MAX_READERS
    monkeypatch.setattr(bulk.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert bulk.reader_processes(store, 10**6) == 0  # one core: nothing runs alongside
    monkeypatch.setattr(bulk.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(bulk.os, "getloadavg", lambda: (2.5, 1.0, 1.0), raising=False)
    monkeypatch.setattr(bulk, "_runnable", lambda: 3)  # us and two others
    assert bulk.reader_processes(store, 10**6) == 0  # both cores busy: read here
    monkeypatch.setattr(bulk, "_runnable", lambda: None)  # no instant count: the average
    assert bulk.reader_processes(store, 10**6) == 0
    monkeypatch.setattr(bulk, "_runnable", lambda: 2)  # the load has just ended
    assert bulk.reader_processes(store, 10**6) == 2
    assert isinstance(bulk._runnable(), int | None)
    monkeypatch.setattr(bulk.os, "getloadavg", lambda: (1.2, 3.0, 3.0), raising=False)
    assert bulk.reader_processes(store, 10**6) == 2
    monkeypatch.delattr(bulk.os, "getloadavg")  # Windows
    assert bulk.reader_processes(store, 10**6) == 2
    monkeypatch.setenv(bulk.READERS_ENV, "3")
    assert bulk.reader_processes(store, 10) == 3
    monkeypatch.setenv(bulk.READERS_ENV, "lots")
    assert bulk.reader_processes(store, 10) == 0
    monkeypatch.setenv(bulk.READERS_ENV, "2")
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # a packaged app: no python
    assert bulk.reader_processes(store, 10**6) == 0
    memory = OrderStore("sqlite://")
    assert bulk.database_file(memory) is None
    assert bulk.database_file(store) == tmp_path / "c.sqlite3"

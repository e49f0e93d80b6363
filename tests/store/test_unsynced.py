"""A bulk load's pages without disk syncs, and opening a cache after an interrupted one
(``orderdesk.store.unsynced``)."""

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from factories import shop_order
from sqlalchemy import event

from orderdesk.models.errors import StoreError
from orderdesk.store import OrderStore, unsynced

NORMAL = 1


def _new(path: Path) -> OrderStore:
    store = OrderStore(path)
    store.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    return store


def _statements(store: OrderStore) -> list[str]:
    executed: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        executed.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", record)
    return executed


def _synchronous(store: OrderStore) -> list[int]:
    """``synchronous`` of every connection the pool holds (checked out together)."""
    conns = [store.engine.connect() for _ in range(3)]
    try:
        return [int(c.exec_driver_sql("PRAGMA synchronous").scalar() or 0) for c in conns]
    finally:
        for c in conns:
            c.close()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _left_in_bulk(path: Path, boot: str, pid: int) -> None:
    """A cache whose bulk load never ended (the marker as ``unsynced.mark`` writes it)."""
    store = _new(path)
    assert store.begin_bulk()
    store.upsert_page("staff", [shop_order(str(i)) for i in range(1, 200)])
    flusher = store._flusher
    store.close()  # never ended
    assert flusher is not None and not flusher._thread.is_alive()
    unsynced.marker(path).write_text(f"{boot} {pid}\n", encoding="ascii")


def test_bulk_pages_skip_syncs_and_connections_sync_again(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = _new(path)
    executed = _statements(store)
    assert store.begin_bulk()
    mark = unsynced.marker(path)
    assert mark.read_text(encoding="ascii").split() == [unsynced.boot_id(), str(os.getpid())] \
        or not unsynced.boot_id()
    store.upsert_page("staff", [shop_order(str(i)) for i in range(1, 20)])
    assert "PRAGMA synchronous=OFF" in executed
    # back in the pool, every connection syncs again (pooled ones are reused elsewhere)
    assert _synchronous(store) == [NORMAL] * 3
    store.end_bulk()
    assert not mark.exists()
    executed.clear()
    store.upsert_page("staff", [shop_order("99")])
    assert not [s for s in executed if "synchronous" in s]
    assert _synchronous(store) == [NORMAL] * 3
    assert store.total_orders() == 20
    store.close()


def test_no_marker_no_unsynced_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     caplog: pytest.LogCaptureFixture) -> None:
    """A marker that cannot be written: the load keeps its syncs."""
    path = tmp_path / "c.sqlite3"
    store = _new(path)
    monkeypatch.setattr(unsynced, "marker", lambda p: tmp_path / "missing" / "x.bulk")
    executed = _statements(store)
    with caplog.at_level(logging.WARNING, logger=unsynced.__name__):
        assert store.begin_bulk()
    assert "keeps its disk syncs" in caplog.text
    store.upsert_page("staff", [shop_order("1")])
    assert not [s for s in executed if "synchronous" in s]
    store.end_bulk()
    store.close()


def test_killed_load_is_settled_on_open(tmp_path: Path) -> None:
    """The same boot, the loading process gone: nothing to check, the marker goes."""
    path = tmp_path / "c.sqlite3"
    _left_in_bulk(path, unsynced.boot_id() or "unknown", _dead_pid())
    if not unsynced.boot_id():
        pytest.skip("this system does not say which boot it is")
    assert not unsynced.will_check(path)  # opening it settles, no check
    again = OrderStore(path)
    assert again.recovered is None
    assert not unsynced.marker(path).exists()
    assert again.total_orders() == 199
    again.close()


def test_a_load_in_progress_is_left_alone(tmp_path: Path) -> None:
    if not unsynced.boot_id():
        pytest.skip("this system does not say which boot it is")
    path = tmp_path / "c.sqlite3"
    _left_in_bulk(path, unsynced.boot_id(), os.getpid())  # alive: loading right now
    again = OrderStore(path)
    assert again.recovered is None
    assert unsynced.marker(path).exists()
    again.close()


@pytest.mark.parametrize("boot", ["another-boot", ""])
def test_after_a_restart_a_sound_cache_is_kept(tmp_path: Path, boot: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.sqlite3"
    _left_in_bulk(path, boot, os.getpid())
    checked: list[Path] = []
    real = unsynced.intact
    monkeypatch.setattr(unsynced, "intact",
                        lambda p, progress=None: checked.append(p) or real(p, progress))
    assert unsynced.will_check(path)
    again = OrderStore(path)
    assert checked == [path]
    assert again.recovered is None
    assert not unsynced.marker(path).exists()
    assert again.total_orders() == 199
    again.close()


def _damage(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = path.stat().st_size
    assert size > 40_000
    with open(path, "r+b") as f:  # b-tree pages in the middle, overwritten
        f.seek(size // 2 // 4096 * 4096)
        f.write(b"\xa5" * 16384)


def test_after_a_restart_a_damaged_cache_is_set_aside(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite3"
    _left_in_bulk(path, "another-boot", os.getpid())
    _damage(path)
    assert not unsynced.intact(path)
    with caplog.at_level(logging.INFO, logger=unsynced.__name__):
        again = OrderStore(path)
    moved = again.recovered
    assert moved is not None and moved.exists() and moved.parent == tmp_path
    assert moved.name.startswith("c.damaged-") and moved.suffix == ".sqlite3"
    assert "sync to fetch the orders again" in caplog.text
    assert not unsynced.marker(path).exists()
    assert again.total_orders() == 0  # a new cache, usable
    again.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    again.upsert_page("staff", [shop_order("1")])
    assert again.total_orders() == 1
    again.close()
    assert OrderStore(path).recovered is None  # once


def test_the_check_says_how_far_it_has_come(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.sqlite3"
    _left_in_bulk(path, "another-boot", os.getpid())
    monkeypatch.setattr(unsynced, "_CHECK_EVERY", 0.001)
    real_connect = sqlite3.connect

    class Slow:  # a check that takes a while (a large cache), then the real one
        def __init__(self, *a: Any, **k: Any) -> None:
            self.db = real_connect(*a, **k)

        def execute(self, sql: str) -> Any:
            time.sleep(0.05)
            return self.db.execute(sql)

        def close(self) -> None:
            self.db.close()

    monkeypatch.setattr(unsynced.sqlite3, "connect", Slow)
    shares: list[float | None] = []
    again = OrderStore(path, check=lambda share: shares.append(share) or True)
    assert again.recovered is None and again.total_orders() == 199
    again.close()
    assert len(shares) > 3
    if unsynced._bytes_read() is None:
        assert set(shares) == {None}  # no estimate where the system does not say
    else:
        assert all(s is not None and 0 <= s <= 1 for s in shares)


def test_a_stopped_check_leaves_the_cache_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopping the check (the window's Quit) says nothing about the file: it is
    neither moved nor settled, and the next open checks it again."""
    path = tmp_path / "c.sqlite3"
    _left_in_bulk(path, "another-boot", os.getpid())
    _damage(path)  # damaged, but the check never gets to say so
    monkeypatch.setattr(unsynced, "_CHECK_EVERY", 0.001)
    calls: list[float | None] = []
    interrupted: list[bool] = []
    real_connect = sqlite3.connect

    class Slow:  # a quick_check that lasts until it is interrupted (a large cache)
        def __init__(self, *a: Any, **k: Any) -> None:
            self.db = real_connect(*a, **k)

        def execute(self, sql: str) -> Any:
            assert sql == "PRAGMA quick_check"
            while not interrupted:
                time.sleep(0.001)
            raise sqlite3.OperationalError("interrupted")

        def interrupt(self) -> None:
            interrupted.append(True)

        def close(self) -> None:
            self.db.close()

    monkeypatch.setattr(unsynced.sqlite3, "connect", Slow)

    def stop(share: float | None) -> bool:
        calls.append(share)
        return len(calls) < 3

    with pytest.raises(unsynced.CheckStopped) as stopped:
        OrderStore(path, check=stop)
    assert isinstance(stopped.value, StoreError) and "runs again" in stopped.value.message
    assert len(calls) == 3 and interrupted == [True]  # stopped at once
    assert path.exists() and unsynced.marker(path).exists()
    assert not list(tmp_path.glob("*.damaged-*"))
    assert unsynced.will_check(path)
    monkeypatch.undo()
    again = OrderStore(path)  # checked again, to the end this time: set aside
    assert again.recovered is not None
    again.close()


def test_a_damaged_cache_without_a_marker_is_not_touched(tmp_path: Path) -> None:
    """Only an interrupted bulk load's cache is set aside; any other damage is the
    error it was (nothing is moved without the marker's reason)."""
    path = tmp_path / "c.sqlite3"
    store = _new(path)
    store.upsert_page("staff", [shop_order(str(i)) for i in range(1, 200)])
    store.close()
    _damage(path)
    try:
        again = OrderStore(path)
    except StoreError:  # opening may or may not read the damaged pages
        pass
    else:
        assert again.recovered is None
        again.close()
    assert path.exists()
    assert not list(tmp_path.glob("*.damaged-*"))


def test_flusher_writes_the_files_to_disk_meanwhile(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """During the load a thread has the OS write the cache to disk, so that the end of
    the load does not wait for all of it; it stops with the load. Neither it nor the
    end of the load ever opens the database file itself: on POSIX, closing any
    descriptor of it would drop SQLite's locks of this process."""
    path = tmp_path / "c.sqlite3"
    flushed: list[Path] = []
    real_sync = unsynced.sync_cache
    monkeypatch.setattr(unsynced, "sync_cache",
                        lambda p: flushed.append(p) or real_sync(p))
    opened: list[str] = []
    real_open = os.open

    def watch(file: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", watch)
    monkeypatch.setattr(unsynced.Flusher, "INTERVAL", 0.01)
    store = _new(path)
    assert store.begin_bulk()
    flusher = store._flusher
    assert flusher is not None and flusher._thread.is_alive()
    store.upsert_page("staff", [shop_order(str(i)) for i in range(1, 50)])
    for _ in range(500):
        if flushed:
            break
        flusher._stop.wait(0.01)
    assert flushed and set(flushed) == {path}
    store.end_bulk()
    assert store._flusher is None and not flusher._thread.is_alive()
    assert not unsynced.marker(path).exists()
    store.close()
    if os.name == "posix":
        assert str(path) not in opened and str(path) + "-wal" not in opened


def test_sync_cache_waits_for_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    _new(path).close()
    unsynced.sync_cache(path)  # no error, whichever way this system syncs
    unsynced.sync_cache(tmp_path / "missing.sqlite3")  # a file not there yet: no harm

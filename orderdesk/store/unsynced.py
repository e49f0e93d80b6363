"""A bulk load written without waiting for the disk, and what opening a cache after one
that was interrupted does (SQLite only).

A first full sync into an empty cache (``OrderStore.begin_bulk``) writes its pages with
``PRAGMA synchronous = OFF``: the WAL checkpoints that run every ~80 MB then hand their
pages to the operating system instead of waiting for the disk (``fsync``), which kept the
sync's writer, its critical path, waiting 2.2-2.5 s of its ~16 s per 100k orders
(BENCHMARKS.md, "Sync, 2026-12-07 evening"). SQLite is safe
against the *process* stopping at any point without syncs; only the *machine* stopping
(power loss, an OS crash) before the OS has written the pages can leave the file damaged.

Meanwhile a :class:`Flusher` thread has the OS write the files to disk as they grow,
so that the first synced checkpoint after the load (the index build's) does not wait
for all of it at once.

Before the first such page, :func:`mark` writes a marker beside the cache (synced to
disk) naming the boot it started in and the process; when the load ends,
:func:`settle` syncs the cache's files and removes the marker. When a cache is opened
with a marker left (:func:`recover`):

* the same boot, the loading process still alive: another process is loading; nothing
  is done;
* the same boot, that process gone (killed): nothing can be damaged; the files are
  synced and the marker removed;
* another boot (or a system that does not say which boot it is): the machine stopped
  during the load, so the file is checked (``PRAGMA quick_check``); a damaged file is
  moved aside (``orders.damaged-<time>.sqlite3``) and a new, empty cache takes its
  place. The cache held nothing before the load (a bulk load only starts on an empty
  cache), so nothing is lost that a sync does not fetch again; the connections
  themselves live in the settings, not in the cache.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from orderdesk.models.errors import StoreError

log = logging.getLogger(__name__)

#: Called now and then during the check of a cache (:func:`intact`) with the share of the
#: file read so far (0..1; None where the system does not say); returns False to stop it.
CheckProgress = Callable[[float | None], bool]
#: seconds between two calls of the check's ``progress``
_CHECK_EVERY = 0.1
_RCHAR = Path("/proc/self/io")


class CheckStopped(StoreError):
    """The check of the cache was stopped before its end: the cache is left as it was,
    and checked again the next time it is opened."""

    def __init__(self) -> None:
        super().__init__("The check of the order cache was stopped; nothing was changed. "
                         "It runs again the next time orderdesk opens the cache.")


_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot's id (Linux), or "" where the system does not say."""
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        return ""


def marker(path: Path) -> Path:
    return path.with_name(path.name + ".bulk")


def _fsync(path: Path, *, directory: bool = False, write: bool = False) -> None:
    """fsync one file or folder (a missing one is skipped); ``write``: opened for
    writing, as Windows needs. Never the database itself on POSIX (:func:`sync_cache`)."""
    flags = (os.O_RDWR | getattr(os, "O_BINARY", 0) if write else os.O_RDONLY) | (
        getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return
    except OSError:  # a folder cannot be opened on Windows: its entries sync with the file
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _linux_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return cast("Callable[[int], int]", fn)


_SYNCFS = _linux_syncfs()


def sync_cache(path: Path) -> None:
    """Have the OS write the cache's files to disk, and wait for it.

    Never by opening the database file here: on POSIX systems, closing *any* descriptor
    of a file drops every lock this process holds on it, SQLite's included (another
    process could then take the cache for unused and remove its WAL). So on Linux the
    cache's whole file system is synced (``syncfs`` on its folder), on other POSIX
    systems the whole system's writes (``os.sync``); on Windows, where a lock belongs
    to its handle, the two files themselves."""
    if os.name != "posix":
        for target in (path, _companions(path)[0]):
            _fsync(target, write=True)
        return
    if _SYNCFS is not None:
        fd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


def _companions(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def mark(path: Path) -> bool:
    """Write the marker (synced, with its folder) before the first unsynced page;
    False when it cannot be written (then the load must keep its syncs)."""
    target = marker(path)
    try:
        with open(target, "w", encoding="ascii") as f:
            f.write(f"{boot_id()} {os.getpid()}\n")
            f.flush()
            os.fsync(f.fileno())
        _fsync(path.parent, directory=True)
    except OSError as exc:
        log.warning("bulk load keeps its disk syncs: cannot write %s (%s)", target, exc)
        with contextlib.suppress(OSError):
            target.unlink()
        return False
    return True


def settle(path: Path) -> None:
    """Sync the cache's files to disk, then remove the marker."""
    sync_cache(path)
    with contextlib.suppress(FileNotFoundError):
        marker(path).unlink()
    _fsync(path.parent, directory=True)


class Flusher:
    """While a bulk load writes without syncs: has the operating system write the
    cache's files to disk every :attr:`INTERVAL` seconds (:func:`sync_cache`, on a thread
    of its own, which alone waits for the disk). The kernel would otherwise keep the load's
    hundreds of MB in memory (it starts writing after ~30 s, or at 10 % of RAM) and the
    first sync after the load, the index build's checkpoint, waited for all of it."""

    #: seconds between two rounds
    INTERVAL = 1.0

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="orderdesk-flush",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            try:
                sync_cache(self._path)
            except OSError as exc:  # a system that refuses: the end's syncs still hold
                log.debug("bulk load flush: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _bytes_read() -> int | None:
    """What this process has read so far (Linux's ``rchar``), None elsewhere."""
    try:
        for line in _RCHAR.read_text(encoding="ascii").splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except (OSError, ValueError, UnicodeError):
        pass
    return None


def intact(path: Path, progress: CheckProgress | None = None) -> bool:
    """Whether SQLite's ``quick_check`` finds the file (an existing one) sound. Opened
    for writing, as the store opens it: SQLite first replays a WAL left behind (a
    read-only connection may refuse a WAL database whose ``-shm`` file is gone, which
    would take a sound cache for a damaged one). It reads the whole file: 80 s for a
    cache of 1,000,000 orders (5.9 GB) not in the OS's memory, as after a restart.

    ``progress`` is told every :data:`_CHECK_EVERY` seconds the share of the file read
    so far (estimated from what the process has read) and stops the check by returning
    False: :class:`CheckStopped`, since a check that did not end says nothing about the
    file. (Told by a thread of its own: SQLite's progress handler is not called while
    it checks the b-trees, most of the time, but the check does stop when
    interrupted.)"""
    stop = threading.Event()
    done = threading.Event()
    try:
        db = sqlite3.connect(path, check_same_thread=False)
    except sqlite3.Error:
        return False
    watcher = None
    if progress is not None:
        try:
            size = max(1, path.stat().st_size)
        except OSError:
            size = 1
        start = _bytes_read()
        told = progress  # (a name of its own: mypy keeps it narrowed in ``watch``)

        def watch() -> None:
            while not done.wait(_CHECK_EVERY):
                read = None if start is None else _bytes_read()
                share = None if start is None or read is None else \
                    min(1.0, max(0, read - start) / size)
                if not told(share):
                    stop.set()
                    db.interrupt()
                    return

        watcher = threading.Thread(target=watch, name="orderdesk-check", daemon=True)
        watcher.start()
    try:
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
            db.close()
    except sqlite3.Error:
        if stop.is_set():
            raise CheckStopped() from None
        return False
    return rows == [("ok",)]


def _read_marker(path: Path) -> tuple[str, str] | None:
    """(boot id, pid) of the marker left beside the cache, None without one."""
    try:
        parts = marker(path).read_text(encoding="ascii").split()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError):
        parts = []
    booted, pid = [*parts, "", ""][:2]
    return booted, pid


def _this_boot(booted: str) -> bool:
    """Whether the marker's boot is this one (never where the system does not say)."""
    current = boot_id()
    return bool(current) and booted == current


def will_check(path: Path) -> bool:
    """Whether opening the cache at ``path`` checks it first (:func:`recover`: the
    machine restarted during its bulk load), which reads the whole file."""
    left = _read_marker(path)
    return left is not None and not _this_boot(left[0]) and path.exists()


def recover(path: Path, progress: CheckProgress | None = None) -> Path | None:
    """Before the cache at ``path`` is opened: settle what an interrupted bulk load left
    (module docstring). Returns where a damaged cache was moved, or None. ``progress``:
    :func:`intact`'s, when the file is checked (:class:`CheckStopped` leaves the cache
    and its marker as they were)."""
    target = marker(path)
    left = _read_marker(path)
    if left is None:
        return None
    booted, pid = left
    if _this_boot(booted):
        if pid.isdigit() and sys.platform != "win32" and _alive(int(pid)):
            return None  # another process is loading this cache right now
        settle(path)
        return None
    if not path.exists() or intact(path, progress):
        settle(path)
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    wal, shm = _companions(path)
    path.replace(moved)
    if wal.exists():
        wal.replace(moved.with_name(moved.name + "-wal"))
    with contextlib.suppress(FileNotFoundError):
        shm.unlink()
    target.unlink()
    _fsync(path.parent, directory=True)
    log.info("the order cache at %s was found damaged after its first sync was cut "
             "short (the machine stopped); it was moved to %s and a new, empty cache "
             "started: sync to fetch the orders again", path, moved)
    return moved

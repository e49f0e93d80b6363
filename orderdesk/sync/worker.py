"""The keyset walk in a worker process: fetch + JSON reading + the fast reader run on
the other core, the engine's process only writes. (The fetch thread only does HTTP
and cuts each page into its orders' JSON bytes; the walk reads each order straight
from them, ``walk.read_page``.)

A ``spawn`` child (never ``fork``: the GUI process has Qt and threads) runs
:func:`orderdesk.sync.walk.keyset_walk` from the engine's bookmark and sends each
:class:`~orderdesk.sync.walk.Step` back through a bounded queue (:data:`IN_FLIGHT`
pages). The engine commits the steps in order, each with its bookmark, exactly as
in-process, so resume, kill-and-resume and deletions do not change. An
:class:`OrderdeskError` in the child reaches the engine as the same class with the
same message; a child that dies is a :class:`WorkerError`; cancel ends the child.
The secret travels to the child in its start-up pipe only (never logged, never
written anywhere); a child whose parent dies stops at its next page.
"""

from __future__ import annotations

import gc
import importlib
import logging
import multiprocessing
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from orderdesk.models.errors import OrderdeskError
from orderdesk.store.codec import EncodedPage
from orderdesk.sync.walk import Step

log = logging.getLogger(__name__)

#: pages decoded ahead of the writer
IN_FLIGHT = 3
#: seconds between checks of cancel and of the child's health while waiting for a page
_POLL = 0.1


class WorkerError(OrderdeskError):
    """The sync's worker process stopped without saying why (killed, out of memory)."""

    retriable = True


def _child(out: Any, control: Any, spec: dict[str, Any], secret: str, page_size: int,
           connection_id: int) -> None:  # pragma: no cover
    """The worker process (coverage does not follow ``spawn``; tests/e2e do). Once its
    imports and client are ready it says so and waits for the bookmark to walk from
    (the engine walks on in its own process meanwhile). Each page's orders go out
    encoded (the store's codec, no database): tuples for every table and each order's
    hash, so the engine's process only decides and executes."""
    from orderdesk.api import HttpTransport, make_client
    from orderdesk.config.connections import ConnectionConfig
    from orderdesk.store.codec import encode_page
    from orderdesk.sync.walk import Fetcher, keyset_walk

    # as in the engine's process (engine._FewerCollections): pages of short-lived
    # containers, no cycles; the default threshold re-scans live pages ~90 times a page
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    parent = multiprocessing.parent_process()

    def send(message: tuple[Any, ...]) -> None:
        while True:
            try:
                out.put(message, timeout=1.0)
                return
            except queue.Full:
                if parent is not None and not parent.is_alive():
                    raise SystemExit(0) from None

    fetcher = None
    try:
        config = ConnectionConfig.from_json(spec["config"])
        http = HttpTransport(**spec["transport"])
        client = make_client(config, secret, http)
        fetcher = Fetcher(client, page_size)
        send(("ready",))
        start = _wait_for_start(control, parent)
        if start is None:  # the engine finished without us, or is gone
            return
        bookmark, boundary = start
        for step in keyset_walk(client, fetcher, bookmark, boundary,
                                lambda: datetime.now(UTC)):
            if step.fresh and not isinstance(step.fresh, EncodedPage):
                step.fresh = encode_page(step.fresh, connection_id, raw_bytes=True)
            send(("step", step))
        send(("end",))
    except OrderdeskError as exc:
        cls = type(exc)
        send(("error", cls.__module__, cls.__qualname__, exc.message, dict(vars(exc))))
    except BaseException as exc:  # a bug: the engine reports it as one
        send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        if fetcher is not None:
            fetcher.close(wait=False)


def _wait_for_start(control: Any, parent: Any) -> tuple[datetime | None, list[str]] | None:
    """(bookmark, boundary) from the engine's ``go``; ``None`` when it closes the pipe
    (it finished without this worker) or dies."""
    while True:
        try:
            if control.poll(1.0):
                message = control.recv()
                return (message[1], message[2]) if message[0] == "go" else None
        except (EOFError, OSError):
            return None
        if parent is not None and not parent.is_alive():
            return None


def _rebuild(module: str, name: str, message: str, state: dict[str, Any]) -> OrderdeskError:
    """The child's error as the same class, message and attributes."""
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        cls = OrderdeskError
    if not (isinstance(cls, type) and issubclass(cls, OrderdeskError)):
        cls = OrderdeskError
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.__dict__.update(state)
    return exc


class WorkerWalk:
    """The walk's steps from a worker process; ``close`` ends it (always call it).

    Started before it is needed: the child imports and builds its client (~0.3 s)
    while the engine walks on in its own process; once :meth:`ready`, :meth:`go`
    hands it the bookmark reached and :meth:`steps` yields the rest."""

    def __init__(self, spec: dict[str, Any], secret: str, page_size: int,
                 connection_id: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._queue: Any = ctx.Queue(maxsize=IN_FLIGHT)
        receiver, self._control = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_child, name="orderdesk-sync-worker", daemon=True,
            args=(self._queue, receiver, spec, secret, page_size, connection_id))
        self.started = time.perf_counter()
        self._early: tuple[Any, ...] | None = None
        self._ready = False
        try:
            self._process.start()
        finally:
            receiver.close()

    def ready(self) -> bool:
        """Whether the child waits for :meth:`go`; also true once it has failed or died
        (then :meth:`steps` raises that). Never blocks."""
        if self._ready:
            return True
        try:
            message = self._queue.get_nowait()
        except queue.Empty:
            if self._process.is_alive():
                return False
        else:
            if message[0] != "ready":
                self._early = message
        self._ready = True
        return True

    def go(self, bookmark: datetime | None, boundary: list[str]) -> None:
        """Walk from ``bookmark`` (with the ids committed at exactly it)."""
        try:
            self._control.send(("go", bookmark, boundary))
        except OSError:  # it died: steps() says so
            pass

    def steps(self, cancelled: Callable[[], bool]) -> Iterator[Step]:
        """Steps in order until the walk ends; raises the child's error, ``WorkerError``
        when the child dies, and returns at once (to the caller's cancel check) when
        ``cancelled()``."""
        while True:
            if cancelled():
                return
            try:
                if self._early is not None:
                    message, self._early = self._early, None
                else:
                    message = self._queue.get(timeout=_POLL)
            except queue.Empty:
                if self._process.is_alive():
                    continue
                try:  # it may have ended right after its last message
                    message = self._queue.get(timeout=_POLL)
                except queue.Empty:
                    raise WorkerError(
                        "The sync's worker process stopped unexpectedly; what was fetched "
                        "is kept, and the next sync resumes from there.",
                        details=f"worker exit code {self._process.exitcode}") from None
            kind = message[0]
            if kind == "ready":
                continue
            if kind == "step":
                yield message[1]
            elif kind == "end":
                return
            elif kind == "error":
                raise _rebuild(*message[1:])
            else:
                raise RuntimeError(f"sync worker crashed: {message[1]}")

    def close(self) -> None:
        with suppress(OSError):
            self._control.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)
        if self._process.is_alive():  # pragma: no cover - terminate is not refused
            self._process.kill()
            self._process.join(timeout=5)
        self._queue.close()
        self._queue.cancel_join_thread()

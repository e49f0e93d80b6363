"""Background work for the window: run a callable on a thread pool, get the result back
on the GUI thread, and drop results that a newer request has made stale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Job(QRunnable):
    def __init__(self, runner: TaskRunner, key: str, generation: int,
                 fn: Callable[[], Any]) -> None:
        super().__init__()
        self.runner = runner
        self.key = key
        self.generation = generation
        self.fn = fn

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the GUI thread, never lost
            ok, payload = False, exc
        else:
            ok, payload = True, result
        try:
            self.runner._finished.emit(self.key, self.generation, ok, payload)
        except RuntimeError:  # the window is gone: nobody is waiting any more
            pass


class TaskRunner(QObject):
    """Runs keyed jobs on its own pool; only the newest job of a key reports back.

    ``submit(key, fn, on_done, on_error)``: ``fn`` runs on a worker thread;
    ``on_done(result)`` / ``on_error(exc)`` run on the GUI thread, unless another job
    with the same key was submitted meanwhile (then the old result is dropped).
    """

    _finished = Signal(str, int, bool, object)
    idle = Signal()

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._generations: dict[str, int] = {}
        self._callbacks: dict[tuple[str, int], tuple[Callable[[Any], None],
                                                     Callable[[Exception], None] | None]] = {}
        self._closed = False
        self._finished.connect(self._deliver)

    def submit(self, key: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[Exception], None] | None = None) -> int:
        if self._closed:
            return -1
        generation = self._generations.get(key, 0) + 1
        self._generations[key] = generation
        self._callbacks = {k: v for k, v in self._callbacks.items() if k[0] != key}
        self._callbacks[(key, generation)] = (on_done, on_error)
        self.pool.start(_Job(self, key, generation, fn))
        return generation

    def cancel(self, key: str) -> None:
        """Forget the pending job of ``key``: its result will be dropped."""
        self._generations[key] = self._generations.get(key, 0) + 1
        self._callbacks = {k: v for k, v in self._callbacks.items() if k[0] != key}

    def busy(self, key: str | None = None) -> bool:
        if key is None:
            return bool(self._callbacks)
        return any(k[0] == key for k in self._callbacks)

    def _deliver(self, key: str, generation: int, ok: bool, payload: Any) -> None:
        callbacks = self._callbacks.pop((key, generation), None)
        if callbacks is None or self._closed:
            return
        on_done, on_error = callbacks
        if ok:
            on_done(payload)
        elif on_error is not None:
            on_error(payload)
        if not self._callbacks:
            self.idle.emit()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Stop delivering results and wait for running jobs (before the store closes)."""
        self._closed = True
        self._callbacks.clear()
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)

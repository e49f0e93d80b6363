"""Runs syncs on a worker thread and reports progress to the GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from orderdesk.models.errors import OrderdeskError
from orderdesk.services.sync import SyncService
from orderdesk.sync.progress import CancelToken, SyncProgress, SyncResult


class _SyncJob(QRunnable):
    def __init__(self, controller: SyncController, run: Callable[[], list[SyncResult]]) -> None:
        super().__init__()
        self.controller = controller
        self.run_sync = run

    def run(self) -> None:
        try:
            results = self.run_sync()
        except Exception as exc:  # SyncService returns failures; anything else is a bug
            results = [SyncResult("sync", "-", "failed",
                                  message=getattr(exc, "message", None) or
                                  "The sync stopped unexpectedly.",
                                  errors=(f"{type(exc).__name__}: {exc}",))]
        try:
            self.controller._done.emit(results)
        except RuntimeError:  # window already gone
            pass


class SyncController(QObject):
    """One sync at a time; ``progressed`` per committed page, ``finished`` with results."""

    started = Signal()
    progressed = Signal(object)  #: SyncProgress, on the GUI thread
    finished = Signal(list)  #: list[SyncResult]
    _progress = Signal(object)
    _done = Signal(list)

    def __init__(self, service: SyncService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._cancel: CancelToken | None = None
        self._progress.connect(self.progressed)
        self._done.connect(self._finish)
        self.last_results: list[SyncResult] = []

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(self, names: Sequence[str] | None = None, *, full: bool = False) -> bool:
        """Start a sync unless one runs; returns whether it started."""
        if self._cancel is not None:
            return False
        token = CancelToken()
        self._cancel = token
        service = self.service
        wanted = list(names) if names is not None else None
        emit = self._progress.emit

        def report(progress: SyncProgress) -> None:
            try:
                emit(progress)
            except RuntimeError:
                token.cancel()

        def run() -> list[SyncResult]:
            if wanted is not None and not wanted:
                return []
            return service.sync(wanted, full=full, progress=report, cancel=token)

        self.started.emit()
        self.pool.start(_SyncJob(self, run))
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def _finish(self, results: list[SyncResult]) -> None:
        self._cancel = None
        self.last_results = results
        self.finished.emit(results)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        self.cancel()
        self.pool.waitForDone(timeout_ms)


def error_text(exc: BaseException) -> tuple[str, str]:
    """(message for a clerk, technical details) of any exception."""
    if isinstance(exc, OrderdeskError):
        return exc.message, exc.details
    return "Something went wrong.", f"{type(exc).__name__}: {exc}"

"""What a running sync reports, and how it is cancelled."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from orderdesk.models.rows import ChangeSet


class CancelToken:
    """Set from any thread; the sync checks it between pages."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True, slots=True)
class SyncProgress:
    connection: str
    #: "fetching", "sweeping", "indexing" (a first sync into an empty cache builds the
    #: cache's sort indexes once every order is in: ~20 s at a million orders), "done"
    phase: str
    pages: int
    orders: int  #: orders fetched so far in this run
    total: int | None  #: the server's ``count`` estimate, when it gives one
    changes: ChangeSet = field(default_factory=ChangeSet)  #: of the last committed page

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.orders / self.total)


@dataclass(frozen=True, slots=True)
class SyncResult:
    connection: str
    mode: str  #: "full" or "incremental"
    outcome: str  #: "success", "failed", "cancelled"
    pages: int = 0
    fetched: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    seconds: float = 0.0
    message: str = ""
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome == "success"

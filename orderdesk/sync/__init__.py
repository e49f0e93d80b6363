"""The sync engine (no Qt).

``SyncEngine`` is imported on first use: the sync's worker process
(``orderdesk.sync.worker``) imports this package without the store and SQLAlchemy
(~0.8 s of its start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderdesk.sync.progress import CancelToken, SyncProgress, SyncResult

if TYPE_CHECKING:
    from orderdesk.sync.engine import SyncEngine


def __getattr__(name: str) -> Any:
    if name == "SyncEngine":
        from orderdesk.sync.engine import SyncEngine

        return SyncEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CancelToken", "SyncEngine", "SyncProgress", "SyncResult"]

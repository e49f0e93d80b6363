"""The local order cache (SQLAlchemy 2 Core).

``OrderStore`` is imported on first use, so that the codec (``orderdesk.store.codec``,
which the sync's worker process runs) comes without SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orderdesk.store.store import CACHE_FILE, OrderStore

__all__ = ["CACHE_FILE", "OrderStore"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from orderdesk.store import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

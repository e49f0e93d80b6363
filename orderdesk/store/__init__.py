"""The local order cache (SQLAlchemy 2 Core)."""

from orderdesk.store.store import CACHE_FILE, OrderStore

__all__ = ["CACHE_FILE", "OrderStore"]

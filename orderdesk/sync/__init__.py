"""The sync engine (no Qt)."""

from orderdesk.sync.engine import SyncEngine
from orderdesk.sync.progress import CancelToken, SyncProgress, SyncResult

__all__ = ["CancelToken", "SyncEngine", "SyncProgress", "SyncResult"]

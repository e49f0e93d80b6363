"""``SyncService``: runs syncs for the UI and the CLI (blocking; call off the GUI thread)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from orderdesk.api import HttpTransport, make_client
from orderdesk.models.errors import OrderdeskError
from orderdesk.services.connections import ConnectionService
from orderdesk.services.context import AppContext
from orderdesk.sync.engine import SyncEngine
from orderdesk.sync.progress import CancelToken, SyncProgress, SyncResult

log = logging.getLogger(__name__)


class SyncService:
    def __init__(self, ctx: AppContext, *, transport_factory: Callable[[], HttpTransport]
                 | None = None, full_sweep_every: timedelta = timedelta(hours=24)) -> None:
        self.ctx = ctx
        self._transport_factory = transport_factory or HttpTransport
        self.full_sweep_every = full_sweep_every

    def connection_names(self) -> list[str]:
        return [c.name for c in self.ctx.config.connections()]

    def test(self, name: str) -> str:
        return ConnectionService(self.ctx).test(name)

    def sync(self, names: Sequence[str] | None = None, *, full: bool = False,
             progress: Callable[[SyncProgress], None] | None = None,
             cancel: CancelToken | None = None) -> list[SyncResult]:
        """Sync the named connections (all when ``None``), one after the other.

        Failures come back as ``SyncResult(outcome="failed")`` with a readable message;
        a cancel stops the current connection between pages and skips the rest.
        """
        cancel = cancel or CancelToken()
        wanted = list(names) if names else self.connection_names()
        results: list[SyncResult] = []
        transport = self._transport_factory()
        try:
            for name in wanted:
                if cancel.cancelled:
                    results.append(SyncResult(name, "-", "cancelled", message="Not started."))
                    continue
                results.append(self._one(name, full, progress, cancel, transport))
        finally:
            transport.close()
        return results

    def _one(self, name: str, full: bool, progress: Callable[[SyncProgress], None] | None,
             cancel: CancelToken, transport: HttpTransport) -> SyncResult:
        try:
            config = self.ctx.config.get(name)
            self.ctx.store.add_connection(config.name, str(config.kind), config.base_url,
                                          currency=config.currency,
                                          display_name=config.display_name)
            client = make_client(config, self.ctx.secrets.get(config), transport)
        except OrderdeskError as exc:
            return SyncResult(name, "-", "failed", message=exc.message,
                              errors=(exc.details,) if exc.details else ())
        engine = SyncEngine(self.ctx.store, client, page_size=config.page_size,
                            full_sweep_every=self.full_sweep_every, progress=progress,
                            cancel=cancel)
        return engine.run(full=full)

"""One open orderdesk: its data folder, settings, secrets and cache. No globals."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from orderdesk.config.connections import ConfigStore
from orderdesk.config.paths import config_file, resolve_data_dir
from orderdesk.config.secrets import SecretStore
from orderdesk.store import OrderStore
from orderdesk.store.unsynced import CheckProgress, CheckStopped

__all__ = ["AppContext", "CheckProgress", "CheckStopped", "Opening"]


@dataclass
class AppContext:
    data_dir: Path
    config: ConfigStore
    secrets: SecretStore
    store: OrderStore

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None, *,
             check: CheckProgress | None = None) -> AppContext:
        """The settings, secrets and order cache of ``data_dir``. ``check``: told how far
        the check of the cache has come when it must be checked first
        (:meth:`checks_first`); returning False stops it (``CheckStopped``, the cache
        left as it was)."""
        overridden = bool(data_dir) or bool(os.environ.get("ORDERDESK_DATA_DIR"))
        folder = resolve_data_dir(data_dir)
        return cls(
            data_dir=folder,
            config=ConfigStore(config_file(folder, overridden=overridden)),
            secrets=SecretStore(),
            store=OrderStore.in_dir(folder, check=check),
        )

    @staticmethod
    def checks_first(data_dir: str | os.PathLike[str] | None = None) -> bool:
        """Whether :meth:`open` checks the cache first, which can take a minute (see
        ``OrderStore.checks_first``): a window shows that it is working meanwhile."""
        return OrderStore.checks_first(resolve_data_dir(data_dir))

    def close(self) -> None:
        self.store.close()


class Opening:
    """:meth:`AppContext.open` on a thread of its own, for a cache that must be checked
    first (up to a minute): the caller waits as suits it (pumping a window's events, or
    ``done.wait`` so that Ctrl-C reaches it; not ``Thread.join``, which a Ctrl-C inside
    it leaves believing the running thread ended, bpo-45274), shows :attr:`share`, may
    :meth:`stop` the check, then takes :meth:`result`."""

    def __init__(self, data_dir: str | os.PathLike[str] | None) -> None:
        #: set once the context is open or opening it failed
        self.done = threading.Event()
        #: the share of the cache's file the check has read (None: not known yet)
        self.share: float | None = None
        self._stopped = threading.Event()
        self._ctx: AppContext | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(data_dir,), name="orderdesk-open",
                         daemon=True).start()

    def stop(self) -> None:
        """Stop the check: :meth:`result` then raises ``CheckStopped``."""
        self._stopped.set()

    @property
    def stopping(self) -> bool:
        return self._stopped.is_set()

    def _check(self, share: float | None) -> bool:
        self.share = share
        return not self._stopped.is_set()

    def _run(self, data_dir: str | os.PathLike[str] | None) -> None:
        try:
            self._ctx = AppContext.open(data_dir, check=self._check)
        except BaseException as exc:  # raised again by result(), in the waiting thread
            self._error = exc
        finally:
            self.done.set()

    def result(self) -> AppContext:
        """The open context (once :attr:`done`), or what opening it raised."""
        if self._error is not None:
            raise self._error
        assert self._ctx is not None, "result() before done"
        return self._ctx

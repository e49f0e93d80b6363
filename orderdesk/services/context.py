"""One open orderdesk: its data folder, settings, secrets and cache. No globals."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orderdesk.config.connections import ConfigStore
from orderdesk.config.paths import config_file, resolve_data_dir
from orderdesk.config.secrets import SecretStore
from orderdesk.store import OrderStore
from orderdesk.store.unsynced import CheckProgress, CheckStopped

__all__ = ["AppContext", "CheckProgress", "CheckStopped"]


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

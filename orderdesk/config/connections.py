"""Connection definitions and app settings in a versioned JSON file. Never secrets."""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from orderdesk.models.entities import ConnectionKind
from orderdesk.models.errors import ConfigError

CONFIG_VERSION = 1
AUTH_KINDS = ("bearer", "basic", "token")
#: pages of the shop kinds: 1,000 orders (a sync ~1.5x faster than pages of 100; a server
#: that caps ``limit`` lower, as DRF's do, is walked by what it sends, see
#: tests/api/test_sync_engine_edges.py). Other kinds: 100.
DEFAULT_PAGE_SIZE: dict[ConnectionKind, int] = {
    ConnectionKind.SHOP_STAFF: 1000, ConnectionKind.SHOP_CUSTOMER: 1000}
#: the currency of a connection whose shop sends none and that names none itself
DEFAULT_CURRENCY = "EUR"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """A named connection: kind, base URL and how to authenticate (not the secret)."""

    name: str
    kind: ConnectionKind
    base_url: str
    display_name: str = ""
    currency: str = ""  #: ISO code for orders that carry none; "" = DEFAULT_CURRENCY
    auth: str = ""  #: bearer | basic (ecommerce) | token (shop kinds); "" = the kind's default
    username: str = ""  #: e-mail for HTTP Basic
    token_env: str = ""  #: environment variable holding the secret, instead of the keyring
    #: orders asked for per page; 0 = the kind's default (:data:`DEFAULT_PAGE_SIZE`)
    page_size: int = 0
    timeout_s: float = 30.0
    demo: bool = False  #: created by demo mode; its secret lives only in memory
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def order_currency(self) -> str:
        """The currency of this connection's orders that do not name their own."""
        return (self.currency or DEFAULT_CURRENCY).upper()

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise ConfigError(
                f"Connection name {self.name!r} is not valid: use letters, digits, '.', '-' "
                "or '_' (up to 64), starting with a letter or digit.")
        try:
            object.__setattr__(self, "kind", ConnectionKind(self.kind))
        except ValueError:
            kinds = ", ".join(k.value for k in ConnectionKind)
            raise ConfigError(f"Unknown connection kind {self.kind!r} (choose {kinds}).") \
                from None
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{self.base_url!r} is not an http(s) URL, "
                              "e.g. https://shop.example.com")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if not self.auth:
            default = "bearer" if self.kind is ConnectionKind.ECOMMERCE_CUSTOMER else "token"
            object.__setattr__(self, "auth", default)
        if self.auth not in AUTH_KINDS:
            raise ConfigError(f"Unknown authentication {self.auth!r} (choose bearer or basic).")
        if self.auth == "basic" and not self.username:
            raise ConfigError("HTTP Basic authentication needs --username (the e-mail).")
        if self.token_env and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", self.token_env):
            raise ConfigError(f"{self.token_env!r} is not a valid environment variable name.")
        if not self.page_size:
            object.__setattr__(self, "page_size", DEFAULT_PAGE_SIZE.get(self.kind, 100))
        if not 1 <= self.page_size <= 1000:
            raise ConfigError("page size must be between 1 and 1000")

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectionConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


#: Config upgrades: version N → N+1.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class ConfigStore:
    """The settings file. Writes are atomic (temp file + rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"version": CONFIG_VERSION, "connections": [], "settings": {}}
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"The settings file {self.path} cannot be read.",
                              details=str(exc)) from exc
        if not isinstance(data, dict):
            raise ConfigError(f"The settings file {self.path} is not a JSON object.")
        version = int(data.get("version", 0))
        if version > CONFIG_VERSION:
            raise ConfigError(f"The settings file {self.path} was written by a newer "
                              "orderdesk; update orderdesk to use it.")
        while version < CONFIG_VERSION:
            data = _UPGRADES[version](data)
            version += 1
        data.setdefault("connections", [])
        data.setdefault("settings", {})
        return data

    def _save(self, data: dict[str, Any]) -> None:
        data["version"] = CONFIG_VERSION
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # connections ---------------------------------------------------------------
    def connections(self) -> list[ConnectionConfig]:
        return [ConnectionConfig.from_json(c) for c in self._load()["connections"]]

    def get(self, name: str) -> ConnectionConfig:
        for conn in self.connections():
            if conn.name == name:
                return conn
        raise ConfigError(f"There is no connection named {name!r}. "
                          "`orderdesk connection list` shows the ones there are.")

    def save_connection(self, conn: ConnectionConfig, *, replace_existing: bool = True) -> None:
        with self._lock:
            data = self._load()
            others = [c for c in data["connections"] if c["name"] != conn.name]
            if len(others) != len(data["connections"]) and not replace_existing:
                raise ConfigError(f"A connection named {conn.name!r} already exists.")
            data["connections"] = [*others, conn.to_json()]
            self._save(data)

    def remove_connection(self, name: str) -> bool:
        with self._lock:
            data = self._load()
            kept = [c for c in data["connections"] if c["name"] != name]
            if len(kept) == len(data["connections"]):
                return False
            data["connections"] = kept
            self._save(data)
            return True

    # settings ------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        return self._load()["settings"].get(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        with self._lock:
            data = self._load()
            data["settings"][key] = value
            self._save(data)


__all__ = ["AUTH_KINDS", "ConfigStore", "ConnectionConfig"]

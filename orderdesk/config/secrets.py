"""API secrets: the system keyring, or an environment variable the connection names.

Nothing secret is ever written to the settings file, the cache, logs or exports.
Where no keyring backend exists (headless machines), the user names an environment
variable instead (``--token-env VAR``); demo connections keep theirs in memory.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from orderdesk.config.connections import ConnectionConfig
from orderdesk.models.errors import ConfigError

SERVICE = "orderdesk"


def _keyring() -> Any:
    import keyring

    return keyring


class SecretStore:
    def __init__(self) -> None:
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()

    def remember(self, name: str, secret: str) -> None:
        """Keep a secret for this process only (demo connections)."""
        with self._lock:
            self._memory[name] = secret

    def get(self, conn: ConnectionConfig) -> str | None:
        with self._lock:
            if conn.name in self._memory:
                return self._memory[conn.name]
        if conn.token_env:
            return os.environ.get(conn.token_env, "") or None
        if conn.demo:
            return None
        try:
            from keyring.errors import KeyringError

            try:
                secret: str | None = _keyring().get_password(SERVICE, conn.name)
                return secret
            except KeyringError:
                return None
        except ImportError:  # pragma: no cover - keyring is a dependency
            return None

    def describe(self, conn: ConnectionConfig) -> str:
        """Where the secret is looked for, for people (never the secret itself)."""
        if conn.token_env:
            state = "set" if os.environ.get(conn.token_env) else "NOT SET"
            return f"environment variable {conn.token_env} ({state})"
        if conn.demo:
            return "demo (in memory)"
        return "system keyring"

    def store(self, conn: ConnectionConfig, secret: str) -> None:
        """Put a secret in the keyring; a clear error when there is none."""
        if not secret:
            raise ConfigError("The token is empty.")
        from keyring.errors import KeyringError, NoKeyringError

        try:
            _keyring().set_password(SERVICE, conn.name, secret)
        except NoKeyringError as exc:
            raise ConfigError(
                "This machine has no system keyring to keep the token in. Put the token in "
                "an environment variable and add the connection with --token-env VAR.",
                details=str(exc)) from exc
        except KeyringError as exc:
            raise ConfigError("The system keyring refused to store the token.",
                              details=str(exc)) from exc

    def forget(self, conn: ConnectionConfig) -> None:
        with self._lock:
            self._memory.pop(conn.name, None)
        if conn.token_env or conn.demo:
            return
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            _keyring().delete_password(SERVICE, conn.name)
        except (PasswordDeleteError, KeyringError):
            pass

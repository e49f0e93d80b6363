"""Settings, connection definitions and secrets (no Qt, SQL or HTTP)."""

from orderdesk.config.connections import (
    AUTH_KINDS,
    DEFAULT_CURRENCY,
    ConfigStore,
    ConnectionConfig,
)
from orderdesk.config.paths import resolve_data_dir
from orderdesk.config.secrets import SecretStore

__all__ = ["AUTH_KINDS", "DEFAULT_CURRENCY", "ConfigStore", "ConnectionConfig", "SecretStore",
           "resolve_data_dir"]

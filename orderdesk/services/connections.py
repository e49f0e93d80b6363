"""``ConnectionService``: add, list, test and remove connections."""

from __future__ import annotations

from orderdesk.api import HttpTransport, make_client
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models.errors import ConfigError
from orderdesk.services.context import AppContext


class ConnectionService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def list(self) -> list[ConnectionConfig]:
        return self.ctx.config.connections()

    def get(self, name: str) -> ConnectionConfig:
        return self.ctx.config.get(name)

    def add(self, config: ConnectionConfig, secret: str | None = None, *,
            replace: bool = True) -> None:
        """Save a connection; the secret goes to the keyring (or memory for demo ones)."""
        if secret:
            if config.demo:
                self.ctx.secrets.remember(config.name, secret)
            elif config.token_env:
                raise ConfigError(f"The connection reads its secret from ${config.token_env}; "
                                  "do not pass a token as well.")
            else:
                self.ctx.secrets.store(config, secret)
        elif not config.token_env and not config.demo and self.ctx.secrets.get(config) is None:
            raise ConfigError("A connection needs a token (or password): give --token-stdin, "
                              "or --token-env VAR to read it from an environment variable.")
        self.ctx.config.save_connection(config, replace_existing=replace)
        self.ctx.store.add_connection(config.name, str(config.kind), config.base_url,
                                      currency=config.currency,
                                      display_name=config.display_name)
        if not config.demo:
            # The first real connection ends the demo: its orders would only mix in.
            for other in self.list():
                if other.demo:
                    self.remove(other.name)

    def remove(self, name: str, *, keep_orders: bool = False) -> int:
        config = self.ctx.config.get(name)
        self.ctx.secrets.forget(config)
        self.ctx.config.remove_connection(name)
        return 0 if keep_orders else self.ctx.store.remove_connection(name)

    def test(self, name: str, *, transport: HttpTransport | None = None) -> str:
        """Fetch one order; a clerk-readable line on success, an OrderdeskError otherwise."""
        config = self.ctx.config.get(name)
        own = transport is None
        http = transport or HttpTransport(timeout=config.timeout_s, max_retries=1)
        try:
            client = make_client(config, self.ctx.secrets.get(config), http)
            page = client.list_page(offset=0, limit=1)
            for item in page.results[:1]:
                client.normalize(item)
        finally:
            if own:
                http.close()
        count = page.count if page.count is not None else len(page.results)
        return f"{config.label}: connected, {count} order(s) on the server."

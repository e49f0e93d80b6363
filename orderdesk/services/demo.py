"""Demo mode: the embedded demo shop server plus connections to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from orderdesk.config.connections import ConnectionConfig
from orderdesk.models.entities import ConnectionKind
from orderdesk.services.connections import ConnectionService
from orderdesk.services.context import AppContext

log = logging.getLogger(__name__)

DEMO_CONNECTIONS = (
    ("demo-staff", ConnectionKind.SHOP_STAFF, "Demo shop (staff)"),
    ("demo-customer", ConnectionKind.SHOP_CUSTOMER, "Demo shop (customer)"),
    ("demo-ecommerce", ConnectionKind.ECOMMERCE_CUSTOMER, "Demo e-commerce (customer)"),
)


@dataclass
class DemoSession:
    """A running demo server and the connections registered for it."""

    server: Any
    connection_names: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, ctx: AppContext, orders: int = 5000, *, seed: int = 1,
              kinds: tuple[ConnectionKind, ...] | None = None) -> DemoSession:
        """Start the demo server on a free loopback port and point demo connections at it."""
        from orderdesk.demo import DemoServer

        server = DemoServer(orders=orders, seed=seed, host="127.0.0.1", port=0)
        server.start()
        session = cls(server)
        try:
            service = ConnectionService(ctx)
            for name, kind, label in DEMO_CONNECTIONS:
                if kinds is not None and kind not in kinds:
                    continue
                token = (server.staff_token if kind is ConnectionKind.SHOP_STAFF
                         else server.customer_token)
                config = ConnectionConfig(name=name, kind=kind, base_url=server.base_url,
                                          display_name=label, currency="EUR", demo=True)
                service.add(config, token)
                session.connection_names.append(name)
        except BaseException:
            server.stop()
            raise
        log.info("demo server at %s", server.base_url)
        return session

    @property
    def base_url(self) -> str:
        return str(self.server.base_url)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> DemoSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

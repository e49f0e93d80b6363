"""API clients for the three connection kinds over one shared HTTP layer."""

from __future__ import annotations

from orderdesk.api.base import OrderClient, Page, PushDown
from orderdesk.api.http import HttpTransport
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models.entities import ConnectionKind


def make_client(config: ConnectionConfig, secret: str | None,
                transport: HttpTransport) -> OrderClient:
    """The client for a connection's kind."""
    if config.kind is ConnectionKind.ECOMMERCE_CUSTOMER:
        from orderdesk.api.ecommerce_customer.client import EcommerceClient

        return EcommerceClient(config, secret, transport)
    from orderdesk.api.shop.client import ShopClient

    return ShopClient(config, secret, transport)


__all__ = ["HttpTransport", "OrderClient", "Page", "PushDown", "make_client"]

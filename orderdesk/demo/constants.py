"""Fixed values of the demo shop: tokens, credentials, reference date, versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

#: Staff token for ``GET /api/orders`` (``Authorization: Token <this>``).
DEFAULT_STAFF_TOKEN: Final = "demo-staff-token"  # noqa: S105
#: Customer token for the two customer endpoints (``Token`` on the shop API,
#: ``Bearer`` on the ecommerce API).
DEFAULT_CUSTOMER_TOKEN: Final = "demo-customer-token"  # noqa: S105
#: HTTP Basic credentials of the demo customer on the ecommerce API.
DEFAULT_CUSTOMER_EMAIL: Final = "demo@example.com"
DEFAULT_CUSTOMER_PASSWORD: Final = "demo-password"  # noqa: S105

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
DEFAULT_ORDERS: Final = 5000
DEFAULT_SEED: Final = 1

#: The demo customer (owner of the customer endpoints' orders) has this id.
DEMO_CUSTOMER_ID: Final = 1
#: The order with this id (when the shop has that many) has :data:`BIG_ORDER_LINES` lines.
BIG_ORDER_ID: Final = 7
BIG_ORDER_LINES: Final = 200
#: Currency of every order of the demo shop (minor unit = cent).
CURRENCY: Final = "EUR"

#: Orders are created over the two years before this instant; nothing reads the clock.
REFERENCE_DATE: Final = datetime(2026, 3, 1, tzinfo=UTC)

#: Bump whenever the generated data changes; part of the cache key of data files.
GENERATOR_VERSION: Final = 1

#: Paths of the three endpoints.
STAFF_PATH: Final = "/api/orders"
SHOP_CUSTOMER_PATH: Final = "/api/shop/customers/me/orders"
ECOMMERCE_PATH: Final = "/api/v1/i/orders/"

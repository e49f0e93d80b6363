"""The demo shop: a deterministic order generator and a real HTTP server speaking
the three order APIs orderdesk syncs from (see ``/work/shared/API-NOTES.md``).

* :class:`DemoServer`: the server in a background thread (tests, demo mode).
* :mod:`orderdesk.demo.command`: ``orderdesk demo-server`` (``add_arguments``, ``run``).
* :func:`iter_staff_payloads` & co.: the served JSON objects without a server.
"""

from orderdesk.demo.constants import (
    BIG_ORDER_ID,
    CURRENCY,
    DEFAULT_CUSTOMER_EMAIL,
    DEFAULT_CUSTOMER_PASSWORD,
    DEFAULT_CUSTOMER_TOKEN,
    DEFAULT_HOST,
    DEFAULT_ORDERS,
    DEFAULT_PORT,
    DEFAULT_SEED,
    DEFAULT_STAFF_TOKEN,
    DEMO_CUSTOMER_ID,
    GENERATOR_VERSION,
    REFERENCE_DATE,
)
from orderdesk.demo.generator import (
    iter_ecommerce_payloads,
    iter_rows,
    iter_shop_customer_payloads,
    iter_staff_payloads,
)
from orderdesk.demo.server import DemoServer

__all__ = [
    "BIG_ORDER_ID",
    "CURRENCY",
    "DEFAULT_CUSTOMER_EMAIL",
    "DEFAULT_CUSTOMER_PASSWORD",
    "DEFAULT_CUSTOMER_TOKEN",
    "DEFAULT_HOST",
    "DEFAULT_ORDERS",
    "DEFAULT_PORT",
    "DEFAULT_SEED",
    "DEFAULT_STAFF_TOKEN",
    "DEMO_CUSTOMER_ID",
    "GENERATOR_VERSION",
    "REFERENCE_DATE",
    "DemoServer",
    "iter_ecommerce_payloads",
    "iter_rows",
    "iter_shop_customer_payloads",
    "iter_staff_payloads",
]

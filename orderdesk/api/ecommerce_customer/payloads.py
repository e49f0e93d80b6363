"""Field names of the ecommerce-API (``/api/v1/i/orders/``)."""

from __future__ import annotations

LIST_PATH = "/api/v1/i/orders/"
DETAIL_PATH = "/api/v1/i/orders/{id}/"
STATUSES = ("awaiting_payment", "paid", "delivered", "cancelled")

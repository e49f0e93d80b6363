"""Field names of the shop API (the only place they are spelt out, with normalize.py and
the fast reader's Structs in fast.py)."""

from __future__ import annotations

STAFF_PATH = "/api/orders"
CUSTOMER_PATH = "/api/shop/customers/me/orders"

#: nested objects: the staff endpoint's name first, then the customer endpoint's
CUSTOMER = ("customer_data", "customer")
PAYMENT_METHOD = ("payment_method_data", "payment_method")
SHIPPING_METHOD = ("shipping_method_data", "shipping_method")
COUNTRY = ("billing_country_data", "billing_country")
STATE = ("billing_state_data", "billing_state")
CITY = ("billing_city_data", "billing_city")

ORDER_MONEY = ("shipping_cost", "items_subtotal", "items_discount", "subtotal",
               "total_discount", "total", "amount_paid", "amount_outstanding")
ITEM_MONEY = ("unit_price", "unit_discount", "subtotal", "discount", "total")

#: OrderQuery sort fields the endpoints can order by
ORDERING = {"created": "created_at", "updated": "updated_at", "status": "status",
            "country": "billing_country__name"}

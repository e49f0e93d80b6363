"""The shop API: ``/api/shop/customers/me/orders`` (customer) and ``/api/orders`` (staff)."""

"""Tables of the cache (SQLAlchemy Core; dialect-neutral except the FTS in migrations).

Money is stored as integers at 4 decimal places (``money.STORAGE_EXPONENT``) where
SQL must compare or sort it (order figures), and as exact decimal text elsewhere
(line and payment amounts). Datetimes are integer microseconds since the epoch, UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, nullable=False),
)

connections = Table(
    "connections", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("base_url", Text, nullable=False),
    Column("currency", String(8), nullable=False, default=""),
    Column("display_name", Text, nullable=False, default=""),
)

#: (index name part, column) of every column a table can be sorted by (besides the
#: category itself, served by ``ix_orders_category``). Each gets two indexes:
#: ``(column)``, an index-only scan in exactly the order "by column, then id" (the
#: rowid in each entry breaks ties in the scan's direction), and, for those in
#: ``TAB_SORTABLE``, ``(category, column)`` for "one status tab, sorted by it". Composite
#: ``(column, category)`` indexes would not do for the first: the category sits
#: between column and rowid, so ties would need a sort.
SORTABLE: tuple[tuple[str, str], ...] = (
    ("number", "number"),
    ("created", "created_at"),
    ("updated", "updated_at"),
    ("customer", "customer_sort"),
    ("email", "email"),
    ("lines", "line_count"),
    ("quantity", "quantity"),
    ("total", "total"),
    ("paid", "paid"),
    ("outstanding", "outstanding"),
    ("payment", "payment_method"),
    ("shipping", "shipping_method"),
    ("country", "country"),
    ("synced", "synced_at"),
    ("problems", "problems"),
)

#: The sorts that also get a ``(category, column)`` index, for a status tab sorted by
#: them. Every index costs a sync about 1.5 % of its write rate (bench/index_cost.py:
#: all 31 cost 35 %), so the other columns sort a tab by reading its rows through
#: ``ix_orders_category`` and sorting them (a 15k-order tab in ~20 ms; the largest,
#: 730k of a million, in ~1 s).
TAB_SORTABLE = frozenset({"number", "created", "updated", "customer", "total"})

_MONEY = ("items_subtotal", "items_discount", "subtotal", "shipping", "total_discount",
          "total", "srv_paid", "srv_outstanding")

orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"),
           nullable=False),
    Column("remote_id", String(64), nullable=False),
    Column("number", Text, nullable=False),
    Column("status_raw", Text, nullable=False),
    Column("category", String(24), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("synced_at", BigInteger),
    Column("customer", Text, nullable=False),
    Column("customer_sort", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("payment_method", Text, nullable=False),
    Column("shipping_method", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("has_notes", Boolean, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    *(Column(name, BigInteger) for name in _MONEY),
    Column("srv_line_count", Integer),
    Column("srv_quantity", Integer),
    Column("is_paid", Boolean),
    Column("is_payable", Boolean),
    # effective payment figures (server's, or derived from the status) for filters
    Column("paid", BigInteger),
    Column("outstanding", BigInteger),
    Column("payment_state", String(16), nullable=False),
    Column("problems", Integer, nullable=False),
    Column("line_money", String(8), nullable=False),
    Column("content_hash", String(40), nullable=False),
    Index("ix_orders_conn_remote", "connection_id", "remote_id", unique=True),
    Index("ix_orders_category", "category"),
    *(Index(f"ix_orders_{name}", column) for name, column in SORTABLE),
    *(Index(f"ix_orders_cat_{name}", "category", column) for name, column in SORTABLE
      if name in TAB_SORTABLE),
)

order_docs = Table(
    "order_docs", metadata,
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("detail", Text, nullable=False),  # customer, billing, methods as JSON
    Column("raw", Text, nullable=False),  # the provider's JSON, verbatim
)

lines = Table(
    "order_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("remote_id", String(64)),
    Column("product_id", String(64)),
    Column("product_name", Text, nullable=False),
    Column("product_slug", Text, nullable=False),
    Column("variant", Text, nullable=False),
    Column("offer", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", String(40), nullable=False),
    Column("unit_discount", String(40)),
    Column("subtotal", String(40)),
    Column("discount", String(40)),
    Column("total", String(40)),
    Column("shipping", String(40)),
    Column("notes", Text, nullable=False),
    Column("created_at", BigInteger),
    Column("updated_at", BigInteger),
    Index("ix_lines_order", "order_id", "position"),
)

payments = Table(
    "payments", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("remote_id", String(64)),
    Column("amount", String(40), nullable=False),
    Column("method", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("created_at", BigInteger),
    Column("extra", Text, nullable=False),
    Index("ix_payments_order", "order_id", "position"),
)

sync_state = Table(
    "sync_state", metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"),
           primary_key=True),
    Column("state", Text, nullable=False),  # JSON: bookmark and resume cursor
    Column("last_success_at", BigInteger),
)

sync_log = Table(
    "sync_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"),
           nullable=False),
    Column("mode", String(16), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
    Column("outcome", String(16), nullable=False),
    Column("pages", Integer, nullable=False, default=0),
    Column("fetched", Integer, nullable=False, default=0),
    Column("added", Integer, nullable=False, default=0),
    Column("changed", Integer, nullable=False, default=0),
    Column("removed", Integer, nullable=False, default=0),
    Column("message", Text, nullable=False, default=""),
    Column("errors", Text, nullable=False, default="[]"),
)

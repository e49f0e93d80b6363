"""Order ↔ table rows. Exact: Decimals as integers or decimal text, datetimes as µs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

import msgspec

from orderdesk.models import flat, pricing
from orderdesk.models.entities import (
    Address,
    ConnectionKind,
    Customer,
    LineMoney,
    NamedRef,
    Order,
    OrderLine,
    Payment,
    ServerFigures,
    to_micros,
)
from orderdesk.models.flat import FlatOrder
from orderdesk.models.money import from_storage_units, to_storage_units
from orderdesk.models.query import fold
from orderdesk.models.rows import OrderRow
from orderdesk.models.status import OrderStatus, StatusCategory

#: Bump when the encoding of an order changes, so that the next sync rewrites every order
#: (tests/store/test_codec_version.py fails until it is bumped). 2: the content hash is
#: made of the raw JSON and what the connection adds (:func:`_content_hash`).
CODEC_VERSION = "2"

#: Columns of the rows an ``EncodedOrder`` carries (``row``, ``lines``, ``payments``),
#: in the order the store writes them.
ORDER_COLUMNS: tuple[str, ...] = ("connection_id", *flat.ROW_COLUMNS, "content_hash")
LINE_COLUMNS: tuple[str, ...] = flat.LINE_COLUMNS
PAYMENT_COLUMNS: tuple[str, ...] = flat.PAYMENT_COLUMNS


def from_micros(value: int) -> datetime:
    seconds, micros = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def _opt_micros(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def _units(value: Decimal | None, field: str) -> int | None:
    return None if value is None else to_storage_units(value, field=field)


def _money(value: int | None) -> Decimal | None:
    return None if value is None else from_storage_units(value)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _ref(ref: NamedRef | None) -> dict[str, Any] | None:
    return None if ref is None else {"id": ref.id, "name": ref.name, "code": ref.code}


def _unref(data: dict[str, Any] | None) -> NamedRef | None:
    return None if data is None else NamedRef(data["id"], data["name"], data["code"])


def _detail(order: Order) -> str:
    c, b = order.customer, order.billing
    doc = {
        "kind": str(order.kind),
        "customer": None if c is None else {
            "id": c.id, "username": c.username, "full_name": c.full_name,
            "first_name": c.first_name, "last_name": c.last_name, "email": c.email,
            "mobile": c.mobile},
        "billing": None if b is None else {
            "first_name": b.first_name, "last_name": b.last_name, "street": b.street,
            "postal_code": b.postal_code, "city": _ref(b.city), "state": _ref(b.state),
            "country": _ref(b.country), "mobile": b.mobile, "national_code": b.national_code},
        "payment_method": _ref(order.payment_method),
        "shipping_method": _ref(order.shipping_method),
    }
    return _dump_detail(doc)


_dump_detail = flat.dump_detail


def _detail_json(detail: dict[str, Any] | str) -> str:
    return detail if isinstance(detail, str) else _dump_detail(detail)


class EncodedOrder:
    """The rows one order becomes (order row without ids, doc, lines, payments, FTS body)."""

    __slots__ = ("body", "detail", "lines", "payments", "raw", "remote_id", "row")

    def __init__(self, order: Order, connection_id: int) -> None:
        recon = pricing.reconcile(order)
        f = order.figures
        self.remote_id = order.remote_id
        self.row: dict[str, Any] = {
            "connection_id": connection_id,
            "remote_id": order.remote_id,
            "number": order.number,
            "status_raw": order.status.raw,
            "category": str(order.status.category),
            "currency": order.currency,
            "created_at": to_micros(order.created_at),
            "updated_at": to_micros(order.updated_at),
            "customer": order.customer_name,
            "customer_sort": fold(order.customer_name),
            "email": order.email,
            "payment_method": order.payment_method.name if order.payment_method else "",
            "shipping_method": order.shipping_method.name if order.shipping_method else "",
            "country": order.country,
            "state": order.billing.state.name if order.billing and order.billing.state else "",
            "city": order.billing.city.name if order.billing and order.billing.city else "",
            "notes": order.notes,
            "has_notes": order.has_notes,
            "line_count": order.line_count,
            "quantity": order.total_quantity,
            "items_subtotal": _units(f.items_subtotal, "items_subtotal"),
            "items_discount": _units(f.items_discount, "items_discount"),
            "subtotal": _units(f.subtotal, "subtotal"),
            "shipping": _units(f.shipping, "shipping"),
            "total_discount": _units(f.total_discount, "total_discount"),
            "total": _units(f.total, "total"),
            "srv_paid": _units(f.amount_paid, "amount_paid"),
            "srv_outstanding": _units(f.amount_outstanding, "amount_outstanding"),
            "srv_line_count": f.line_count,
            "srv_quantity": f.quantity,
            "is_paid": f.is_paid,
            "is_payable": f.is_payable,
            "paid": _units(recon.amount_paid, "amount_paid"),
            "outstanding": _units(recon.amount_outstanding, "amount_outstanding"),
            "payment_state": str(recon.payment_state),
            "problems": len(recon.problems),
            "line_money": str(order.line_money),
        }
        self.lines = [
            {
                "position": pos, "remote_id": ln.remote_id, "product_id": ln.product_id,
                "product_name": ln.product_name, "product_slug": ln.product_slug,
                "variant": ln.variant, "offer": ln.offer, "quantity": ln.quantity,
                "unit_price": str(ln.unit_price), "unit_discount": _text(ln.unit_discount),
                "subtotal": _text(ln.subtotal), "discount": _text(ln.discount),
                "total": _text(ln.total), "shipping": _text(ln.shipping), "notes": ln.notes,
                "created_at": _opt_micros(ln.created_at), "updated_at": _opt_micros(ln.updated_at),
            }
            for pos, ln in enumerate(order.lines)
        ]
        self.payments = [
            {
                "position": pos, "remote_id": p.remote_id, "amount": str(p.amount),
                "method": p.method, "status": p.status, "reference": p.reference,
                "created_at": _opt_micros(p.created_at),
                "extra": json.dumps(list(p.extra), ensure_ascii=False),
            }
            for pos, p in enumerate(order.payments)
        ]
        self.detail = _detail(order)
        self.raw = order.raw
        self.body = fold(order.search_text())
        self._seal()

    @classmethod
    def from_flat(cls, flat: FlatOrder, connection_id: int) -> EncodedOrder:
        """The same rows from an order a provider's fast reader flattened (the sync's hot
        path; identical to ``EncodedOrder(normalize(...))`` for every order it accepts)."""
        self = cls.__new__(cls)
        self.remote_id = flat.remote_id
        self.row = dict(zip(ORDER_COLUMNS, (connection_id, *flat.row), strict=False))
        self.lines = [dict(zip(LINE_COLUMNS, ln, strict=True)) for ln in flat.lines]
        self.payments = [dict(zip(PAYMENT_COLUMNS, p, strict=True)) for p in flat.payments]
        self.detail = _detail_json(flat.detail)
        self.raw = flat.raw.decode("utf-8") if isinstance(flat.raw, bytes) else flat.raw
        self.body = flat.search
        self._seal(from_json=True)
        return self

    def _seal(self, *, from_json: bool = False) -> None:
        if from_json and self.raw:
            # the fast reader's rows are made from the JSON alone (see encode_page)
            self.row["content_hash"] = _content_hash(
                self.raw.encode("utf-8", "surrogatepass"), self.row["connection_id"],
                self.row["currency"])
            return
        # an Order, however it was built (with or without the provider's JSON): all it stores
        digest = hashlib.sha1(usedforsecurity=False)
        parts = [repr(tuple(self.row.values())), self.raw, CODEC_VERSION, repr(self.lines),
                 repr(self.payments), self.detail, self.body]
        for part in parts:
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        self.row["content_hash"] = digest.hexdigest()


def decode_order(row: Any, detail_json: str, raw: str, connection: str,
                 line_rows: list[Any], payment_rows: list[Any]) -> Order:
    detail = json.loads(detail_json)
    c, b = detail["customer"], detail["billing"]
    return Order(
        connection=connection,
        remote_id=row.remote_id,
        number=row.number,
        kind=ConnectionKind(detail["kind"]),
        status=OrderStatus(row.status_raw, StatusCategory(row.category)),
        currency=row.currency,
        created_at=from_micros(row.created_at),
        updated_at=from_micros(row.updated_at),
        synced_at=_opt_dt(row.synced_at),
        figures=ServerFigures(
            items_subtotal=_money(row.items_subtotal),
            items_discount=_money(row.items_discount),
            subtotal=_money(row.subtotal),
            shipping=_money(row.shipping),
            total_discount=_money(row.total_discount),
            total=_money(row.total),
            amount_paid=_money(row.srv_paid),
            amount_outstanding=_money(row.srv_outstanding),
            line_count=row.srv_line_count,
            quantity=row.srv_quantity,
            is_paid=None if row.is_paid is None else bool(row.is_paid),
            is_payable=None if row.is_payable is None else bool(row.is_payable),
        ),
        line_money=LineMoney(row.line_money),
        lines=tuple(
            OrderLine(
                remote_id=ln.remote_id, product_name=ln.product_name, quantity=ln.quantity,
                unit_price=Decimal(ln.unit_price), product_id=ln.product_id,
                product_slug=ln.product_slug, variant=ln.variant, offer=ln.offer,
                unit_discount=_dec(ln.unit_discount), subtotal=_dec(ln.subtotal),
                discount=_dec(ln.discount), total=_dec(ln.total), shipping=_dec(ln.shipping),
                notes=ln.notes, created_at=_opt_dt(ln.created_at),
                updated_at=_opt_dt(ln.updated_at),
            )
            for ln in line_rows
        ),
        payments=tuple(
            Payment(
                remote_id=p.remote_id, amount=Decimal(p.amount), method=p.method,
                status=p.status, reference=p.reference, created_at=_opt_dt(p.created_at),
                extra=tuple((str(k), str(v)) for k, v in json.loads(p.extra)),
            )
            for p in payment_rows
        ),
        customer=None if c is None else Customer(**c),
        billing=None if b is None else Address(
            first_name=b["first_name"], last_name=b["last_name"], street=b["street"],
            postal_code=b["postal_code"], city=_unref(b["city"]), state=_unref(b["state"]),
            country=_unref(b["country"]), mobile=b["mobile"], national_code=b["national_code"]),
        payment_method=_unref(detail["payment_method"]),
        shipping_method=_unref(detail["shipping_method"]),
        notes=row.notes,
        raw=raw,
    )


def decode_row(row: Any, connection: str) -> OrderRow:
    return OrderRow(
        id=row.id, connection=connection, remote_id=row.remote_id, number=row.number,
        status=OrderStatus(row.status_raw, StatusCategory(row.category)),
        created_at=from_micros(row.created_at), updated_at=from_micros(row.updated_at),
        synced_at=_opt_dt(row.synced_at), customer=row.customer, email=row.email,
        line_count=row.line_count, quantity=row.quantity, currency=row.currency,
        total=_money(row.total), paid=_money(row.paid), outstanding=_money(row.outstanding),
        payment_method=row.payment_method, shipping_method=row.shipping_method,
        country=row.country, problems=row.problems, has_notes=bool(row.has_notes),
    )


class EncodedPage:
    """A page of orders as ready-to-execute parameter tuples, one list per table, built
    without the database (the sync's worker process builds it, the store only decides
    insert / update / skip and runs ``executemany``).

    ``orders`` holds :data:`ORDER_COLUMNS` values (``content_hash`` last); the rows of
    ``lines`` (:data:`LINE_COLUMNS`), ``payments`` (:data:`PAYMENT_COLUMNS`), ``docs``
    (detail, raw) and ``fts`` (body) end with the position of their order in the page,
    which the store turns into the order's id. A page that repeats an order keeps the
    last copy."""

    __slots__ = ("connection_id", "docs", "fts", "hashes", "lines", "orders", "payments",
                 "remote_ids")

    def __init__(self, connection_id: int, remote_ids: list[str], hashes: list[str],
                 orders: list[tuple[Any, ...]],
                 lines: list[tuple[Any, ...]], payments: list[tuple[Any, ...]],
                 docs: list[tuple[Any, ...]], fts: list[tuple[Any, ...]]) -> None:
        self.connection_id = connection_id
        self.remote_ids = remote_ids
        self.hashes = hashes
        self.orders = orders
        self.lines = lines
        self.payments = payments
        self.docs = docs
        self.fts = fts

    def __len__(self) -> int:
        return len(self.remote_ids)

    def fields(self) -> tuple[Any, ...]:
        return (self.connection_id, self.remote_ids, self.hashes, self.orders, self.lines,
                self.payments, self.docs, self.fts)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as one MessagePack string (the worker's pages cross a pipe): ~2.5x
        less time to write than pickle's own tuples; plain values only (int, str, bytes,
        bool, None) and none lost or changed. Anything msgpack
        cannot write exactly (an integer beyond 64 bits, a lone surrogate) pickles as is.
        Rows come back as tuples (SQLAlchemy's executemany takes only those)."""
        try:
            return (_unpack_page, (_MSGPACK.encode(self.fields()),))
        except (TypeError, ValueError, OverflowError, UnicodeError, msgspec.EncodeError):
            return (EncodedPage, self.fields())


_MSGPACK = msgspec.msgpack.Encoder()
_Rows = list[tuple[Any, ...]]
_UNPACK = msgspec.msgpack.Decoder(
    tuple[int, list[str], list[str], _Rows, _Rows, _Rows, _Rows, _Rows])


def _unpack_page(data: bytes) -> EncodedPage:
    return EncodedPage(*_UNPACK.decode(data))


_VERSION_PART = CODEC_VERSION.encode() + b"\x00"
_CURRENCY = flat.ROW_COLUMNS.index("currency")
_HASH_SLICE = 2000


def _content_hash(raw_utf8: bytes, connection_id: int, currency: str) -> str:
    """The content hash of an order a fast reader read (``encode_page``,
    ``EncodedOrder.from_flat``): every row the store keeps of it is made from the
    provider's JSON (``raw_utf8``) by this code (:data:`CODEC_VERSION`) with what the
    connection adds: its id and, for an order that names no currency, the connection's
    (the row's ``currency``). The store rewrites an order whose hash changed and skips the
    others. Hashing the JSON instead of the rows: ~4 instead of ~14 µs an order in the
    sync's worker. (An ``Order``, which need not come from its ``raw``, hashes what it
    stores: ``EncodedOrder._seal``.)"""
    digest = hashlib.sha1(usedforsecurity=False)
    # in slices under hashlib's 2,048 bytes: a larger one releases the GIL, and in the
    # worker (fetch and pipe threads) getting it back cost more than the hash itself
    view = memoryview(raw_utf8)
    for start in range(0, len(view), _HASH_SLICE):
        digest.update(view[start:start + _HASH_SLICE])
    digest.update(f"\x00{connection_id}\x00{currency}\x00".encode("utf-8", "surrogatepass"))
    digest.update(_VERSION_PART)
    return digest.hexdigest()


def _utf8(raw: str) -> str | bytes:
    try:
        return raw.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the store gets the str as before
        return raw


_order_values = itemgetter(*ORDER_COLUMNS)
_line_values = itemgetter(*LINE_COLUMNS)
_payment_values = itemgetter(*PAYMENT_COLUMNS)


def encode_page(page: Sequence[Order | FlatOrder], connection_id: int, *,
                raw_bytes: bool = False) -> EncodedPage:
    """The page's rows as parameter tuples (the reference path's orders through
    :class:`EncodedOrder`, the fast reader's through :meth:`EncodedOrder.from_flat`).
    ``raw_bytes``: each raw JSON as its UTF-8 bytes, which the store writes as the same
    TEXT (for the worker process: bytes cross the pipe as they are, a non-ASCII ``str``
    is encoded by pickle and decoded again, then encoded once more for SQLite)."""
    latest: dict[str, Order | FlatOrder] = {}
    for order in page:  # a page may repeat an order: the last copy wins
        latest[order.remote_id] = order
    remote_ids: list[str] = []
    hashes: list[str] = []
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    payments: list[tuple[Any, ...]] = []
    docs: list[tuple[Any, ...]] = []
    fts: list[tuple[Any, ...]] = []
    for pos, order in enumerate(latest.values()):
        if isinstance(order, FlatOrder) and order.raw:
            # the fast reader's tuples as they are: the same values, hash and text as
            # through EncodedOrder.from_flat (tests/api/test_flat_orders.py)
            values = (connection_id, *order.row)
            raw = order.raw
            stored: str | bytes
            if isinstance(raw, bytes):  # the fast reader's UTF-8, as the server sent it
                utf8 = raw
                stored = raw if raw_bytes else raw.decode("utf-8")
            else:
                try:
                    utf8 = raw.encode("utf-8")
                    stored = utf8 if raw_bytes else raw
                except UnicodeEncodeError:
                    utf8, stored = raw.encode("utf-8", "surrogatepass"), raw
            digest = _content_hash(utf8, connection_id, order.row[_CURRENCY])
            remote_ids.append(order.remote_id)
            hashes.append(digest)
            orders.append((*values, digest))
            lines += [(*ln, pos) for ln in order.lines]
            payments += [(*p, pos) for p in order.payments]
            docs.append((_detail_json(order.detail), stored, pos))
            fts.append((order.search, pos))
            continue
        e = (EncodedOrder.from_flat(order, connection_id) if isinstance(order, FlatOrder)
             else EncodedOrder(order, connection_id))
        row = e.row
        remote_ids.append(e.remote_id)
        hashes.append(row["content_hash"])
        orders.append(_order_values(row))
        lines += [(*_line_values(ln), pos) for ln in e.lines]
        payments += [(*_payment_values(p), pos) for p in e.payments]
        docs.append((e.detail, _utf8(e.raw) if raw_bytes else e.raw, pos))
        fts.append((e.body, pos))
    return EncodedPage(connection_id, remote_ids, hashes, orders, lines, payments, docs, fts)

"""Shop API JSON → ``FlatOrder`` for the sync's hot path.

Takes an order only when it has the documented plain shape and its figures
reconcile at the currency's own scale, the way ``pricing.reconcile`` checks them,
computed here on integers. The shape is a set of ``msgspec.Struct`` types (below):
an order's JSON bytes are read straight into them (:func:`read_order`, the sync's
way: no dicts), or a decoded order is converted to them (:func:`flat_order`). Text
is JSON strings, ids strings or integers, order money decimal strings (the plain
spellings of ``_PLAIN_MONEY``) or integers, item money and counts integers, payments
only with their known fields. Anything else (a wrong type anywhere, a figure that
does not reconcile, a bad date) gives ``None`` and the caller uses the reference
path (``normalize`` → ``Order``), which also raises the classed errors for bad
input. The two paths give identical rows: see tests/api/test_flat_orders.py and
tests/api/test_flat_pages.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import msgspec

from orderdesk.models.entities import parse_datetime, to_micros
from orderdesk.models.errors import DataError
from orderdesk.models.flat import FlatOrder, dump_detail
from orderdesk.models.money import STORAGE_EXPONENT, currency_exponent
from orderdesk.models.pricing import payment_state
from orderdesk.models.status import OrderStatus

_PLAIN_MONEY: Final = re.compile(r"(-?)(\d{1,14})(?:\.(\d{1,4}))?")
_UNITS: Final = 10**STORAGE_EXPONENT
#: item money and quantities above this go the reference way (it checks the range)
_MAX_INT: Final = 10**13
_NOT_PAID: Final = frozenset({"failed", "pending", "cancelled", "canceled", "void"})
_CATEGORY: dict[str, str] = {}


# The documented plain shape (see payloads.py for the staff / customer names). A key
# that is absent or null is None, as ``dict.get`` gives; unknown keys are ignored (as
# the reference path does), except in a payment (they become its ``extra``: the
# reference path's). JSON with a key twice keeps the last, as ``json`` does.
class _Ref(msgspec.Struct, gc=False):
    """City, state, country, payment or shipping method: ``{id, name, code, ...}``."""

    id: int | str | None = None
    name: str | None = None
    code: str | None = None


class _Customer(msgspec.Struct, gc=False):
    id: int | str | None = None
    username: str | None = None
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    mobile_number: str | None = None


class _Extra(msgspec.Struct, gc=False):
    currency: str | None = None


class _Product(msgspec.Struct, gc=False):
    id: int | str | None = None


class _ProductData(msgspec.Struct, gc=False):
    name: str | None = None
    slug: str | None = None
    variant: str | None = None


class _Item(msgspec.Struct, gc=False):
    quantity: int
    unit_price: int
    id: int | str | None = None
    product: _Product | int | str | None = None
    product_name: str | None = None
    product_data: _ProductData | None = None
    unit_discount: int | None = None
    subtotal: int | None = None
    discount: int | None = None
    total: int | None = None
    notes: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class _PaymentMethod(msgspec.Struct, gc=False):
    name: str | None = None


class _Payment(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """Only the known fields: any other goes to the payment's ``extra`` (reference path)."""

    amount: str
    id: int | str | None = None
    method: _PaymentMethod | str | None = None
    status: str | None = None
    reference: str | None = None
    created_at: str | None = None


_Named = _Ref | int | str | None
_Money = str | int | None


class _Order(msgspec.Struct, gc=False):
    id: int | str
    created_at: str
    updated_at: str
    key: str | None = None
    status: str | None = None
    extra: _Extra | None = None
    customer_data: _Customer | int | str | None = None
    customer: _Customer | int | str | None = None
    billing_first_name: str | None = None
    billing_last_name: str | None = None
    billing_address: str | None = None
    billing_postal_code: str | None = None
    billing_mobile_number: str | None = None
    billing_national_code: str | None = None
    billing_city_data: _Named = None
    billing_city: _Named = None
    billing_state_data: _Named = None
    billing_state: _Named = None
    billing_country_data: _Named = None
    billing_country: _Named = None
    payment_method_data: _Named = None
    payment_method: _Named = None
    shipping_method_data: _Named = None
    shipping_method: _Named = None
    notes: str | None = None
    items_subtotal: _Money = None
    items_discount: _Money = None
    subtotal: _Money = None
    shipping_cost: _Money = None
    total_discount: _Money = None
    total: _Money = None
    amount_paid: _Money = None
    amount_outstanding: _Money = None
    count: int | None = None
    quantity: int | None = None
    is_paid: bool | None = None
    is_payable: bool | None = None
    items: list[_Item] | None = None
    payments: list[_Payment] | None = None


_DECODE: Final = msgspec.json.Decoder(_Order).decode


class _Stamp(msgspec.Struct, gc=False):
    updated_at: str | None = None


_STAMP: Final = msgspec.json.Decoder(_Stamp).decode


def updated_at_text(raw: bytes) -> str | None:
    """The order's ``updated_at`` as sent, when it is text, without reading the rest."""
    try:
        return _STAMP(raw).updated_at
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


class _Slow(Exception):
    """This order needs the reference path."""


def _category(status: str) -> str:
    cat = _CATEGORY.get(status)
    if cat is None:
        cat = str(OrderStatus.from_raw(status).category)
        if len(_CATEGORY) < 1000:
            _CATEGORY[status] = cat
    return cat


def _ident(value: int | str | None) -> str | None:
    """As ``Fields.opt_ident``: "" is no id."""
    if value is None or value == "":
        return None
    return str(value)


#: money text → storage units; many figures repeat ("0.00", prices, shipping costs)
_UNITS_OF: dict[str, int] = {}


def _text_money(value: str) -> int:
    """Money text (major units) → storage units; only the plain spellings."""
    units = _UNITS_OF.get(value)
    if units is not None:
        return units
    m = _PLAIN_MONEY.fullmatch(value)
    if m is None:
        raise _Slow
    sign, whole, frac = m.groups()
    units = int(whole) * _UNITS + (int(frac.ljust(STORAGE_EXPONENT, "0")) if frac else 0)
    if sign:
        units = -units
    if len(_UNITS_OF) > 8192:
        _UNITS_OF.clear()
    _UNITS_OF[value] = units
    return units


def _money(value: str | int | None) -> int | None:
    """Order money (major units) → storage units: the plain text spellings, integers."""
    if value is None:
        return None
    if isinstance(value, str):
        return _text_money(value)
    if -_MAX_INT < value < _MAX_INT:
        return value * _UNITS
    raise _Slow


def _int(value: int | None) -> int | None:
    if value is None or -_MAX_INT < value < _MAX_INT:
        return value
    raise _Slow


_FROM_ISO: Final = datetime.fromisoformat


def _stamp(value: str) -> datetime:
    """``parse_datetime(value)``, without its text work for what ``fromisoformat`` reads
    as UTC already (``Z`` or ``+00:00``: the shop's own spelling); anything else the
    reference way. The same datetime either way: ``parse_datetime`` only strips
    the text and spells ``Z`` as ``+00:00`` before the same ``fromisoformat``, then
    converts to UTC, which a UTC value already is."""
    try:
        dt = _FROM_ISO(value)
    except ValueError:
        pass
    else:
        if dt.tzinfo is UTC:
            return dt
    try:
        return parse_datetime(value)
    except DataError:
        raise _Slow from None


#: date-time text → µs; an order's lines and payments mostly repeat the order's own stamps
_MICROS: dict[str, int] = {}


def _micros(value: str) -> int:
    known = _MICROS.get(value)
    if known is not None:
        return known
    micros = to_micros(_stamp(value))
    if len(_MICROS) > 4096:
        _MICROS.clear()
    _MICROS[value] = micros
    return micros


def _opt_micros(value: str | None) -> int | None:
    return None if value is None else _micros(value)


_RefTuple = tuple[str | None, str, str]


def _ref(first: _Named, second: _Named) -> _RefTuple | None:
    """(id, name, code) of the first of the two present, as ``Fields.ref``."""
    value = second if first is None else first
    if value is None:
        return None
    if isinstance(value, _Ref):
        return _ident(value.id), value.name or "", value.code or ""
    return str(value), "", ""


def _named(ref: _RefTuple | None) -> _RefTuple | None:
    if ref is not None and not ref[1] and ref[0]:
        return ref[0], f"#{ref[0]}", ref[2]
    return ref


def _ref_doc(ref: _RefTuple | None) -> dict[str, Any] | None:
    return None if ref is None else {"code": ref[2], "id": ref[0], "name": ref[1]}


def read_order(raw: bytes, *, connection: str, kind: str,
               currency: str) -> FlatOrder | None:
    """The order whose JSON is ``raw`` (UTF-8, one object) as the store's rows, or
    ``None`` when it needs the reference path (it is not the plain shape, does not
    reconcile, or is not JSON msgspec reads). The rows keep ``raw`` as the order's JSON."""
    try:
        order = _DECODE(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError is a DecodeError
        return None
    try:
        return _flat(order, connection, kind, currency, raw)
    except _Slow:
        return None


def flat_order(data: Any, *, connection: str, kind: str, currency: str,
               raw: str | bytes | None) -> FlatOrder | None:
    """The decoded order ``data`` (its JSON text ``raw``) as the store's rows, or
    ``None`` when it needs the reference path (:func:`read_order` for decoded JSON)."""
    if type(data) is not dict or not raw:
        return None
    try:
        order = msgspec.convert(data, _Order)
    except msgspec.ValidationError:
        return None
    try:
        return _flat(order, connection, kind, currency, raw)
    except _Slow:
        return None


def _flat(d: _Order, connection: str, kind: str, currency: str,
          raw: str | bytes) -> FlatOrder:
    rid = d.id
    if rid == "":
        raise _Slow
    remote_id = str(rid)
    extra = d.extra
    cur = ((extra.currency or "" if extra is not None else "") or currency).upper()
    status = d.status or ""
    created = _micros(d.created_at)
    updated_dt = _stamp(d.updated_at)
    updated = to_micros(updated_dt)

    # customer, as normalize._customer
    cust = d.customer if d.customer_data is None else d.customer_data
    c_email = c_username = c_mobile = c_full = c_first = c_last = ""
    customer: dict[str, Any] | None = None
    if isinstance(cust, _Customer):
        c_email, c_username, c_mobile = cust.email or "", cust.username or "", \
            cust.mobile_number or ""
        c_full, c_first, c_last = cust.full_name or "", cust.first_name or "", \
            cust.last_name or ""
        customer = {"email": c_email, "first_name": c_first, "full_name": c_full,
                    "id": _ident(cust.id), "last_name": c_last, "mobile": c_mobile,
                    "username": c_username}
    elif cust is not None:
        customer = {"email": "", "first_name": "", "full_name": "", "id": _ident(cust),
                    "last_name": "", "mobile": "", "username": ""}

    first, last = d.billing_first_name or "", d.billing_last_name or ""
    street, postal = d.billing_address or "", d.billing_postal_code or ""
    city = _ref(d.billing_city_data, d.billing_city)
    state = _ref(d.billing_state_data, d.billing_state)
    country = _ref(d.billing_country_data, d.billing_country)
    bill_name = f"{first} {last}" if first and last else first or last
    has_billing = bool(bill_name or street or postal or city or state or country)
    billing: dict[str, Any] | None = None
    bill_mobile = d.billing_mobile_number or ""
    if has_billing:
        billing = {"city": _ref_doc(city), "country": _ref_doc(country), "first_name": first,
                   "last_name": last, "mobile": bill_mobile,
                   "national_code": d.billing_national_code or "", "postal_code": postal,
                   "state": _ref_doc(state), "street": street}
    pm = _named(_ref(d.payment_method_data, d.payment_method))
    sm = _named(_ref(d.shipping_method_data, d.shipping_method))
    notes = d.notes or ""

    # figures
    items_subtotal = _money(d.items_subtotal)
    items_discount = _money(d.items_discount)
    subtotal = _money(d.subtotal)
    shipping = _money(d.shipping_cost)
    total_discount = _money(d.total_discount)
    total = _money(d.total)
    paid = _money(d.amount_paid)
    outstanding = _money(d.amount_outstanding)
    srv_count = _int(d.count)
    srv_quantity = _int(d.quantity)
    is_paid = d.is_paid
    is_payable = d.is_payable

    # lines (integers in the smallest unit) and the line checks of pricing._reconcile_shop
    lines: list[tuple[Any, ...]] = []
    names: list[str] = []
    raw_subtotal = raw_discount = quantity = 0
    for pos, item in enumerate(d.items or ()):
        product = item.product
        product_id = _ident(product.id if isinstance(product, _Product) else product)
        pdata = item.product_data
        name = item.product_name or (pdata.name or "" if pdata is not None else "")
        qty = item.quantity
        if not 0 < qty < _MAX_INT:
            raise _Slow  # odd or not positive: a problem to flag, the slow way
        unit = item.unit_price
        if not -_MAX_INT < unit < _MAX_INT:
            raise _Slow
        udisc, lsub, ldisc, ltotal = (_int(item.unit_discount), _int(item.subtotal),
                                      _int(item.discount), _int(item.total))
        expected_sub = unit * qty
        expected_disc = (udisc or 0) * qty
        if (lsub is not None and lsub != expected_sub) or (
                ltotal is not None and ltotal != expected_sub - expected_disc):
            raise _Slow
        raw_subtotal += expected_sub
        raw_discount += ldisc if ldisc is not None else expected_disc
        quantity += qty
        names.append(name)
        lines.append((
            pos, _ident(item.id), product_id,
            name, pdata.slug or "" if pdata is not None else "",
            pdata.variant or "" if pdata is not None else "", "",
            qty, str(unit),
            None if udisc is None else str(udisc),
            None if lsub is None else str(lsub),
            None if ldisc is None else str(ldisc),
            None if ltotal is None else str(ltotal), None,
            item.notes or "",
            _opt_micros(item.created_at),
            _opt_micros(item.updated_at),
        ))

    # order-level checks, in storage units; any failure → the reference path flags it
    exponent = currency_exponent(cur)
    if exponent > STORAGE_EXPONENT:
        raise _Slow
    scale = 10 ** (STORAGE_EXPONENT - exponent)
    sum_sub, sum_disc = raw_subtotal * scale, raw_discount * scale
    if lines:
        if items_subtotal is None or items_subtotal != sum_sub:
            raise _Slow  # the scale is not the currency's (or is found another way)
        if items_discount is not None and items_discount != sum_disc:
            raise _Slow
        if subtotal is not None and subtotal != sum_sub - sum_disc:
            raise _Slow
        if (srv_count is not None and srv_count != len(lines)) or (
                srv_quantity is not None and srv_quantity != quantity):
            raise _Slow
    if total is not None:
        ship, disc = shipping or 0, total_discount or 0
        gross = items_subtotal if items_subtotal is not None else sum_sub
        net = subtotal if subtotal is not None else sum_sub - sum_disc
        if total != gross + ship - disc and total != net + ship - disc:
            raise _Slow
    if paid is not None and outstanding is not None and total is not None:
        if (outstanding != 0) if is_payable is False else (paid + outstanding != total):
            raise _Slow
    if is_paid and outstanding is not None and outstanding != 0:
        raise _Slow

    # payments
    payments: list[tuple[Any, ...]] = []
    received = 0
    for pos, pay in enumerate(d.payments or ()):
        amount_text = pay.amount
        amount = _text_money(amount_text)
        method = pay.method
        method_name = ((method.name or "") if isinstance(method, _PaymentMethod)
                       else method or "")
        pay_status = pay.status or ""
        if pay_status.lower() not in _NOT_PAID:
            received += amount
        payments.append((
            pos, _ident(pay.id),
            str(Decimal(amount_text)), method_name,
            pay_status, pay.reference or "",
            _opt_micros(pay.created_at), "[]",
        ))
    if payments and paid is not None and received != paid:
        raise _Slow

    # the row, in the order of flat.ROW_COLUMNS
    display = ""
    if customer is not None:
        display = (c_full or " ".join(x for x in (c_first, c_last) if x)
                   or c_username or c_email)
    customer_name = display or (bill_name if has_billing else "")
    number = d.key or remote_id
    n_lines = srv_count if not lines and srv_count is not None else len(lines)
    n_quantity = srv_quantity if not lines and srv_quantity is not None else quantity
    row = (
        remote_id, number, status,
        _category(status), cur, created,
        updated, customer_name, customer_name.lower(),
        c_email, pm[1] if pm else "",
        sm[1] if sm else "", country[1] if billing and country
        else "", state[1] if billing and state else "",
        city[1] if billing and city else "", notes,
        bool(notes.strip()), n_lines, n_quantity,
        items_subtotal, items_discount,
        subtotal, shipping, total_discount,
        total, paid, outstanding,
        srv_count, srv_quantity, is_paid,
        is_payable, paid, outstanding,
        str(payment_state(paid, outstanding, is_payable)), 0,
        "minor",
    )
    detail = dump_detail({"billing": billing, "customer": customer, "kind": kind,
                          "payment_method": _ref_doc(pm), "shipping_method": _ref_doc(sm)})
    parts = [number, remote_id, customer_name, c_email, notes]
    if customer is not None:
        parts += [c_username, c_mobile]
    if billing is not None:
        parts += [bill_name, bill_mobile, street]
        parts += [ref[1] for ref in (city, state, country) if ref]
    parts += names
    search = "\n".join(dict.fromkeys(x for x in parts if x)).lower()
    return FlatOrder(connection, updated_dt, row, lines, payments, detail, raw, search)

"""Shop API JSON → ``FlatOrder`` for the sync's hot path.

Takes an order only when it has the documented plain shape (money as decimal
strings or integers, item money as integers, known payment fields, ...) and its
figures reconcile at the currency's own scale, the way ``pricing.reconcile`` checks
them, computed here on integers. For anything else it returns ``None`` and the
caller uses the reference path (``normalize`` → ``Order``), which also raises the
classed errors for bad input. The two paths give identical rows: see
tests/api/test_flat_orders.py.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

from orderdesk.api.shop import payloads as p
from orderdesk.models.entities import parse_datetime, to_micros
from orderdesk.models.errors import DataError
from orderdesk.models.flat import FlatOrder
from orderdesk.models.money import STORAGE_EXPONENT, currency_exponent
from orderdesk.models.pricing import payment_state
from orderdesk.models.status import OrderStatus

_PLAIN_MONEY: Final = re.compile(r"(-?)(\d{1,14})(?:\.(\d{1,4}))?")
_UNITS: Final = 10**STORAGE_EXPONENT
#: item money and quantities above this go the reference way (it checks the range)
_MAX_INT: Final = 10**13
_PAYMENT_KNOWN: Final = frozenset({"id", "amount", "method", "status", "reference",
                                   "created_at"})
_NOT_PAID: Final = frozenset({"failed", "pending", "cancelled", "canceled", "void"})
_CATEGORY: dict[str, str] = {}


class _Slow(Exception):
    """This order needs the reference path."""


def _category(status: str) -> str:
    cat = _CATEGORY.get(status)
    if cat is None:
        cat = str(OrderStatus.from_raw(status).category)
        if len(_CATEGORY) < 1000:
            _CATEGORY[status] = cat
    return cat


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    raise _Slow


def _opt_ident(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is int or type(value) is str:
        return str(value)
    raise _Slow


def _money(value: Any) -> int | None:
    """Order money (major units) → storage units; only the plain spellings."""
    if value is None:
        return None
    if type(value) is str:
        m = _PLAIN_MONEY.fullmatch(value)
        if m is None:
            raise _Slow
        sign, whole, frac = m.groups()
        units = int(whole) * _UNITS + (int(frac.ljust(STORAGE_EXPONENT, "0")) if frac else 0)
        return -units if sign else units
    if type(value) is int and -_MAX_INT < value < _MAX_INT:
        return value * _UNITS
    raise _Slow


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is int and -_MAX_INT < value < _MAX_INT:
        return value
    raise _Slow


def _bool(value: Any) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise _Slow


#: date-time text → µs; an order's lines and payments mostly repeat the order's own stamps
_MICROS: dict[str, int] = {}


def _micros(value: Any) -> int:
    if type(value) is str:
        known = _MICROS.get(value)
        if known is not None:
            return known
    try:
        dt = parse_datetime(value)
    except DataError:
        raise _Slow from None
    micros = to_micros(dt)
    if len(_MICROS) > 4096:
        _MICROS.clear()
    _MICROS[value] = micros
    return micros


def _opt_micros(value: Any) -> int | None:
    return None if value is None else _micros(value)


def _ref(data: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, str, str] | None:
    """(id, name, code) of the first of ``keys`` present, as ``Fields.ref``."""
    for key in keys:
        value = data.get(key)
        if value is None:
            continue
        if type(value) is dict:
            return _opt_ident(value.get("id")), _text(value.get("name")), _text(
                value.get("code"))
        if type(value) is int or type(value) is str:
            return str(value), "", ""
        raise _Slow
    return None


def _named(ref: tuple[str | None, str, str] | None) -> tuple[str | None, str, str] | None:
    if ref is not None and not ref[1] and ref[0]:
        return ref[0], f"#{ref[0]}", ref[2]
    return ref


def _ref_doc(ref: tuple[str | None, str, str] | None) -> dict[str, Any] | None:
    return None if ref is None else {"id": ref[0], "name": ref[1], "code": ref[2]}


def flat_order(data: Any, *, connection: str, kind: str, currency: str,
               raw: str | None) -> FlatOrder | None:
    """The order's rows, or ``None`` when it needs the reference path."""
    if type(data) is not dict or raw is None:
        return None
    try:
        return _flat(data, connection, kind, currency, raw)
    except _Slow:
        return None


def _flat(d: dict[str, Any], connection: str, kind: str, currency: str,
          raw: str) -> FlatOrder | None:
    rid = d.get("id")
    if not (type(rid) is int or (type(rid) is str and rid)):
        raise _Slow
    remote_id = str(rid)
    extra = d.get("extra")
    if extra is not None and type(extra) is not dict:
        raise _Slow
    cur = ((_text(extra.get("currency")) if extra else "") or currency).upper()
    status = _text(d.get("status"))
    updated_text = d.get("updated_at")
    created = _micros(d.get("created_at"))
    try:
        updated_dt = parse_datetime(updated_text)
    except DataError:
        raise _Slow from None
    updated = to_micros(updated_dt)

    # customer, as normalize._customer
    customer: dict[str, Any] | None = None
    for key in p.CUSTOMER:
        value = d.get(key)
        if value is None:
            continue
        if type(value) is dict:
            customer = {"id": _opt_ident(value.get("id")),
                        "username": _text(value.get("username")),
                        "full_name": _text(value.get("full_name")),
                        "first_name": _text(value.get("first_name")),
                        "last_name": _text(value.get("last_name")),
                        "email": _text(value.get("email")),
                        "mobile": _text(value.get("mobile_number"))}
        else:
            customer = {"id": _opt_ident(value), "username": "", "full_name": "",
                        "first_name": "", "last_name": "", "email": "", "mobile": ""}
        break

    first, last = _text(d.get("billing_first_name")), _text(d.get("billing_last_name"))
    street, postal = _text(d.get("billing_address")), _text(d.get("billing_postal_code"))
    city, state, country = _ref(d, p.CITY), _ref(d, p.STATE), _ref(d, p.COUNTRY)
    bill_name = f"{first} {last}" if first and last else first or last
    has_billing = bool(bill_name or street or postal or city or state or country)
    billing: dict[str, Any] | None = None
    if has_billing:
        billing = {"first_name": first, "last_name": last, "street": street,
                   "postal_code": postal, "city": _ref_doc(city), "state": _ref_doc(state),
                   "country": _ref_doc(country),
                   "mobile": _text(d.get("billing_mobile_number")),
                   "national_code": _text(d.get("billing_national_code"))}
    else:  # still read them: a wrong type is the reference path's error to raise
        _text(d.get("billing_mobile_number"))
        _text(d.get("billing_national_code"))
    pm = _named(_ref(d, p.PAYMENT_METHOD))
    sm = _named(_ref(d, p.SHIPPING_METHOD))
    notes = _text(d.get("notes"))

    # figures
    items_subtotal = _money(d.get("items_subtotal"))
    items_discount = _money(d.get("items_discount"))
    subtotal = _money(d.get("subtotal"))
    shipping = _money(d.get("shipping_cost"))
    total_discount = _money(d.get("total_discount"))
    total = _money(d.get("total"))
    paid = _money(d.get("amount_paid"))
    outstanding = _money(d.get("amount_outstanding"))
    srv_count = _int(d.get("count"))
    srv_quantity = _int(d.get("quantity"))
    is_paid = _bool(d.get("is_paid"))
    is_payable = _bool(d.get("is_payable"))

    # lines (integers in the smallest unit) and the line checks of pricing._reconcile_shop
    items = d.get("items")
    if items is None:
        items = []
    elif type(items) is not list:
        raise _Slow
    lines: list[tuple[Any, ...]] = []
    names: list[str] = []
    raw_subtotal = raw_discount = quantity = 0
    for pos, item in enumerate(items):
        if type(item) is not dict:
            raise _Slow
        product = item.get("product")
        product_id = (_opt_ident(product.get("id")) if type(product) is dict
                      else _opt_ident(product))
        pdata = item.get("product_data")
        if pdata is not None and type(pdata) is not dict:
            raise _Slow
        name = _text(item.get("product_name")) or (_text(pdata.get("name")) if pdata else "")
        qty = item.get("quantity")
        if type(qty) is not int or not 0 < qty < _MAX_INT:
            raise _Slow  # missing, odd or not positive: a problem to flag, the slow way
        unit = item.get("unit_price")
        if type(unit) is not int or not -_MAX_INT < unit < _MAX_INT:
            raise _Slow
        udisc, lsub, ldisc, ltotal = (_int(item.get("unit_discount")), _int(item.get(
            "subtotal")), _int(item.get("discount")), _int(item.get("total")))
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
            pos, _opt_ident(item.get("id")), product_id,
            name, _text(pdata.get("slug")) if pdata else "",
            _text(pdata.get("variant")) if pdata else "", "",
            qty, str(unit),
            None if udisc is None else str(udisc),
            None if lsub is None else str(lsub),
            None if ldisc is None else str(ldisc),
            None if ltotal is None else str(ltotal), None,
            _text(item.get("notes")),
            _opt_micros(item.get("created_at")),
            _opt_micros(item.get("updated_at")),
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
    pays = d.get("payments")
    if pays is None:
        pays = []
    elif type(pays) is not list:
        raise _Slow
    received = 0
    for pos, pay in enumerate(pays):
        if type(pay) is not dict or not pay.keys() <= _PAYMENT_KNOWN:
            raise _Slow
        amount_text = pay.get("amount")
        amount = _money(amount_text)
        if amount is None or type(amount_text) is not str:
            raise _Slow
        method = pay.get("method")
        method_name = (_text(method.get("name")) if type(method) is dict else _text(method))
        pay_status = _text(pay.get("status"))
        if pay_status.lower() not in _NOT_PAID:
            received += amount
        payments.append((
            pos, _opt_ident(pay.get("id")),
            str(Decimal(amount_text)), method_name,
            pay_status, _text(pay.get("reference")),
            _opt_micros(pay.get("created_at")), "[]",
        ))
    if payments and paid is not None and received != paid:
        raise _Slow

    # the row, in the order of flat.ROW_COLUMNS
    display = ""
    if customer is not None:
        display = (customer["full_name"] or " ".join(
            x for x in (customer["first_name"], customer["last_name"]) if x)
            or customer["username"] or customer["email"])
    customer_name = display or (bill_name if has_billing else "")
    email = customer["email"] if customer is not None else ""
    number = _text(d.get("key")) or remote_id
    n_lines = srv_count if not lines and srv_count is not None else len(lines)
    n_quantity = srv_quantity if not lines and srv_quantity is not None else quantity
    row = (
        remote_id, number, status,
        _category(status), cur, created,
        updated, customer_name, customer_name.lower(),
        email, pm[1] if pm else "",
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
    detail = {"kind": kind, "customer": customer, "billing": billing,
              "payment_method": _ref_doc(pm), "shipping_method": _ref_doc(sm)}
    parts = [number, remote_id, customer_name, email, notes]
    if customer is not None:
        parts += [customer["username"], customer["mobile"]]
    if billing is not None:
        parts += [bill_name, billing["mobile"], street]
        parts += [ref[1] for ref in (city, state, country) if ref]
    parts += names
    search = "\n".join(x for x in parts if x).lower()
    return FlatOrder(connection, updated_dt, row, lines, payments, detail, raw, search)

"""The sync's fast reader (shop JSON → ``FlatOrder``) against the reference path
(``normalize`` → ``Order`` → ``pricing.reconcile`` → ``EncodedOrder``): for every order
the fast reader accepts, the rows are identical; every order the reference flags or
refuses, the fast reader leaves to it."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from encoded import stored

from orderdesk.api.errors import ProtocolError
from orderdesk.api.http import decode_page
from orderdesk.api.shop.fast import flat_order
from orderdesk.api.shop.normalize import normalize
from orderdesk.demo import iter_shop_customer_payloads, iter_staff_payloads
from orderdesk.models.entities import ConnectionKind
from orderdesk.models.errors import OrderdeskError
from orderdesk.store.codec import EncodedOrder, encode_page

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def _page(payloads: list[dict[str, Any]]) -> tuple[list[Any], list[str]]:
    """As the engine sees a page: exact decode, each order's verbatim text."""
    body = json.dumps({"count": len(payloads), "next": None, "previous": None,
                       "results": payloads}, ensure_ascii=False).encode()
    envelope, raws = decode_page(body)
    return envelope["results"], raws


def _reference(item: Any, raw: str, kind: ConnectionKind) -> EncodedOrder | None:
    try:
        order = normalize(item, connection="c", kind=kind, currency="EUR", synced_at=NOW,
                          raw=raw)
        return EncodedOrder(order, 7)
    except OrderdeskError:
        return None


def _fast(item: Any, raw: str, kind: ConnectionKind) -> EncodedOrder | None:
    flat = flat_order(item, connection="c", kind=str(kind), currency="EUR", raw=raw)
    return None if flat is None else EncodedOrder.from_flat(flat, 7)


def _same(fast: EncodedOrder, ref: EncodedOrder) -> None:
    assert list(fast.row.items())[:-1] == list(ref.row.items())[:-1]  # but content_hash
    assert fast.lines == ref.lines
    assert fast.payments == ref.payments
    assert fast.detail == ref.detail
    assert (fast.raw, fast.body, fast.remote_id) == (ref.raw, ref.body, ref.remote_id)


def _same_page(item: Any, raw: str, kind: ConnectionKind) -> None:
    """The pages the store writes (the fast reader's tuples taken as they are) are the
    reference's, raw JSON as text or as its UTF-8 bytes."""
    order = normalize(item, connection="c", kind=kind, currency="EUR", synced_at=NOW, raw=raw)
    flat = flat_order(item, connection="c", kind=str(kind), currency="EUR", raw=raw)
    assert flat is not None
    for raw_bytes in (False, True):
        got = encode_page([flat], 7, raw_bytes=raw_bytes)
        want = encode_page([order], 7, raw_bytes=raw_bytes)
        assert stored(got.fields()) == stored(want.fields())


def _compare(payloads: list[dict[str, Any]], kind: ConnectionKind) -> tuple[int, int, int]:
    """(orders, accepted by the fast reader, flagged by the reference)."""
    items, raws = _page(payloads)
    accepted = flagged = 0
    for item, raw in zip(items, raws, strict=True):
        ref = _reference(item, raw, kind)
        fast = _fast(item, raw, kind)
        if ref is None or ref.row["problems"]:
            flagged += 1
            assert fast is None, raw[:200]
            continue
        if fast is not None:
            accepted += 1
            _same(fast, ref)
            _same_page(item, raw, kind)
    return len(items), accepted, flagged


@pytest.mark.parametrize("seed", [1, 5])
def test_staff_orders_identical_to_the_reference(seed: int) -> None:
    n, accepted, flagged = _compare(list(iter_staff_payloads(3000, seed)),
                                    ConnectionKind.SHOP_STAFF)
    assert flagged > 10  # the demo's inconsistent orders are among them
    assert accepted >= 0.95 * (n - flagged)  # and the fast reader takes nearly all others


def test_shop_customer_orders_identical_to_the_reference() -> None:
    n, accepted, flagged = _compare(list(iter_shop_customer_payloads(3000, 2)),
                                    ConnectionKind.SHOP_CUSTOMER)
    assert n > 100 and accepted >= 0.95 * (n - flagged)


def _mutations() -> list[Callable[[dict[str, Any], random.Random], None]]:
    def money_field(o: dict[str, Any], r: random.Random) -> None:
        key = r.choice(["total", "items_subtotal", "items_discount", "subtotal",
                        "shipping_cost", "total_discount", "amount_paid",
                        "amount_outstanding"])
        o[key] = r.choice([None, "0", "1.5", "-3.25", "12.345", "1e2", " 5 ", "abc", 7, 7.5,
                           10**20, True, "", "99999999999999999.99", "0.00001",
                           # the fast reader's integer range (msgspec checks it)
                           10**13 - 1, 10**13, -(10**13 - 1), -(10**13)])

    def item_field(o: dict[str, Any], r: random.Random) -> None:
        if not isinstance(o.get("items"), list) or not o["items"]:
            o["items"] = [{"id": 1}]
        item = r.choice(o["items"])
        if not isinstance(item, dict):
            item = o["items"][0] = {"id": 1}
        key = r.choice(["unit_price", "unit_discount", "subtotal", "discount", "total",
                        "quantity", "product", "product_name", "product_data", "id"])
        item[key] = r.choice([None, 0, -1, 3, 250, "250", 2.5, 10**19, True, {}, [], "x",
                              10**13 - 1, 10**13, -(10**13 - 1), -(10**13)])

    def structure(o: dict[str, Any], r: random.Random) -> None:
        key = r.choice(["items", "payments", "customer_data", "customer", "extra",
                        "billing_country_data", "payment_method_data", "id", "key",
                        "status", "notes", "count", "quantity", "is_paid", "is_payable"])
        o[key] = r.choice([None, [], {}, 0, 17, "", "weird", [1], {"id": "z"}, True,
                           10**13 - 1, 10**13])

    def dates(o: dict[str, Any], r: random.Random) -> None:
        key = r.choice(["created_at", "updated_at"])
        # the fast reader takes what fromisoformat reads as UTC itself; the others go
        # through parse_datetime there too: the same datetime either way
        o[key] = r.choice([None, "2026-01-01T10:00:00", "2026-01-01T10:00:00+02:00",
                           "2026-01-01", "not a date", 1700000000,
                           "2026-02-03T04:05:06.789Z", "2026-02-03T04:05:06+00:00",
                           "2026-02-03T04:05:06z", " 2026-02-03T04:05:06Z ",
                           "2026-02-03 04:05:06Z", "2026-02-03T04:05:06-00:00",
                           "2026-02-03T04:05:06.1234567Z", "2026-02-03T04:05:06+00:00:30",
                           "2026-02-03T23:59:60Z", "2026-02-03T04:05Z"])
        items = o.get("items")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            items[0]["created_at"] = r.choice([o[key], "2026-02-03T04:05:06.5+00:00",
                                               "2026-02-03T04:05:06+01:00"])

    def payment(o: dict[str, Any], r: random.Random) -> None:
        pays = o.get("payments")
        if not isinstance(pays, list) or not pays or not isinstance(pays[0], dict):
            pays = o["payments"] = [{"amount": "1.00"}]
        pay = r.choice(pays)
        key = r.choice(["amount", "status", "method", "gateway", "created_at", "id"])
        pay[key] = r.choice([None, "0.50", "-2", 3, 4.25, "failed", "void", {"name": "Card"},
                             {"x": 1}, "txn-1"])

    def currency(o: dict[str, Any], r: random.Random) -> None:
        o["extra"] = r.choice([{"currency": "jpy"}, {"currency": "KWD"}, {}, None,
                               {"currency": 5}])

    def names(o: dict[str, Any], r: random.Random) -> None:
        o[r.choice(["billing_first_name", "billing_last_name", "billing_address",
                    "billing_postal_code", "billing_mobile_number"])] = r.choice(
            [None, "", "Zoë", 12345, "A\u2028B\x01"])
        if r.random() < 0.5:
            o["customer_data"] = r.choice([None, 5, {"id": 9, "username": "u"},
                                           {"id": 9, "first_name": "F", "last_name": ""}])

    return [money_field, item_field, structure, dates, payment, currency, names]


def _perturbed(seed: int, n: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    base = list(iter_staff_payloads(400, seed))
    kinds = _mutations()
    for _ in range(n):
        order = copy.deepcopy(rng.choice(base))
        for _ in range(rng.randint(1, 3)):
            rng.choice(kinds)(order, rng)
        yield order


def test_perturbed_orders_never_differ_from_the_reference() -> None:
    """Odd shapes, wrong types, other currencies, inconsistent figures: the fast reader
    either gives the reference's rows or leaves the order to the reference path."""
    orders = list(_perturbed(11, 3000))
    items, raws = _page(orders)
    accepted = refused = 0
    for item, raw in zip(items, raws, strict=True):
        ref = _reference(item, raw, ConnectionKind.SHOP_STAFF)
        fast = _fast(item, raw, ConnectionKind.SHOP_STAFF)
        if ref is None or ref.row["problems"]:
            refused += ref is None
            assert fast is None, raw[:300]
        elif fast is not None:
            accepted += 1
            _same(fast, ref)
    assert accepted > 300 and refused > 100  # both sides of the line were exercised


def test_bad_order_still_gets_the_reference_error() -> None:
    items, raws = _page([{**next(iter(iter_staff_payloads(5, 1))), "updated_at": "soon"}])
    assert flat_order(items[0], connection="c", kind="shop-staff", currency="EUR",
                      raw=raws[0]) is None
    with pytest.raises(ProtocolError, match="updated_at"):
        normalize(items[0], connection="c", kind=ConnectionKind.SHOP_STAFF, currency="EUR")

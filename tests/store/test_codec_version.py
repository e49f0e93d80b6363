"""The codec's version and the content hash: an order the store already holds is
rewritten at a sync only when its hash changed, so the hash must change with everything
that goes into its rows, and ``codec.CODEC_VERSION`` with the code that makes them."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from encoded import stored

from orderdesk.api.ecommerce_customer.normalize import normalize as normalize_ecommerce
from orderdesk.api.http import decode_exact
from orderdesk.api.shop.fast import flat_order, read_order
from orderdesk.api.shop.normalize import normalize as normalize_shop
from orderdesk.demo import (
    iter_ecommerce_payloads,
    iter_shop_customer_payloads,
    iter_staff_payloads,
)
from orderdesk.models.entities import ConnectionKind
from orderdesk.models.errors import OrderdeskError
from orderdesk.store import codec
from orderdesk.store.codec import EncodedOrder, encode_page

NOW = datetime(2026, 5, 1, tzinfo=UTC)

#: The digest of the rows the store keeps of a fixed set of demo orders (without their
#: content hashes and raw JSON), by codec version. A change to any stored row, column or
#: text fails ``test_stored_rows_change_only_with_the_codec_version``: bump
#: ``CODEC_VERSION`` (so that every cache rewrites its orders at the next sync instead of
#: keeping the old rows of unchanged orders) and record the new digest here. Only when
#: the demo's generator changed (and not the rows of the same JSON) is a new digest
#: alone right.
STORED_ROWS = {
    "2": "94281260b923b29db2bbea3b8277d8cac2ec5ce52735fdfa2f7c86c6a659187c",
}


def _payloads() -> list[tuple[ConnectionKind, list[dict[str, Any]]]]:
    return [(ConnectionKind.SHOP_STAFF, list(iter_staff_payloads(300, 3))),
            (ConnectionKind.SHOP_CUSTOMER, list(iter_shop_customer_payloads(1500, 4))),
            (ConnectionKind.ECOMMERCE_CUSTOMER, list(iter_ecommerce_payloads(1500, 5)))]


def _reference_orders(kind: ConnectionKind, payloads: list[dict[str, Any]]) -> list[Any]:
    out = []
    for item in payloads:
        raw = orjson.dumps(item)  # as the demo server sends it
        item = decode_exact(raw)
        try:
            if kind is ConnectionKind.ECOMMERCE_CUSTOMER:
                order = normalize_ecommerce(item, connection="c", currency="EUR",
                                            synced_at=NOW, raw=raw.decode())
            else:
                order = normalize_shop(item, connection="c", kind=kind, currency="EUR",
                                       synced_at=NOW, raw=raw.decode())
        except OrderdeskError:
            continue
        out.append(order)
    return out


def test_stored_rows_change_only_with_the_codec_version() -> None:
    digest = hashlib.sha256()
    count = 0
    for kind, payloads in _payloads():
        orders = _reference_orders(kind, payloads)
        count += len(orders)
        fields = list(stored(encode_page(orders, 7).fields()))
        # the raw JSON is stored as it came (here, as orjson writes the demo's orders)
        fields[5] = [(detail, position) for detail, _raw, position in fields[5]]
        digest.update(repr(fields).encode())
    assert count > 600
    assert codec.CODEC_VERSION in STORED_ROWS, "record the digest of the new codec version"
    assert digest.hexdigest() == STORED_ROWS[codec.CODEC_VERSION], (
        "the stored rows of the demo orders changed: bump codec.CODEC_VERSION and record "
        "the new digest in STORED_ROWS")


def _plain_order() -> tuple[dict[str, Any], bytes]:
    """A demo staff order the fast reader takes, naming no currency of its own."""
    for item in iter_staff_payloads(50, 8):
        item = copy.deepcopy(item)
        del item["extra"]["currency"]
        raw = orjson.dumps(item)
        if read_order(raw, connection="c", kind="shop_staff", currency="EUR") is not None:
            return item, raw
    raise AssertionError("no plain order")


def _hash(raw: bytes, *, connection_id: int = 7, currency: str = "EUR") -> str:
    flat = read_order(raw, connection="c", kind="shop_staff", currency=currency)
    assert flat is not None
    page = encode_page([flat], connection_id, raw_bytes=True)
    text = encode_page([flat], connection_id, raw_bytes=False)
    assert page.hashes == text.hashes == [page.orders[0][-1]]
    assert EncodedOrder.from_flat(flat, connection_id).row["content_hash"] == page.hashes[0]
    return page.hashes[0]


def test_the_fast_readers_hash_follows_its_json_connection_currency_and_codec(
        monkeypatch: pytest.MonkeyPatch) -> None:
    item, raw = _plain_order()
    first = _hash(raw)
    assert _hash(raw) == first
    # the same JSON read from the page decoded whole (its text) hashes the same
    flat = flat_order(json.loads(raw), connection="c", kind="shop_staff", currency="EUR",
                      raw=raw.decode())
    assert flat is not None and encode_page([flat], 7).hashes == [first]
    changed = orjson.dumps({**item, "notes": item["notes"] + "!"})
    others = {_hash(changed), _hash(raw, connection_id=8), _hash(raw, currency="NOK")}
    monkeypatch.setattr(codec, "_VERSION_PART", b"next\x00")
    others.add(_hash(raw))
    assert first not in others and len(others) == 4


def test_an_orders_hash_follows_everything_it_stores() -> None:
    """An ``Order`` need not be made from its raw JSON (the reference path's are; others
    are built in code): its hash covers its rows, not only the JSON."""
    item, raw = _plain_order()
    order = normalize_shop(item, connection="c", kind=ConnectionKind.SHOP_STAFF,
                           currency="EUR", synced_at=NOW, raw=raw.decode())
    first = EncodedOrder(order, 7).row["content_hash"]
    assert EncodedOrder(order, 7).row["content_hash"] == first
    others = {EncodedOrder(replace(order, notes="other"), 7).row["content_hash"],
              EncodedOrder(replace(order, lines=order.lines[:1]), 7).row["content_hash"],
              EncodedOrder(replace(order, raw=""), 7).row["content_hash"],
              EncodedOrder(order, 8).row["content_hash"]}
    assert first not in others and len(others) == 4

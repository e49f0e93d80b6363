"""The sync's page path (``split_page`` → ``read_page``: each order read straight from
its JSON bytes, only the refused ones decoded) against the reference path (the page
decoded whole by ``decode_page``, every order through ``normalize`` → ``Order``): the
pages the store writes are identical, and so are the orders left out with their
errors, and the classed error of a page that cannot be read.

Each case also states which way its order must go (the fast reader, the reference
path, or the whole page decoded by ``json``), so that a case cannot pass by never
reaching what it is about."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from encoded import stored

from orderdesk.api.base import Page, RawPage, parse_page, parse_split
from orderdesk.api.http import HttpTransport, SplitPage, decode_page, split_page
from orderdesk.api.shop.client import ShopClient
from orderdesk.api.shop.fast import read_order
from orderdesk.config.connections import ConnectionConfig
from orderdesk.demo import iter_shop_customer_payloads, iter_staff_payloads
from orderdesk.models.entities import ConnectionKind
from orderdesk.models.errors import OrderdeskError
from orderdesk.models.flat import FlatOrder
from orderdesk.store.codec import EncodedOrder, encode_page
from orderdesk.sync.walk import read_page

NOW = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[ConnectionKind, ShopClient]]:
    http = HttpTransport()
    out = {kind: ShopClient(ConnectionConfig(name="c", kind=kind, base_url="http://shop.test"),
                            "t", http)
           for kind in (ConnectionKind.SHOP_STAFF, ConnectionKind.SHOP_CUSTOMER)}
    yield out
    http.close()


Outcome = tuple[Any, ...]


def _encoded(orders: list[Any], errors: list[str]) -> Outcome:
    """The store's rows of a page (raw JSON as text and as UTF-8), or the classed error
    encoding raised."""
    try:
        return ("rows", stored(encode_page(orders, 7, raw_bytes=False).fields()),
                stored(encode_page(orders, 7, raw_bytes=True).fields()), errors)
    except OrderdeskError as exc:
        return ("error", type(exc), exc.message, errors)


def _reference(client: ShopClient, body: bytes) -> Outcome:
    """The page decoded whole, every order the reference way."""
    try:
        page = parse_page(decode_page(body), 0, "u")
    except OrderdeskError as exc:
        return ("error", type(exc), exc.message)
    orders: list[Any] = []
    errors: list[str] = []
    for index, item in enumerate(page.results):
        try:
            orders.append(client.normalize(item, synced_at=NOW, raw=page.raw_of(index)))
        except OrderdeskError as exc:
            ident = item.get("id") if isinstance(item, dict) else None
            errors.append(f"order {ident}: {exc.message}")
    return _encoded(orders, errors)


def _new(client: ShopClient, body: bytes) -> tuple[Outcome, list[str]]:
    """The sync's way, and how each order went: "fast", "ref", or "page" (the whole
    page decoded by ``decode_page``) or "error" (the page could not be read)."""
    errors: list[str] = []
    try:
        split = split_page(body)
        page = parse_split(split, 0, "u")
        orders, _ids = read_page(client, page, NOW, errors)
    except OrderdeskError as exc:
        return ("error", type(exc), exc.message), ["error"]
    entries = client.read_raw_page(page) if isinstance(page, RawPage) else None
    if not isinstance(split, SplitPage) or entries is None:
        ways = ["page"]
    else:
        ways = ["fast" if isinstance(e, FlatOrder) else "ref" for e in entries]
    return _encoded(orders, errors), ways


def _check(client: ShopClient, body: bytes) -> list[str]:
    got, ways = _new(client, body)
    assert got == _reference(client, body)
    return ways


def _envelope(results: list[bytes], **extra: Any) -> bytes:
    head = b"".join(b'"%s":%s,' % (k.encode(), orjson.dumps(v)) for k, v in extra.items())
    return (b'{"count":%d,"next":null,"previous":null,%s"results":[' % (len(results), head)
            + b",".join(results) + b"]}")


# ----------------------------------------------------------------- demo pages
def _pages(payloads: list[dict[str, Any]], size: int) -> Iterator[bytes]:
    """As the demo server sends them (orjson, compact)."""
    for start in range(0, len(payloads), size):
        yield _envelope([orjson.dumps(p) for p in payloads[start:start + size]])


@pytest.mark.parametrize(("kind", "seed"), [
    (ConnectionKind.SHOP_STAFF, 1), (ConnectionKind.SHOP_STAFF, 5),
    (ConnectionKind.SHOP_STAFF, 9), (ConnectionKind.SHOP_CUSTOMER, 2),
    (ConnectionKind.SHOP_CUSTOMER, 7)])
def test_demo_pages_store_exactly_the_reference_rows(
        clients: dict[ConnectionKind, ShopClient], kind: ConnectionKind, seed: int) -> None:
    maker = iter_staff_payloads if kind is ConnectionKind.SHOP_STAFF \
        else iter_shop_customer_payloads
    payloads = list(maker(3000 if kind is ConnectionKind.SHOP_STAFF else 20000, seed))
    ways: list[str] = []
    for body in _pages(payloads, 250):
        ways += _check(clients[kind], body)
    assert len(ways) == len(payloads) > 100
    # nearly all of them the fast way, and the reference path was exercised too
    assert ways.count("fast") >= 0.9 * len(ways)
    assert ways.count("ref") >= 1


def test_demo_page_pretty_printed_and_as_ascii(
        clients: dict[ConnectionKind, ShopClient]) -> None:
    """Whitespace between and inside the orders, non-ASCII escaped: each order's span
    (what the store keeps as its JSON) is the same on both paths."""
    payloads = list(iter_staff_payloads(300, 3))
    body = {"count": 300, "next": None, "previous": None, "results": payloads}
    for text in (json.dumps(body, indent=2), json.dumps(body, indent="\t", ensure_ascii=True),
                 json.dumps(body, separators=(" , ", " : "), ensure_ascii=False)):
        ways = _check(clients[ConnectionKind.SHOP_STAFF], text.encode())
        assert ways.count("fast") > 250


def test_read_order_keeps_the_exact_bytes(clients: dict[ConnectionKind, ShopClient]) -> None:
    payload = next(iter(iter_staff_payloads(1, 4)))
    raw = json.dumps(payload, indent=1, ensure_ascii=True).encode()
    flat = read_order(raw, connection="c", kind="shop-staff", currency="EUR")
    assert flat is not None and flat.raw is raw
    assert EncodedOrder.from_flat(flat, 7).raw == raw.decode()


# ----------------------------------------------------------------- edge cases
def _base() -> dict[str, Any]:
    """A plain staff order the fast reader takes, with a payment and two lines."""
    for order in iter_staff_payloads(200, 1):
        if len(order["items"]) >= 2 and order["payments"] and order["customer_data"] \
                and order["status"] == "completed" and order["billing_city_data"] \
                and order["items"][0]["unit_discount"] == 0 \
                and order["amount_outstanding"] == "0.00" and read_order(
                    orjson.dumps(order), connection="c", kind="shop-staff",
                    currency="EUR") is not None:
            return order
    raise AssertionError("no suitable demo order")


BASE = _base()
Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """Set (or with ``...`` delete) the value at a dotted path (``items.0.quantity``)."""
    *parents, last = path.split(".")

    def edit(order: dict[str, Any]) -> None:
        node: Any = order
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is ...:
            del node[key]
        else:
            node[key] = value
    return edit


def _order_json(*edits: Edit) -> bytes:
    order = copy.deepcopy(BASE)
    for edit in edits:
        edit(order)
    return json.dumps(order, ensure_ascii=False, separators=(",", ":")).encode()


def _text(old: bytes, new: bytes, *edits: Edit) -> bytes:
    """The order's JSON with one spelling replaced (what a dict cannot express)."""
    raw = _order_json(*edits)
    assert raw.count(old) >= 1, old
    return raw.replace(old, new, 1)


def _key(name: str) -> bytes:
    return b'"%s":' % name.encode()


_UNICODE = "Zoë Ødegård 東京 \U0001f600 \u2028 \x7f"
_TOTAL = b'"total":' + orjson.dumps(BASE["total"])
_NUMBER = BASE["total"].encode()
_AMOUNT = b'"amount":%s,"method"' % orjson.dumps(BASE["payments"][0]["amount"])

#: (case, the order's JSON, how it must go: fast, ref, or page)
CASES: list[tuple[str, bytes, str]] = [
    ("plain", _order_json(), "fast"),
    ("escapes in text", _text(_key("notes"), b'"notes":"q\\"b\\\\s\\/\\n\\t\\u0001\\u00e9",'
                              b'"x_notes":', _set("notes", "")), "fast"),
    ("non-ASCII text", _order_json(_set("notes", _UNICODE),
                                   _set("customer_data.full_name", _UNICODE)), "fast"),
    ("escaped surrogate pair", _text(_key("notes"), b'"notes":"\\ud83d\\ude00",'
                                     b'"x_notes":'), "fast"),
    ("NUL in text", _order_json(_set("notes", "a\x00b")), "fast"),
    ("lone surrogate in a field read", _text(_key("notes"), b'"notes":"a\\ud800",'
                                             b'"x_notes":'), "page"),
    ("lone surrogate in an ignored field", _text(_key("channel"), b'"channel":"\\udc00",'
                                                 b'"x":'), "page"),
    ("NaN in an ignored field", _text(_key("channel"), b'"channel":NaN,"x":'), "page"),
    ("Infinity as the total", _text(_TOTAL, b'"total":Infinity'), "page"),
    ("huge integer id", _order_json(_set("id", 10**30)), "fast"),
    ("huge integer in an ignored field", _text(_key("channel"),
                                               b'"channel":%d,"x":' % 10**40), "fast"),
    ("huge item price", _order_json(_set("items.0.unit_price", 10**20)), "ref"),
    ("total with 5 decimals", _text(_TOTAL, b'"total":"%s1"' % _NUMBER), "ref"),
    ("total as a JSON number", _text(_TOTAL, b'"total":%s' % _NUMBER), "ref"),
    ("total as an exponent", _text(_TOTAL, b'"total":1e2'), "ref"),
    ("negative zero item money", _text(b'"unit_discount":0,', b'"unit_discount":-0,'),
     "fast"),
    ("negative zero money text", _text(b'"amount_outstanding":"0.00"',
                                       b'"amount_outstanding":"-0.00"'), "fast"),
    ("duplicate key, the last one right", _text(_key("total"), b'"total":"1.00","total":'),
     "fast"),
    ("duplicate key, the last one wrong", _text(_TOTAL, _TOTAL + b',"total":"1.00"'), "ref"),
    ("duplicate payment amount", _text(_AMOUNT, b'"amount":"0.01",' + _AMOUNT), "fast"),
    ("nulls everywhere", _order_json(*(_set(k, None) for k in BASE if k not in (
        "id", "created_at", "updated_at"))), "fast"),
    ("optional keys missing", _order_json(*(_set(k, ...) for k in BASE if k not in (
        "id", "created_at", "updated_at"))), "fast"),
    ("empty items and payments", _order_json(_set("items", []), _set("payments", []),
                                             _set("count", 0), _set("quantity", 0),
                                             _set("items_subtotal", "0.00"),
                                             _set("items_discount", "0.00"),
                                             _set("subtotal", "0.00")), "ref"),
    ("unknown payment key", _order_json(_set("payments.0.gateway", "stripe")), "ref"),
    ("unknown keys elsewhere", _order_json(_set("items.0.sku_extra", {"a": [1, 2.5]}),
                                           _set("weird", [None, 1e300])), "fast"),
    ("integer postal code", _order_json(_set("billing_postal_code", 12345)), "ref"),
    ("integer payment method", _order_json(_set("payments.0.method", 3)), "ref"),
    ("payment method object", _order_json(_set("payments.0.method", {"name": "Card"})),
     "fast"),
    ("payment amount as a number", _text(_AMOUNT, b'"amount":%s,"method"' % orjson.dumps(
        BASE["payments"][0]["amount"]).strip(b'"')), "ref"),
    ("customer as a bare id", _order_json(_set("customer_data", None),
                                          _set("customer", 42)), "fast"),
    ("naive date-time", _order_json(_set("updated_at", "2026-01-01T10:00:00")), "ref"),
    ("other currency", _order_json(_set("extra", {"currency": "jpy"})), "ref"),
    ("not an object", b"[1, 2]", "ref"),
    ("a bare string", b'"order"', "ref"),
]
WRONG_TYPES: list[tuple[str, Any]] = [
    ("id", True), ("id", ""), ("id", [1]), ("key", 5), ("status", 3), ("notes", {}),
    ("created_at", 1700000000), ("updated_at", None), ("extra", "EUR"),
    ("extra.currency", 5), ("customer_data", [1]), ("customer_data.full_name", 7),
    ("customer_data.id", 1.5), ("billing_city_data", True), ("billing_city_data.name", 9),
    ("payment_method_data", 2.5), ("count", "2"), ("quantity", True), ("is_paid", "true"),
    ("is_payable", 1), ("total", True), ("amount_paid", [1]), ("items", {}),
    ("items.0", "x"), ("items.0.quantity", "2"), ("items.0.quantity", 0),
    ("items.0.unit_price", "100"), ("items.0.total", 1.5), ("items.0.product", [3]),
    ("items.0.product_data", "p"), ("items.0.product_name", 5),
    ("items.0.created_at", 5), ("payments", "none"), ("payments.0", 1),
    ("payments.0.amount", None), ("payments.0.status", False),
    ("payments.0.created_at", "yesterday"),
]
CASES += [(f"{path} = {value!r}", _order_json(_set(path, value)), "ref")
          for path, value in WRONG_TYPES]


@pytest.mark.parametrize(("case", "raw", "way"), CASES, ids=[c[0] for c in CASES])
def test_edge_case_order(clients: dict[ConnectionKind, ShopClient], case: str, raw: bytes,
                         way: str) -> None:
    client = clients[ConnectionKind.SHOP_STAFF]
    before, after = _order_json(_set("id", 999998)), _order_json(_set("id", 999999))
    ways = _check(client, _envelope([before, raw, after]))
    assert ways == (["page"] if way == "page" else ["fast", way, "fast"]), case
    # as a bare array, and alone in an envelope with keys around the results
    alone = ["page"] if way == "page" else [way]
    assert _check(client, b"[" + raw + b"]") == alone
    assert _check(client, b' {"meta":{"a":[1,{"b":null}]},"results":[ ' + raw
                  + b' ] ,"count":1,"next":null}\n') == alone


PAGES: list[tuple[str, bytes, type[OrderdeskError] | None]] = [
    ("empty results", b'{"count":0,"next":null,"results":[]}', None),
    ("empty array", b" [ ] ", None),
    ("whitespace everywhere", b'\n{ "count" : 1 ,\t"next" : null , "results" : [\r\n'
     + orjson.dumps(BASE) + b"\n] }\n", None),
    ("results before count", b'{"results":[' + orjson.dumps(BASE)
     + b'],"count":1,"previous":null,"next":"http://shop.test/?offset=1"}', None),
    ("results twice, the last kept", b'{"results":[1],"count":1,"results":['
     + orjson.dumps(BASE) + b"]}", None),
    ("truncated", _envelope([orjson.dumps(BASE)])[:-40], OrderdeskError),
    ("not UTF-8 in an ignored field", _envelope([orjson.dumps(BASE).replace(
        b'"channel":"', b'"channel":"\xff', 1)]), OrderdeskError),
    ("not UTF-8 in a field read", _envelope([orjson.dumps(BASE).replace(
        b'"notes":"', b'"notes":"\xc3', 1)]), OrderdeskError),
    # json reads bytes with "surrogatepass": the page decoded whole by json is read
    ("a surrogate as UTF-8 bytes in an ignored field", _envelope([orjson.dumps(BASE).replace(
        b'"channel":"', b'"channel":"\xed\xa0\x80', 1)]), None),
    ("a raw tab inside a string", _envelope([orjson.dumps(BASE).replace(
        b'"channel":"', b'"channel":"\t', 1)]), OrderdeskError),
    ("results not a list", b'{"count":1,"next":null,"results":{"id":1}}', OrderdeskError),
    ("count not a number", b'{"count":"1","next":null,"results":[]}', OrderdeskError),
    ("next not text", b'{"count":0,"next":5,"results":[]}', OrderdeskError),
    ("trailing data", _envelope([orjson.dumps(BASE)]) + b"x", OrderdeskError),
    ("not JSON", b"<html>oops</html>", OrderdeskError),
    # cut by msgspec (it skips numbers), then refused by it, then by json (Python's
    # limit on integer digits): the page's error when its orders are read
    ("an integer of 5000 digits", _envelope([orjson.dumps(BASE).replace(
        b'"channel":', b'"channel":' + b"9" * 5000 + b',"x":', 1)]), OrderdeskError),
]


@pytest.mark.parametrize(("case", "body", "error"), PAGES, ids=[c[0] for c in PAGES])
def test_edge_case_page(clients: dict[ConnectionKind, ShopClient], case: str, body: bytes,
                        error: type[OrderdeskError] | None) -> None:
    got, _ways = _new(clients[ConnectionKind.SHOP_STAFF], body)
    assert got == _reference(clients[ConnectionKind.SHOP_STAFF], body)
    if error is None:
        assert got[0] == "rows", case
    else:
        assert got[0] == "error" and issubclass(got[1], error), case


def test_a_refused_order_msgspec_cannot_decode_reads_the_page_whole(
        clients: dict[ConnectionKind, ShopClient], monkeypatch: pytest.MonkeyPatch) -> None:
    """When an order the fast reader refuses cannot be decoded on its own, the page is
    decoded whole, as ``decode_page`` does."""
    import msgspec

    from orderdesk.api.shop import client as client_mod

    def refuse(raw: bytes) -> Any:
        raise msgspec.DecodeError("no")

    monkeypatch.setattr(client_mod, "decode_exact", refuse)
    client = clients[ConnectionKind.SHOP_STAFF]
    body = _envelope([orjson.dumps(BASE), _order_json(_set("payments.0.gateway", "x"))])
    page = parse_split(split_page(body), 0, "u")
    assert isinstance(page, RawPage) and client.read_raw_page(page) is None
    got, ways = _new(client, body)
    assert ways == ["page"] and got == _reference(client, body)
    decoded = page.decoded()
    assert isinstance(decoded, Page) and len(decoded.results) == 2


# ----------------------------------------------------------------- the walk
class _ReferenceClient:
    """The same shop, read only the reference way: decoded pages (``list_page``),
    every order through ``normalize`` (no fast reader, no unread pages)."""

    supports_updated_since = True

    def __init__(self, client: ShopClient) -> None:
        self.config = client.config
        self.list_page = client.list_page
        self.normalize = client.normalize
        self.push_down = client.push_down


def _walk(client: Any, page: int) -> list[tuple[Any, ...]]:
    from orderdesk.sync.walk import Fetcher, keyset_walk

    fetcher = Fetcher(client, page)
    steps: list[tuple[Any, ...]] = []
    try:
        for s in keyset_walk(client, fetcher, None, [], lambda: NOW):
            assert isinstance(s.fresh, list)  # in this process: orders, not encoded
            steps.append((s.fetched, s.count, s.bookmark, s.boundary, s.errors,
                          stored(encode_page(s.fresh, 7, raw_bytes=True).fields())))
        return steps
    finally:
        fetcher.close()


def test_the_keyset_walk_steps_are_the_reference_walk_steps() -> None:
    """Bookmarks, boundaries, errors and rows of every step of a walk over raw pages
    (the fast reader, refused orders decoded, prefetched pages) are those of the walk
    that reads every order the reference way."""
    import httpx

    from tests.api.test_sync_engine_edges import FakeShop

    orders = list(iter_staff_payloads(700, 6))
    orders[10]["payments"] = [{**p, "gateway": "x"} for p in orders[10]["payments"]]
    orders[20]["created_at"] = "soon"  # left out with its error, on both walks
    orders[30]["billing_postal_code"] = 12345
    for o in orders[40:80]:  # a tie group across pages: the boundary is walked
        o["updated_at"] = orders[40]["updated_at"]
    shop = FakeShop(orders)
    http = HttpTransport(transport=httpx.MockTransport(shop), max_retries=0)
    try:
        client = ShopClient(ConnectionConfig(name="c", kind=ConnectionKind.SHOP_STAFF,
                                             base_url="http://shop.test"), "t", http)
        page = parse_split(split_page(http.client.get(
            "http://shop.test/api/orders?limit=50&offset=0&ordering=updated_at").content),
            0, "u")
        assert isinstance(page, RawPage)  # the walk below reads raw pages
        got = _walk(client, 50)
        want = _walk(_ReferenceClient(client), 50)
    finally:
        http.close()
    assert got == want
    assert sum(step[0] for step in got) >= 700 and any(step[4] for step in got)

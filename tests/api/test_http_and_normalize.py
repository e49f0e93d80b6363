"""API layer against httpx.MockTransport: error classes, retries, exact parsing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from orderdesk.api import HttpTransport, make_client
from orderdesk.api.errors import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    NetworkError,
    ProtocolError,
    ServerError,
)
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models import ConnectionKind, StatusCategory
from orderdesk.models.pricing import reconcile

DOC_ORDER: dict[str, Any] = {
    "id": "a3d5c8e7-9b4f-4a2e-8c7d-1f3e5a6b9c0d",
    "url": "https://api.example.com/api/v1/i/orders/a3d5c8e7-9b4f-4a2e-8c7d-1f3e5a6b9c0d/",
    "customer": {"email": "customer@example.com", "first_name": "John", "last_name": "Doe"},
    "created": "2026-03-01T10:30:00Z", "updated": "2026-03-01T10:35:00Z",
    "billing_address": {"street_address": "123 Main St", "postal_code": 12345,
                        "city": "Anytown", "state": "CA", "country": "Canada"},
    "items": [
        {"id": 1, "product": {"id": 42, "name": "Wireless Headphones",
                              "slug": "wireless-headphones"},
         "variant": 101, "unit_price": "79.99", "quantity": 2, "shipping": "5.00",
         "discount_amount": "10.00", "total_price": "159.98", "offer": 5,
         "created": "2026-03-01T10:30:00Z", "updated": "2026-03-01T10:30:00Z"},
        {"id": 2, "product": {"id": 58, "name": "Phone Case", "slug": "phone-case"},
         "variant": 203, "unit_price": "15.99", "quantity": 1, "shipping": "3.00",
         "discount_amount": "0.00", "total_price": "15.99", "offer": None,
         "created": "2026-03-01T10:30:00Z", "updated": "2026-03-01T10:30:00Z"},
    ],
    "items_count": 3, "savings_on_items": "10.00", "status": "awaiting_payment",
    "subtotal": "175.97", "amount_saved": "10.00", "shipping": "8.00", "total_amount": "173.97",
}

STAFF_ORDER: dict[str, Any] = {
    "id": 1042, "key": "K1042", "status": "pending",
    "customer_data": {"id": 7, "username": "anna", "full_name": "Anna Ödegaard"},
    "payment_method_data": {"id": 1, "name": "Card", "image": None},
    "shipping_method": 3, "shipping_cost": 4.5, "notes": "", "extra": {"currency": "NOK"},
    "created_at": "2025-02-01T08:00:00.123456+01:00", "updated_at": "2025-02-02T08:00:00Z",
    "billing_country_data": {"id": 47, "active": True, "name": "Norway", "code": "NO"},
    "billing_city": {"id": 3, "active": True, "name": "Oslo"},
    "billing_first_name": "Anna", "billing_last_name": "Ödegaard",
    "count": 1, "quantity": 2, "items_subtotal": "25.00", "items_discount": "5.00",
    "subtotal": "20.00", "total_discount": "5.00", "total": "24.50", "amount_paid": "24.50",
    "amount_outstanding": "0", "is_paid": True, "is_payable": True,
    "items": [{"id": 9, "product": 5, "product_name": "Mug", "unit_price": 1250,
               "unit_discount": 250, "quantity": 2, "subtotal": 2500, "discount": 500,
               "total": 2000}],
    "payments": [{"id": 1, "amount": "24.50", "method": "card", "status": "completed",
                  "reference": "r1", "created_at": "2025-02-01T09:00:00Z", "gateway": "x"}],
}


def _client(kind: str, handler: Any, **cfg: Any) -> Any:
    transport = HttpTransport(transport=httpx.MockTransport(handler), max_retries=3,
                              backoff=0.0, sleep=lambda _s: None)
    config = ConnectionConfig(name="c", kind=ConnectionKind(kind), base_url="https://shop.test",
                              **cfg)
    return make_client(config, "secret-token", transport)


def _json(data: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(data).encode(),
                          headers={"content-type": "application/json", **headers})


def test_doc_example_parses_exactly_and_reconciles() -> None:
    client = _client("ecommerce-customer", lambda r: _json(
        {"count": 1, "next": None, "previous": None, "results": [DOC_ORDER]}))
    page = client.list_page(offset=0, limit=20)
    order = client.normalize(page.results[0])
    assert order.figures.total == Decimal("173.97")
    assert order.billing.postal_code == "12345"
    assert order.lines[0].product_name == "Wireless Headphones"
    assert reconcile(order).ok


def test_ecommerce_quirks_are_tolerated() -> None:
    quirky = json.loads(json.dumps(DOC_ORDER))
    quirky["total_amount"] = 173.97  # a JSON number: parsed as Decimal, never float
    quirky["items"][0]["shipping"] = None
    del quirky["savings_on_items"]
    del quirky["items"][1]["product"]["slug"]
    quirky["items"][1]["colour"] = "red"
    quirky["billing_address"] = None
    quirky["updated"] = "2026-03-01T12:35:00.123456+02:00"
    client = _client("ecommerce-customer", lambda r: _json([quirky]))
    page = client.list_page(offset=0, limit=20)
    assert page.next is None and page.count == 1  # a bare array is accepted
    order = client.normalize(page.results[0])
    assert order.figures.total == Decimal("173.97") and order.billing is None
    assert order.updated_at.hour == 10 and order.updated_at.microsecond == 123456
    assert '"colour":"red"' in order.raw and "173.97" in order.raw


def test_staff_order_normalizes_all_shapes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _json({"count": 1, "next": None, "previous": None, "results": [STAFF_ORDER]})

    client = _client("shop-staff", handler)
    order = client.normalize(client.list_page(offset=0, limit=50).results[0])
    assert seen[0].headers["authorization"] == "Token secret-token"
    assert seen[0].url.path == "/api/orders"
    assert order.status.raw == "pending"
    assert order.status.category is StatusCategory.AWAITING_PAYMENT
    assert order.currency == "NOK" and order.figures.shipping == Decimal("4.5")
    assert order.shipping_method is not None and order.shipping_method.id == "3"
    assert order.customer is not None and order.customer.full_name == "Anna Ödegaard"
    assert order.created_at.hour == 7 and order.payments[0].extra == (("gateway", "x"),)
    result = reconcile(order)
    assert result.ok, result.problems
    assert result.lines[0].unit_price == Decimal("12.50")


@pytest.mark.parametrize(("status", "body", "ctype", "error", "text"), [
    (401, {"detail": "Invalid token."}, "application/json", AuthError, "Invalid token."),
    (403, {"detail": "Authentication credentials were not provided."}, "application/json",
     AuthError, "credentials"),
    (403, b"", "text/plain", ForbiddenError, "not allowed"),
    (400, {"limit": ["A valid integer is required."]}, "application/json", BadRequestError,
     "limit: A valid integer is required."),
    (400, {"error": "bad ordering"}, "application/json", BadRequestError, "bad ordering"),
])
def test_errors_are_classed_with_the_servers_words(status: int, body: Any, ctype: str,
                                                   error: type, text: str) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, content=content, headers={"content-type": ctype})

    client = _client("shop-staff", handler)
    with pytest.raises(error) as info:
        client.list_page(offset=0, limit=10)
    assert text in info.value.message
    assert "secret-token" not in info.value.message + info.value.details
    assert len(calls) == 1  # 4xx is never retried


def test_5xx_429_and_malformed_bodies_are_retried() -> None:
    replies = [
        httpx.Response(500, content=b"<html><title>Internal Server Error</title></html>",
                       headers={"content-type": "text/html"}),
        _json({"detail": "slow down"}, 429, **{"retry-after": "0"}),
        httpx.Response(200, content=b'{"count": 1, "results": [', headers={}),
        _json({"count": 0, "next": None, "previous": None, "results": []}),
    ]
    client = _client("shop-staff", lambda r: replies.pop(0))
    assert client.list_page(offset=0, limit=10).results == []
    assert replies == []


def test_retries_give_up_with_a_classed_error() -> None:
    client = _client("shop-staff", lambda r: httpx.Response(
        503, content=b"<html><h1>Service Unavailable</h1></html>"))
    with pytest.raises(ServerError, match="Service Unavailable"):
        client.list_page(offset=0, limit=10)

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(NetworkError, match="cannot be reached"):
        _client("shop-staff", boom).list_page(offset=0, limit=10)


@pytest.mark.parametrize("mutate", [
    lambda o: o.update(total="12,50"),
    lambda o: o.update(created_at="2025-02-01T08:00:00"),  # naive
    lambda o: o.update(items="nope"),
    lambda o: o.update(id=None),
    lambda o: o.update(total=1e30),
    lambda o: o.update(total="1" + "0" * 30),
])
def test_bad_values_raise_protocol_errors(mutate: Any) -> None:
    bad = json.loads(json.dumps(STAFF_ORDER))
    mutate(bad)
    client = _client("shop-staff", lambda r: _json([bad]))
    with pytest.raises(ProtocolError):
        client.normalize(client.list_page(offset=0, limit=1).results[0])


def test_basic_auth_for_ecommerce() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _json([])

    _client("ecommerce-customer", handler, auth="basic",
            username="a@example.com").list_page(offset=0, limit=1)
    assert seen[0].headers["authorization"].startswith("Basic ")


def test_push_down_reports_what_the_server_cannot_filter() -> None:
    from orderdesk.models import OrderQuery, SortField, SortKey

    client = _client("shop-staff", lambda r: _json([]))
    pushed = client.push_down(OrderQuery(categories=(StatusCategory.ON_HOLD,), has_notes=True,
                                         total_min=Decimal(5),
                                         sort=(SortKey(SortField.CREATED, True),)))
    assert pushed.params == {"status_in": "hold", "has_notes": "true", "ordering": "-created_at"}
    assert pushed.unsupported == ("total range",)


@pytest.mark.parametrize("body", [
    # plain envelope, money as strings and as numbers of any size and spelling
    b'{"count": 2, "next": null, "previous": null, "results": [{"id": 1, "total": "1.10"},'
    b' {"id": 2, "total": 1.10, "big": 123456789012345678901234567890, "e": 1e400,'
    b' "z": -0.0, "name": "Caf\xc3\xa9 \\u00e9"}]}',
    # whitespace around everything, a bare array, an empty page
    b' \n{ "results" : [ {"a": [1, 2.50]} ,\n {"b": {}} ] , "count" : 5 , "next" : "x" }\n',
    b'[ {"a": 1.5}, {"b": "\\ud83d\\ude00"} ]',
    b'{"count": 0, "next": null, "results": []}',
    # what msgspec refuses goes json's way: NaN, a lone surrogate escape, no results
    b'{"count": 1, "next": null, "results": [{"a": NaN}]}',
    b'{"count": 1, "next": null, "results": [{"a": "\\ud800x"}]}',
    b'{"count": 1, "results": {"a": 1}}',
])
def test_decode_page_is_exact_and_keeps_each_orders_text(body: bytes) -> None:
    """decode_page (msgspec) against json with Decimal and the element-by-element cut."""
    from orderdesk.api import http

    got = http.decode_page(body)
    fast = http._decode_fast
    try:
        http._decode_fast = lambda _body: None
        want = http.decode_page(body)
    finally:
        http._decode_fast = fast
    data, raws = got
    ref, ref_raws = want
    assert raws == ref_raws
    results = data if isinstance(data, list) else data["results"]
    ref_results = ref if isinstance(ref, list) else ref["results"]
    assert repr(results) == repr(ref_results)  # same values and types (Decimal('1.10'))
    if isinstance(ref, dict) and isinstance(ref.get("results"), list):
        assert (data["count"], data["next"]) == (ref["count"], ref["next"])
    if raws:  # (an odd envelope has none: parse_page refuses it)
        for item, raw in zip(results, raws, strict=True):
            assert repr(json.loads(raw, parse_float=Decimal)) == repr(item)


@pytest.mark.parametrize("kind", list(ConnectionKind))
@pytest.mark.parametrize(("configured", "expected"), [("", "EUR"), ("usd", "USD")])
def test_orders_without_a_currency_take_the_connections_or_the_one_default(
        kind: ConnectionKind, configured: str, expected: str) -> None:
    """Every kind falls back to the same currency the connection dialog shows."""
    from orderdesk.config import DEFAULT_CURRENCY
    from orderdesk.demo import (
        iter_ecommerce_payloads,
        iter_shop_customer_payloads,
        iter_staff_payloads,
    )

    payloads = {ConnectionKind.ECOMMERCE_CUSTOMER: iter_ecommerce_payloads,
                ConnectionKind.SHOP_CUSTOMER: iter_shop_customer_payloads,
                ConnectionKind.SHOP_STAFF: iter_staff_payloads}[kind]
    data = next(iter(payloads(5, 7)))
    if isinstance(data.get("extra"), dict):
        data["extra"].pop("currency", None)
    config = ConnectionConfig(name="c", kind=kind, base_url="https://shop.test",
                              currency=configured)
    with HttpTransport() as http:
        order = make_client(config, "t", http).normalize(data)
    assert DEFAULT_CURRENCY == "EUR"
    assert order.currency == expected

"""The demo server over real HTTP on 127.0.0.1, checked against plain-Python references."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from orderdesk.demo import (
    BIG_ORDER_ID,
    DEFAULT_CUSTOMER_EMAIL,
    DEFAULT_CUSTOMER_PASSWORD,
    DEMO_CUSTOMER_ID,
    DemoServer,
    iter_ecommerce_payloads,
    iter_rows,
    iter_shop_customer_payloads,
    iter_staff_payloads,
)
from orderdesk.demo.catalog import World
from orderdesk.demo.generator import ANOMALY, ECOMMERCE_STATUS

N = 300
SEED = 3
JSON = dict[str, Any]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(orders=N, seed=SEED) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def staff_all() -> list[JSON]:
    return list(iter_staff_payloads(N, SEED))


@pytest.fixture(scope="module")
def world() -> World:
    return World(SEED, N)


def staff_get(client: httpx.Client, server: DemoServer, **params: Any) -> httpx.Response:
    return client.get("/api/orders", params=params,
                      headers={"Authorization": f"Token {server.staff_token}"})


def customer_get(client: httpx.Client, server: DemoServer, **params: Any) -> httpx.Response:
    return client.get("/api/shop/customers/me/orders", params=params,
                      headers={"Authorization": f"Token {server.customer_token}"})


def all_pages(fetch: Callable[..., httpx.Response], **params: Any) -> list[JSON]:
    first = fetch(limit=1000, **params)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["next"] is None
    assert body["count"] == len(body["results"])
    results: list[JSON] = body["results"]
    return results


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ------------------------------------------------------------- plain-Python references
def _has(value: object) -> bool:
    return value is not None and value != ""


def _search_fields(o: JSON, world: World, staff: bool) -> list[str]:
    fields = [str(o["id"]), o["key"], o["notes"], o["billing_first_name"] or "",
              o["billing_last_name"] or "", o["billing_mobile_number"] or ""]
    for name in ("billing_country", "billing_state", "billing_city"):
        ref = o[f"{name}_data"]
        fields.append(ref["name"] if ref else "")
    if staff and o["customer"] is not None:
        c = world.customer(o["customer"])
        fields += [str(c.id), c.first_name, c.last_name, c.email, c.username, c.mobile or ""]
    return fields


def reference(orders: list[JSON], params: dict[str, str], world: World, *,
              staff: bool) -> list[int]:
    """The ids a shop endpoint should answer, in order, from staff-shaped dicts."""
    out = list(orders)

    def keep(pred: Callable[[JSON], bool]) -> None:
        nonlocal out
        out = [o for o in out if pred(o)]

    ints = {"payment_method": "payment_method", "shipping_method": "shipping_method",
            "billing_country": "billing_country", "billing_state": "billing_state",
            "billing_city": "billing_city", "customer": "customer"}
    for name, value in params.items():
        if name == "search":
            for term in value.replace(",", " ").split():
                t = term.lower()
                keep(lambda o, t=t: any(t in f.lower() for f in _search_fields(o, world, staff)))
        elif name == "status":
            keep(lambda o, v=value: o["status"] == v)
        elif name == "status_in":
            keep(lambda o, v=value: o["status"] in v.split(","))
        elif name in ints:
            keep(lambda o, k=ints[name], v=value: o[k] == int(v))
        elif name.endswith("_in") and name[:-3] in ints:
            keep(lambda o, k=ints[name[:-3]], v=value: o[k] in {int(x) for x in v.split(",")})
        elif name in ("is_paid", "is_payable"):
            keep(lambda o, k=name, v=value: o[k] is (v == "true"))
        elif name.startswith("has_"):
            field = {"has_customer": "customer", "has_payment_method": "payment_method",
                     "has_shipping_method": "shipping_method", "has_notes": "notes",
                     }.get(name, name.replace("has_", ""))
            keep(lambda o, f=field, v=value: _has(o[f]) is (v == "true"))
        elif name == "id_min":
            keep(lambda o, v=value: o["id"] >= int(v))
        elif name == "id_max":
            keep(lambda o, v=value: o["id"] <= int(v))
        elif name in ("created_date", "updated_date"):
            k = name.replace("_date", "_at")
            keep(lambda o, k=k, v=value: dt(o[k]).date() == date.fromisoformat(v))
        elif name.endswith(("_from", "_to")):
            k = name.split("_")[0] + "_at"
            if len(value) == 10:
                d = date.fromisoformat(value)
                if name.endswith("_from"):
                    keep(lambda o, k=k, d=d: dt(o[k]).date() >= d)
                else:
                    keep(lambda o, k=k, d=d: dt(o[k]).date() <= d)
            else:
                bound = datetime.fromisoformat(value)
                if bound.tzinfo is None:
                    bound = bound.replace(tzinfo=UTC)
                if name.endswith("_from"):
                    keep(lambda o, k=k, b=bound: dt(o[k]) >= b)
                else:
                    keep(lambda o, k=k, b=bound: dt(o[k]) <= b)
        elif name == "shipping_cost_min":
            keep(lambda o, v=value: Decimal(o["shipping_cost"]) >= Decimal(v))
        elif name == "shipping_cost_max":
            keep(lambda o, v=value: Decimal(o["shipping_cost"]) <= Decimal(v))
        elif name != "ordering":
            raise AssertionError(name)
    ordering = params.get("ordering", "-created_at").split(",")
    first_desc = ordering[0].startswith("-")
    out.sort(key=lambda o: o["id"], reverse=first_desc)
    for term in reversed(ordering):
        desc = term.startswith("-")
        getter = _sort_getter(term.lstrip("-"), world)
        out.sort(key=lambda o, g=getter: (g(o) is None, g(o)), reverse=desc)
    return [o["id"] for o in out]


def _sort_getter(name: str, world: World) -> Callable[[JSON], Any]:
    if name in ("created_at", "updated_at"):
        return lambda o: dt(o[name])
    if name == "shipping_cost":
        return lambda o: Decimal(o["shipping_cost"])
    if name in ("id", "status"):
        return lambda o: o[name]
    if name == "customer__id":
        return lambda o: o["customer"]
    if name.startswith("customer__"):
        attr = name.split("__")[1]
        return lambda o: getattr(world.customer(o["customer"]), attr) if o["customer"] else None
    base = name.split("__")[0]
    return lambda o: o[f"{base}_data"]["name"] if o[f"{base}_data"] else None


# ------------------------------------------------------------------------------ tests
def test_served_orders_equal_the_generator_api(client: httpx.Client, server: DemoServer,
                                               staff_all: list[JSON]) -> None:
    served = all_pages(lambda **p: staff_get(client, server, **p), ordering="id")
    assert served == staff_all
    mine = all_pages(lambda **p: customer_get(client, server, **p), ordering="id")
    assert mine == list(iter_shop_customer_payloads(N, SEED))
    assert {o["id"] for o in mine} == {o["id"] for o in staff_all
                                       if o["customer"] == DEMO_CUSTOMER_ID}


def test_pagination_covers_every_order_exactly_once(client: httpx.Client,
                                                    server: DemoServer) -> None:
    seen: list[int] = []
    url: str | None = f"{server.base_url}/api/orders?limit=37&status_in=completed,new,pending"
    pages = 0
    while url:
        assert url.startswith(server.base_url)
        reply = client.get(url, headers={"Authorization": f"Token {server.staff_token}"})
        body = reply.json()
        if pages == 0:
            assert body["previous"] is None
        else:
            previous = httpx.URL(body["previous"])
            assert int(previous.params.get("offset", "0")) == (pages - 1) * 37
            assert previous.params["status_in"] == "completed,new,pending"
        seen += [o["id"] for o in body["results"]]
        url = body["next"]
        pages += 1
    assert len(seen) == len(set(seen)) == body["count"]
    assert pages == -(-body["count"] // 37)
    page2 = staff_get(client, server, limit=37, offset=37).json()
    assert page2["previous"].endswith("limit=37")
    assert "offset" not in page2["previous"]


STAFF_CASES: list[dict[str, str]] = [
    {}, {"search": "müller"}, {"search": "ΠΑΠΑΔΌΠΟΥΛΟΣ"}, {"search": "example.net"},
    {"search": "東京都"}, {"search": "1"}, {"search": "demo dana"}, {"search": "call,door"},
    {"status": "completed"}, {"status": "pending"}, {"status_in": "new,hold,failed"},
    {"customer": "1"}, {"customer_in": "1,2,3,4,5"}, {"payment_method": "2"},
    {"payment_method_in": "1,3"}, {"shipping_method": "3"}, {"shipping_method_in": "1,2"},
    {"billing_country": "1"}, {"billing_country_in": "7,8,9"}, {"billing_state": "2"},
    {"billing_state_in": "1,3"}, {"billing_city": "1"}, {"billing_city_in": "1,2,3,4"},
    {"shipping_cost_min": "9.90"}, {"shipping_cost_max": "4.9"},
    {"shipping_cost_min": "0.01", "shipping_cost_max": "14.90"},
    {"is_paid": "true"}, {"is_paid": "false"}, {"is_payable": "false"},
    {"has_notes": "true"}, {"has_customer": "false"}, {"has_payment_method": "false"},
    {"has_shipping_method": "false"}, {"has_billing_country": "false"},
    {"has_billing_state": "false"}, {"has_billing_city": "true"},
    {"has_billing_address": "false"}, {"has_billing_postal_code": "false"},
    {"has_billing_national_code": "true"}, {"has_billing_mobile_number": "false"},
    {"has_billing_first_name": "false"}, {"has_billing_last_name": "true"},
    {"id_min": "100", "id_max": "150"}, {"created_date": "2025-05-14"},
    {"created_from": "2025-01-01", "created_to": "2025-03-31"},
    {"updated_from": "2026-01-15T12:00:00Z"}, {"updated_to": "2024-06-01T00:00:00"},
    {"updated_date": "2026-02-27"},
    {"ordering": "id"}, {"ordering": "-id"}, {"ordering": "status"}, {"ordering": "-status"},
    {"ordering": "customer__id"}, {"ordering": "-customer__username"},
    {"ordering": "customer__first_name"}, {"ordering": "-customer__last_name"},
    {"ordering": "shipping_cost"}, {"ordering": "-shipping_cost"}, {"ordering": "created_at"},
    {"ordering": "-updated_at"}, {"ordering": "status,-shipping_cost"},
    {"status": "completed", "is_paid": "true", "ordering": "-shipping_cost",
     "search": "a"},
]


@pytest.mark.parametrize("params", STAFF_CASES, ids=lambda p: "&".join(
    f"{k}={v}" for k, v in p.items()) or "default")
def test_staff_filters_and_ordering_match_reference(
        client: httpx.Client, server: DemoServer, staff_all: list[JSON], world: World,
        params: dict[str, str]) -> None:
    served = all_pages(lambda **p: staff_get(client, server, **p), **params)
    expected = reference(staff_all, params, world, staff=True)
    assert [o["id"] for o in served] == expected


CUSTOMER_CASES: list[dict[str, str]] = [
    {}, {"search": "dana"}, {"search": "germany"}, {"search": "1"}, {"status": "completed"},
    {"status_in": "new,pending,processing,completed"}, {"payment_method_in": "1,2"},
    {"shipping_method": "1"}, {"billing_country": "1"}, {"billing_state_in": "1,2,3"},
    {"billing_city_in": "1,2"}, {"is_paid": "false"}, {"is_payable": "true"},
    {"has_notes": "true"}, {"id_min": "50"}, {"created_from": "2025-06-01"},
    {"updated_to": "2025-06-01"}, {"created_date": "2024-09-04"},
    {"ordering": "billing_country__name"}, {"ordering": "-billing_state__name"},
    {"ordering": "billing_city__name"}, {"ordering": "-payment_method__name"},
    {"ordering": "shipping_method__name,-id"}, {"ordering": "-status"},
    {"ordering": "updated_at"}, {"ordering": "shipping_cost"},
]


@pytest.mark.parametrize("params", CUSTOMER_CASES, ids=lambda p: "&".join(
    f"{k}={v}" for k, v in p.items()) or "default")
def test_customer_filters_and_ordering_match_reference(
        client: httpx.Client, server: DemoServer, staff_all: list[JSON], world: World,
        params: dict[str, str]) -> None:
    served = all_pages(lambda **p: customer_get(client, server, **p), **params)
    mine = [o for o in staff_all if o["customer"] == DEMO_CUSTOMER_ID]
    assert [o["id"] for o in served] == reference(mine, params, world, staff=False)


def test_filters_are_not_vacuous(staff_all: list[JSON], world: World) -> None:
    """Most filter cases select a proper, non-empty subset of the data."""
    proper = 0
    for params in STAFF_CASES:
        if "ordering" in params or not params:
            continue
        n = len(reference(staff_all, params, world, staff=True))
        proper += 0 < n < len(staff_all)
    assert proper >= 40


def test_staff_payload_shape_and_money_rules(staff_all: list[JSON]) -> None:
    rows = {r[0]: r for r in iter_rows(N, SEED)}
    statuses = set()
    for o in staff_all:
        statuses.add(o["status"])
        assert o["extra"]["currency"] == "EUR"
        assert (o["customer"] is None) is (o["customer_data"] is None)
        if o["customer_data"]:
            assert set(o["customer_data"]) == {"id", "username", "full_name"}
        if o["billing_country_data"]:
            assert set(o["billing_country_data"]) == {"id", "active", "name", "code"}
        if o["billing_city_data"]:
            assert set(o["billing_city_data"]) == {"id", "active", "name"}
        if o["payment_method_data"]:
            assert set(o["payment_method_data"]) == {"id", "name", "image"}
        items = o["items"]
        for it in items:
            assert all(isinstance(it[k], int) for k in
                       ("unit_price", "unit_discount", "subtotal", "discount", "total"))
            assert it["subtotal"] == it["unit_price"] * it["quantity"]
            assert it["discount"] == it["unit_discount"] * it["quantity"]
            assert it["total"] == it["subtotal"] - it["discount"]
        d = {k: Decimal(o[k]) for k in ("items_subtotal", "items_discount", "subtotal",
                                        "total_discount", "total", "amount_paid",
                                        "amount_outstanding", "shipping_cost")}
        assert all(isinstance(o[k], str) for k in d)
        assert o["count"] == len(items)
        assert o["quantity"] == sum(it["quantity"] for it in items)
        anomaly = rows[o["id"]][ANOMALY]
        ok_sub = d["items_subtotal"] == Decimal(sum(it["subtotal"] for it in items)) / 100
        ok_disc = d["items_discount"] == Decimal(sum(it["discount"] for it in items)) / 100
        ok_total = d["total"] == d["items_subtotal"] + d["shipping_cost"] - d["total_discount"] \
            or anomaly == 3
        received = sum((Decimal(p["amount"]) for p in o["payments"]
                        if p["status"] in ("completed", "refunded")), Decimal(0))
        ok_pay = received == d["amount_paid"]
        if o["is_payable"]:
            ok_out = d["amount_paid"] + d["amount_outstanding"] == d["total"]
            assert o["is_paid"] is (d["amount_outstanding"] == 0)
        else:
            ok_out = d["amount_outstanding"] == 0
            assert o["is_paid"] is False
        assert ok_sub
        assert (ok_disc and ok_total and ok_pay and ok_out) is (anomaly == 0), o["id"]
        for p in o["payments"]:
            assert set(p) == {"id", "amount", "method", "status", "reference", "created_at"}
            assert (Decimal(p["amount"]) < 0) is (p["status"] == "refunded")
    assert {"completed", "cancelled", "refunded", "pending"} <= statuses
    assert statuses - {"new", "hold", "failed", "cancelled", "processing", "shipped",
                       "completed", "refunded", "deleted"} == {"pending"}


def test_generator_mix_is_realistic() -> None:
    rows = list(iter_rows(3000, 11))
    anomalies = sum(1 for r in rows if r[ANOMALY])
    assert 10 <= anomalies <= 60  # about 1 %
    orders = list(iter_staff_payloads(3000, 11))
    assert len(orders[BIG_ORDER_ID - 1]["items"]) == 200
    assert max(len(o["items"]) for o in orders if o["id"] != BIG_ORDER_ID) >= 9
    assert any(o["customer"] is None for o in orders)
    assert sum(1 for o in orders if o["notes"]) > 100
    partial = [o for o in orders if o["is_payable"] and Decimal(o["amount_paid"]) > 0
               and Decimal(o["amount_outstanding"]) > 0]
    refunds = [o for o in orders if any(p["status"] == "refunded" for p in o["payments"])]
    assert partial and refunds
    names = "".join((o["billing_first_name"] or "") + (o["billing_last_name"] or "")
                    for o in orders)
    for ch in ("田", "Π", "И", "م"):  # Japanese, Greek, Cyrillic, Arabic
        assert ch in names or ch.lower() in names.lower()
    created = [dt(o["created_at"]) for o in orders]
    assert min(created).year == 2024 and max(created) < datetime(2026, 3, 1, tzinfo=UTC)
    assert all(dt(o["updated_at"]) >= dt(o["created_at"]) for o in orders)


def test_generator_is_deterministic_per_seed() -> None:
    a = list(iter_staff_payloads(60, 9))
    assert a == list(iter_staff_payloads(60, 9))
    assert a != list(iter_staff_payloads(60, 10))


def test_ecommerce_list_and_detail(client: httpx.Client, server: DemoServer,
                                   staff_all: list[JSON]) -> None:
    auth = {"Authorization": f"Bearer {server.customer_token}"}
    reply = client.get("/api/v1/i/orders/", params={"limit": 1000}, headers=auth)
    assert reply.status_code == 200
    body = reply.json()
    orders = body["results"]
    generated = [orjson.loads(orjson.dumps(o))
                 for o in iter_ecommerce_payloads(N, SEED, server.base_url)]
    assert orders == generated[::-1]  # generator: by id; server: newest first
    mine = [o for o in staff_all if o["customer"] == DEMO_CUSTOMER_ID
            and o["status"] != "deleted"]
    assert body["count"] == len(orders) == len(mine)
    created = [o["created"] for o in orders]
    assert [dt(c) for c in created] == sorted((dt(c) for c in created), reverse=True)
    by_id = {o["id"]: o for o in staff_all}
    quirky = 0
    for o in orders:
        assert o["status"] in ("awaiting_payment", "paid", "delivered", "cancelled")
        items = o["items"]
        assert o["items_count"] == sum(i["quantity"] for i in items)
        subtotal = sum(Decimal(str(i["total_price"])) for i in items)
        assert Decimal(str(o["subtotal"])) == subtotal
        for i in items:
            assert Decimal(str(i["total_price"])) == Decimal(str(i["unit_price"])) * i["quantity"]
        raw = client.get(o["url"], headers=auth)
        assert raw.status_code == 200 and raw.json() == o
        text = raw.text
        quirky += ("savings_on_items" not in o or o["billing_address"] is None
                   or '"subtotal":' + str(o["subtotal"]) in text)
    assert quirky > 0
    # same underlying shop: the deployed formula gives the shop's total
    shop_ids = {o["id"] for o in mine}
    assert len(shop_ids) == len(orders)
    sample = by_id[min(shop_ids)]
    match = next(o for o in orders if o["url"].endswith(
        server.dataset.renderer.ecommerce_uuid(sample["id"]) + "/"))  # type: ignore[union-attr]
    assert Decimal(str(match["total_amount"])) == Decimal(sample["total"])
    assert match["status"] == ECOMMERCE_STATUS.get(sample["status"], "awaiting_payment")
    # money sent as JSON numbers is an exact decimal with two places, never float noise
    exact = json.loads(reply.text, parse_float=Decimal)
    numbers = [v for o in exact["results"] for v in
               [o["subtotal"], o["total_amount"], *(i["unit_price"] for i in o["items"])]
               if isinstance(v, Decimal)]
    assert numbers and all(v.as_tuple().exponent == -2 for v in numbers)
    # filter by status
    paid = client.get("/api/v1/i/orders/", params={"status": "delivered", "limit": 1000},
                      headers=auth).json()
    assert paid["results"] and all(o["status"] == "delivered" for o in paid["results"])
    assert paid["count"] == sum(1 for o in orders if o["status"] == "delivered")
    # HTTP Basic with the demo customer's email and password
    basic = client.get("/api/v1/i/orders/", auth=(DEFAULT_CUSTOMER_EMAIL,
                                                   DEFAULT_CUSTOMER_PASSWORD))
    assert basic.status_code == 200 and basic.json()["count"] == len(orders)
    assert basic.json()["next"].endswith("?limit=20&offset=20")


def test_ecommerce_quirks_exist_in_a_larger_shop() -> None:
    orders = list(iter_ecommerce_payloads(4000, 2))
    raw = b"".join(orjson.dumps(o) for o in orders)
    assert any("savings_on_items" not in o for o in orders)
    assert any(o["billing_address"] is None for o in orders)
    assert any(isinstance((o["billing_address"] or {}).get("postal_code"), int) for o in orders)
    assert any("slug" not in i["product"] for o in orders for i in o["items"])
    assert any(i["shipping"] is None for o in orders for i in o["items"])
    assert any("+02:00" in o["created"] or "-05:00" in o["created"] for o in orders)
    assert b'"total_amount":' in raw and b'"total_amount":"' in raw
    numeric = [o for o in orders if not isinstance(o["total_amount"], str)]
    assert numeric
    quirky = sum(1 for o in orders if not isinstance(o["total_amount"], str)
                 or "savings_on_items" not in o or o["billing_address"] is None)
    assert quirky < len(orders) * 0.1


def test_auth_errors(client: httpx.Client, server: DemoServer) -> None:
    missing = client.get("/api/orders")
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided."}
    bad = client.get("/api/orders", headers={"Authorization": "Token nope"})
    assert bad.status_code == 401 and bad.json() == {"detail": "Invalid token."}
    forbidden = client.get("/api/orders",
                           headers={"Authorization": f"Token {server.customer_token}"})
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "You do not have permission to perform this action."}
    assert client.get("/api/shop/customers/me/orders").status_code == 401
    assert client.get("/api/shop/customers/me/orders",
                      headers={"Authorization": "Token bad"}).json() == {
        "detail": "Invalid token."}
    ecom = client.get("/api/v1/i/orders/")
    assert ecom.status_code == 401
    assert ecom.json()["detail"] == "Authentication credentials were not provided."
    assert client.get("/api/v1/i/orders/", headers={"Authorization": "Bearer bad"}).json() == {
        "detail": "Invalid token."}
    wrong = client.get("/api/v1/i/orders/", auth=(DEFAULT_CUSTOMER_EMAIL, "wrong"))
    assert wrong.status_code == 401 and "Invalid username/password" in wrong.json()["detail"]
    staff_as_bearer = client.get("/api/v1/i/orders/",
                                 headers={"Authorization": f"Bearer {server.staff_token}"})
    assert staff_as_bearer.status_code == 401


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"limit": "abc"}, "limit", "A valid integer is required."),
    ({"offset": "-3"}, "offset", "Ensure this value is greater than or equal to 0."),
    ({"limit": "0"}, "limit", "Ensure this value is greater than or equal to 1."),
    ({"is_paid": "maybe"}, "is_paid", "Must be a valid boolean."),
    ({"has_notes": "yes please"}, "has_notes", "Must be a valid boolean."),
    ({"created_from": "2024-02-30"}, "created_from", "Enter a valid date/time."),
    ({"updated_date": "yesterday"}, "updated_date", "Enter a valid date."),
    ({"ordering": "price"}, "ordering",
     "Select a valid choice. price is not one of the available choices."),
    ({"customer_in": "1,x"}, "customer_in", "A valid integer is required."),
    ({"id_min": "1.5"}, "id_min", "A valid integer is required."),
    ({"shipping_cost_min": "cheap"}, "shipping_cost_min", "A valid number is required."),
])
def test_field_errors(client: httpx.Client, server: DemoServer, params: dict[str, str],
                      field: str, message: str) -> None:
    reply = staff_get(client, server, **params)
    assert reply.status_code == 400
    assert reply.json() == {field: [message]}


def test_customer_endpoint_field_errors_and_404(client: httpx.Client,
                                               server: DemoServer) -> None:
    reply = customer_get(client, server, ordering="customer__id", limit="x")
    assert reply.status_code == 400
    assert set(reply.json()) == {"ordering", "limit"}
    auth = {"Authorization": f"Bearer {server.customer_token}"}
    unknown = client.get("/api/v1/i/orders/00000000-0000-4000-8000-000000000000/",
                         headers=auth)
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Not found."}
    bad_status = client.get("/api/v1/i/orders/", params={"status": "lost"}, headers=auth)
    assert bad_status.status_code == 400 and "status" in bad_status.json()
    assert client.get("/api/nothing-here", headers=auth).json() == {"detail": "Not found."}
    other = next(o for o in iter_staff_payloads(N, SEED) if o["customer"] not in (None, 1))
    assert server.dataset is not None
    uid = server.dataset.renderer.ecommerce_uuid(other["id"])
    assert client.get(f"/api/v1/i/orders/{uid}/", headers=auth).status_code == 404


def test_mutate_changes_what_is_served() -> None:
    with DemoServer(orders=200, seed=4) as srv, httpx.Client(base_url=srv.base_url) as c:
        staff = {"Authorization": f"Token {srv.staff_token}"}
        before = {o["id"]: o for o in c.get("/api/orders", params={"limit": 1000},
                                            headers=staff).json()["results"]}
        last_update = max(dt(o["updated_at"]) for o in before.values())
        summary = c.post("/_demo/mutate", json={"count": 20}).json()
        assert set(summary) >= {"created", "updated", "deleted"}
        assert len(summary["created"]) + len(summary["updated"]) + len(
            summary["deleted"]) == 20
        assert summary["hard_deleted"] and summary["soft_deleted"]
        after = {o["id"]: o for o in c.get("/api/orders", params={"limit": 1000},
                                           headers=staff).json()["results"]}
        for oid in summary["created"]:
            assert oid not in before and dt(after[oid]["updated_at"]) > last_update
        for oid in summary["updated"]:
            assert after[oid] != before[oid]
            assert dt(after[oid]["updated_at"]) > last_update
        for oid in summary["hard_deleted"]:
            assert oid in before and oid not in after
        for oid in summary["soft_deleted"]:
            assert after[oid]["status"] == "deleted"
        untouched = set(before) - set(summary["updated"]) - set(summary["deleted"])
        assert all(after[i] == before[i] for i in untouched)
        # the change feed as a client sees it
        changed = c.get("/api/orders", params={
            "ordering": "updated_at", "updated_from": after[summary["created"][0]][
                "created_at"], "limit": 1000}, headers=staff).json()["results"]
        assert {o["id"] for o in changed} == set(summary["created"]) | set(
            summary["updated"]) | set(summary["soft_deleted"])
        # query-string form; deterministic per seed and round
        second = c.post("/_demo/mutate?count=5").json()
        assert len(second["created"]) + len(second["updated"]) + len(second["deleted"]) == 5
    with DemoServer(orders=200, seed=4) as again, httpx.Client(base_url=again.base_url) as c:
        assert c.post("/_demo/mutate", json={"count": 20}).json() == summary


def test_mutate_and_faults_refuse_remote_clients() -> None:
    from orderdesk.demo.app import Faults, create_app
    from orderdesk.demo.dataset import Dataset

    data = Dataset(20, 1)

    async def go() -> tuple[int, int, int]:
        transport = httpx.ASGITransport(app=create_app(data, Faults(1)),
                                        client=("203.0.113.9", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as c:
            a = (await c.post("/_demo/mutate", json={"count": 1})).status_code
            b = (await c.post("/_demo/faults", json={"kind": "500"})).status_code
            d = (await c.get("/api/orders", headers={
                "Authorization": "Token demo-staff-token"})).status_code
            return a, b, d

    try:
        assert asyncio.run(go()) == (403, 403, 200)
    finally:
        data.close()


def _inject(c: httpx.Client, kind: str, count: int = 1, **extra: Any) -> None:
    reply = c.post("/_demo/faults", json={"kind": kind, "count": count, **extra})
    assert reply.status_code == 200, reply.text


def test_each_fault_kind_is_produced() -> None:
    with DemoServer(orders=50, seed=2, retry_after=0, slow_ms=300) as srv, \
            httpx.Client(base_url=srv.base_url, timeout=5) as c:
        headers = {"Authorization": f"Token {srv.staff_token}"}
        for code in ("500", "502", "503"):
            _inject(c, code)
            reply = c.get("/api/orders", headers=headers)
            assert reply.status_code == int(code)
            assert reply.headers["content-type"].startswith("text/html")
            assert "<html" in reply.text
        _inject(c, "429", 2)
        for _ in range(2):
            reply = c.get("/api/orders", headers=headers)
            assert reply.status_code == 429 and reply.headers["retry-after"] == "0"
            assert "throttled" in reply.json()["detail"]
        _inject(c, "truncate")
        reply = c.get("/api/orders", headers=headers)
        assert reply.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(reply.content)
        _inject(c, "malformed")
        reply = c.get("/api/orders", headers=headers)
        assert reply.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(reply.content)
        _inject(c, "drop")
        with pytest.raises(httpx.TransportError):
            c.get("/api/orders", headers=headers)
        _inject(c, "slow", delay_ms=250)
        t0 = time.perf_counter()
        reply = c.get("/api/orders", headers=headers)
        assert reply.status_code == 200 and time.perf_counter() - t0 >= 0.25
        assert c.get("/api/orders", headers=headers).status_code == 200  # queue drained
        info = c.get("/_demo/info").json()
        assert set(info["faults_produced"]) == {"500", "502", "503", "429", "truncate",
                                                "malformed", "drop", "slow"}
        bad = c.post("/_demo/faults", json={"kind": "meteor", "count": 1})
        assert bad.status_code == 400


def _fault_sequence(seed: int) -> list[str]:
    out = []
    with DemoServer(orders=30, seed=seed, fail_rate=0.5, retry_after=0, slow_ms=10,
                    latency_ms=1) as srv, httpx.Client(base_url=srv.base_url, timeout=5) as c:
        for _ in range(40):
            try:
                reply = c.get("/api/orders", params={"limit": 5},
                              headers={"Authorization": f"Token {srv.staff_token}"})
            except httpx.TransportError:
                out.append("drop")
                continue
            try:
                orjson.loads(reply.content)
                out.append(str(reply.status_code))
            except orjson.JSONDecodeError:
                out.append(f"{reply.status_code}-bad")
    return out


def test_fail_rate_is_reproducible_and_mixed() -> None:
    first = _fault_sequence(8)
    assert first == _fault_sequence(8)
    assert "200" in first and len(set(first)) >= 5


def test_data_file_is_cached_and_never_mutated(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    with DemoServer(orders=120, seed=6, data_file=path) as srv:
        assert srv.dataset is not None and srv.dataset.generated
    stamp = (path.stat().st_mtime_ns, path.read_bytes())
    with DemoServer(orders=120, seed=6, data_file=path) as srv, \
            httpx.Client(base_url=srv.base_url) as c:
        assert srv.dataset is not None and not srv.dataset.generated
        assert c.post("/_demo/mutate", json={"count": 10}).status_code == 200
        reply = c.get("/api/orders", params={"limit": 1000},
                      headers={"Authorization": f"Token {srv.staff_token}"}).json()
        assert reply["count"] != 120 or any(o["status"] == "deleted"
                                            for o in reply["results"])
    assert (path.stat().st_mtime_ns, path.read_bytes()) == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.sqlite3"]
    with DemoServer(orders=121, seed=6, data_file=path) as srv:  # other size: rebuilt
        assert srv.dataset is not None and srv.dataset.generated


def test_server_shuts_down_cleanly() -> None:
    threads = threading.active_count()
    t0 = time.perf_counter()
    srv = DemoServer(orders=5000, seed=1)
    with srv, httpx.Client(base_url=srv.base_url) as c:
        assert time.perf_counter() - t0 < 2.0
        reply = c.get("/api/orders", headers={"Authorization": f"Token {srv.staff_token}"})
        assert reply.json()["count"] == 5000
        port = srv.port
    assert threading.active_count() == threads
    assert not srv.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/api/orders", timeout=2)
    srv.stop()  # idempotent


def test_keys_and_basic_auth_header(server: DemoServer) -> None:
    keys = server.keys
    assert keys["shop-staff"] == server.staff_token
    token = base64.b64encode(keys["ecommerce-customer-basic"].encode()).decode()
    reply = httpx.get(f"{server.base_url}/api/v1/i/orders/",
                      headers={"Authorization": f"Basic {token}"})
    assert reply.status_code == 200


def test_command_prints_url_and_exits_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "orderdesk.demo.command", "--port", "0", "--orders", "40",
         "--seed", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        text = "".join(lines)
        assert "demo-staff-token" in text and "demo-customer-token" in text
        url = text.split("orderdesk demo shop: ")[1].split()[0]
        reply = httpx.get(f"{url}/api/orders", timeout=30, headers={
            "Authorization": "Token demo-staff-token"})
        assert reply.json()["count"] == 40
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0  # generous: a loaded 2-core machine is slow
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _keyset_windows(staff_all: list[JSON]) -> list[dict[str, Any]]:
    stamps = sorted(o["updated_at"] for o in staff_all)
    mid, late = stamps[len(stamps) // 2], stamps[-7]
    return [
        {}, {"limit": 1000}, {"limit": 7, "offset": 290}, {"limit": 50, "offset": 400},
        {"updated_from": mid}, {"updated_from": mid, "limit": 3, "offset": 2},
        {"updated_to": mid, "limit": 1000}, {"updated_from": stamps[10], "updated_to": late},
        {"updated_from": mid[:10]}, {"updated_to": mid[:10], "limit": 11, "offset": 5},
        {"updated_from": "2099-01-01"}, {"updated_from": stamps[-1], "limit": 1},
    ]


def test_keyset_pages_equal_the_sql_answer(client: httpx.Client, server: DemoServer,
                                           staff_all: list[JSON]) -> None:
    """``ordering=updated_at`` (+ updated_from/to) pages come from pre-sorted arrays and
    pre-rendered JSON; an extra parameter sends the same query through SQL."""
    assert server.dataset is not None
    for window in _keyset_windows(staff_all):
        params = {"ordering": "updated_at", **window}
        fast = staff_get(client, server, **params)
        slow = staff_get(client, server, **params, unknown_param="sql")
        assert fast.status_code == slow.status_code == 200, window
        a, b = fast.json(), slow.json()
        assert a["count"] == b["count"] and a["results"] == b["results"], window
        for link in ("next", "previous"):
            assert (a[link] is None) == (b[link] is None), window
            if a[link]:
                assert httpx.URL(a[link]).params == httpx.URL(b[link]).params.remove(
                    "unknown_param"), window
    assert server.dataset._by_updated is not None  # the fast path answered


def test_keyset_pages_follow_mutations() -> None:
    with DemoServer(orders=150, seed=6) as srv, httpx.Client(base_url=srv.base_url) as c:
        staff = {"Authorization": f"Token {srv.staff_token}"}

        def both(**params: Any) -> tuple[JSON, JSON]:
            params = {"ordering": "updated_at", "limit": 1000, **params}
            return (c.get("/api/orders", params=params, headers=staff).json(),
                    c.get("/api/orders", params={**params, "x": "1"}, headers=staff).json())

        fast, slow = both()
        assert fast["results"] == slow["results"] and fast["count"] == 150
        c.post("/_demo/mutate", json={"count": 30})
        fast, slow = both()
        assert fast["results"] == slow["results"] and fast["count"] == slow["count"]
        assert srv.dataset is not None and srv.dataset._by_updated is not None  # fast path
        mutated = [o["id"] for o in fast["results"][-30:]]
        assert fast["results"][-1]["updated_at"] > fast["results"][-31]["updated_at"]
        assert len(set(mutated)) == 30
        tail = fast["results"][-5]["updated_at"]
        fast, slow = both(updated_from=tail)
        assert fast["results"] == slow["results"] and len(fast["results"]) == 5

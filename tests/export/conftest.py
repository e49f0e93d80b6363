"""Fixtures for export tests: a small cache with awkward orders."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from factories import ecommerce_doc_order, shop_order

from orderdesk.export.qt import keep_none_alive
from orderdesk.models import Customer, OrderLine, OrderQuery, ServerFigures
from orderdesk.services.export import ExportService
from orderdesk.store import OrderStore
from tests.export.data import INJECTIONS, UNICODE_NAMES

# PySide6 6.12 on CPython 3.11 drops a reference to None per void call (see qt.py).
keep_none_alive()

def many_lines(n: int) -> tuple[OrderLine, ...]:
    return tuple(OrderLine(remote_id=str(i), product_name=f"Widget number {i}", quantity=1,
                           unit_price=Decimal(100), unit_discount=Decimal(0),
                           subtotal=Decimal(100), discount=Decimal(0), total=Decimal(100))
                 for i in range(1, n + 1))


@pytest.fixture
def store(tmp_path: Path) -> OrderStore:
    s = OrderStore(tmp_path / "c.sqlite3")
    s.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    s.add_connection("shop", "ecommerce-customer", "http://127.0.0.1:2")
    orders = []
    for n, name in enumerate(INJECTIONS + UNICODE_NAMES, start=1):
        orders.append(shop_order(str(n), customer=Customer(id=str(n), full_name=name,
                                                            email=f"c{n}@example.com")))
    mug = shop_order().lines[0]
    inj_lines = tuple(replace(mug, remote_id=str(i), product_name=text)
                      for i, text in enumerate(INJECTIONS))
    orders.append(shop_order("100", lines=inj_lines, figures=ServerFigures(),
                             notes="=HYPERLINK(\"x\")\n<b>bold</b>"))
    refund = shop_order("101")
    orders.append(replace(refund, figures=replace(refund.figures, total=Decimal("-5.00"),
                                                  amount_paid=None, amount_outstanding=None)))
    orders.append(shop_order("102", lines=(), figures=ServerFigures()))
    s.upsert_page("staff", orders)
    s.upsert_page("shop", [ecommerce_doc_order()])
    return s


@pytest.fixture
def service(store: OrderStore) -> ExportService:
    return ExportService(store)


@pytest.fixture
def all_ids(store: OrderStore) -> list[int]:
    return list(store.ids(OrderQuery()))


@pytest.fixture
def big_store(store: OrderStore) -> OrderStore:
    store.upsert_page("staff", [shop_order("200", number="LONG-200", lines=many_lines(200),
                                           figures=ServerFigures())])
    return store

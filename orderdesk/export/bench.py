"""Export benchmark: ``python -m orderdesk.export.bench [--orders 100000] [--dir DIR]``.

Builds (or reuses) a cache of synthetic shop orders (3 lines, 1 payment each,
distinct remote ids, upserted in pages of 1000) and measures, median of
``--repeat`` runs:

* CSV export of every order (``ExportService.export_csv``), rows/s;
* the same through the public ``OrderStore.rows()`` path, rows/s;
* the limit: ``csv.writer`` over the same rows already in memory, rows/s;
* CSV line mode, line rows/s;
* PDF batch (``--pdf-batch`` orders in one file), pages/s and orders/s;
* PDF one file per order (``--pdf-files`` files), files/s.

``main()`` prints a table and returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from orderdesk.export.csv_export import CURRENCY, write_csv
from orderdesk.models.columns import DEFAULT_COLUMNS
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
)
from orderdesk.models.query import OrderQuery
from orderdesk.models.status import OrderStatus
from orderdesk.store import OrderStore
from orderdesk.store import bulk as reader

CONNECTION = "bench"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
NAMES = ("Anna Ödegaard", "山田 太郎", "Γιώργος Π.", "Иван Петров", "John Smith", "Zoë Weiß")


def synthetic_order(n: int) -> Order:
    """A consistent shop-API order (minor-unit lines) with a few varying fields."""
    price = 1000 + (n % 50) * 25
    lines = tuple(
        OrderLine(remote_id=f"{n}-{i}", product_name=f"Product {(n + i) % 997}", quantity=i + 1,
                  unit_price=Decimal(price + i * 100), unit_discount=Decimal(0),
                  subtotal=Decimal((price + i * 100) * (i + 1)), discount=Decimal(0),
                  total=Decimal((price + i * 100) * (i + 1)))
        for i in range(3))
    items = sum((line.subtotal or Decimal(0) for line in lines), Decimal(0)).scaleb(-2)
    total = items + Decimal("4.50")
    paid = total if n % 3 else Decimal(0)
    created = T0 + timedelta(minutes=n)
    return Order(
        connection=CONNECTION, remote_id=str(n), number=f"B-{n:07d}",
        kind=ConnectionKind.SHOP_STAFF,
        status=OrderStatus.from_raw(("processing", "completed", "new")[n % 3]),
        currency="EUR", created_at=created, updated_at=created + timedelta(hours=1),
        figures=ServerFigures(items_subtotal=items, items_discount=Decimal(0), subtotal=items,
                              shipping=Decimal("4.50"), total_discount=Decimal(0), total=total,
                              amount_paid=paid, amount_outstanding=total - paid, line_count=3,
                              quantity=6, is_paid=paid == total, is_payable=True),
        line_money=LineMoney.MINOR, lines=lines,
        payments=(Payment(remote_id=f"p{n}", amount=paid, method="Card", status="completed",
                          reference=f"ref-{n}", created_at=created),) if paid else (),
        customer=Customer(id=str(n % 5000), full_name=NAMES[n % len(NAMES)],
                          email=f"customer{n % 5000}@example.com"),
        billing=Address(first_name="Anna", last_name="Ödegaard", street=f"Main St {n % 90}",
                        postal_code="0150", city=NamedRef("3", "Oslo"),
                        country=NamedRef("47", "Norway", "NO")),
        payment_method=NamedRef("1", "Card"), shipping_method=NamedRef("2", "Courier"),
        notes="leave at door" if n % 7 == 0 else "",
    )


def build_cache(path: Path, orders: int, page: int = 1000) -> OrderStore:
    store = OrderStore(path)
    if store.total_orders() >= orders:
        return store
    store.add_connection(CONNECTION, "shop-staff", "http://127.0.0.1:1")
    started = time.perf_counter()
    for start in range(store.total_orders(), orders, page):
        store.upsert_page(CONNECTION, [synthetic_order(n)
                                       for n in range(start, min(orders, start + page))])
    print(f"built cache of {orders:,} orders in {time.perf_counter() - started:.1f} s")
    return store


def _median(repeat: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(repeat))


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--pdf-batch", type=int, default=500)
    parser.add_argument("--pdf-files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder for the cache and outputs (kept; default: a temp folder)")
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="orderdesk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, work)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> dict[str, float]:
    store = build_cache(work / "bench.sqlite3", args.orders)
    ids = store.ids(OrderQuery())
    n = len(ids)
    out: dict[str, float] = {}

    def csv_rate(fast: bool) -> float:
        result = write_csv(store, work / "out.csv", ids, fast=fast)
        return result.rows / result.seconds

    out["csv_rows_per_s"] = _median(args.repeat, lambda: csv_rate(True))
    out["csv_rows_per_s_public_rows_path"] = _median(1, lambda: csv_rate(False))

    keys = [*DEFAULT_COLUMNS, CURRENCY]
    rows: list[Any] = []
    for _found, cells, _ in reader.iter_cells(store, ids, keys, 1000):
        rows.extend(cells)

    def in_memory() -> float:
        started = time.perf_counter()
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        buf.getvalue().encode("utf-8")
        return len(rows) / (time.perf_counter() - started)

    out["csv_writer_in_memory_rows_per_s"] = _median(args.repeat, in_memory)
    rows.clear()

    line_ids = ids[: min(n, 20_000)]
    lines = write_csv(store, work / "lines.csv", line_ids, lines=True)
    out["csv_line_rows_per_s"] = lines.rows / lines.seconds
    out["csv_line_mode_orders_per_s"] = lines.orders / lines.seconds

    if not args.no_pdf:
        from orderdesk.export.pdf_export import write_batch, write_per_order
        from orderdesk.export.qt import ensure_gui_app

        ensure_gui_app()
        batch = write_batch(store, work / "batch.pdf", ids[: args.pdf_batch])
        out["pdf_batch_pages_per_s"] = batch.pages / batch.seconds
        out["pdf_batch_orders_per_s"] = batch.orders / batch.seconds
        folder = work / "per-order"
        shutil.rmtree(folder, ignore_errors=True)
        files = write_per_order(store, folder, ids[: args.pdf_files])
        out["pdf_files_per_s"] = files.orders / files.seconds

    print(f"{n:,} orders in the cache")
    for key, value in out.items():
        print(f"  {key:36s} {value:12,.0f}")
    return out


if __name__ == "__main__":
    main()

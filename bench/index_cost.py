"""What the v2 sort indexes cost a sync: ``python -m bench.index_cost [N]``.

Writes the same N demo orders (``bench.generate``'s encoding, pages of 100 through
``OrderStore.upsert_page`` as a sync does) into a fresh store with the v1 index set
and with the v2 set, after first filling it with ``--base`` orders (index inserts
get dearer as the indexes grow), and prints orders/s for both.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from orderdesk.api.shop.normalize import normalize
from orderdesk.demo.generator import OrderFactory, Renderer, World
from orderdesk.models.entities import ConnectionKind, Order
from orderdesk.store import OrderStore
from orderdesk.store.schema import orders as orders_table

#: v1's indexes on orders (besides the unique (connection_id, remote_id)).
V1 = {"ix_orders_created", "ix_orders_updated", "ix_orders_total", "ix_orders_customer",
      "ix_orders_email", "ix_orders_number", "ix_orders_cat_created",
      "ix_orders_cat_updated", "ix_orders_cat_total"}


def orders(n: int, seed: int = 1) -> list[Order]:
    world = World(seed, n)
    renderer = Renderer(world)
    out = []
    for row in OrderFactory(world, n).rows():
        payload = renderer.staff(row)
        out.append(normalize(payload, connection="bench", kind=ConnectionKind.SHOP_STAFF,
                             currency="EUR", raw=json.dumps(payload)))
    return out


def write_rate(folder: Path, data: list[Order], base: int, keep: set[str] | None) -> float:
    path = folder / f"{'v1' if keep else 'v2'}.sqlite3"
    store = OrderStore(path)
    store.add_connection("bench", "shop-staff", "http://127.0.0.1:1")
    if keep is not None:
        db = sqlite3.connect(path)
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' "
            "AND sql IS NOT NULL")]
        for name in names:
            if name not in keep and name != "ix_orders_conn_remote":
                db.execute(f"DROP INDEX {name}")
        db.commit()
        db.close()
    for start in range(0, base, 1000):
        store.upsert_page("bench", data[start:start + 1000])
    t0 = time.perf_counter()
    for start in range(base, len(data), 100):
        store.upsert_page("bench", data[start:start + 100])
    seconds = time.perf_counter() - t0
    store.close()
    return (len(data) - base) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=20_000)
    parser.add_argument("--base", type=int, default=20_000)
    args = parser.parse_args()
    data = orders(args.base + args.n)
    with tempfile.TemporaryDirectory() as tmp:
        v1 = write_rate(Path(tmp), data, args.base, V1)
        v2 = write_rate(Path(tmp), data, args.base, None)
    print(json.dumps({"orders": args.n, "base": args.base, "v1_orders_per_s": round(v1),
                      "v2_orders_per_s": round(v2), "v2_share_of_v1": round(v2 / v1, 3),
                      "v2_indexes": len(orders_table.indexes) - 1, "v1_indexes": len(V1)}))


if __name__ == "__main__":
    main()

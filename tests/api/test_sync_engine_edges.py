"""Sync engine edge cases against small fake shop servers (httpx.MockTransport)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderdesk.api import HttpTransport, make_client
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models import ConnectionKind, OrderQuery
from orderdesk.store import OrderStore
from orderdesk.sync import SyncEngine

T0 = datetime(2025, 5, 1, 12, tzinfo=UTC)


def _order(i: int, updated: datetime) -> dict[str, Any]:
    return {"id": i, "key": f"K{i}", "status": "processing",
            "created_at": T0.isoformat(), "updated_at": updated.isoformat(),
            "total": "10.00", "items": []}


class FakeShop:
    """ordering=updated_at (ties by id), inclusive updated_from, limit/offset."""

    def __init__(self, orders: list[dict[str, Any]], *, date_only: bool = False,
                 ignore_ordering: bool = False, cap: int | None = None) -> None:
        self.orders = orders
        self.cap = cap  # a DRF-style max page size: ``limit`` above it is cut to it
        self.date_only = date_only
        self.ignore_ordering = ignore_ordering
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        params = request.url.params
        rows = list(self.orders)
        if not self.ignore_ordering:
            rows.sort(key=lambda o: (o["updated_at"], o["id"]))
        since = params.get("updated_from")
        if since:
            bound = datetime.fromisoformat(since.replace("Z", "+00:00"))
            if self.date_only:
                rows = [o for o in rows if o["updated_at"][:10] >= bound.date().isoformat()]
            else:
                rows = [o for o in rows if datetime.fromisoformat(o["updated_at"]) >= bound]
        limit, offset = int(params["limit"]), int(params["offset"])
        if self.cap is not None:
            limit = min(limit, self.cap)
        chunk = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        body = {"count": len(rows), "next": "http://shop.test/more" if more else None,
                "previous": None, "results": chunk}
        return httpx.Response(200, content=json.dumps(body).encode(),
                              headers={"content-type": "application/json"})


def _sync(tmp_path: Path, shop: FakeShop, *, page: int = 10, full: bool = True,
          progress: Any = None) -> Any:
    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("s", "shop-staff", "http://shop.test")
    config = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                              base_url="http://shop.test", page_size=page)
    http = HttpTransport(transport=httpx.MockTransport(shop), max_retries=0)
    client = make_client(config, "t", http)
    result = SyncEngine(store, client, page_size=page, progress=progress).run(full=full)
    http.close()
    return store, result


def test_large_tie_groups_are_walked_completely(tmp_path: Path) -> None:
    orders = [_order(i, T0) for i in range(1, 36)] + [
        _order(i, T0 + timedelta(seconds=1)) for i in range(36, 41)]
    store, result = _sync(tmp_path, FakeShop(orders))
    assert result.ok, result
    assert store.remote_ids("s") == {str(i) for i in range(1, 41)}


def test_a_server_that_caps_the_page_size_is_walked_completely(tmp_path: Path) -> None:
    # pages of 1,000 asked for (the shop kinds' default), 7 sent; ties across pages
    orders = [_order(i, T0 + timedelta(seconds=i // 10)) for i in range(1, 96)]
    shop = FakeShop(orders, cap=7)
    store, result = _sync(tmp_path, shop, page=1000)
    assert result.ok, result
    assert store.remote_ids("s") == {str(i) for i in range(1, 96)}
    assert result.fetched >= 95 and result.added == 95
    store.close()


def test_shop_kinds_default_to_pages_of_1000() -> None:
    shop = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                            base_url="http://shop.test")
    customer = ConnectionConfig(name="c", kind=ConnectionKind.SHOP_CUSTOMER,
                                base_url="http://shop.test")
    eco = ConnectionConfig(name="e", kind=ConnectionKind.ECOMMERCE_CUSTOMER,
                           base_url="http://shop.test")
    assert (shop.page_size, customer.page_size, eco.page_size) == (1000, 1000, 100)
    assert ConnectionConfig.from_json(shop.to_json()).page_size == 1000


def test_a_first_sync_skips_the_stale_order_sweep_and_a_later_full_one_runs_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into an empty cache every order is written by the run itself, so nothing can be
    stale (the sweep is a query over the whole connection); a later full sync still
    finds the orders the server no longer lists."""
    swept: list[str] = []
    real = OrderStore.stale_remote_ids

    def spy(self: OrderStore, connection: str, before: datetime) -> list[str]:
        found = real(self, connection, before)
        swept.append(connection)
        return found

    monkeypatch.setattr(OrderStore, "stale_remote_ids", spy)
    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 31)]
    shop = FakeShop(orders)
    phases: list[str] = []
    store, first = _sync(tmp_path, shop, progress=lambda p: phases.append(p.phase))
    assert first.ok and first.added == 30 and first.removed == 0
    assert swept == []
    # the index build is reported between the walk and the end
    assert phases[-3:] == ["sweeping", "indexing", "done"]
    del shop.orders[4]  # order 5 is gone from the server
    config = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                              base_url="http://shop.test", page_size=10)
    phases.clear()
    with HttpTransport(transport=httpx.MockTransport(shop), max_retries=0) as http:
        again = SyncEngine(store, make_client(config, "t", http), page_size=10,
                           progress=lambda p: phases.append(p.phase)).run(full=True)
    assert again.ok and again.removed == 1
    assert "indexing" not in phases  # the indexes were there all along
    assert swept == ["s"]
    assert store.count(OrderQuery()) == 30  # kept, in the Deleted category
    store.close()


def test_a_server_whose_updated_from_sees_only_the_date(tmp_path: Path) -> None:
    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 46)]
    shop = FakeShop(orders, date_only=True)
    store, result = _sync(tmp_path, shop)
    assert result.ok, result
    assert len(store.remote_ids("s")) == 45


def test_a_server_that_ignores_ordering_is_refused(tmp_path: Path) -> None:
    orders = [_order(i, T0 + timedelta(minutes=50 - i)) for i in range(1, 30)]
    store, result = _sync(tmp_path, FakeShop(orders, ignore_ordering=True))
    assert result.outcome == "failed" and "does not sort" in result.message
    assert store.count(OrderQuery()) == 0


def test_incremental_picks_up_changes_and_new_orders(tmp_path: Path) -> None:
    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 21)]
    shop = FakeShop(orders)
    store, first = _sync(tmp_path, shop)
    assert first.added == 20
    orders[0]["updated_at"] = (T0 + timedelta(hours=5)).isoformat()
    orders[0]["status"] = "shipped"
    orders.append(_order(21, T0 + timedelta(hours=6)))
    config = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                              base_url="http://shop.test", page_size=10)
    with HttpTransport(transport=httpx.MockTransport(shop), max_retries=0) as http:
        result = SyncEngine(store, make_client(config, "t", http), page_size=10).run()
    assert result.ok and result.mode == "incremental"
    assert (result.added, result.changed) == (1, 1)
    assert result.fetched <= 3  # only from the bookmark on


@pytest.mark.parametrize("body", [b"[", b'{"count": 1, "results": "x"}', b"<html>oops</html>"])
def test_malformed_pages_fail_clearly_and_write_nothing(tmp_path: Path, body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("s", "shop-staff", "http://shop.test")
    config = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                              base_url="http://shop.test")
    with HttpTransport(transport=httpx.MockTransport(handler), max_retries=1,
                       backoff=0.0, sleep=lambda _s: None) as http:
        result = SyncEngine(store, make_client(config, "t", http)).run()
    assert result.outcome == "failed"
    assert "shop" in result.message.lower()
    assert store.total_orders() == 0


def test_one_unreadable_order_is_skipped_and_reported(tmp_path: Path) -> None:
    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 6)]
    orders[2]["total"] = "twelve"
    store, result = _sync(tmp_path, FakeShop(orders))
    assert result.outcome == "failed" and "could not be read" in result.message
    assert any("order 3" in e for e in result.errors)
    assert store.remote_ids("s") == {"1", "2", "4", "5"}


def test_a_server_that_ignores_paging_is_detected(tmp_path: Path) -> None:
    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 30)]

    def same_page(request: httpx.Request) -> httpx.Response:
        body = {"count": 29, "next": "http://shop.test/more", "previous": None,
                "results": orders[:10]}
        return httpx.Response(200, content=json.dumps(body).encode())

    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("s", "shop-staff", "http://shop.test")
    config = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                              base_url="http://shop.test", page_size=10)
    with HttpTransport(transport=httpx.MockTransport(same_page), max_retries=0) as http:
        result = SyncEngine(store, make_client(config, "t", http), page_size=10).run()
    assert result.outcome == "failed" and "same page" in result.message
    assert len(store.remote_ids("s")) == 10  # what was fetched is kept


def test_a_failed_page_write_stops_the_walk_and_keeps_what_was_committed(
        tmp_path: Path) -> None:
    """Pages are written on a writer thread, one in flight: a write that fails surfaces
    as the run's classed error, nothing after it is written, the bookmark stays at the
    last committed page, and the next run resumes from there."""
    from orderdesk.models.errors import StoreError

    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 61)]
    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("s", "shop-staff", "http://shop.test")
    config = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                              base_url="http://shop.test", page_size=10)
    real = store.upsert_page
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise StoreError("The order cache could not be updated.", retriable=True)
        return real(*args, **kwargs)

    store.upsert_page = flaky  # type: ignore[method-assign]
    with HttpTransport(transport=httpx.MockTransport(FakeShop(orders)), max_retries=0) as http:
        result = SyncEngine(store, make_client(config, "t", http), page_size=10).run(full=True)
    assert result.outcome == "failed" and "cache" in result.message
    # pages of 10, each after the first starting at the inclusive boundary: 1-10, 11-19
    assert store.remote_ids("s") == {str(i) for i in range(1, 20)}
    assert calls["n"] == 3 and result.pages == 2
    assert store.get_state("s")["bookmark"] == orders[18]["updated_at"]
    store.upsert_page = real  # type: ignore[method-assign]
    with HttpTransport(transport=httpx.MockTransport(FakeShop(orders)), max_retries=0) as http:
        again = SyncEngine(store, make_client(config, "t", http), page_size=10).run()
    assert again.ok and again.added == 41
    assert store.remote_ids("s") == {str(i) for i in range(1, 61)}


def test_the_collector_threshold_is_raised_only_while_a_sync_runs(tmp_path: Path) -> None:
    import gc

    from orderdesk.sync.engine import _FewerCollections

    before = gc.get_threshold()
    seen: list[int] = []
    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 25)]
    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("s", "shop-staff", "http://shop.test")
    config = ConnectionConfig(name="s", kind=ConnectionKind.SHOP_STAFF,
                              base_url="http://shop.test", page_size=10)
    with HttpTransport(transport=httpx.MockTransport(FakeShop(orders)), max_retries=0) as http:
        engine = SyncEngine(store, make_client(config, "t", http), page_size=10,
                            progress=lambda _p: seen.append(gc.get_threshold()[0]))
        with _FewerCollections():  # another sync running at the same time
            assert engine.run(full=True).ok
            assert gc.get_threshold()[0] >= 50_000  # still raised for the other one
    assert seen and min(seen) >= 50_000
    assert gc.get_threshold() == before


@pytest.mark.parametrize(("field", "value"), [
    ("total", "0.00001"),  # more decimal places than the cache keeps
    ("amount_paid", "3.141592"),
])
def test_an_order_the_cache_cannot_hold_exactly_is_skipped_and_reported(
        tmp_path: Path, field: str, value: str) -> None:
    orders = [_order(i, T0 + timedelta(minutes=i)) for i in range(1, 6)]
    orders[1][field] = value
    store, result = _sync(tmp_path, FakeShop(orders), page=2)
    assert result.outcome == "failed" and "could not be read" in result.message
    assert any("order 2" in e and field in e for e in result.errors), result.errors
    assert store.remote_ids("s") == {"1", "3", "4", "5"}
    assert store.get_state("s")["bookmark"] == orders[-1]["updated_at"]

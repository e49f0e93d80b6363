"""Sync against the demo server over real HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from e2e_helpers import fresh_ctx, snapshot

from orderdesk.api import HttpTransport, make_client
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models import OrderQuery, StatusCategory
from orderdesk.services.connections import ConnectionService
from orderdesk.services.context import AppContext
from orderdesk.services.demo import DemoSession
from orderdesk.services.sync import SyncService
from orderdesk.store.schema import orders as orders_table
from orderdesk.sync.progress import CancelToken, SyncProgress


def _server_orders(ctx: AppContext, name: str) -> dict[str, object]:
    """What the server has, read page by page with the same client code."""
    config = ctx.config.get(name)
    with HttpTransport(max_retries=5, backoff=0.01) as http:
        client = make_client(config, ctx.secrets.get(config), http)
        out = {}
        offset = 0
        while True:
            page = client.list_page(offset=offset, limit=250)
            for item in page.results:
                order = client.normalize(item)
                out[order.remote_id] = order
            offset += len(page.results)
            if not page.next or not page.results:
                return out


@pytest.mark.parametrize("name", ["demo-staff", "demo-customer", "demo-ecommerce"])
def test_full_sync_equals_server(ctx: AppContext, demo: DemoSession, name: str) -> None:
    progress: list[SyncProgress] = []
    [result] = SyncService(ctx).sync([name], full=True, progress=progress.append)
    assert result.ok, result
    cached = snapshot(ctx, name)
    server = _server_orders(ctx, name)
    assert cached.keys() == server.keys()
    assert cached == server
    assert result.added == len(server) and result.fetched >= len(server)
    assert progress[-1].phase == "done" and progress[0].total == len(server)
    again = SyncService(ctx).sync([name])[0]
    assert again.ok and again.added == 0 and again.changed == 0
    # the first full sync loaded an empty cache without its secondary indexes: all back
    with ctx.store.engine.connect() as conn:
        names = {n for (n,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' "
            "AND sql IS NOT NULL")}
    assert names == {index.name for index in orders_table.indexes}


def test_incremental_after_mutation_equals_fresh_full_sync(
        ctx: AppContext, demo: DemoSession, tmp_path: Path) -> None:
    service = SyncService(ctx)
    assert all(r.ok for r in service.sync(full=True))
    reply = httpx.post(demo.base_url + "/_demo/mutate", json={"count": 40})
    reply.raise_for_status()
    results = service.sync()
    assert all(r.ok for r in results), results
    staff = next(r for r in results if r.connection == "demo-staff")
    assert staff.mode == "incremental" and staff.changed + staff.added > 0
    # hard-deleted orders vanish only from a full sweep
    assert all(r.ok for r in service.sync(full=True))
    other = fresh_ctx(tmp_path, "fresh")
    try:
        for name in demo.connection_names:
            config = ctx.config.get(name)
            ConnectionService(other).add(config, ctx.secrets.get(config))
        assert all(r.ok for r in SyncService(other).sync(full=True))
        for name in demo.connection_names:
            live = {k: v for k, v in snapshot(ctx, name).items()
                    if v.status.category is not StatusCategory.DELETED}
            clean = {k: v for k, v in snapshot(other, name).items()
                     if v.status.category is not StatusCategory.DELETED}
            assert live == clean, name
    finally:
        other.close()


def test_cancel_keeps_committed_pages_and_resumes(ctx: AppContext, demo: DemoSession) -> None:
    token = CancelToken()

    def stop_after_two(p: SyncProgress) -> None:
        if p.pages >= 2:
            token.cancel()

    config = ctx.config.get("demo-staff")
    ctx.config.save_connection(ConnectionConfig(**{**config.to_json(), "page_size": 50}))
    [first] = SyncService(ctx).sync(["demo-staff"], progress=stop_after_two, cancel=token)
    assert first.outcome == "cancelled" and first.pages == 2
    kept = ctx.store.count(OrderQuery(connections=("demo-staff",)))
    # page 2 starts at the inclusive boundary of page 1, de-duplicated
    assert kept == first.added and 95 <= kept <= 100
    [second] = SyncService(ctx).sync(["demo-staff"])
    assert second.ok and second.added == 400 - kept
    assert second.mode == "full"  # the interrupted full run is resumed, then completed


def test_bad_token_fails_clearly_and_keeps_the_cache(ctx: AppContext, demo: DemoSession) -> None:
    SyncService(ctx).sync(["demo-staff"])
    before = snapshot(ctx, "demo-staff")
    ctx.secrets.remember("demo-staff", "wrong")
    [result] = SyncService(ctx).sync(["demo-staff"], full=True)
    assert result.outcome == "failed" and "credentials" in result.message
    assert snapshot(ctx, "demo-staff") == before
    entry = ctx.store.sync_log("demo-staff")[0]
    assert entry.outcome == "failed"


def test_customer_token_on_staff_endpoint_is_forbidden(ctx: AppContext,
                                                       demo: DemoSession) -> None:
    ctx.secrets.remember("demo-staff", demo.server.customer_token)
    [result] = SyncService(ctx).sync(["demo-staff"])
    assert result.outcome == "failed" and "not allowed" in result.message


def test_first_real_connection_ends_the_demo(ctx: AppContext, demo: DemoSession) -> None:
    SyncService(ctx).sync(["demo-staff"])
    assert ctx.store.total_orders() > 0
    ConnectionService(ctx).add(ConnectionConfig(
        name="shop", kind="shop-staff", base_url="https://shop.example",  # type: ignore[arg-type]
        token_env="SHOP_TOKEN"))
    assert [c.name for c in ctx.config.connections()] == ["shop"]
    assert ctx.store.total_orders() == 0
    assert [c.name for c in ctx.store.list_connections()] == ["shop"]

"""The keyset walk in a worker process gives the same cache as in-process, raises the
child's errors as the same classes, stops on cancel and survives a dead worker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import fresh_ctx

from orderdesk.api import HttpTransport, make_client
from orderdesk.api.errors import AuthError
from orderdesk.services.context import AppContext
from orderdesk.services.demo import DemoSession
from orderdesk.store.store import OrderStore
from orderdesk.sync import SyncEngine
from orderdesk.sync import worker as worker_mod
from orderdesk.sync.progress import CancelToken, SyncProgress

TABLES = ("orders", "order_lines", "payments", "order_docs")


def _dump(store: OrderStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the order tables and the full-text index, without sync stamps."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        names = [n for (n,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite%' "
            "AND name NOT LIKE 'orders_fts_%' AND name NOT IN "
            "('sync_log', 'sync_state', 'connections', 'meta', 'schema_version')")]
        for name in names:
            cols = [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({name})")]
            keep = [c for c in cols if c not in ("synced_at",)]
            select = ", ".join(keep) if keep else "rowid, *"
            if name == "orders_fts":
                select = "rowid, body"
            out[name] = sorted(conn.exec_driver_sql(f"SELECT {select} FROM {name}").all(),
                               key=repr)
    return out


def _engine(ctx: AppContext, name: str, http: HttpTransport, **kw: Any) -> SyncEngine:
    config = ctx.config.get(name)
    ctx.store.add_connection(config.name, str(config.kind), config.base_url,
                             currency=config.currency, display_name=config.display_name)
    client = make_client(config, ctx.secrets.get(config), http)
    return SyncEngine(ctx.store, client, page_size=37, **kw)


def _copy_connection(src: AppContext, dst: AppContext, name: str) -> None:
    from orderdesk.services.connections import ConnectionService

    config = src.config.get(name)
    ConnectionService(dst).add(config, src.secrets.get(config))


@pytest.mark.parametrize("name", ["demo-staff", "demo-customer"])
def test_worker_gives_the_same_cache_as_in_process(
        ctx: AppContext, demo: DemoSession, tmp_path: Path, name: str) -> None:
    other = fresh_ctx(tmp_path, "inproc")
    try:
        for each in demo.connection_names:  # the same connection ids in both caches
            config = ctx.config.get(each)
            other.store.add_connection(config.name, str(config.kind), config.base_url,
                                       currency=config.currency,
                                       display_name=config.display_name)
        _copy_connection(ctx, other, name)
        with HttpTransport() as http:
            progress: list[SyncProgress] = []
            ours = _engine(ctx, name, http, worker=True, progress=progress.append).run(full=True)
            ref = _engine(other, name, http, worker=False).run(full=True)
        assert ours.ok and ref.ok, (ours, ref)
        # the worker starts again from the first page's bookmark, as a resumed run does:
        # the orders at that instant are fetched twice, written once
        assert ours.added == ref.added == len(ctx.store.remote_ids(name, include_deleted=True)) > 0
        assert ref.fetched <= ours.fetched < ref.fetched + 37
        assert progress[-2].orders == ours.fetched and progress[0].total == ref.added
        assert _dump(ctx.store) == _dump(other.store)
        assert ctx.store.get_state(name)["bookmark"] == other.store.get_state(name)["bookmark"]
        with HttpTransport() as http:  # an incremental run after it finds nothing new
            again = _engine(ctx, name, http, worker=True).run()
        assert again.ok and again.added == again.changed == 0
    finally:
        other.close()


def test_an_error_in_the_worker_arrives_classed(ctx: AppContext, demo: DemoSession) -> None:
    seen: list[BaseException] = []
    real = worker_mod._rebuild

    def spy(*args: Any) -> Any:
        exc = real(*args)
        seen.append(exc)
        return exc

    with HttpTransport() as http:
        engine = _engine(ctx, "demo-staff", http, worker=True)
        first = engine.client.list_page(offset=0, limit=1)  # the token works here
        assert first.results
        # the child gets a wrong token: its first page is refused
        spec = engine.client.worker_spec  # type: ignore[attr-defined]
        engine.client.worker_spec = lambda: (spec()[0], "wrong")  # type: ignore[attr-defined]
        worker_mod._rebuild = spy  # type: ignore[assignment]
        try:
            result = engine.run(full=True)
        finally:
            worker_mod._rebuild = real  # type: ignore[assignment]
    assert result.outcome == "failed" and "credentials" in result.message, result
    assert len(seen) == 1 and type(seen[0]) is AuthError and not seen[0].retriable
    assert result.added == 37  # the first page, read in-process, is kept
    assert ctx.store.sync_log("demo-staff")[0].outcome == "failed"


def test_cancel_stops_the_worker(ctx: AppContext, demo: DemoSession,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    token = CancelToken()
    started: list[Any] = []
    real_init = worker_mod.WorkerWalk.__init__

    def init(self: Any, *args: Any) -> None:
        real_init(self, *args)
        started.append(self)

    monkeypatch.setattr(worker_mod.WorkerWalk, "__init__", init)

    def stop_after_three(p: SyncProgress) -> None:
        if p.pages >= 3:
            token.cancel()

    with HttpTransport() as http:
        result = _engine(ctx, "demo-staff", http, worker=True, progress=stop_after_three,
                         cancel=token).run(full=True)
    assert result.outcome == "cancelled" and 3 <= result.pages <= 4, result
    assert started and not started[0]._process.is_alive()
    kept = ctx.store.remote_ids("demo-staff", include_deleted=True)
    assert len(kept) == result.added
    with HttpTransport() as http:
        resumed = _engine(ctx, "demo-staff", http, worker=True).run()
    assert resumed.ok and len(ctx.store.remote_ids("demo-staff", include_deleted=True)) == 400


def test_a_worker_that_dies_is_a_clear_error(ctx: AppContext, demo: DemoSession,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    real_init = worker_mod.WorkerWalk.__init__

    def init(self: Any, *args: Any) -> None:
        real_init(self, *args)
        started.append(self)
        os.kill(self._process.pid, signal.SIGKILL)

    monkeypatch.setattr(worker_mod.WorkerWalk, "__init__", init)
    with HttpTransport() as http:
        result = _engine(ctx, "demo-staff", http, worker=True).run(full=True)
    assert result.outcome == "failed" and "worker process stopped" in result.message, result
    assert started and not started[0]._process.is_alive()
    monkeypatch.undo()
    with HttpTransport() as http:
        again = _engine(ctx, "demo-staff", http, worker=True).run()
    assert again.ok and len(ctx.store.remote_ids("demo-staff", include_deleted=True)) == 400


def test_no_worker_process_means_the_walk_stays_in_process(
        ctx: AppContext, demo: DemoSession, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any, *args: Any) -> None:
        raise OSError("no processes left")

    monkeypatch.setattr(worker_mod.WorkerWalk, "__init__", refuse)
    with HttpTransport() as http:
        result = _engine(ctx, "demo-staff", http, worker=True).run(full=True)
    assert result.ok and result.added == 400, result


def test_the_walk_goes_on_here_until_the_worker_is_ready(
        ctx: AppContext, demo: DemoSession, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When a worker pays (enough left), it is started after the first page and the
    walk goes on in this process until the child has imported and built its client;
    the child then walks from the bookmark reached, and the cache is the same."""
    from orderdesk.sync import engine as engine_mod

    monkeypatch.setattr(engine_mod, "WORKER_MIN_ORDERS", 50)
    asked: list[int] = []
    handed: list[Any] = []
    real_ready, real_go = worker_mod.WorkerWalk.ready, worker_mod.WorkerWalk.go

    def ready(self: Any) -> bool:
        asked.append(1)
        if len(asked) < 4:  # not ready for three pages, then wait for the real thing
            return False
        while not real_ready(self):
            time.sleep(0.01)
        return True

    def go(self: Any, bookmark: Any, boundary: list[str]) -> None:
        handed.append(bookmark)
        real_go(self, bookmark, boundary)

    monkeypatch.setattr(worker_mod.WorkerWalk, "ready", ready)
    monkeypatch.setattr(worker_mod.WorkerWalk, "go", go)
    other = fresh_ctx(tmp_path, "inproc")
    try:
        for each in demo.connection_names:
            config = ctx.config.get(each)
            other.store.add_connection(config.name, str(config.kind), config.base_url,
                                       currency=config.currency,
                                       display_name=config.display_name)
        _copy_connection(ctx, other, "demo-staff")
        with HttpTransport() as http:
            ours = _engine(ctx, "demo-staff", http).run(full=True)
            ref = _engine(other, "demo-staff", http, worker=False).run(full=True)
        assert ours.ok and ref.ok and ours.added == ref.added == 400, (ours, ref)
        assert len(asked) == 4 and len(handed) == 1 and handed[0] is not None
        assert ref.fetched <= ours.fetched < ref.fetched + 37
        assert _dump(ctx.store) == _dump(other.store)
    finally:
        other.close()

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orderdesk.models import Order, OrderQuery
from orderdesk.services.context import AppContext
from orderdesk.services.demo import DemoSession


def snapshot(ctx: AppContext, connection: str) -> dict[str, Order]:
    """Every cached order of a connection, without the sync timestamps."""
    store = ctx.store
    out = {}
    for oid in store.ids(OrderQuery(connections=(connection,), sort=())):
        order = store.get(oid)
        assert order is not None
        out[order.remote_id] = replace(order, synced_at=None)
    return out


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext.open(tmp_path / "data")
    yield context
    context.close()


@pytest.fixture
def demo(ctx: AppContext) -> Iterator[DemoSession]:
    session = DemoSession.start(ctx, orders=400, seed=3)
    yield session
    session.stop()


def fresh_ctx(tmp_path: Path, name: str) -> AppContext:
    return AppContext.open(tmp_path / name)


__all__ = ["Any", "fresh_ctx", "snapshot"]

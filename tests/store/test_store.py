from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from factories import T0, TEXT, ecommerce_doc_order, random_orders, shop_order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import expected_ids
from sqlalchemy import event

from orderdesk.models import (
    OrderQuery,
    OrderStatus,
    PaymentFilter,
    SortField,
    SortKey,
    StatusCategory,
    StoreError,
)
from orderdesk.store import OrderStore
from orderdesk.store.migrations import FTS_AUTOMERGE, FTS_BULK_AUTOMERGE, fts_automerge


@pytest.fixture
def store(tmp_path: Path) -> OrderStore:
    s = OrderStore(tmp_path / "cache.sqlite3")
    s.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    s.add_connection("shop", "ecommerce-customer", "http://127.0.0.1:2")
    return s


def test_round_trip_is_exact(store: OrderStore) -> None:
    order = shop_order()
    doc = ecommerce_doc_order()
    changes = store.upsert_page("staff", [order])
    store.upsert_page("shop", [doc])
    assert len(changes.added) == 1 and not changes.changed
    back = store.get(changes.added[0])
    assert back is not None
    assert back == replace(order, synced_at=back.synced_at)
    assert back.raw == order.raw
    assert back.figures.total == Decimal("33.49") and str(back.figures.total) == "33.49"
    assert back.lines[0].unit_price == Decimal(1250)
    doc_back = store.get(store.find("shop:a3d5c8e7")[0])
    assert doc_back is not None and doc_back == replace(doc, synced_at=doc_back.synced_at)


def test_same_page_twice_changes_nothing(store: OrderStore) -> None:
    page = [shop_order(str(i)) for i in range(5)]
    first = store.upsert_page("staff", page, {"bookmark": "a"})
    second = store.upsert_page("staff", page, {"bookmark": "b"})
    assert len(first.added) == 5
    assert not second
    assert store.get_state("staff") == {"bookmark": "b"}


def test_changed_order_is_reported_and_replaced(store: OrderStore) -> None:
    store.upsert_page("staff", [shop_order("1")])
    updated = shop_order("1", notes="call first", status=OrderStatus.from_raw("shipped"),
                         lines=shop_order().lines[:1])
    changes = store.upsert_page("staff", [updated])
    assert len(changes.changed) == 1 and not changes.added
    back = store.get(changes.changed[0])
    assert back is not None and back.notes == "call first" and len(back.lines) == 1
    assert store.ids(OrderQuery(text="call first"))[0] == changes.changed[0]
    assert list(store.ids(OrderQuery(text="door"))) == []


def test_same_remote_id_in_two_connections_are_two_orders(store: OrderStore) -> None:
    store.upsert_page("staff", [shop_order("1")])
    store.upsert_page("shop", [shop_order("1", connection="shop")])
    assert store.total_orders() == 2
    assert len(store.find("K-1")) == 2
    assert len(store.find("staff:K-1")) == 1


def test_mark_deleted_keeps_the_order(store: OrderStore) -> None:
    ids = store.upsert_page("staff", [shop_order("1"), shop_order("2")]).added
    changes = store.mark_deleted("staff", ["2", "404"])
    assert changes.removed == (ids[1],)
    assert store.counts(OrderQuery())[StatusCategory.DELETED] == 1
    assert list(store.ids(OrderQuery(include_deleted=False))) == [ids[0]]
    assert store.remote_ids("staff") == {"1"}


def test_wrong_connection_is_refused(store: OrderStore) -> None:
    with pytest.raises(StoreError, match="no connection"):
        store.upsert_page("nope", [shop_order()])


def test_failed_page_writes_nothing(store: OrderStore) -> None:
    good = shop_order("1")
    bad = shop_order("2", figures=replace(good.figures, total=Decimal("0.00001")))
    with pytest.raises(Exception, match="decimal places"):
        store.upsert_page("staff", [good, bad], {"bookmark": "x"})
    assert store.total_orders() == 0 and store.get_state("staff") == {}


def test_sync_log(store: OrderStore) -> None:
    log = store.start_log("staff", "full")
    store.finish_log(log, outcome="success", pages=2, fetched=10, added=10, changed=0,
                     removed=0, errors=["x"])
    entry = store.sync_log("staff")[0]
    assert entry.outcome == "success" and entry.errors == ("x",) and entry.fetched == 10
    assert store.last_success("staff") is not None


def test_reopen_keeps_data_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    s = OrderStore(path)
    s.add_connection("staff", "shop-staff", "http://x")
    s.upsert_page("staff", [shop_order()])
    s.close()
    again = OrderStore(path)
    assert again.total_orders() == 1


def test_remove_connection_drops_its_orders(store: OrderStore) -> None:
    store.upsert_page("staff", [shop_order("1"), shop_order("2")])
    assert store.remove_connection("staff") == 2
    assert store.total_orders() == 0
    assert list(store.ids(OrderQuery(text="anna"))) == []


def test_counts_and_rows(store: OrderStore) -> None:
    store.upsert_page("staff", [shop_order("1"), shop_order(
        "2", status=OrderStatus.from_raw("completed"))])
    counts = store.counts(OrderQuery())
    assert counts == {StatusCategory.PROCESSING: 1, StatusCategory.COMPLETED: 1}
    ids = store.ids(OrderQuery(sort=(SortKey(SortField.NUMBER),)))
    rows = store.rows(list(reversed(ids)))
    assert [r.number for r in rows] == ["K-2", "K-1"]
    assert rows[0].total == Decimal("33.49") and rows[0].outstanding == Decimal("23.49")


queries = st.builds(
    OrderQuery,
    connections=st.sampled_from([(), ("c1",), ("c2",), ("c1", "c2")]),
    categories=st.sampled_from([(), (StatusCategory.PROCESSING,),
                                (StatusCategory.OTHER, StatusCategory.DELETED)]),
    text=st.one_of(st.just(""), TEXT),
    created_from=st.none() | st.sampled_from([T0 + timedelta(minutes=m) for m in (0, 10, 25)]),
    created_to=st.none() | st.sampled_from([T0 + timedelta(minutes=m) for m in (5, 30, 60)]),
    total_min=st.none() | st.sampled_from([Decimal("-5"), Decimal("100.5"), Decimal("0.001")]),
    total_max=st.none() | st.sampled_from([Decimal("500"), Decimal("99999")]),
    payment=st.none() | st.sampled_from(list(PaymentFilter)),
    payment_methods=st.sampled_from([(), ("Card",), ("Bank", "Card")]),
    countries=st.sampled_from([(), ("Norway",), ("",)]),
    has_notes=st.none() | st.booleans(),
    has_problems=st.none() | st.booleans(),
    include_deleted=st.booleans(),
    sort=st.lists(st.builds(SortKey, st.sampled_from(list(SortField)), st.booleans()),
                  min_size=0, max_size=3).map(tuple),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sql_query_equals_python_reference(tmp_path_factory: pytest.TempPathFactory,
                                           data: st.DataObject) -> None:
    store = OrderStore(tmp_path_factory.mktemp("q") / "c.sqlite3")
    store.add_connection("c1", "shop-staff", "http://x")
    store.add_connection("c2", "shop-staff", "http://y")
    n = data.draw(st.integers(0, 25))
    inserted = []
    for i in range(n):
        conn = "c1" if i % 3 else "c2"
        order = data.draw(random_orders(connection=conn, remote_id=str(i)))
        order = replace(order, synced_at=datetime(2025, 6, 1, tzinfo=UTC))
        oid = store.upsert_page(conn, [order], synced_at=order.synced_at).added[0]
        inserted.append((oid, order))
    for _ in range(4):
        q = data.draw(queries)
        q = replace(q, sort=tuple(k for k in q.sort if k.field is not SortField.SYNCED))
        if data.draw(st.booleans()) and inserted:
            # search for a piece of an existing order's text
            body = inserted[data.draw(st.integers(0, len(inserted) - 1))][1].search_text()
            start = data.draw(st.integers(0, max(0, len(body) - 1)))
            q = replace(q, text=body[start:start + data.draw(st.integers(1, 5))])
        assert list(store.ids(q)) == expected_ids(inserted, q), q.describe()
        counts = store.counts(q)
        assert sum(counts.values()) == len(expected_ids(inserted, q))
    store.close()


def test_every_search_term_counts(store: OrderStore) -> None:
    """Two terms are two conditions (each with its own value), short or long."""
    store.upsert_page("staff", [shop_order("1", notes="red"), shop_order("2", notes="blue")])
    assert len(store.ids(OrderQuery(text="anna red"))) == 1
    assert len(store.ids(OrderQuery(text="red k-2"))) == 0  # red is K-1
    assert len(store.ids(OrderQuery(text="ö é"))) == 0
    assert len(store.ids(OrderQuery(text="ö k-"))) == 2


def test_codec_column_lists_cover_every_encoded_field() -> None:
    from orderdesk.store.codec import LINE_COLUMNS, ORDER_COLUMNS, PAYMENT_COLUMNS, EncodedOrder

    for order in (shop_order(), ecommerce_doc_order()):
        enc = EncodedOrder(order, 1)
        assert set(enc.row) == set(ORDER_COLUMNS)
        assert all(set(ln) == set(LINE_COLUMNS) for ln in enc.lines) and enc.lines
        assert all(set(p) == set(PAYMENT_COLUMNS) for p in enc.payments)


def _order_indexes(store: OrderStore) -> set[str]:
    import sqlite3

    db = sqlite3.connect(store.url.removeprefix("sqlite:///"))
    try:
        return {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' "
            "AND sql IS NOT NULL")}
    finally:
        db.close()


def test_bulk_load_drops_and_rebuilds_the_order_indexes(store: OrderStore) -> None:
    full = _order_indexes(store)
    assert len(full) > 20
    assert store.begin_bulk()
    assert _order_indexes(store) == {"ix_orders_conn_remote"}
    store.upsert_page("staff", [shop_order(str(i)) for i in range(1, 30)])
    store.upsert_page("staff", [replace(shop_order("3"), notes="changed")])  # upsert works
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 20_000
        assert fts_automerge(conn) == FTS_BULK_AUTOMERGE
    executed: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        executed.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", record)
    store.end_bulk()
    event.remove(store.engine, "before_cursor_execute", record)
    assert _order_indexes(store) == full
    # the build sorts with temporary files (half the CPU of in-memory sorts), then the
    # connection sorts in memory again
    first_create = next(i for i, s in enumerate(executed) if s.startswith("CREATE INDEX"))
    assert "PRAGMA temp_store = FILE" in executed[:first_create]
    assert executed.index("PRAGMA temp_store = 2") > first_create
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
    store.upsert_page("staff", [shop_order("99")])
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert fts_automerge(conn) == FTS_AUTOMERGE == 4
    assert not store.begin_bulk()  # not into a cache that holds orders
    assert _order_indexes(store) == full
    q = OrderQuery(text="changed")
    assert len(store.ids(q)) == 1


def test_killed_bulk_load_gets_its_indexes_back_on_open(tmp_path: Path) -> None:
    first = OrderStore(tmp_path / "c.sqlite3")
    first.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    full = _order_indexes(first)
    assert first.begin_bulk()
    first.upsert_page("staff", [shop_order("1")])
    first.close()  # never ended
    again = OrderStore(tmp_path / "c.sqlite3")
    assert _order_indexes(again) == full
    with again.engine.connect() as conn:
        assert fts_automerge(conn) == FTS_AUTOMERGE
    assert again.total_orders() == 1


def test_encoded_page_crosses_a_pipe_unchanged() -> None:
    """EncodedPage pickles as one MessagePack string, or as itself when MessagePack
    cannot carry a value exactly; rows come back as tuples either way."""
    import pickle

    from orderdesk.store.codec import EncodedPage

    rows = [(1, "x", None, True, False, 2**62, -5, "é\u4e2d")]
    page = EncodedPage(3, ["a"], ["h"], rows, [(1, "l", 0)], [("p", 0)],
                       [("{}", "é".encode(), 0)], [("body", 0)])
    back = pickle.loads(pickle.dumps(page))
    assert back.fields() == page.fields()
    assert all(type(r) is tuple for r in back.orders)
    assert [type(v) for v in back.orders[0]] == [type(v) for v in rows[0]]
    for odd in (2**70, "lone \ud800"):
        page = EncodedPage(3, ["a"], ["h"], [(1, odd)], [], [], [], [])
        assert pickle.loads(pickle.dumps(page)).fields() == page.fields()

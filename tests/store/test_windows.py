"""Windows of a query's order, how a search is read, positions, counts: all against
the Python reference order (tests/reference.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from factories import random_orders, shop_order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import expected_ids

from orderdesk.models import OrderQuery, OrderStatus, SortField, SortKey, StatusCategory
from orderdesk.store import OrderStore, querying
from tests.store.test_store import queries

PLANS = (querying.SORT, querying.WALK, querying.PROBE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_windows_plans_counts_and_positions_equal_the_reference(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    store = OrderStore(tmp_path_factory.mktemp("w") / "c.sqlite3")
    store.add_connection("c1", "shop-staff", "http://x")
    store.add_connection("c2", "shop-staff", "http://y")
    inserted = []
    for i in range(data.draw(st.integers(1, 25))):
        conn = "c1" if i % 3 else "c2"
        order = data.draw(random_orders(connection=conn, remote_id=str(i)))
        order = replace(order, synced_at=datetime(2025, 6, 1, tzinfo=UTC))
        inserted.append((store.upsert_page(conn, [order], synced_at=order.synced_at).added[0],
                         order))
    cids = store._connection_ids()
    for _ in range(3):
        q = data.draw(queries)
        q = replace(q, sort=tuple(k for k in q.sort if k.field is not SortField.SYNCED))
        if data.draw(st.booleans()):
            body = inserted[data.draw(st.integers(0, len(inserted) - 1))][1].search_text()
            start = data.draw(st.integers(0, max(0, len(body) - 1)))
            q = replace(q, text=body[start:start + data.draw(st.integers(1, 6))])
        expected = expected_ids(inserted, q)
        assert store.match_count(q) == len(expected), q.describe()
        offset = data.draw(st.integers(0, len(inserted)))
        limit = data.draw(st.integers(1, 7))
        assert list(store.ids(q, limit=limit, offset=offset)) == \
            expected[offset:offset + limit], q.describe()
        if q.text:
            for plan in PLANS:  # every way of reading a search gives the same order
                stmt = querying.ids_select(q, cids, store.dialect, plan=plan)
                with store._read() as conn:
                    got = [r[0] for r in conn.execute(stmt.limit(limit).offset(offset))]
                assert got == expected[offset:offset + limit], (plan, q.describe())
        if querying.seekable(q):  # windows read from anchors (keyset seeks)
            every = data.draw(st.integers(1, 6))
            anchors = store.anchors(q, every)
            assert anchors is not None and len(anchors) == -(-len(expected) // every)
            assert [a[-1] for a in anchors] == expected[::every], q.describe()
            for j, anchor in enumerate(anchors):
                r = data.draw(st.integers(0, 2 * every))
                assert list(store.ids_from(q, anchor, limit=limit, offset=r)) == \
                    expected[j * every + r:j * every + r + limit], (j, r, q.describe())
        else:
            assert store.anchors(q, 3) is None
        picked = data.draw(st.lists(st.sampled_from([i for i, _ in inserted]), max_size=3))
        assert store.positions(q, picked) == {
            i: expected.index(i) for i in picked if i in expected}, q.describe()
    store.close()


def test_order_by_index_follows_the_plan(tmp_path) -> None:
    store = OrderStore(tmp_path / "c.sqlite3")
    assert store.ordered_by_index(OrderQuery())
    assert store.ordered_by_index(OrderQuery(sort=(SortKey(SortField.TOTAL, True),)))
    assert store.ordered_by_index(OrderQuery(categories=(StatusCategory.COMPLETED,)))
    # the matches must be sorted; two keys; a tab sorted by a column without its index
    assert not store.ordered_by_index(OrderQuery(text="anna"))
    assert not store.ordered_by_index(OrderQuery(sort=(SortKey(SortField.COUNTRY),
                                                        SortKey(SortField.TOTAL))))
    assert not store.ordered_by_index(OrderQuery(categories=(StatusCategory.COMPLETED,),
                                                 sort=(SortKey(SortField.EMAIL),)))
    store.close()


@pytest.mark.parametrize("sort", [
    (SortKey(SortField.TOTAL),), (SortKey(SortField.TOTAL, True),),
    (SortKey(SortField.STATUS),), (SortKey(SortField.STATUS, True),),
    (SortKey(SortField.PAID, True),), (SortKey(SortField.CREATED, True),), ()])
@pytest.mark.parametrize("categories", [(), (StatusCategory.PROCESSING,)])
def test_anchored_windows_with_nulls_and_ties(tmp_path, sort, categories) -> None:
    """Many NULL keys (first ascending, last descending) and long runs of ties, which
    an anchor may fall inside; every window from every anchor, at every offset."""
    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("c1", "shop-staff", "http://x")
    inserted = []
    base = shop_order(connection="c1")
    for i in range(40):
        figures = replace(base.figures, total=None if i % 3 == 0 else Decimal(i % 4),
                          amount_paid=None if i % 2 else Decimal(7))
        order = replace(base, remote_id=str(i), figures=figures,
                        status=OrderStatus.from_raw(("processing", "shipped")[i % 5 == 0]),
                        created_at=base.created_at + timedelta(minutes=i // 6))
        inserted.append((store.upsert_page("c1", [order]).added[0], order))
    q = OrderQuery(categories=categories, sort=sort)
    expected = expected_ids(inserted, q)
    assert querying.seekable(q)
    for every in (1, 4, 7):
        anchors = store.anchors(q, every)
        assert anchors is not None
        for j, anchor in enumerate(anchors):
            for r in range(0, every + 3):
                for limit in (1, 5):
                    start = j * every + r
                    assert list(store.ids_from(q, anchor, limit=limit, offset=r)) == \
                        expected[start:start + limit], (every, j, r, limit)
    store.close()

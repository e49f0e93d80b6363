"""The fast CSV path (SQLite formats the cells, Python joins them) against the reference
path (``OrderStore.rows()`` + Decimal formatting + ``csv.writer``), over random data."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from factories import shop_order
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Text, bindparam, select

from orderdesk.export.common import neutralise
from orderdesk.export.csv_export import csv_text, write_csv
from orderdesk.models import Customer, NamedRef, OrderQuery, OrderStatus
from orderdesk.models.columns import COLUMNS
from orderdesk.store import OrderStore
from orderdesk.store.bulk import (
    micros_iso,
    neutralised_sql,
    sqlite_iso,
    sqlite_money,
    units_text,
)
from tests.export.data import INJECTIONS, UNICODE_NAMES

ALL_KEYS = [c.key for c in COLUMNS]
#: text that starts with each formula character, each character next to the ranges
#: the SQL test skips by byte comparison ('.'..'<' and 'A'...), quoting and line breaks
AWKWARD = [*INJECTIONS, *UNICODE_NAMES, "", " ", "'=x", "-", "+", "@", "=", "\t", "\r",
           ".", "/", "0", "9", ":", ";", "<", ">", "?", "A", "Z", "[", "`", "a", "é",
           "Smith, John", 'say "hi"', "two\nlines", "cr\rhere", "None", "none", "%s",
           "%(x)s", "😀", "\u2028", "-5.00", "=SUM(A1)", "a,b,\"c\"\r\n",
           # what the lines made of JSON arrays must survive (bulk._csv_lines)
           "],[", "]", "[", '","', "\\", '\\"', "null", "true", "\x7f", "x\x00y", "\x1f"]


def _text(rnd: random.Random) -> str:
    return "".join(rnd.choice(AWKWARD) for _ in range(rnd.randint(1, 3)))


def test_sql_twins_match_python(store: OrderStore) -> None:
    """Money, dates and neutralising done by SQLite equal the Python (reference) ones."""
    rnd = random.Random(8)
    money = [None, 0, 1, -1, 99, 100, -100, 5000, -5000, 9999, -9999, 10_000, -10_000,
             123_400, -123_456, 2**63 - 1, -(2**63), 10**17 + 3, -(10**17) - 3]
    money += [rnd.randint(-(2**63), 2**63 - 1) for _ in range(300)]
    money += [rnd.randint(-(10**9), 10**9) * rnd.choice((1, 10, 100)) for _ in range(700)]
    dates = [None, 0, 1, -1, 999_999, 1_000_000, -1_000_000, -86_400_000_001,
             1_735_689_600_000_000, 1_735_689_600_123_456, 4_102_444_799_999_999]
    dates += [rnd.randint(-(10**16), 4 * 10**15) for _ in range(300)]
    dates += [rnd.randint(0, 4 * 10**9) * 1_000_000 for _ in range(100)]
    texts = AWKWARD + [_text(rnd) for _ in range(500)]
    stmt = select(sqlite_money(bindparam("m", type_=BigInteger)),
                  sqlite_iso(bindparam("d", type_=BigInteger)),
                  neutralised_sql(bindparam("t", type_=Text), "sqlite"),
                  neutralised_sql(bindparam("t", type_=Text)))
    n = max(len(money), len(dates), len(texts))
    with store.engine.connect() as conn:
        for i in range(n):
            m, d, t = money[i % len(money)], dates[i % len(dates)], texts[i % len(texts)]
            got = tuple(conn.execute(stmt, {"m": m, "d": d, "t": t}).one())
            assert got == (units_text(m), micros_iso(d), neutralise(t), neutralise(t)), (m, d, t)


def _writer(rows: list[tuple[Any, ...]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


CELL = st.one_of(st.sampled_from(AWKWARD), st.text(max_size=6), st.integers(), st.none())


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda w: st.lists(
    st.tuples(*[CELL] * w), max_size=12)), st.integers(0, 2))
def test_csv_text_is_csv_writer_text(rows: list[tuple[Any, ...]], skip: int) -> None:
    with_lead = [(*(f"lead{i}" for i in range(skip)), *row) for row in rows]
    assert csv_text(with_lead, skip) == _writer(rows)
    assert csv_text([list(r) for r in with_lead], skip) == _writer(rows)


def test_csv_text_plain_chunk_and_one_odd_row() -> None:
    rows = [(f"n{i}", i, "Anna", "12.50") for i in range(1000)]
    assert csv_text(rows) == _writer(rows)
    rows[500] = ("n500", 500, "Doe, Jane", "1.00")
    assert csv_text(rows) == _writer(rows)


def _random_store(path: Path, count: int, seed: int) -> OrderStore:
    rnd = random.Random(seed)
    store = OrderStore(path)
    store.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    store.add_connection("=evil", "shop-staff", "http://127.0.0.1:2")

    def amount() -> Decimal | None:
        kind = rnd.random()
        if kind < 0.1:
            return None
        if kind < 0.2:
            return -Decimal(rnd.randint(1, 10**6)).scaleb(-rnd.choice((2, 4)))
        if kind < 0.3:
            return rnd.choice((1, -1)) * Decimal(rnd.randint(10**17, 10**18 - 1)).scaleb(-4)
        return Decimal(rnd.randint(0, 10**7)).scaleb(-rnd.choice((0, 1, 2, 2, 2, 3, 4)))

    pages: dict[str, list[Any]] = {"staff": [], "=evil": []}
    for n in range(count):
        connection = rnd.choice(["staff", "staff", "=evil"])
        base = shop_order(str(n), connection=connection)
        created = datetime(1950, 1, 1, tzinfo=UTC) + timedelta(
            microseconds=rnd.randint(0, 120 * 365 * 86_400 * 10**6) // rnd.choice((1, 10**6)))
        figures = replace(base.figures, total=amount(), amount_paid=amount(),
                          amount_outstanding=amount())
        order = replace(
            base, number=_text(rnd), status=OrderStatus.from_raw(_text(rnd)),
            currency=rnd.choice(["EUR", "USD", "JPY", "=1", ""]), created_at=created,
            updated_at=created + timedelta(microseconds=rnd.randint(0, 10**9)),
            figures=figures,
            customer=Customer(id=str(n), full_name=_text(rnd), email=_text(rnd)),
            payment_method=NamedRef("1", _text(rnd)), shipping_method=NamedRef("2", _text(rnd)),
            billing=replace(base.billing, country=NamedRef("47", _text(rnd), "NO"))
            if base.billing else None)
        pages[connection].append(order)
    for name, orders in pages.items():
        store.upsert_page(name, orders)
    return store


@pytest.mark.parametrize("lines", [False, True])
def test_fast_path_equals_reference_over_random_orders(tmp_path: Path, lines: bool) -> None:
    store = _random_store(tmp_path / "r.sqlite3", 600, seed=42)
    ids = list(store.ids(OrderQuery()))
    assert len(ids) == 600
    for keys in (ALL_KEYS, ["customer", "total", "created"], list(reversed(ALL_KEYS))):
        fast = write_csv(store, tmp_path / "fast.csv", ids, columns=keys, lines=lines,
                         metadata=False)
        slow = write_csv(store, tmp_path / "slow.csv", ids, columns=keys, lines=lines,
                         metadata=False, fast=False)
        assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
        assert (fast.rows, fast.orders, fast.sha256) == (slow.rows, slow.orders, slow.sha256)
    text = (tmp_path / "fast.csv").read_text(encoding="utf-8")
    assert '"Smith, John' in text or "Smith, John" not in text  # quoted where needed


def test_fast_path_keeps_the_requested_order_with_missing_and_repeated_ids(
        tmp_path: Path) -> None:
    store = _random_store(tmp_path / "r.sqlite3", 50, seed=7)
    ids = list(store.ids(OrderQuery()))
    wanted = [ids[3], 10**9, *reversed(ids[10:40]), ids[3], -1, ids[0]]
    fast = write_csv(store, tmp_path / "fast.csv", wanted, columns=ALL_KEYS, metadata=True)
    slow = write_csv(store, tmp_path / "slow.csv", wanted, columns=ALL_KEYS, metadata=False,
                     fast=False)
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
    assert fast.orders == slow.orders == len(wanted) - 2
    assert fast.metadata_path is not None
    meta = fast.metadata_path.read_text(encoding="utf-8")
    assert '"name": "=evil"' in meta or '"name": "staff"' in meta


def _spy_text_lines(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each chunk ``bulk.iter_text_lines`` gives from now on: whether it came as
    SQLite's lines (True) or is to be read as rows."""
    from orderdesk.store import bulk

    used: list[bool] = []
    lines = bulk.iter_text_lines

    def spy(*args: Any, **kwargs: Any) -> Any:
        for block in lines(*args, **kwargs):
            used.append(block.text is not None)
            yield block

    monkeypatch.setattr(bulk, "iter_text_lines", spy)
    return used


def test_lines_joined_by_sqlite_equal_the_row_path(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of clean orders come as whole lines from SQLite (``iter_text_lines``); a
    chunk with a cell to quote, a NUL, a missing or a repeated id is read as rows."""
    import orderdesk.export.csv_export as csv_export
    from orderdesk.store import bulk

    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    odd = {7: "Smith, John", 13: "nul\x00inside", 21: 'say "hi"', 30: "=SUM(A1)"}
    orders = [replace(shop_order(str(n)), number=f"#{n}",
                      customer=Customer(id=str(n), full_name=odd.get(n, f"Name {n}"),
                                        email="")) for n in range(40)]
    store.upsert_page("staff", orders)
    ids = list(store.ids(OrderQuery()))
    wanted = [*ids[:17], 10**9, *ids[17:25], ids[2], *ids[25:]]
    monkeypatch.setattr(csv_export, "ROW_CHUNK", 4)
    used = _spy_text_lines(monkeypatch)
    read_rows: list[list[int]] = []
    text_rows = bulk.iter_text_rows

    def rows_spy(store: OrderStore, ids: Any, *args: Any) -> Any:
        read_rows.append(list(ids))
        return text_rows(store, ids, *args)

    monkeypatch.setattr(bulk, "iter_text_rows", rows_spy)
    fast = write_csv(store, tmp_path / "fast.csv", wanted, columns=ALL_KEYS, metadata=False)
    assert any(used) and not all(used)
    # read as rows: the chunk with the missing id (and the quote), the NUL's chunk
    # (JSON escapes it); a comma alone: only its line is read again
    assert [len(r) for r in read_rows] == [4, 4, 1]
    slow = write_csv(store, tmp_path / "slow.csv", wanted, columns=ALL_KEYS, metadata=False,
                     fast=False)
    monkeypatch.setattr(bulk, "text_lines_supported", lambda store: False)
    rows = write_csv(store, tmp_path / "rows.csv", wanted, columns=ALL_KEYS, metadata=False)
    data = (tmp_path / "fast.csv").read_bytes()
    assert data == (tmp_path / "rows.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
    assert b"nul\x00inside" in data and b',"Smith, John",' in data
    assert (fast.rows, fast.orders, fast.sha256) == (rows.rows, rows.orders, rows.sha256)
    assert (fast.rows, fast.orders, fast.sha256) == (slow.rows, slow.orders, slow.sha256)
    assert fast.orders == len(wanted) - 1


#: cells that JSON writes as they are, so their chunks keep to SQLite's lines (one chunk
#: of 2 orders each), and cells JSON escapes or that spoil the lines, read as rows
JSON_PLAIN = ["]", "[", "[1]", "null", "true", "é", "😀", "\u2028", "\x7f", "{}", ":",
              "'=x", "\u00a0", "'"]
JSON_ESCAPED = ["\\", 'a"b', "x\x00y", "\x1f", "tab\tx", "two\nlines", "cr\rx"]
LINE_SPOILERS = ["],[", "a],[b", "Korea, Republic of", "x,"]


def test_lines_from_json_arrays_equal_the_row_path(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each awkward cell in a chunk of its own: the CSV is the reference path's byte for
    byte; the cells JSON writes as they are keep the chunk to SQLite's lines
    (``bulk._csv_lines``), the others are read as rows."""
    import orderdesk.export.csv_export as csv_export

    store = OrderStore(tmp_path / "c.sqlite3")
    store.add_connection("staff", "shop-staff", "http://127.0.0.1:1")
    names = [*JSON_PLAIN, *JSON_ESCAPED, *LINE_SPOILERS]
    orders = []
    for n, name in enumerate(names):
        for k in range(2):  # the awkward cell in the customer, then in the number
            base = shop_order(f"{n}-{k}")
            orders.append(replace(base, number=name if k else f"#{n}",
                                  customer=Customer(id=str(n), full_name=name, email="")))
    store.upsert_page("staff", orders)
    ids = sorted(store.ids(OrderQuery()))
    assert len(ids) == 2 * len(names)
    monkeypatch.setattr(csv_export, "ROW_CHUNK", 2)
    fast_chunks = _spy_text_lines(monkeypatch)
    keys = ["number", "customer", "total", "created", "quantity"]
    fast = write_csv(store, tmp_path / "fast.csv", ids, columns=keys, metadata=False)
    slow = write_csv(store, tmp_path / "slow.csv", ids, columns=keys, metadata=False,
                     fast=False)
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
    assert (fast.rows, fast.sha256) == (slow.rows, slow.sha256)
    plain = len(JSON_PLAIN)
    assert fast_chunks == [True] * plain + [False] * len(JSON_ESCAPED) + \
        [True] * len(LINE_SPOILERS)  # a comma: the chunk's text, its lines read again
    data = (tmp_path / "fast.csv").read_bytes().decode("utf-8")
    assert "\r\n]," in data and ",null," in data and "\r\n[1],[1]," in data

import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from orderdesk.export.common import ExportCancelled, ExportError, iso_utc, neutralise
from orderdesk.export.csv_export import LINE_COLUMNS, write_csv
from orderdesk.models import OrderQuery, SortField, SortKey
from orderdesk.models.columns import COLUMNS, DEFAULT_COLUMNS
from orderdesk.models.money import from_storage_units
from orderdesk.services.export import ExportService
from orderdesk.store import OrderStore
from orderdesk.store.bulk import micros_iso, units_text
from orderdesk.store.codec import from_micros
from tests.export.data import INJECTIONS, UNICODE_NAMES

ALL_KEYS = [c.key for c in COLUMNS]


def read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with open(path, newline="", encoding=encoding) as fh:
        return list(csv.DictReader(fh))


def unneutral(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:2] in "=+-@\t\r" and text[1:] else text


def test_round_trip_equals_store(service: ExportService, store: OrderStore,
                                 all_ids: list[int], tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    result = service.export_csv(out, columns=ALL_KEYS)
    assert result.rows == result.orders == len(all_ids)
    rows = read(out)
    assert list(rows[0]) == [*ALL_KEYS, "currency"]
    expected = store.rows(all_ids)
    assert [r["number"] for r in rows] == [unneutral(neutralise(e.number)) for e in expected]
    for got, want in zip(rows, expected, strict=True):
        assert unneutral(got["customer"]) == want.customer
        assert got["email"] == want.email
        assert got["status"] == want.status.raw
        assert got["currency"] == want.currency
        assert got["connection"] == want.connection
        for key, value in (("total", want.total), ("paid", want.paid),
                           ("outstanding", want.outstanding)):
            assert (Decimal(got[key]) if got[key] else None) == value  # Decimal-exact
            assert "," not in got[key] and "e" not in got[key].lower()
        assert got["created"] == iso_utc(want.created_at) and got["created"].endswith("Z")
        assert int(got["quantity"]) == want.quantity
        assert int(got["lines"]) == want.line_count
        assert int(got["problems"]) == want.problems


def test_fast_reader_matches_public_rows_path(store: OrderStore, all_ids: list[int],
                                              tmp_path: Path) -> None:
    fast = write_csv(store, tmp_path / "fast.csv", all_ids, columns=ALL_KEYS, metadata=False)
    slow = write_csv(store, tmp_path / "slow.csv", all_ids, columns=ALL_KEYS, metadata=False,
                     fast=False)
    assert fast.sha256 == slow.sha256
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()


def test_value_formatting_matches_domain() -> None:
    for units in (0, 1, 5, 10, 100, 1234, 50000, 123400, 12345, 99999999, -1, -50000,
                  -123456, 10**17 + 3):
        assert units_text(units) == f"{from_storage_units(units):f}", units
    assert units_text(None) == ""
    for micros in (0, 1, 999_999, 1_735_689_600_000_000, 1_735_689_600_123_456,
                   -86_400_000_001, 4_102_444_799_999_999):
        assert micros_iso(micros) == iso_utc(from_micros(micros)), micros


def test_formula_injection_is_neutralised(service: ExportService, tmp_path: Path) -> None:
    out = tmp_path / "inj.csv"
    service.export_csv(out, columns=["number", "customer", "total"], lines=True)
    rows = read(out)
    customers = {r["customer"] for r in rows}
    products = {r["line_product"] for r in rows}
    for text in INJECTIONS:
        assert "'" + text in customers
        assert "'" + text in products
        assert text not in customers
    for row in rows:
        for key in ("customer", "line_product", "number"):
            assert not row[key].startswith(("=", "+", "-", "@", "\t", "\r"))
    # numbers are never prefixed: a negative amount stays a number
    refund = [r for r in rows if r["number"] == "K-101"]
    assert refund and refund[0]["total"] == "-5.00"


def test_neutralise_function() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("-5") == "'-5"
    assert neutralise("plain") == "plain"
    assert neutralise("") == ""
    assert neutralise("a=b") == "a=b"


def test_unicode_survives(service: ExportService, tmp_path: Path) -> None:
    out = tmp_path / "u.csv"
    service.export_csv(out, columns=["customer"])
    names = {r["customer"] for r in read(out)}
    assert set(UNICODE_NAMES) <= names


def test_lines_mode(service: ExportService, store: OrderStore, tmp_path: Path) -> None:
    out = tmp_path / "lines.csv"
    result = service.export_csv(out, columns=["number", "total"], lines=True)
    rows = read(out)
    assert list(rows[0]) == ["number", "total", "currency", *LINE_COLUMNS]
    assert result.rows == len(rows)
    expected_rows = sum(max(1, store.get(i).line_count)  # type: ignore[union-attr]
                        for i in store.ids(OrderQuery()))
    assert len(rows) == expected_rows
    mug = next(r for r in rows if r["number"] == "K-1" and r["line_product"] == "Blue Mug")
    assert (mug["line_unit_price"], mug["line_unit_discount"], mug["line_quantity"],
            mug["line_discount"], mug["line_total"]) == ("12.50", "2.50", "2", "5.00", "20.00")
    headphones = next(r for r in rows if r["line_product"] == "Wireless Headphones")
    assert headphones["line_unit_price"] == "79.99" and headphones["currency"] == "USD"
    empty = [r for r in rows if r["number"] == "K-102"]
    assert len(empty) == 1 and empty[0]["line_product"] == "" and empty[0]["line_no"] == ""


def test_bom_and_metadata_sidecar(service: ExportService, tmp_path: Path) -> None:
    out = tmp_path / "bom.csv"
    result = service.export_csv(out, bom=True,
                                query=OrderQuery(connections=("staff",),
                                                 sort=(SortKey(SortField.NUMBER),)))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert next(iter(read(out, "utf-8-sig")[0])) == DEFAULT_COLUMNS[0]
    assert result.metadata_path == tmp_path / "bom.csv.meta.json"
    meta = json.loads(result.metadata_path.read_text(encoding="utf-8"))
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() == result.sha256
    assert meta["rows"] == result.rows == len(read(out, "utf-8-sig"))
    assert meta["columns"] == list(DEFAULT_COLUMNS)
    assert meta["scope"] == "filtered" and "connections=staff" in meta["query"]
    assert meta["sort"] == ["number"]
    assert [c["name"] for c in meta["connections"]] == ["staff"]
    assert meta["orderdesk_version"] and meta["created_at"].endswith("Z")
    assert meta["encoding"] == "utf-8-sig"


def test_no_metadata_and_selection_order(service: ExportService, all_ids: list[int],
                                         store: OrderStore, tmp_path: Path) -> None:
    chosen = [all_ids[3], all_ids[0], all_ids[5]]
    out = tmp_path / "sel.csv"
    result = service.export_csv(out, ids=chosen, metadata=False)
    assert result.metadata_path is None and not (tmp_path / "sel.csv.meta.json").exists()
    assert [unneutral(r["number"]) for r in read(out)] == [r.number for r in store.rows(chosen)]


def test_cancel_leaves_no_file(store: OrderStore, all_ids: list[int], tmp_path: Path) -> None:
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    out = tmp_path / "c.csv"
    with pytest.raises(ExportCancelled):
        write_csv(store, out, all_ids * 1, cancel=cancel)
    assert list(tmp_path.glob("c.csv*")) == [] and list(tmp_path.glob(".c.csv*")) == []


def test_cancel_token_object(service: ExportService, tmp_path: Path) -> None:
    class Token:
        cancelled = True

    with pytest.raises(ExportCancelled):
        service.export_csv(tmp_path / "t.csv", cancel=Token())
    assert not [p for p in tmp_path.iterdir() if "sqlite3" not in p.name]


def test_unwritable_destination_is_a_clerk_error(service: ExportService,
                                                 tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        service.export_csv(tmp_path / "missing" / "x.csv")
    with pytest.raises(ExportError, match="is a folder"):
        service.export_csv(tmp_path)


def test_progress_is_reported(service: ExportService, all_ids: list[int],
                              tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    service.export_csv(tmp_path / "p.csv", progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, len(all_ids)) and seen[-1] == (len(all_ids), len(all_ids))


def test_csv_text_is_rfc4180(service: ExportService, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    service.export_csv(out, columns=["customer"])
    text = out.read_bytes().decode("utf-8")
    assert text.endswith("\r\n")
    assert next(iter(csv.reader(io.StringIO(text, newline="")))) == ["customer", "currency"]


def test_sqlite_date_text_matches_python(store: OrderStore) -> None:
    from sqlalchemy import BigInteger, literal, select

    from orderdesk.store.bulk import sqlite_iso

    values = [0, 1, 999_999, 1_000_000, 1_735_689_600_000_000, 1_735_689_600_123_456,
              -1, -86_400_000_001, -1_000_000, 4_102_444_799_999_999]
    with store.engine.connect() as conn:
        for value in values:
            got = conn.execute(select(sqlite_iso(literal(value, BigInteger)))).scalar_one()
            assert got == micros_iso(value), value
        assert conn.execute(select(sqlite_iso(literal(None, BigInteger)))).scalar_one() == ""


def test_pricing_reader_gives_the_same_line_figures(big_store: OrderStore) -> None:
    from orderdesk.export.csv_export import line_cells
    from orderdesk.store.bulk import pricing_orders

    ids = list(big_store.ids(OrderQuery()))
    light = pricing_orders(big_store, ids)
    assert set(light) == set(ids)
    for oid in ids:
        full = big_store.get(oid)
        assert full is not None
        assert line_cells(light[oid]) == line_cells(full)

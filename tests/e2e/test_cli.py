"""The command line end to end: connection add → sync → orders/show, on the demo server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderdesk.cli import main
from orderdesk.demo import DemoServer


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    srv = DemoServer(orders=300, seed=5, host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.stop()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_sync_list_show(server: DemoServer, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = str(tmp_path / "d")
    monkeypatch.setenv("OD_STAFF", server.staff_token)
    monkeypatch.setenv("OD_CUSTOMER", server.customer_token)
    code, out, _ = run(capsys, "connection", "add", "staff", "--kind", "shop-staff",
                       "--url", server.base_url, "--token-env", "OD_STAFF", "--data-dir", data)
    assert code == 0 and "OD_STAFF" in out and server.staff_token not in out
    run(capsys, "connection", "add", "me", "--kind", "ecommerce-customer", "--url",
        server.base_url, "--token-env", "OD_CUSTOMER", "--data-dir", data)
    code, out, _ = run(capsys, "connection", "test", "staff", "--data-dir", data)
    assert code == 0 and "300 order(s)" in out
    code, out, err = run(capsys, "sync", "--data-dir", data)
    assert code == 0, out + err
    assert "staff: success (full) — 300 new" in out
    # a first sync into an empty cache says when it builds the indexes (a new phase is
    # printed even within the 2 s between progress lines off a terminal)
    assert "staff: indexing 300/300 orders" in err and "staff: done" in err
    code, out, _ = run(capsys, "orders", "--connection", "staff", "--format", "json",
                       "--data-dir", data)
    rows = json.loads(out)
    assert code == 0 and len(rows) == 300
    totals = [r["total"] for r in rows]
    assert all(isinstance(t, str) for t in totals if t is not None)
    code, out, _ = run(capsys, "orders", "--connection", "staff", "--sort", "-total",
                       "--limit", "1", "--format", "json", "--data-dir", data)
    top = json.loads(out)[0]
    from decimal import Decimal
    assert Decimal(top["total"]) == max(Decimal(t) for t in totals if t is not None)
    code, out, _ = run(capsys, "show", f"staff:{top['number']}", "--data-dir", data)
    assert code == 0 and "Totals (server vs recomputed)" in out and top["number"] in out
    code, out, _ = run(capsys, "orders", "--status", "completed", "--format", "csv",
                       "--data-dir", data)
    assert code == 0 and out.splitlines()[0].startswith("number,created")
    code, out, _ = run(capsys, "connection", "list", "--data-dir", data)
    assert "staff" in out and "300 orders" in out
    config = (tmp_path / "d" / "config.json").read_text()
    assert server.staff_token not in config and server.customer_token not in config
    # no --page-size: each kind's default (shop pages of 1,000, ecommerce 100)
    sizes = {c["name"]: c["page_size"] for c in json.loads(config)["connections"]}
    assert sizes == {"staff": 1000, "me": 100}


def test_errors_are_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             server: DemoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    data = str(tmp_path / "d")
    code, _, err = run(capsys, "show", "nope", "--data-dir", data)
    assert code == 1 and "No cached order matches 'nope'" in err
    code, _, err = run(capsys, "connection", "add", "x", "--kind", "shop-staff", "--url",
                       "ftp://shop", "--token-env", "X", "--data-dir", data)
    assert code == 1 and "not an http(s) URL" in err
    monkeypatch.setenv("OD_BAD", "not-the-token")
    run(capsys, "connection", "add", "bad", "--kind", "shop-staff", "--url", server.base_url,
        "--token-env", "OD_BAD", "--data-dir", data)
    code, out, _ = run(capsys, "sync", "bad", "--data-dir", data)
    assert code == 1 and "did not accept the credentials" in out
    code, _, err = run(capsys, "connection", "test", "bad", "--data-dir", data)
    assert code == 1 and "did not accept the credentials" in err and "Traceback" not in err


def test_token_stdin_without_keyring_says_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.run(
        [sys.executable, "-m", "orderdesk", "connection", "add", "s", "--kind", "shop-staff",
         "--url", "https://shop.example", "--token-stdin", "--data-dir", str(tmp_path)],
        input="secret\n", capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "--token-env" in proc.stderr and "secret" not in proc.stderr.replace(
        "keyring", "").replace("--token", "")
    assert not (tmp_path / "config.json").exists() or "secret" not in (
        tmp_path / "config.json").read_text()


def test_export_csv_and_pdf_from_the_cli(server: DemoServer, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch,
                                         qapp: object) -> None:
    # qapp: the PDF export reuses the test session's QApplication instead of creating a
    # QGuiApplication that later widget tests could not use.
    import csv
    import shutil

    data = str(tmp_path / "d")
    monkeypatch.setenv("OD_STAFF", server.staff_token)
    run(capsys, "connection", "add", "staff", "--kind", "shop-staff", "--url", server.base_url,
        "--token-env", "OD_STAFF", "--data-dir", data)
    assert run(capsys, "sync", "--data-dir", data)[0] == 0
    out_csv = tmp_path / "done.csv"
    code, out, err = run(capsys, "export", "csv", "--status", "completed", "--out",
                         str(out_csv), "--columns", "number,total,status", "--data-dir", data)
    assert code == 0, err
    with out_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    _, listing, _ = run(capsys, "orders", "--status", "completed", "--format", "json",
                        "--data-dir", data)
    expected = json.loads(listing)
    assert [r["number"] for r in rows] == [r["number"] for r in expected]
    assert (tmp_path / "done.csv.meta.json").exists()
    numbers = [r["number"] for r in expected[:3]]
    pdf = tmp_path / "three.pdf"
    code, out, err = run(capsys, "export", "pdf", "--ids", ",".join(numbers), "--out",
                         str(pdf), "--data-dir", data)
    assert code == 0, err
    assert "3 order(s)" in out and pdf.stat().st_size > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert all(n in text for n in numbers)
    code, _, err = run(capsys, "export", "csv", "--columns", "colour", "--out",
                       str(tmp_path / "x.csv"), "--data-dir", data)
    assert code == 1 and "unknown column 'colour'" in err
    assert not (tmp_path / "x.csv").exists()


def test_orders_csv_neutralises_text_but_not_numbers(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from factories import shop_order

    from orderdesk.models import Customer
    from orderdesk.services.context import AppContext

    ctx = AppContext.open(tmp_path / "d")
    ctx.store.add_connection("staff", "shop-staff", "http://x")
    ctx.store.upsert_page("staff", [shop_order("1", customer=Customer(full_name="=HYPERLINK(1)"))])
    ctx.close()
    code, out, _ = run(capsys, "orders", "--format", "csv", "--data-dir", str(tmp_path / "d"))
    header, row = list(__import__("csv").reader(out.splitlines()))[:2]
    cells = dict(zip(header, row, strict=True))
    assert code == 0 and cells["customer"] == "'=HYPERLINK(1)" and cells["total"] == "33.49"


def test_says_when_it_checks_the_cache_first(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A first sync cut short by the computer stopping: the next command checks the
    whole cache first (up to a minute) and says so before it starts."""
    from tests.store.test_unsynced import _damage, _left_in_bulk

    data = tmp_path / "d"
    data.mkdir()
    _left_in_bulk(data / "orders.sqlite3", "another-boot", os.getpid())
    _damage(data / "orders.sqlite3")
    code, _, err = run(capsys, "orders", "--data-dir", str(data))
    assert code == 0
    assert err.startswith("orderdesk: checking the order cache first")
    assert "sync to fetch the orders again" in err  # it was damaged: set aside
    assert list(data.glob("orders.damaged-*.sqlite3"))
    code, _, err = run(capsys, "orders", "--data-dir", str(data))
    assert code == 0 and "checking" not in err  # once


def test_ctrl_c_stops_the_check_of_the_cache(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during the check (up to a minute) stops it; the cache is left as it was
    and checked again by the next command."""
    import _thread
    import threading
    import time

    from orderdesk.store import unsynced
    from tests.store.test_unsynced import _left_in_bulk

    data = tmp_path / "d"
    data.mkdir()
    _left_in_bulk(data / "orders.sqlite3", "another-boot", os.getpid())
    told: list[float | None] = []

    def long_check(p: Path, progress: object = None) -> bool:
        assert callable(progress)
        for step in range(1, 1000):  # 50 s at most: Ctrl-C must end it long before
            time.sleep(0.05)
            told.append(step / 1000)
            if not progress(step / 1000):
                raise unsynced.CheckStopped()
        raise AssertionError("the check was not stopped")

    monkeypatch.setattr(unsynced, "intact", long_check)
    threading.Timer(0.5, _thread.interrupt_main).start()  # Ctrl-C, half a second in
    started = time.monotonic()
    code, _, err = run(capsys, "orders", "--data-dir", str(data))
    assert time.monotonic() - started < 10 and told
    assert code == 1
    assert "Ctrl-C stops it" in err and "check of the order cache was stopped" in err
    assert unsynced.marker(data / "orders.sqlite3").exists()  # checked again next time
    assert not list(data.glob("orders.damaged-*"))

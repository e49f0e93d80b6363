"""Smoke check of the benchmark suite: ``python -m bench --quick --json`` at a tiny N.

Asserts only that every figure is present and positive; never gates on times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("sync_orders_per_s", "sync_limit_orders_per_s", "first_paint_s", "resort_s",
        "resort_limit_s", "filter_s", "search_s", "scroll_s", "rss_mb", "csv_rows_per_s",
        "csv_limit_rows_per_s", "pdf_orders_per_s", "pdf_batch_pages_per_s", "rss_anon_mb",
        "n_orders", "sync_stored_limit_orders_per_s", "sync_limit_share", "csv_limit_share")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_quick_benchmark_reports_every_figure(tmp_path: Path) -> None:
    env = {**os.environ, "ORDERDESK_BENCH_CACHE": str(tmp_path / "cache"),
           "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", "--n", "2000", "--runs", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=150, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in KEYS:
        assert key in result, key
        assert isinstance(result[key], (int, float)) and result[key] > 0, (key, result[key])
    assert result["n_orders"] == 2000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/stat")
def test_sync_profile_reports_each_process_and_the_serial_parts(tmp_path: Path) -> None:
    """``python -m bench.sync_profile`` (BENCHMARKS.md, Sync) at a tiny N, the worker
    asked for so that its start-up and CPU are measured too."""
    env = {**os.environ, "ORDERDESK_BENCH_CACHE": str(tmp_path / "cache"),
           "ORDERDESK_SYNC_WORKER": "1"}
    done = subprocess.run([sys.executable, "-m", "bench.sync_profile", "3000", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["orders"] == 3000 and result["orders_per_s"] > 0
    for key in ("engine_us_per_order", "worker_us_per_order", "server_us_per_order",
                "worker_ready_s", "worker_first_page_s", "indexes_s", "end_bulk_s"):
        assert isinstance(result[key], (int, float)) and result[key] > 0, (key, result)


def test_store_write_reports_each_part(tmp_path: Path) -> None:
    """``python -m bench.store_write`` (BENCHMARKS.md): every load and index build."""
    env = {**os.environ, "ORDERDESK_BENCH_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "bench.store_write", "1000", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["orders"] == 1000
    for parts in ("orders", "orders+lines", "orders+lines+docs", "orders+lines+docs+fts"):
        for what in ("load", "indexes"):
            assert result[f"{parts}_{what}_s"] > 0, (parts, what, result)

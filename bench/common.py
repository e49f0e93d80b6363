"""Shared helpers for the benchmarks: a demo server in its own process, timing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CACHE = Path(os.environ.get("ORDERDESK_BENCH_CACHE", Path(__file__).parent / ".cache"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server_process(orders: int, seed: int = 1) -> Iterator[tuple[str, str, float]]:
    """``orderdesk demo-server`` in a subprocess (so it does not share our GIL).

    Yields (base URL, staff token, start-up seconds)."""
    port = free_port()
    CACHE.mkdir(parents=True, exist_ok=True)
    data_file = CACHE / f"demo-{orders}-{seed}.sqlite3"
    cmd = [sys.executable, "-m", "orderdesk", "demo-server", "--orders", str(orders),
           "--seed", str(seed), "--port", str(port), "--data-file", str(data_file)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if proc.poll() is not None:
                raise RuntimeError("demo server exited: " + proc.stderr.read().decode()
                                   if proc.stderr else "")
            try:
                httpx.get(url + "/_demo/info", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, "demo-staff-token", time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def settled(fn: Callable[..., float], *args: Any) -> float:
    """``fn(*args)`` once what was written so far is on disk: the kernel's write-back of
    an earlier step (an export, a sync's hundreds of MB) would otherwise run during it."""
    if hasattr(os, "sync"):
        os.sync()
    return fn(*args)

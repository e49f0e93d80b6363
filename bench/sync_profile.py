"""Where a full sync's time goes: ``python -m bench.sync_profile N [RUNS]``.

The same sync as ``bench.sync_bench`` (shop-staff, full, pages of 1,000, the demo
server in its own process, warmed by one unmeasured pass), once per run, printing one
JSON line per run:

* ``orders_per_s``;
* CPU per order of each process: the engine's (this one, all its threads), the
  worker's (the ``spawn`` child, counted once it has been joined) and the server's
  (``/proc/<pid>/stat``; Linux);
* the serial parts: ``worker_ready_s`` (the worker taken over, after the walk went on
  here while it started), ``worker_first_page_s`` (its first page arrived),
  ``indexes_s`` (the secondary indexes built at the end) and ``end_bulk_s``.

Everything is imported inside :func:`main`: the worker (``spawn``) imports this module
again as its main one, and must not pay for the benchmark's imports.
"""

from __future__ import annotations

import glob
import json
import os
import resource
import time
from collections.abc import Callable, Iterator
from typing import Any


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pid(port: str) -> int | None:
    for folder in glob.glob("/proc/[0-9]*"):
        try:
            with open(folder + "/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if b"demo-server" in cmd and port.encode() in cmd:
            return int(folder.rsplit("/", 1)[1])
    return None


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def main(n: int, runs: int) -> None:
    import orderdesk.store.store as store_mod
    import orderdesk.sync.worker as worker_mod
    from bench.common import demo_server_process
    from bench.sync_bench import _orderdesk_sync

    phases: dict[str, float] = {}

    def timed(owner: Any, name: str, key: str) -> None:
        real: Callable[..., Any] = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                phases[key] = phases.get(key, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)

    timed(store_mod.OrderStore, "end_bulk", "end_bulk_s")
    timed(store_mod, "ensure_indexes", "indexes_s")
    real_go = worker_mod.WorkerWalk.go
    real_steps = worker_mod.WorkerWalk.steps

    def go(self: Any, bookmark: Any, boundary: list[str]) -> None:
        phases["worker_ready_s"] = time.perf_counter() - self.started
        real_go(self, bookmark, boundary)

    def steps(self: Any, cancelled: Callable[[], bool]) -> Iterator[Any]:
        for i, step in enumerate(real_steps(self, cancelled)):
            if i == 0:
                phases["worker_first_page_s"] = time.perf_counter() - self.started
            yield step

    worker_mod.WorkerWalk.go = go  # type: ignore[method-assign]
    worker_mod.WorkerWalk.steps = steps  # type: ignore[method-assign]
    with demo_server_process(n) as (url, token, _startup):
        server = _server_pid(url.rsplit(":", 1)[1])
        _orderdesk_sync(url, token, n)  # the server renders each order once: warm it
        for _ in range(runs):
            phases.clear()
            own0 = resource.getrusage(resource.RUSAGE_SELF)
            kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            srv0 = _proc_cpu(server) if server else 0.0
            rate = _orderdesk_sync(url, token, n)
            own1 = resource.getrusage(resource.RUSAGE_SELF)
            kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            srv1 = _proc_cpu(server) if server else 0.0
            out = {"orders": n, "orders_per_s": round(rate),
                   "engine_us_per_order": round((_cpu(own1) - _cpu(own0)) / n * 1e6, 1),
                   "worker_us_per_order": round((_cpu(kids1) - _cpu(kids0)) / n * 1e6, 1),
                   "server_us_per_order": round((srv1 - srv0) / n * 1e6, 1) if server else None,
                   **{k: round(v, 3) for k, v in phases.items()}}
            print(json.dumps(out), flush=True)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.sync_profile",
                                     description="Where a full sync's time goes.")
    parser.add_argument("orders", type=int, nargs="?", default=20_000,
                        help="orders the demo server holds and the sync reads")
    parser.add_argument("runs", type=int, nargs="?", default=2, help="measured runs")
    args = parser.parse_args()
    if args.orders < 1 or args.runs < 1:
        parser.error("orders and runs must be at least 1")
    main(args.orders, args.runs)

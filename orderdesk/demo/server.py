"""``DemoServer``: the demo shop on uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from orderdesk.demo.app import DemoConfig, Faults, create_app
from orderdesk.demo.constants import (
    DEFAULT_CUSTOMER_EMAIL,
    DEFAULT_CUSTOMER_PASSWORD,
    DEFAULT_CUSTOMER_TOKEN,
    DEFAULT_HOST,
    DEFAULT_ORDERS,
    DEFAULT_SEED,
    DEFAULT_STAFF_TOKEN,
)
from orderdesk.demo.dataset import Dataset


class _DropFilter(logging.Filter):
    """Hide uvicorn's complaint about the responses the ``drop`` fault leaves unfinished."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


_DROP_FILTER = _DropFilter()
logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)


class DemoServer:
    """The demo shop API on ``host:port`` (``port=0``: a free port), in a daemon thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. The data is
    built in :meth:`start` (in memory up to 50,000 orders; above that, or with
    ``data_file``, in a cached SQLite file).
    """

    def __init__(
        self,
        orders: int = DEFAULT_ORDERS,
        seed: int = DEFAULT_SEED,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        staff_token: str = DEFAULT_STAFF_TOKEN,
        customer_token: str = DEFAULT_CUSTOMER_TOKEN,
        customer_email: str = DEFAULT_CUSTOMER_EMAIL,
        customer_password: str = DEFAULT_CUSTOMER_PASSWORD,
        latency_ms: int = 0,
        fail_rate: float = 0.0,
        retry_after: int = 1,
        slow_ms: int = 1500,
        data_file: str | Path | None = None,
        cache_dir: str | Path | None = None,
        log_level: str = "critical",
        access_log: bool = False,
    ) -> None:
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        self.orders = orders
        self.seed = seed
        self.host = host
        self.requested_port = port
        self.staff_token = staff_token
        self.customer_token = customer_token
        self.customer_email = customer_email
        self.customer_password = customer_password
        self.faults = Faults(seed, fail_rate, latency_ms, slow_ms, retry_after)
        self.data_file = Path(data_file) if data_file is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.log_level = log_level
        self.access_log = access_log
        self.dataset: Dataset | None = None
        self.port = 0
        self.startup_seconds = 0.0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ info
    @property
    def base_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", ""):  # noqa: S104 - only a display name
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def keys(self) -> dict[str, str]:
        """Secrets per connection kind (basic auth as ``email:password``)."""
        return {"shop-staff": self.staff_token, "shop-customer": self.customer_token,
                "ecommerce-customer": self.customer_token,
                "ecommerce-customer-basic": f"{self.customer_email}:{self.customer_password}"}

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 30.0) -> DemoServer:
        if self._thread is not None:
            return self
        t0 = time.perf_counter()
        self.dataset = Dataset(self.orders, self.seed, data_file=self.data_file,
                               cache_dir=self.cache_dir)
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            self._sock = sock
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.requested_port))
            sock.listen(128)
            sock.setblocking(False)
            self.port = int(sock.getsockname()[1])
            app = create_app(self.dataset, self.faults, DemoConfig(
                self.staff_token, self.customer_token, self.customer_email,
                self.customer_password))
            config = uvicorn.Config(
                app, log_level=self.log_level, access_log=self.access_log, lifespan="off",
                loop="asyncio", http="h11", timeout_graceful_shutdown=2,
                log_config=None, server_header=False)
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(target=self._run, name="orderdesk-demo-server",
                                            daemon=True)
            self._thread.start()
            deadline = time.monotonic() + timeout
            while not self._server.started:
                if self._error is not None or not self._thread.is_alive():
                    raise RuntimeError(f"demo server failed to start: {self._error!r}")
                if time.monotonic() > deadline:
                    raise RuntimeError("demo server did not start in time")
                time.sleep(0.005)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - t0
        return self

    def _run(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # pragma: no cover - reported by start()
            self._error = exc

    def stop(self) -> None:
        """Stop serving, join the thread, close the socket and the data; idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive() and self._server is not None:  # pragma: no cover
                self._server.force_exit = True
                self._thread.join(timeout=5)
            self._thread = None
        self._server = None
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
        if self.dataset is not None:
            self.dataset.close()
            self.dataset = None

    def wait(self) -> None:
        """Block until the server thread ends (it does when :meth:`stop` is called)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"DemoServer({self.base_url!r}, orders={self.orders}, seed={self.seed})"

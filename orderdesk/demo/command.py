"""``orderdesk demo-server``: run the demo shop API until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from orderdesk.demo.constants import (
    DEFAULT_CUSTOMER_EMAIL,
    DEFAULT_CUSTOMER_PASSWORD,
    DEFAULT_CUSTOMER_TOKEN,
    DEFAULT_HOST,
    DEFAULT_ORDERS,
    DEFAULT_PORT,
    DEFAULT_SEED,
    DEFAULT_STAFF_TOKEN,
    ECOMMERCE_PATH,
    SHOP_CUSTOMER_PATH,
    STAFF_PATH,
)
from orderdesk.demo.server import DemoServer


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``orderdesk demo-server``."""
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"interface to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=_non_negative, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 = any free port)")
    parser.add_argument("--orders", type=_non_negative, default=DEFAULT_ORDERS,
                        help=f"number of orders in the shop (default {DEFAULT_ORDERS})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"data seed (default {DEFAULT_SEED})")
    parser.add_argument("--staff-token", default=DEFAULT_STAFF_TOKEN,
                        help="token of the staff user (GET /api/orders)")
    parser.add_argument("--customer-token", default=DEFAULT_CUSTOMER_TOKEN,
                        help="token of the demo customer (customer endpoints)")
    parser.add_argument("--latency-ms", type=_non_negative, default=0,
                        help="added latency per API request in milliseconds")
    parser.add_argument("--fail-rate", type=_rate, default=0.0,
                        help="share of API requests that fail (0..1): 500/502/503/429, "
                             "slow, truncated or malformed JSON, dropped connections")
    parser.add_argument("--data-file", default=None,
                        help="SQLite file for the generated orders (reused when it holds "
                             "the same seed and size; default: a cache in the temp folder)")
    parser.add_argument("--access-log", action="store_true", help="log every request")


def _print_banner(server: DemoServer) -> None:
    url = server.base_url
    print(f"orderdesk demo shop: {url}  ({server.orders} orders, seed {server.seed}; "
          f"ready in {server.startup_seconds:.1f} s)")
    print(f"  shop-staff          {url}{STAFF_PATH}")
    print(f"                      Authorization: Token {server.staff_token}")
    print(f"  shop-customer       {url}{SHOP_CUSTOMER_PATH}")
    print(f"                      Authorization: Token {server.customer_token}")
    print(f"  ecommerce-customer  {url}{ECOMMERCE_PATH}")
    print(f"                      Authorization: Bearer {server.customer_token}")
    print(f"                      or HTTP Basic {server.customer_email} / "
          f"{server.customer_password}")
    print(f"  change feed         POST {url}/_demo/mutate  {{\"count\": 10}}")
    print("Press Ctrl+C to stop.", flush=True)


def run(args: argparse.Namespace) -> int:
    """Start the server, print where and how to call it, serve until Ctrl+C; returns 0."""
    server = DemoServer(
        orders=args.orders, seed=args.seed, host=args.host, port=args.port,
        staff_token=args.staff_token, customer_token=args.customer_token,
        customer_email=DEFAULT_CUSTOMER_EMAIL, customer_password=DEFAULT_CUSTOMER_PASSWORD,
        latency_ms=args.latency_ms, fail_rate=args.fail_rate, data_file=args.data_file,
        log_level="info", access_log=bool(getattr(args, "access_log", False)),
    )
    if args.orders > 50_000:
        print(f"preparing {args.orders} orders (cached after the first run)...", flush=True)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous_term = signal.signal(signal.SIGTERM, on_term)
    previous_int = signal.getsignal(signal.SIGINT)
    try:
        try:
            server.start()
        except OSError as exc:
            print(f"orderdesk demo-server: cannot listen on {args.host}:{args.port}: {exc}",
                  file=sys.stderr)
            return 1
        _print_banner(server)
        while server.running:
            time.sleep(0.2)
        return 0
    except KeyboardInterrupt:
        print("\nstopping demo server", flush=True)
        return 0
    finally:
        # a second Ctrl+C (or a SIGTERM after the SIGINT) must not interrupt the shutdown
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            server.stop()
        finally:
            signal.signal(signal.SIGTERM, previous_term)
            signal.signal(signal.SIGINT, previous_int)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orderdesk demo-server")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

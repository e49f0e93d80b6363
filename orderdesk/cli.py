"""The ``orderdesk`` command line, on the same services as the window."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any, TextIO

from orderdesk import __version__
from orderdesk.config.connections import AUTH_KINDS, ConnectionConfig
from orderdesk.export.common import neutralise
from orderdesk.models.columns import COLUMNS, DEFAULT_COLUMNS, ColumnType, column
from orderdesk.models.entities import ConnectionKind
from orderdesk.models.errors import DataError, OrderdeskError
from orderdesk.models.query import OrderQuery, PaymentFilter, SortKey
from orderdesk.models.rows import OrderRow
from orderdesk.models.status import OrderStatus, StatusCategory
from orderdesk.services.connections import ConnectionService
from orderdesk.services.context import AppContext, Opening
from orderdesk.services.orders import OrderService
from orderdesk.services.sync import SyncService
from orderdesk.sync.progress import CancelToken, SyncProgress, SyncResult


# argument helpers -----------------------------------------------------------------
def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="folder for the cache and settings (default: the platform's "
                             "data folder, or $ORDERDESK_DATA_DIR)")
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log what happens (never secrets)")


def _day(text: str, *, end: bool = False) -> datetime:
    """A date or date-time; a bare date means that whole day (``end``: the day after)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            value = datetime.combine(day, dtime(), tzinfo=UTC)
            return value + timedelta(days=1) if end else value
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) "
                                         "or an ISO date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_query_arguments(parser: argparse.ArgumentParser) -> None:
    """Filters and sort shared by ``orders`` and ``export``."""
    g = parser.add_argument_group("filters")
    g.add_argument("--connection", action="append", default=[], metavar="NAME")
    g.add_argument("--status", type=_csv_list, default=(), metavar="S[,S]",
                   help="status categories (" + ", ".join(c.value for c in StatusCategory)
                   + ") or the shop's own status names")
    g.add_argument("--search", default="", metavar="TEXT", help="free text")
    g.add_argument("--created-from", type=_day, metavar="DATE")
    g.add_argument("--created-to", type=lambda t: _day(t, end=True), metavar="DATE",
                   help="inclusive day (or an exclusive date-time)")
    g.add_argument("--updated-from", type=_day, metavar="DATE")
    g.add_argument("--updated-to", type=lambda t: _day(t, end=True), metavar="DATE")
    g.add_argument("--total-min", type=_decimal, metavar="AMOUNT")
    g.add_argument("--total-max", type=_decimal, metavar="AMOUNT")
    g.add_argument("--payment", choices=[p.value for p in PaymentFilter])
    g.add_argument("--payment-method", type=_csv_list, default=(), metavar="NAME[,NAME]")
    g.add_argument("--shipping-method", type=_csv_list, default=(), metavar="NAME[,NAME]")
    g.add_argument("--country", type=_csv_list, default=(), metavar="NAME[,NAME]")
    g.add_argument("--has-notes", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--problems", action=argparse.BooleanOptionalAction, default=None,
                   help="only orders whose totals do (or --no-problems: do not) reconcile")
    g.add_argument("--sort", default="-created", metavar="KEY[,-KEY]",
                   help="sort keys, '-' for descending (e.g. -total,customer)")


def query_from_args(args: argparse.Namespace) -> OrderQuery:
    categories: list[StatusCategory] = []
    raw: list[str] = []
    for status in args.status:
        try:
            categories.append(StatusCategory(status.lower().replace(" ", "_")))
        except ValueError:
            raw.append(status)
    return OrderQuery(
        connections=tuple(args.connection), categories=tuple(categories), statuses=tuple(raw),
        text=args.search, created_from=args.created_from, created_to=args.created_to,
        updated_from=args.updated_from, updated_to=args.updated_to,
        total_min=args.total_min, total_max=args.total_max,
        payment=PaymentFilter(args.payment) if args.payment else None,
        payment_methods=args.payment_method, shipping_methods=args.shipping_method,
        countries=args.country, has_notes=args.has_notes, has_problems=args.problems,
        sort=tuple(SortKey.parse(k) for k in _csv_list(args.sort)),
    )


# output helpers -------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, OrderStatus):
        return value.label
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal | datetime):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, OrderStatus):
        return value.raw
    return value


def _row_dict(row: OrderRow) -> dict[str, Any]:
    out = {c.key: _json_value(c.value(row)) for c in COLUMNS}
    out["status_category"] = str(row.status.category)
    out["currency"] = row.currency
    out["remote_id"] = row.remote_id
    return out


def _print_table(rows: list[OrderRow], keys: Sequence[str], out: TextIO) -> None:
    cols = [column(k) for k in keys]
    table = [[c.label for c in cols]]
    for row in rows:
        cells = []
        for c in cols:
            value = c.value(row)
            if c.type is ColumnType.DATETIME and value is not None:
                cells.append(value.astimezone().strftime("%Y-%m-%d %H:%M"))
            elif c.type is ColumnType.MONEY and value is not None:
                cells.append(f"{value:,.2f} {row.currency}")
            elif c.type is ColumnType.PROBLEMS:
                cells.append("⚠" if value else "✓")
            else:
                cells.append(_cell(value))
        table.append(cells)
    widths = [min(40, max(len(r[i]) for r in table)) for i in range(len(cols))]
    for n, r in enumerate(table):
        out.write("  ".join(
            (v[:w].rjust(w) if cols[i].type in (ColumnType.MONEY, ColumnType.INT)
             else v[:w].ljust(w)) for i, (v, w) in enumerate(zip(r, widths, strict=True)))
            .rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


# commands ---------------------------------------------------------------------------
def cmd_connection_add(args: argparse.Namespace, ctx: AppContext) -> int:
    if args.token_stdin and args.token_env:
        raise DataError("Use either --token-stdin or --token-env, not both.")
    secret = None
    if args.token_stdin:
        secret = sys.stdin.readline().strip()
        if not secret:
            raise DataError("No token was given on standard input.")
    config = ConnectionConfig(
        name=args.name, kind=ConnectionKind(args.kind), base_url=args.url,
        display_name=args.display_name or "", currency=(args.currency or "").upper(),
        auth=args.auth or "", username=args.username or "", token_env=args.token_env or "",
        page_size=args.page_size)
    ConnectionService(ctx).add(config, secret)
    where = ctx.secrets.describe(config)
    print(f"Added connection {config.name} ({config.kind}, {config.base_url}); "
          f"secret: {where}.")
    return 0


def cmd_connection_list(args: argparse.Namespace, ctx: AppContext) -> int:
    configs = ConnectionService(ctx).list()
    if not configs:
        print("No connections. Add one with `orderdesk connection add NAME --kind KIND "
              "--url URL --token-stdin`.")
        return 0
    summaries = {s.name: s for s in OrderService(ctx.store).connections()}
    for c in configs:
        s = summaries.get(c.name)
        last = s.last_success.astimezone().strftime("%Y-%m-%d %H:%M") if s and \
            s.last_success else "never"
        print(f"{c.name:<20} {c.kind:<19} {c.base_url:<40} {s.orders if s else 0:>8} orders  "
              f"last sync: {last}  secret: {ctx.secrets.describe(c)}")
    return 0


def cmd_connection_test(args: argparse.Namespace, ctx: AppContext) -> int:
    print(ConnectionService(ctx).test(args.name))
    return 0


def cmd_connection_remove(args: argparse.Namespace, ctx: AppContext) -> int:
    removed = ConnectionService(ctx).remove(args.name, keep_orders=args.keep_orders)
    print(f"Removed connection {args.name}" + ("" if args.keep_orders
                                                else f" and its {removed} cached order(s)."))
    return 0


class _Progress:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.last = 0.0
        self.phase = ""

    def __call__(self, p: SyncProgress) -> None:
        now = time.monotonic()
        # a new phase is always shown: "indexing" can last ~20 s at a million orders
        if (p.phase == self.phase and p.phase != "done"
                and now - self.last < (0.1 if self.tty else 2.0)):
            return
        self.last, self.phase = now, p.phase
        total = f"/{p.total}" if p.total else ""
        if self.tty:
            frac = p.fraction or 0.0
            bar = "#" * int(frac * 30)
            self.out.write(f"\r{p.connection}: [{bar:<30}] {p.orders}{total} orders, "
                           f"{p.pages} pages")
            if p.phase == "indexing":
                self.out.write(", indexing for sort and search...")
            if p.phase in ("indexing", "done"):
                self.out.write("\n")
        else:
            self.out.write(f"{p.connection}: {p.phase} {p.orders}{total} orders, "
                           f"{p.pages} pages\n")
        self.out.flush()


def _summary(r: SyncResult) -> str:
    text = (f"{r.connection}: {r.outcome} ({r.mode}) — {r.added} new, {r.changed} changed, "
            f"{r.removed} deleted, {len(r.errors)} error(s), {r.fetched} fetched in "
            f"{r.seconds:.1f}s")
    if r.message:
        text += f"\n  {r.message}"
    return text


def _open(data_dir: str | None) -> AppContext:
    """``AppContext.open``. When the cache must be checked first (its first sync was cut
    short by the computer stopping; up to a minute), it says so, shows how much of the
    file was read on a terminal, and Ctrl-C stops the check (``CheckStopped``: the cache
    is left as it was): the check runs on a thread, the main thread waits for Ctrl-C."""
    if not AppContext.checks_first(data_dir):
        return AppContext.open(data_dir)
    print("orderdesk: checking the order cache first (its first sync was cut short "
          "when the computer stopped); this can take a minute for a large cache "
          "(Ctrl-C stops it)", file=sys.stderr, flush=True)
    tty = sys.stderr.isatty()
    opening = Opening(data_dir)
    while True:
        try:
            if opening.done.wait(0.1):
                break
        except KeyboardInterrupt:
            opening.stop()
        if tty and opening.share is not None:
            print(f"\r  {opening.share:4.0%} of the cache read", end="", file=sys.stderr,
                  flush=True)
    if tty:
        print(file=sys.stderr)
    return opening.result()


def cmd_sync(args: argparse.Namespace, ctx: AppContext) -> int:
    service = SyncService(ctx)
    names = args.names or service.connection_names()
    if not names:
        print("No connections to sync. Add one with `orderdesk connection add`.",
              file=sys.stderr)
        return 1
    cancel = CancelToken()
    try:
        results = service.sync(names, full=args.full, progress=_Progress(sys.stderr),
                               cancel=cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        print("\nInterrupted.", file=sys.stderr)
        return 130
    for r in results:
        print(_summary(r))
        for err in r.errors[:10]:
            print(f"  - {err}")
    return 0 if results and all(r.ok for r in results) else 1


def cmd_orders(args: argparse.Namespace, ctx: AppContext) -> int:
    service = OrderService(ctx.store)
    query = query_from_args(args)
    ids = service.ids(query, limit=args.limit)
    rows = service.rows(ids)
    out = sys.stdout
    if args.format == "json":
        json.dump([_row_dict(r) for r in rows], out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif args.format == "csv":
        writer = csv.writer(out)
        keys = [c.key for c in COLUMNS]
        writer.writerow([*keys, "currency"])
        text_keys = {c.key for c in COLUMNS if c.type is ColumnType.TEXT}
        for r in rows:
            d = _row_dict(r)
            writer.writerow([neutralise(_cell(d[k])) if k in text_keys else _cell(d[k])
                             for k in keys] + [r.currency])
    else:
        _print_table(rows, DEFAULT_COLUMNS, out)
        print(f"{len(rows)} of {service.count(query)} matching orders "
              f"({service.total()} cached)", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace, ctx: AppContext) -> int:
    service = OrderService(ctx.store)
    detail = service.detail(service.resolve(args.order))
    assert detail is not None
    o, pr = detail.order, detail.pricing
    cur = o.currency
    print(f"Order {o.number}  ({o.connection}, id {o.remote_id})")
    print(f"Status: {o.status.label}" + (f" [{o.status.raw}]" if o.status.raw != o.status.label
                                         else ""))
    print(f"Created {o.created_at.astimezone():%Y-%m-%d %H:%M}, "
          f"updated {o.updated_at.astimezone():%Y-%m-%d %H:%M}")
    if o.customer_name or o.email:
        print(f"Customer: {o.customer_name} {('<' + o.email + '>') if o.email else ''}".rstrip())
    if o.billing:
        print("Billing: " + ", ".join(o.billing.lines()))
    if o.payment_method or o.shipping_method:
        print(f"Payment: {o.payment_method.name if o.payment_method else '-'}   "
              f"Shipping: {o.shipping_method.name if o.shipping_method else '-'}")
    print("\nLines:")
    print(f"  {'product':<34} {'unit':>10} {'disc.':>8} {'qty':>4} {'line disc.':>10} "
          f"{'total':>11}")
    for raw, line in zip(o.lines, pr.lines, strict=True):
        print(f"  {raw.product_name[:34]:<34} {line.unit_price:>10} {line.unit_discount:>8} "
              f"{line.quantity:>4} {line.discount:>10} {line.total:>11}")
    print("\nTotals (server vs recomputed):")
    for check in pr.checks:
        mark = "✓" if check.ok else "⚠"
        server = "-" if check.server is None else str(check.server)
        again = "-" if check.recomputed is None else str(check.recomputed)
        print(f"  {mark} {check.name:<20} {server:>12} {again:>12}   {check.formula}")
    print(f"  total formula: {pr.total_formula}   currency: {cur}")
    print(f"\nPayment: {pr.payment_state}  paid {pr.amount_paid}  outstanding "
          f"{pr.amount_outstanding}")
    for pay in o.payments:
        when = pay.created_at.astimezone().strftime("%Y-%m-%d %H:%M") if pay.created_at else ""
        print(f"  {pay.amount:>10} {pay.method:<12} {pay.status:<10} {pay.reference:<16} {when}")
    if o.notes:
        print(f"\nNotes: {o.notes}")
    if pr.problems:
        print("\nProblems:")
        for problem in pr.problems:
            print(f"  ⚠ {problem}")
    return 0


def cmd_export(args: argparse.Namespace, ctx: AppContext) -> int:
    from orderdesk.services.export import ExportService

    orders = OrderService(ctx.store)
    ids = [orders.resolve(ref) for ref in args.ids] if args.ids else None
    query = None if ids is not None else query_from_args(args)
    service = ExportService(ctx.store)
    progress = _ExportProgress(sys.stderr)
    if args.format == "csv":
        columns = list(args.columns) if args.columns else None
        if columns:
            for key in columns:
                column(key)  # a clear error for an unknown column
        result = service.export_csv(args.out, ids=ids, query=query, columns=columns,
                                    lines=args.lines, bom=args.bom,
                                    metadata=not args.no_metadata, progress=progress)
        progress.finish()
        print(f"Wrote {result.rows} row(s) for {result.orders} order(s) to {result.path}"
              + (f" (metadata: {result.metadata_path})" if result.metadata_path else ""))
        return 0
    pdf = service.export_pdf(args.out, ids=ids, query=query,
                             mode="per-order" if args.per_order else "batch",
                             progress=progress)
    progress.finish()
    where = pdf.folder if pdf.folder else pdf.paths[0] if pdf.paths else args.out
    print(f"Wrote {pdf.orders} order(s), {pdf.pages} page(s) in {len(pdf.paths)} file(s) "
          f"to {where}")
    return 0


class _ExportProgress:
    def __init__(self, out: TextIO) -> None:
        self.out, self.tty, self.shown = out, out.isatty(), False

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            self.out.write(f"\rexporting {done}/{total}")
            self.out.flush()
            self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.out.write("\n")


def cmd_demo_server(args: argparse.Namespace) -> int:
    from orderdesk.demo import command

    return command.run(args)


# parser -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orderdesk",
        description="Review, search and export a shop's orders from a local cache. "
                    "Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"orderdesk {__version__}")
    parser.add_argument("--data-dir", help="folder for the cache and settings (default: the "
                        "platform's data folder, or $ORDERDESK_DATA_DIR)")
    parser.add_argument("--demo", action="store_true",
                        help="open the window on the embedded demo shop")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    conn = sub.add_parser("connection", help="add, list, test or remove connections")
    csub = conn.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = csub.add_parser("add", help="add (or replace) a connection")
    _common(add)
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=[k.value for k in ConnectionKind])
    add.add_argument("--url", required=True, help="the shop's base URL, e.g. https://shop.example")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--token-env", metavar="VAR",
                        help="read the token (or password) from this environment variable")
    secret.add_argument("--token-stdin", action="store_true",
                        help="read the token (or password) from standard input and keep it "
                             "in the system keyring")
    add.add_argument("--auth", choices=AUTH_KINDS, help="ecommerce-customer: bearer (default) "
                     "or basic")
    add.add_argument("--username", help="e-mail for --auth basic")
    add.add_argument("--currency", help="ISO currency code when the shop does not send one")
    add.add_argument("--display-name")
    add.add_argument("--page-size", type=int, default=0,
                     help="orders per page (default: 1000 for shop kinds, 100 for ecommerce)")
    add.set_defaults(handler=cmd_connection_add)
    for action, handler, text in (("list", cmd_connection_list, "list connections"),
                                  ("test", cmd_connection_test, "try a connection"),
                                  ("remove", cmd_connection_remove, "remove a connection")):
        p = csub.add_parser(action, help=text)
        _common(p)
        if action != "list":
            p.add_argument("name")
        if action == "remove":
            p.add_argument("--keep-orders", action="store_true",
                           help="keep its cached orders")
        p.set_defaults(handler=handler)

    sync = sub.add_parser("sync", help="fetch new and changed orders into the cache")
    _common(sync)
    sync.add_argument("names", nargs="*", metavar="NAME", help="connections (default: all)")
    sync.add_argument("--full", action="store_true",
                      help="fetch everything and reconcile deletions")
    sync.set_defaults(handler=cmd_sync)

    orders = sub.add_parser("orders", help="list cached orders (offline)")
    _common(orders)
    add_query_arguments(orders)
    orders.add_argument("--limit", type=int, default=None)
    orders.add_argument("--format", choices=("table", "json", "csv"), default="table")
    orders.set_defaults(handler=cmd_orders)

    show = sub.add_parser("show", help="one order: lines, totals, payments")
    _common(show)
    show.add_argument("order", help="order number or id (qualify as CONNECTION:NUMBER "
                                    "when ambiguous)")
    show.set_defaults(handler=cmd_show)

    export = sub.add_parser("export", help="export cached orders to CSV or PDF")
    _common(export)
    export.add_argument("format", choices=("csv", "pdf"))
    export.add_argument("--out", required=True, metavar="PATH",
                        help="file to write (a folder with --per-order)")
    export.add_argument("--ids", type=_csv_list, default=(), metavar="ORDER[,ORDER]",
                        help="these orders (numbers or ids, CONNECTION:NUMBER when "
                             "ambiguous) instead of the filters")
    add_query_arguments(export)
    export.add_argument("--columns", type=_csv_list, default=(), metavar="a,b,c",
                        help="CSV columns (default: " + ",".join(DEFAULT_COLUMNS) + "; all: "
                             + ",".join(c.key for c in COLUMNS) + ")")
    export.add_argument("--lines", action="store_true", help="CSV: one row per order line")
    export.add_argument("--bom", action="store_true",
                        help="CSV: start with a UTF-8 BOM (for spreadsheet programs)")
    export.add_argument("--no-metadata", action="store_true",
                        help="CSV: no PATH.meta.json sidecar")
    export.add_argument("--per-order", action="store_true",
                        help="PDF: one file per order into the folder --out")
    export.set_defaults(handler=cmd_export)

    demo = sub.add_parser("demo-server", help="run the demo shop API server")
    try:
        from orderdesk.demo import command as demo_command

        demo_command.add_arguments(demo)
    except ImportError:  # pragma: no cover - the demo package is part of orderdesk
        pass
    demo.set_defaults(handler=None, plain=cmd_demo_server)

    return parser


def _join_sort(argv: Sequence[str]) -> list[str]:
    """``--sort -total`` means ``--sort=-total`` (argparse would take -total for an option)."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        if items[i] == "--sort" and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append("--sort=" + items[i + 1])
            i += 2
            continue
        out.append(items[i])
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_sort(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:  # the window is opened by orderdesk.launcher
        parser.print_help()
        return 2
    plain = getattr(args, "plain", None)
    if plain is not None:
        return int(plain(args))
    ctx = None
    try:
        ctx = _open(args.data_dir)
        if ctx.store.recovered is not None:
            print("orderdesk: the order cache was found damaged (its first sync was cut "
                  f"short when the computer stopped); it was moved to {ctx.store.recovered} "
                  "and a new, empty cache started: sync to fetch the orders again",
                  file=sys.stderr, flush=True)
        return int(args.handler(args, ctx))
    except OrderdeskError as exc:
        print(f"orderdesk: {exc.message}", file=sys.stderr)
        if exc.details and args.verbose:
            print(f"  details: {exc.details}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `orderdesk orders | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if ctx is not None:
            ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

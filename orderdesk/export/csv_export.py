"""CSV export: one row per order or per line item, exact decimals, formula-safe text.

Format (RFC 4180, ``\\r\\n`` line ends, UTF-8, optional BOM for Excel):

* a header row of column keys (``orderdesk.models.columns.COLUMNS`` keys, in the
  chosen order), then ``currency``, then in line mode the ``line_*`` columns;
* dates ISO 8601 in UTC with ``Z``; money as plain decimal text (no thousands
  separators, never through float), empty when unknown; counts as integers;
* text cells that start with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading
  ``'`` so spreadsheets show them as text (CSV injection). Only text columns are
  touched: numbers orderdesk formats itself (money, counts, dates) never are, so
  a negative amount ``-5.00`` stays a number;
* line mode: an order without lines still gets one row, with empty line cells.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

from orderdesk import __version__
from orderdesk.export.common import (
    Cancel,
    CsvExportResult,
    Progress,
    atomic_path,
    cancel_check,
    commit,
    iso_utc,
    neutralise,
    os_error,
    report,
)
from orderdesk.models.columns import DEFAULT_COLUMNS, ColumnType, OrderColumn, column
from orderdesk.models.entities import Order
from orderdesk.models.money import Money
from orderdesk.models.pricing import reconcile
from orderdesk.models.rows import OrderRow
from orderdesk.store import OrderStore
from orderdesk.store import bulk as reader

BOM = b"\xef\xbb\xbf"
CURRENCY = "currency"
#: Columns added per line item in line mode (money in major units of the order's currency).
LINE_COLUMNS: tuple[str, ...] = (
    "line_no", "line_product", "line_product_id", "line_variant", "line_offer",
    "line_unit_price", "line_unit_discount", "line_quantity", "line_discount", "line_total",
)
ROW_CHUNK = 1000
LINE_CHUNK = 200


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def resolve_columns(columns: Sequence[str] | None) -> tuple[str, ...]:
    keys = tuple(DEFAULT_COLUMNS if columns is None else columns)
    for key in keys:
        column(key)  # DataError for an unknown key
    if not keys:
        from orderdesk.models.errors import DataError

        raise DataError("Choose at least one column to export.")
    return tuple(dict.fromkeys(keys))


def header(keys: Sequence[str], lines: bool) -> list[str]:
    out = [k for k in keys if k != CURRENCY] + [CURRENCY]
    return out + list(LINE_COLUMNS) if lines else out


# -- cells from the public OrderRow path ------------------------------------------------

def _cell(col: OrderColumn, row: OrderRow) -> Any:
    value = col.value(row)
    kind = col.type
    if kind is ColumnType.TEXT:
        return neutralise(value or "")
    if kind is ColumnType.STATUS:
        return neutralise(value.raw)
    if kind is ColumnType.MONEY:
        return "" if value is None else f"{value:f}"
    if kind is ColumnType.DATETIME:
        return iso_utc(value)
    return value  # INT, PROBLEMS: integers


#: One chunk of orders: their ids, their rows, the names of their connections and how
#: many leading values of each row are not cells (ids the fast reader carries along).
OrderChunk = tuple[list[int], list[Sequence[Any]], Collection[str], int]


def _row_cells(store: OrderStore, ids: Sequence[int], keys: Sequence[str],
               chunk: int) -> Iterator[OrderChunk]:
    cols = [column(k) for k in keys]
    for start in range(0, len(ids), chunk):
        rows = store.rows(ids[start:start + chunk])
        yield ([r.id for r in rows],
               [(*(_cell(c, r) for c in cols), neutralise(r.currency)) for r in rows],
               {r.connection for r in rows}, 0)


def _fast_cells(store: OrderStore, ids: Sequence[int], keys: Sequence[str],
                chunk: int) -> Iterator[OrderChunk]:
    names = reader.connection_names(store)
    conn_of = itemgetter(1)
    for found, rows in reader.iter_text_rows(store, ids, [*keys, CURRENCY], chunk):
        conns = {names.get(i, "?") for i in set(map(conn_of, rows))}
        yield found, rows, conns, reader.TEXT_SKIP


def _fast_blocks(store: OrderStore, ids: Sequence[int], keys: Sequence[str],
                 chunk: int) -> Generator[tuple[str, int, Collection[str]], None, None]:
    """Per chunk: its CSV text (exactly :func:`csv_text` of the chunk's rows), the number
    of orders found and their connections. SQLite reads each chunk in one row, made
    into lines here (:func:`reader.iter_text_lines`); a chunk whose text holds a cell
    ``csv.writer`` would quote, or whose rows are not its ids in order, is read as rows
    and written by :func:`csv_text`."""
    names = reader.connection_names(store)
    cols = [*keys, CURRENCY]
    commas = len(cols) - 1
    for block in reader.iter_text_lines(store, ids, cols, chunk):
        text, count = block.text, block.rows
        conns = {names.get(i, "?") for i in block.connection_ids}
        if (text is not None and text.count(",") != count * commas and text.count("\n") == count
                and text.count("\r") == count and '"' not in text):
            # only commas in some cells ("Korea, Republic of"): lines split exactly, and
            # the lines with too many are written again from their rows
            text = _requote(store, ids[block.start:block.start + count], cols, commas,
                            text.split("\r\n")[:-1])
            plain = text is not None
        else:
            plain = text is not None and (text.count(",") == count * commas
                                          and text.count("\n") == count
                                          and text.count("\r") == count and '"' not in text)
        if text is None or not plain:
            part = ids[block.start:block.start + chunk]
            text = ""
            count = 0
            for found, rows in reader.iter_text_rows(store, part, cols, chunk):
                text += csv_text(rows, reader.TEXT_SKIP)
                count += len(found)
        yield text, count, conns


def _requote(store: OrderStore, ids: Sequence[int], cols: Sequence[str], commas: int,
             lines: list[str]) -> str | None:
    """The chunk's text with the lines that hold a comma in a cell (``ids[i]`` is line
    ``i``) written from their rows by :func:`csv_text`; None when they cannot be read."""
    bad = [n for n, line in enumerate(lines) if line.count(",") != commas]
    wanted = [ids[n] for n in bad]
    for found, rows in reader.iter_text_rows(store, wanted, cols, max(len(wanted), 1)):
        if found != wanted:
            return None
        for n, row in zip(bad, rows, strict=True):
            lines[n] = csv_text([row], reader.TEXT_SKIP)[:-2]
    return "\r\n".join(lines) + "\r\n"


def order_cells(store: OrderStore, ids: Sequence[int], keys: Sequence[str], *,
                chunk: int = ROW_CHUNK, fast: bool = True) -> Iterator[OrderChunk]:
    """Per chunk, the orders found among ``ids`` (in order): ids, rows, connections, and
    the number of leading non-cell values per row (see :func:`csv_text`)."""
    if fast and set(keys) <= reader.FAST_KEYS:
        return _fast_cells(store, ids, keys, chunk)
    return _row_cells(store, ids, keys, chunk)


# -- line cells -------------------------------------------------------------------------

def _amount(value: Decimal, currency: str) -> str:
    return Money(value, currency).plain()


def line_cells(order: Order) -> list[list[Any]]:
    """The ``LINE_COLUMNS`` cells of each line of ``order`` (one empty row when none)."""
    if not order.lines:
        return [[""] * len(LINE_COLUMNS)]
    recon = reconcile(order)
    cur = order.currency
    out: list[list[Any]] = []
    for number, (line, fig) in enumerate(zip(order.lines, recon.lines, strict=True), start=1):
        out.append([
            number, neutralise(line.product_name), neutralise(line.product_id or ""),
            neutralise(line.variant), neutralise(line.offer),
            _amount(fig.unit_price, cur), _amount(fig.unit_discount, cur), fig.quantity,
            _amount(fig.discount, cur), _amount(fig.total, cur),
        ])
    return out


# -- writing ----------------------------------------------------------------------------

def _writer_text(rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _plain(line: str, commas: int) -> bool:
    r"""True when ``line`` (one row joined by commas, ``\r\n`` at its end) has no cell that
    ``csv.writer`` would quote, and no ``None`` (which it writes as empty)."""
    return (line.count(",") == commas and line.count("\n") == 1 and line.count("\r") == 1
            and '"' not in line and "None" not in line)


def csv_text(rows: Sequence[Sequence[Any]], skip: int = 0) -> str:
    r"""Exactly what ``csv.writer(lineterminator="\r\n").writerows`` writes for the rows
    without their first ``skip`` values, made faster for the usual rows.

    Rows of ``str``/``int`` cells are joined with ``,`` in C (``"%s,%s..." % row``;
    ``%.0s`` drops the leading values). That is ``csv.writer``'s text whenever no cell
    holds ``,``, ``"``, CR or LF (QUOTE_MINIMAL quotes only those) and none is None;
    the whole chunk is checked at once by counting separators and line ends, and
    only when that fails is each row checked and the rows that need quoting go
    through ``csv.writer``. A single-cell row is always ``csv.writer``'s (it quotes
    an empty one).
    """
    if not rows:
        return ""
    width = len(rows[0]) - skip
    if width < 2:
        return _writer_text([r[skip:] for r in rows])
    if not isinstance(rows[0], tuple):
        rows = [tuple(r) for r in rows]
    fmt = "%.0s" * skip + ",".join(("%s",) * width) + "\r\n"
    commas = width - 1
    text = "".join(map(fmt.__mod__, rows))
    n = len(rows)
    if (text.count(",") == n * commas and text.count("\n") == n and text.count("\r") == n
            and '"' not in text and "None" not in text):
        return text
    return "".join(line if _plain(line, commas) else _writer_text([row[skip:]])
                   for row, line in zip(rows, map(fmt.__mod__, rows), strict=True))


class _HashingWriter:
    """Encodes a chunk of rows once, hashes and writes the bytes."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def raw(self, data: bytes) -> None:
        self.hash.update(data)
        self.fh.write(data)
        self.size += len(data)

    def rows(self, rows: Sequence[Sequence[Any]], skip: int = 0) -> None:
        self.raw(csv_text(rows, skip).encode("utf-8", "replace"))


def write_csv(store: OrderStore, path: Path, ids: Sequence[int], *,
              columns: Sequence[str] | None = None, lines: bool = False, bom: bool = False,
              metadata: bool = True, meta: Mapping[str, Any] | None = None,
              progress: Progress | None = None, cancel: Cancel | None = None,
              fast: bool = True) -> CsvExportResult:
    """Write the orders ``ids`` (in that order) to ``path``; see the module doc for the format.

    ``meta`` adds entries (scope, query, sort...) to the ``PATH.meta.json`` sidecar.
    Raises :class:`ExportCancelled` or :class:`ExportError`; the file appears only
    when complete.
    """
    started = time.perf_counter()
    path = Path(path)
    keys = resolve_columns(columns)
    keys = tuple(k for k in keys if k != CURRENCY)
    check = cancel_check(cancel)
    total = len(ids)
    rows = orders = 0
    seen: set[str] = set()
    check()
    report(progress, 0, total)
    with atomic_path(path) as tmp:
        try:
            with open(tmp, "wb") as fh:
                out = _HashingWriter(fh)
                if bom:
                    out.raw(BOM)
                out.rows([header(keys, lines)])
                chunk = LINE_CHUNK if lines else ROW_CHUNK
                blocks = (fast and not lines and set(keys) <= reader.FAST_KEYS
                          and reader.text_lines_supported(store))
                # closed at once on cancel or failure: it may have reader processes
                with closing(_fast_blocks(store, ids, keys, chunk)) as fast_blocks:
                    for text, count, conns in (fast_blocks if blocks else ()):
                        check()
                        out.raw(text.encode("utf-8", "replace"))
                        rows += count
                        orders += count
                        seen.update(conns)
                        report(progress, min(orders, total), total)
                for found, cells, conns, skip in (() if blocks else order_cells(
                        store, ids, keys, chunk=chunk, fast=fast)):
                    check()
                    if lines:
                        full = reader.pricing_orders(store, found)
                        batch: list[Sequence[Any]] = []
                        for oid, order_part in zip(found, cells, strict=True):
                            if oid in full:
                                head = list(order_part[skip:])
                                batch += [head + lc for lc in line_cells(full[oid])]
                        out.rows(batch)
                    else:
                        batch = cells
                        out.rows(batch, skip)
                    rows += len(batch)
                    orders += len(found)
                    seen.update(conns)
                    report(progress, min(orders, total), total)
                check()
        except OSError as exc:
            raise os_error(exc, path) from exc
        digest = out.hash.hexdigest()
        meta_file: Path | None = None
        if metadata:
            meta_file = meta_path(path)
            doc = _metadata(store, path, keys, lines, bom, rows, orders, digest, out.size,
                            sorted(seen), meta or {})
            with atomic_path(meta_file) as meta_tmp:
                try:
                    meta_tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
                except OSError as exc:
                    raise os_error(exc, meta_file) from exc
                check()
                commit(tmp, path)
                commit(meta_tmp, meta_file)
        else:
            check()
            commit(tmp, path)
    report(progress, total, total)
    return CsvExportResult(path=path, rows=rows, orders=orders,
                           seconds=time.perf_counter() - started, sha256=digest,
                           metadata_path=meta_file)


def _metadata(store: OrderStore, path: Path, keys: Sequence[str], lines: bool, bom: bool,
              rows: int, orders: int, digest: str, size: int, connections: list[str],
              extra: Mapping[str, Any]) -> dict[str, Any]:
    known = {c.name: c for c in store.list_connections()}
    conns = []
    for name in connections:
        info = known.get(name)
        last = store.last_success(name) if info is not None else None
        conns.append({"name": name, "kind": info.kind if info else "",
                      "base_url": info.base_url if info else "",
                      "last_sync": iso_utc(last) or None})
    return {
        "format": "orderdesk-csv-export",
        "format_version": 1,
        "file": path.name,
        "sha256": digest,
        "bytes": size,
        "rows": rows,
        "orders": orders,
        "header": header(keys, lines),
        "columns": list(keys),
        "lines": lines,
        "encoding": "utf-8-sig" if bom else "utf-8",
        "formula_prefix": "'",
        **dict(extra),
        "connections": conns,
        "orderdesk_version": __version__,
        "created_at": iso_utc(datetime.now(UTC)),
    }

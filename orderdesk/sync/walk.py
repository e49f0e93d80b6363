"""The keyset walk of the shop kinds, without the store: pages fetched, read, checked
and cut to what a run has not committed yet, one :class:`Step` per page.

The engine writes each step's orders with its bookmark in one transaction, in
order; the walk itself needs nothing from the store, so it runs the same in the
engine's process or in a worker process (``sync/worker.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from orderdesk.api.base import OrderClient, Page, RawPage
from orderdesk.api.errors import ProtocolError
from orderdesk.models.entities import Order, parse_datetime
from orderdesk.models.errors import DataError, OrderdeskError
from orderdesk.models.flat import FlatOrder
from orderdesk.store.codec import EncodedOrder, EncodedPage


class Fetcher:
    """Fetches the page the walk will most likely ask for next while the current one is
    being written: the server and the network work while we do (SQLite and socket
    waits release the GIL). A wrong guess is dropped; one request at a time.

    :meth:`get_raw` (the keyset walk's) leaves a page's orders unread when the client
    can (``list_raw_page``): the fetch thread then only does HTTP and cuts the page,
    and the orders are read by the walk (:func:`read_page`)."""

    def __init__(self, client: OrderClient, limit: int) -> None:
        self.client = client
        self.limit = limit
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orderdesk-fetch")
        self._pending: tuple[tuple[int, datetime | None, bool],
                             Future[Page | RawPage]] | None = None
        self._list_raw: Callable[..., Page | RawPage] | None = getattr(
            client, "list_raw_page", None)

    def _list(self, raw: bool) -> Callable[..., Page | RawPage]:
        return self._list_raw if raw and self._list_raw is not None else self.client.list_page

    def _take(self, offset: int, updated_from: datetime | None, raw: bool) -> Page | RawPage:
        if self._pending is not None:
            key, future = self._pending
            self._pending = None
            if key == (offset, updated_from, raw):
                return future.result()
            self._drop(future)
        return self._list(raw)(offset=offset, limit=self.limit, updated_from=updated_from)

    def get(self, offset: int, updated_from: datetime | None = None) -> Page:
        page = self._take(offset, updated_from, False)
        return page if isinstance(page, Page) else page.decoded()

    def get_raw(self, offset: int, updated_from: datetime | None = None) -> Page | RawPage:
        """The page with its orders unread (a :class:`RawPage`) when the client can,
        else decoded (a :class:`Page`)."""
        return self._take(offset, updated_from, True)

    def prefetch(self, offset: int, updated_from: datetime | None = None, *,
                 raw: bool = False) -> None:
        """Fetch that page in the background (a guess already in flight stays); ``raw``:
        for :meth:`get_raw`."""
        key = (offset, updated_from, raw)
        if self._pending is not None and self._pending[0] == key:
            return
        if self._pending is not None:
            self._drop(self._pending[1])
        future = self._pool.submit(self._list(raw), offset=offset, limit=self.limit,
                                   updated_from=updated_from)
        self._pending = (key, future)

    @staticmethod
    def _drop(future: Future[Page | RawPage]) -> None:
        try:
            future.result()  # finish it (one request at a time); its outcome is not used
        except Exception:  # noqa: S110 - a guess that failed is simply not used
            pass

    def close(self, *, wait: bool = True) -> None:
        """Stop; ``wait=False`` (cancel, failure) does not wait for a guess in flight."""
        if self._pending is not None and wait:
            self._drop(self._pending[1])
        self._pending = None
        self._pool.shutdown(wait=wait, cancel_futures=True)


def _reference(client: OrderClient, item: Any, raw: str | None, now: datetime,
               out: list[Order | FlatOrder], errors: list[str]) -> None:
    """The reference path for one order: read into ``out``, or described in ``errors``."""
    try:
        order = client.normalize(item, synced_at=now, raw=raw)
        # what the cache cannot hold exactly (a figure with more decimal places than it
        # keeps) is this order's error, not the page's: encode it here
        EncodedOrder(order, 0)
        out.append(order)
    except OrderdeskError as exc:
        ident = item.get("id") if isinstance(item, dict) else None
        errors.append(f"order {ident}: {exc.message}")


def normalize_page(client: OrderClient, page: Page, now: datetime,
                   errors: list[str]) -> list[Order | FlatOrder]:
    """The page's orders: the fast reader's rows where it can, else the reference path;
    an order that cannot be read is left out and described in ``errors``."""
    out: list[Order | FlatOrder] = []
    flat = getattr(client, "flat", None)
    for index, item in enumerate(page.results):
        raw = page.raw_of(index)
        if flat is not None:
            # The hot path: plain orders that reconcile go straight to rows; the others
            # (flagged, odd shapes, bad values) take the reference path below.
            done = flat(item, raw)
            if done is not None:
                out.append(done)
                continue
        _reference(client, item, raw, now, out, errors)
    return out


def read_page(client: OrderClient, page: Page | RawPage, now: datetime,
              errors: list[str]) -> tuple[list[Order | FlatOrder], list[str | None]]:
    """As :func:`normalize_page`, for a page whose orders may be unread (``RawPage``):
    each one read straight from its JSON bytes when the client's fast reader takes it
    (``read_raw_page``), the others decoded for the reference path. Also each order's
    id (for spotting a page the server repeats)."""
    if isinstance(page, RawPage):
        read: Callable[[RawPage], list[Any] | None] | None = getattr(
            client, "read_raw_page", None)
        entries = read(page) if read is not None else None
        if entries is None:
            page = page.decoded()
        else:
            out: list[Order | FlatOrder] = []
            ids: list[str | None] = []
            for entry in entries:
                if isinstance(entry, FlatOrder):
                    out.append(entry)
                    ids.append(entry.remote_id)
                    continue
                item, raw = entry
                ids.append(_page_id(item))
                _reference(client, item, raw, now, out, errors)
            return out, ids
    ids = [_page_id(item) for item in page.results]
    return normalize_page(client, page, now, errors), ids


def _page_id(item: Any) -> str | None:
    """An order's id as text (as ``FlatOrder.remote_id``), whichever way it was read."""
    ident = item.get("id") if isinstance(item, dict) else None
    return None if ident is None else str(ident)


def _size(page: Page | RawPage) -> int:
    return len(page.raws) if isinstance(page, RawPage) else len(page.results)


def _tail(client: OrderClient, page: Page | RawPage) -> datetime | None:
    """``updated_at`` of the page's last order, if it reads as one."""
    value: Any = None
    if isinstance(page, RawPage):
        peek: Callable[[bytes], str | None] | None = getattr(client, "raw_updated_at", None)
        if not page.raws or peek is None:
            return None
        value = peek(page.raws[-1])
    else:
        last = page.results[-1] if page.results else None
        if not isinstance(last, dict):
            return None
        value = last.get("updated_at")
    try:
        return parse_datetime(value)
    except DataError:
        return None


def _prefetch(fetcher: Fetcher, tail: datetime | None, bookmark: datetime | None,
              offset: int) -> None:
    """The request after a page whose last order has ``tail``: from it when it moves the
    bookmark on, else the next offset at the bookmark."""
    if tail is None:
        return
    if bookmark is None or tail > bookmark:
        fetcher.prefetch(0, tail, raw=True)
    else:
        fetcher.prefetch(offset, bookmark, raw=True)


@dataclass(slots=True)
class Step:
    """One page of the walk."""

    fetched: int  #: orders in the page
    count: int | None  #: the server's ``count`` of what is left to walk
    #: to commit (empty: nothing new in this page); from a worker process, its rows
    #: already encoded
    fresh: list[Order | FlatOrder] | EncodedPage
    bookmark: datetime | None  #: the bookmark once ``fresh`` is committed
    boundary: list[str]  #: ids committed at exactly ``bookmark``
    now: datetime
    errors: list[str]  #: orders of the page that could not be read


def keyset_walk(client: OrderClient, fetcher: Fetcher, bookmark: datetime | None,
                boundary: list[str], clock: Callable[[], datetime]) -> Generator[Step, None, None]:
    """Pages from the bookmark on (``ordering=updated_at`` + ``updated_from``). The cursor
    is the ``updated_at`` of the last order committed plus the ids committed at exactly
    that instant (the inclusive boundary, de-duplicated); orders created or changed while
    the walk runs move to its end, so nothing is skipped by shifting offsets."""
    offset = 0
    previous: tuple[datetime | None, int, list[str | None]] | None = None
    while True:
        page = fetcher.get_raw(offset, bookmark)
        size = _size(page)
        if not size:
            yield Step(0, page.count, [], bookmark, boundary, clock(), [])
            return
        now = clock()
        errors: list[str] = []
        seen = set(boundary)
        # Already committed: older than the bookmark (a server whose updated_from
        # only looks at the date sends those too), or at it and in the boundary.
        if page.next:
            # Guess the next request from the last order's updated_at as sent, before the
            # page is read: the server and the network then work during the reading too.
            # Checked below against what was read (a wrong guess is dropped).
            _prefetch(fetcher, _tail(client, page), bookmark, offset + size)
        normalized, ids = read_page(client, page, now, errors)
        if previous is not None and previous[0] == bookmark and previous[1] != offset \
                and previous[2] == ids:
            raise ProtocolError("The shop's server keeps sending the same page "
                                "(its paging does not move forward).")
        previous = (bookmark, offset, ids)
        if any(b.updated_at < a.updated_at for a, b in pairwise(normalized)):
            raise ProtocolError("The shop's server does not sort by updated_at as asked "
                                "(ordering=updated_at), so orders could be missed.")
        if page.next and normalized:  # guess the next request (right unless skipping)
            _prefetch(fetcher, normalized[-1].updated_at, bookmark, offset + size)
        fresh = [o for o in normalized
                 if bookmark is None or o.updated_at > bookmark
                 or (o.updated_at == bookmark and o.remote_id not in seen)]
        if not fresh:
            offset += size  # step over what we have (or cannot read)
        else:
            last = max(o.updated_at for o in fresh)
            if bookmark is not None and last == bookmark:
                boundary = boundary + [o.remote_id for o in fresh]
                offset += size
            else:
                boundary = [o.remote_id for o in fresh if o.updated_at == last]
                offset = 0
            bookmark = last
        yield Step(size, page.count, fresh, bookmark, boundary, now, errors)
        if not page.next:
            return

"""The sync engine: pages → normalize → one transaction per page (orders + cursor).

Shop kinds (``ordering=updated_at`` + ``updated_from``): a keyset walk. The cursor
is the ``updated_at`` of the last committed order plus the ids committed at exactly
that instant (the inclusive boundary, de-duplicated). Orders created or changed
while the walk runs move to its end, so nothing is skipped by shifting offsets.

ecommerce kind (newest first, no filters): an incremental run reads pages until a
page holds only orders already cached unchanged; a full sweep reads everything,
its offset saved after each page and resumed one page early (the boundary is
re-fetched, duplicates are harmless).

A full run records its start; orders of the connection that no page of the run
touched are gone from the server and move to Deleted (ecommerce ones are first
confirmed with the detail endpoint, since its offsets may shift). The cursor is
written in the same transaction as the page it follows, so a run killed at any
instant resumes from the last committed page, losing and duplicating nothing.

A large keyset walk continues in a worker process after its first page
(``sync/worker.py``): the pages, read there, are written here in the same order with
the same bookmarks.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderdesk.api.base import OrderClient, Page
from orderdesk.api.errors import NotFoundError, ProtocolError
from orderdesk.models.entities import Order
from orderdesk.models.errors import CancelledError, OrderdeskError
from orderdesk.models.flat import FlatOrder
from orderdesk.models.rows import ChangeSet
from orderdesk.store import OrderStore
from orderdesk.store.codec import EncodedPage
from orderdesk.sync.progress import CancelToken, SyncProgress, SyncResult
from orderdesk.sync.walk import Fetcher, Step, keyset_walk, normalize_page

if TYPE_CHECKING:
    from orderdesk.sync.worker import WorkerWalk

log = logging.getLogger(__name__)

STATE_VERSION = 1
#: deletion candidates confirmed one by one (ecommerce); above this, none are deleted
MAX_VERIFY = 1000
#: a keyset walk with more orders than this left after its first page continues in a
#: worker process (``sync/worker.py``): fetch, decode and reading on the other core.
#: The child is ready ~0.4 s after it is started (spawn, imports, client), the walk
#: going on here meanwhile; its first page arrives ~0.1 s after it takes over
#: (BENCHMARKS.md, Sync).
WORKER_MIN_ORDERS = 10_000


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _dt(value: Any) -> datetime | None:
    return None if not value else datetime.fromisoformat(value)


class _FewerCollections:
    """While any sync runs: the cyclic garbage collector's first generation holds 50,000
    new containers instead of 700. A page of 1,000 orders is ~60,000 short-lived dicts
    and lists (decoded JSON, rows) that die with the page; with the default threshold
    the collector runs ~90 times a page and re-scans the pages still alive, ~15 % of
    the sync's Python time. Nothing here makes cycles, so nothing waits longer to be
    freed that matters; reference counting frees the pages either way."""

    _lock = threading.Lock()
    _active = 0
    _saved: tuple[int, int, int] = (700, 10, 10)

    def __enter__(self) -> None:
        with self._lock:
            if _FewerCollections._active == 0:
                _FewerCollections._saved = gc.get_threshold()
                first, *rest = _FewerCollections._saved
                gc.set_threshold(max(first, 50_000), *rest)
            _FewerCollections._active += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            _FewerCollections._active -= 1
            if _FewerCollections._active == 0:
                gc.set_threshold(*_FewerCollections._saved)


@dataclass
class _Counts:
    pages: int = 0
    fetched: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)

    def apply(self, changes: ChangeSet) -> None:
        self.added += len(changes.added)
        self.changed += len(changes.changed)
        self.removed += len(changes.removed)


class SyncEngine:
    """Syncs one connection. Not thread-safe; one engine per run."""

    def __init__(self, store: OrderStore, client: OrderClient, *, page_size: int = 100,
                 full_sweep_every: timedelta = timedelta(hours=24),
                 progress: Callable[[SyncProgress], None] | None = None,
                 cancel: CancelToken | None = None,
                 clock: Callable[[], datetime] | None = None,
                 worker: bool | None = None) -> None:
        self.store = store
        self.client = client
        self.name = client.config.name
        self.page_size = page_size
        self.full_sweep_every = full_sweep_every
        self.progress = progress
        self.cancel = cancel or CancelToken()
        self.clock = clock or _utcnow
        #: the keyset walk in a worker process: None = when it pays (large, real HTTP,
        #: the system clock; ``ORDERDESK_SYNC_WORKER=1``/``0``: always/never), False =
        #: never, True = whenever it can
        self.worker = worker
        self.counts = _Counts()
        self.total: int | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._writing: Future[ChangeSet] | None = None
        #: this run is a first full sync into an empty cache (``OrderStore.begin_bulk``)
        self._bulk = False

    # ------------------------------------------------------------------------
    def run(self, *, full: bool = False) -> SyncResult:
        with _FewerCollections():
            return self._run(full)

    def _run(self, full: bool) -> SyncResult:
        started = time.monotonic()
        state = self.store.get_state(self.name)
        last_full = _dt(state.get("last_full"))
        mode = "full" if (full or state.get("full_run") or last_full is None
                          or self.clock() - last_full > self.full_sweep_every) else "incremental"
        log_id = self.store.start_log(self.name, mode)
        outcome, message, details = "success", "", ""
        fetcher = Fetcher(self.client, self.page_size)
        self._bulk = False
        try:
            # A first full sync into an empty cache: indexes are built once at the end.
            self._bulk = mode == "full" and self.store.begin_bulk()
            if self.client.supports_updated_since:
                self._run_keyset(state, mode, fetcher)
            else:
                self._run_newest_first(state, mode, fetcher)
            if self.counts.errors:
                outcome = "failed"
                message = (f"{len(self.counts.errors)} order(s) could not be read and were "
                           "skipped; everything else is up to date.")
        except CancelledError:
            outcome, message = "cancelled", "Sync cancelled; what was fetched is kept."
        except OrderdeskError as exc:
            outcome, message, details = "failed", exc.message, exc.details
            log.warning("sync of %s failed: %s (%s)", self.name, exc.message, exc.details)
        except Exception as exc:  # a bug: report it readably, keep the cache
            log.exception("sync of %s crashed", self.name)
            outcome = "failed"
            message = "An unexpected error stopped the sync; the cache is intact."
            details = f"{type(exc).__name__}: {exc}"
        finally:
            self._close_writer(ok=outcome == "success")
            fetcher.close(wait=outcome == "success")
            if self._bulk:
                self._report("indexing", ChangeSet())
                self.store.end_bulk()
        errors = list(dict.fromkeys(self.counts.errors)) + ([details] if details else [])
        c = self.counts
        self.store.finish_log(log_id, outcome=outcome, pages=c.pages, fetched=c.fetched,
                              added=c.added, changed=c.changed, removed=c.removed,
                              message=message, errors=errors[:200])
        self._report("done", ChangeSet())
        return SyncResult(self.name, mode, outcome, c.pages, c.fetched, c.added, c.changed,
                          c.removed, time.monotonic() - started, message, tuple(errors))

    # ------------------------------------------------------------------------
    def _check_cancel(self) -> None:
        if self.cancel.cancelled:
            raise CancelledError("Sync cancelled.")

    def _report(self, phase: str, changes: ChangeSet) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(self.name, phase, self.counts.pages, self.counts.fetched,
                                       self.total, changes))

    def _normalize(self, page: Page, now: datetime) -> list[Order | FlatOrder]:
        return normalize_page(self.client, page, now, self.counts.errors)

    def _commit(self, orders: list[Order | FlatOrder], state: dict[str, Any],
                now: datetime) -> ChangeSet:
        self._flush()
        return self._committed(self.store.upsert_page(self.name, orders, state,
                                                      synced_at=now))

    def _commit_behind(self, orders: list[Order | FlatOrder] | EncodedPage,
                       state: dict[str, Any],
                       now: datetime) -> None:
        """Write the page on the writer thread while the walk reads the next one: SQLite's
        work (b-trees, full-text index, WAL) runs without the GIL. One page in flight,
        pages commit in order, each with its bookmark; a failed write surfaces at the next
        page or at the end of the walk, before anything later is written."""
        self._flush()
        self._check_cancel()  # the page just counted may have been the last one wanted
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1,
                                              thread_name_prefix="orderdesk-write")
        self._writing = self._writer.submit(self.store.upsert_page, self.name, orders, state,
                                            synced_at=now)

    def _flush(self) -> None:
        """Wait for the page being written (if any) and count it."""
        if self._writing is not None:
            future, self._writing = self._writing, None
            self._committed(future.result())

    def _committed(self, changes: ChangeSet) -> ChangeSet:
        self.counts.pages += 1
        self.counts.apply(changes)
        self._report("fetching", changes)
        return changes

    def _close_writer(self, *, ok: bool) -> None:
        try:
            if ok:
                self._flush()
            elif self._writing is not None:
                # Failing or cancelled: the page in flight commits or rolls back whole;
                # wait for it so the store is quiet before the run reports.
                future, self._writing = self._writing, None
                try:
                    self._committed(future.result())
                except Exception:  # noqa: S110 - the run already failed for its own reason
                    pass
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    def _start_full(self, state: dict[str, Any]) -> dict[str, Any]:
        if not state.get("full_run"):
            state = {**state, "v": STATE_VERSION,
                     "full_run": {"started": _iso(self.clock()), "offset": 0},
                     "bookmark": None, "boundary": []}
            self.store.put_state(self.name, state)
        return state

    def _finish_full(self, state: dict[str, Any], verify: bool) -> None:
        started = _dt(state["full_run"]["started"])
        assert started is not None
        # A first sync into an empty cache wrote every order the cache holds during this
        # run: none can be stale (and a clock set back meanwhile cannot make one look so).
        stale = [] if self._bulk else self.store.stale_remote_ids(self.name, started)
        if verify:
            stale = self._confirm_gone(stale)
        state = {**state, "full_run": None, "last_full": _iso(started)}
        changes = self.store.mark_deleted(self.name, stale, state)
        self.counts.apply(changes)
        self._report("sweeping", changes)

    def _confirm_gone(self, candidates: list[str]) -> list[str]:
        if len(candidates) > MAX_VERIFY:
            self.counts.errors.append(
                f"{len(candidates)} cached orders were not in the server's list; too many to "
                "confirm one by one, so none was marked deleted.")
            return []
        detail = getattr(self.client, "detail", None)
        if detail is None:
            return candidates
        gone: list[str] = []
        for remote_id in candidates:
            self._check_cancel()
            try:
                data = detail(remote_id)
            except NotFoundError:
                gone.append(remote_id)
                continue
            now = self.clock()
            self._commit(self._normalize(Page([data], 1, None), now),
                         self.store.get_state(self.name), now)
        return gone

    # shop kinds ---------------------------------------------------------------
    def _run_keyset(self, state: dict[str, Any], mode: str, fetcher: Fetcher) -> None:
        if mode == "full":
            state = self._start_full(state)
        bookmark = _dt(state.get("bookmark"))
        boundary: list[str] = list(state.get("boundary") or [])
        walk = keyset_walk(self.client, fetcher, bookmark, boundary, self.clock)
        worker: WorkerWalk | None = None
        forced = False  # a worker asked for takes over after the first page, ready or not
        try:
            for step in walk:
                first = self.counts.fetched == 0
                state = self._step(step, state)
                if first:  # enough left for a worker: start it, walk on here until ready
                    spec = self._worker_spec()
                    worker = self._start_worker(spec) if spec is not None else None
                    forced = self._worker_forced()
                if worker is not None and (forced or worker.ready()):
                    # The rest from the bookmark just handed to the writer, as a resumed
                    # run would: the prefetched guess is not used.
                    walk.close()
                    fetcher.close(wait=False)
                    handed, worker = worker, None
                    handed.go(_dt(state.get("bookmark")), list(state.get("boundary") or []))
                    self._run_in_worker(handed, state)
                    break
                self._check_cancel()
        finally:
            walk.close()
            if worker is not None:  # the walk ended (or failed) before it was ready
                worker.close()
        self._flush()
        if mode == "full":
            self._finish_full(self.store.get_state(self.name), verify=False)

    def _step(self, step: Step, state: dict[str, Any]) -> dict[str, Any]:
        """Count a page of the walk and hand what it has new to the writer."""
        if self.total is None and step.count is not None:
            self.total = step.count + self.counts.fetched
        self.counts.fetched += step.fetched
        self.counts.errors += step.errors
        if not step.fresh:
            return state
        state = {**state, "v": STATE_VERSION, "bookmark": _iso(step.bookmark),
                 "boundary": step.boundary}
        self._commit_behind(step.fresh, state, step.now)
        return state

    def _worker_spec(self) -> tuple[dict[str, Any], str] | None:
        """Whether the rest of the walk goes to a worker process: forced, or enough left
        (after the first page) against a real HTTP server with the system clock."""
        worker = self._worker_setting()
        if worker is False:
            return None
        if worker is None:
            left = (self.total or 0) - self.counts.fetched
            if left < WORKER_MIN_ORDERS or self.clock is not _utcnow:
                return None
        spec = getattr(self.client, "worker_spec", None)
        return spec() if spec is not None else None

    def _worker_setting(self) -> bool | None:
        """True/False when asked for (the engine's ``worker``, else the environment's
        ``ORDERDESK_SYNC_WORKER=1/0``), ``None``: when it pays."""
        if self.worker is not None:
            return self.worker
        return {"1": True, "0": False}.get(os.environ.get("ORDERDESK_SYNC_WORKER", ""))

    def _worker_forced(self) -> bool:
        return self._worker_setting() is True

    def _start_worker(self, spec: tuple[dict[str, Any], str]) -> WorkerWalk | None:
        """A worker process, started (it takes the walk over once ready); ``None`` (the
        walk goes on here) when no process can be started."""
        from orderdesk.sync.worker import WorkerWalk

        config, secret = spec
        stored = self.store.connection(self.name)
        if stored is None:  # pragma: no cover - its first page was just written
            return None
        try:
            return WorkerWalk(config, secret, self.page_size, stored.id)
        except (OSError, RuntimeError) as exc:
            log.info("sync of %s stays in this process (no worker: %s)", self.name,
                     type(exc).__name__)
            return None

    def _run_in_worker(self, worker: WorkerWalk, state: dict[str, Any]) -> None:
        try:
            for step in worker.steps(lambda: self.cancel.cancelled):
                state = self._step(step, state)
            self._check_cancel()
        finally:
            worker.close()

    # ecommerce kind -----------------------------------------------------------
    def _run_newest_first(self, state: dict[str, Any], mode: str, fetcher: Fetcher) -> None:
        if mode == "full":
            state = self._start_full(state)
            offset = max(0, int(state["full_run"].get("offset", 0)) - self.page_size)
        else:
            offset = 0
        previous: list[str] | None = None
        while True:
            self._check_cancel()
            page = fetcher.get(offset)
            if self.total is None and page.count is not None:
                self.total = page.count
            if page.next and page.results:
                fetcher.prefetch(offset + len(page.results))
            ids = [str(i.get("id")) if isinstance(i, dict) else "" for i in page.results]
            if previous is not None and ids and ids == previous:
                raise ProtocolError("The shop's server sent the same page twice "
                                    "(its paging does not move forward).")
            previous = ids
            now = self.clock()
            orders = self._normalize(page, now)
            self.counts.fetched += len(page.results)
            offset += len(page.results)
            if mode == "full":
                state = {**state, "full_run": {**state["full_run"], "offset": offset}}
                self._commit(orders, state, now)
            else:
                cached = self.store.updated_map(self.name, [o.remote_id for o in orders])
                unchanged = all(cached.get(o.remote_id) == o.updated_at for o in orders)
                self._commit(orders, state, now)
                if orders and unchanged:
                    break
            if not page.next or not page.results:
                break
        if mode == "full":
            self._finish_full(self.store.get_state(self.name), verify=True)


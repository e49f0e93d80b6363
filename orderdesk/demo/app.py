"""The Starlette application of the demo shop: three order endpoints, a change feed
(``POST /_demo/mutate``), fault injection (``POST /_demo/faults`` and a random
fail rate) and ``GET /_demo/info``. The ``/_demo/*`` routes answer loopback
clients only.

Every handler is ``async`` and runs its SQLite query on the event loop thread:
the demo database is only ever touched from that one thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orderdesk.demo.constants import (
    DEFAULT_CUSTOMER_EMAIL,
    DEFAULT_CUSTOMER_PASSWORD,
    DEFAULT_CUSTOMER_TOKEN,
    DEFAULT_STAFF_TOKEN,
    DEMO_CUSTOMER_ID,
    ECOMMERCE_PATH,
    SHOP_CUSTOMER_PATH,
    STAFF_PATH,
)
from orderdesk.demo.dataset import Dataset
from orderdesk.demo.generator import ECOMMERCE_STATUS
from orderdesk.demo.query import (
    FieldErrors,
    SqlQuery,
    build,
    parse_int,
    parse_pagination,
    parse_when,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FAULT_KINDS: Final = ("500", "502", "503", "429", "truncate", "malformed", "drop", "slow")

NOT_PROVIDED: Final = "Authentication credentials were not provided."
INVALID_TOKEN: Final = "Invalid token."  # noqa: S105
NO_PERMISSION: Final = "You do not have permission to perform this action."
NOT_FOUND: Final = "Not found."

_HTML_500: Final = (b"<!doctype html>\n<html lang=\"en\">\n<head>\n"
                    b"  <title>Server Error (500)</title>\n</head>\n<body>\n"
                    b"  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n")
_HTML_502: Final = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>"
                    b"\r\n</body>\r\n</html>\r\n")
_HTML_503: Final = (b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>"
                    b"\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1>"
                    b"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")

log = logging.getLogger(__name__)

#: query parameters a keyset page of the staff list may carry (see ``keyset_listing``)
_KEYSET_PARAMS: Final = frozenset({"limit", "offset", "ordering", "updated_from", "updated_to"})


def json_response(data: object, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, headers=headers,
                    media_type="application/json")


def detail(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return json_response({"detail": message}, status, headers)


@dataclass
class Faults:
    """Fault plan: forced faults first (``POST /_demo/faults``), then the random fail rate."""

    seed: int
    fail_rate: float = 0.0
    latency_ms: int = 0
    slow_ms: int = 1500
    retry_after: int = 1
    forced: deque[tuple[str, int]] = field(default_factory=deque)
    produced: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(f"orderdesk-demo:{self.seed}:faults")

    def force(self, kind: str, count: int, delay_ms: int | None = None) -> None:
        for _ in range(count):
            self.forced.append((kind, self.slow_ms if delay_ms is None else delay_ms))

    def next(self) -> tuple[str | None, int]:
        """(fault kind or None, delay in ms for ``slow``) of the next API request."""
        self.requests += 1
        kind: str | None = None
        delay = self.slow_ms
        if self.forced:
            kind, delay = self.forced.popleft()
        elif self.fail_rate > 0 and self.rng.random() < self.fail_rate:
            kind = FAULT_KINDS[int(self.rng.random() * len(FAULT_KINDS))]
        if kind is not None:
            self.produced[kind] = self.produced.get(kind, 0) + 1
        return kind, delay


class FaultMiddleware:
    """Applies latency and faults to ``/api/`` requests (never to ``/_demo/``)."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        f = self.faults
        kind, delay = f.next()
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if kind is None:
            await self.app(scope, receive, send)
        elif kind == "slow":
            await asyncio.sleep(delay / 1000)
            await self.app(scope, receive, send)
        elif kind in ("500", "502", "503"):
            body = {"500": _HTML_500, "502": _HTML_502, "503": _HTML_503}[kind]
            headers = [(b"content-type", b"text/html; charset=utf-8")]
            if kind == "503":
                headers.append((b"retry-after", str(f.retry_after).encode()))
            await _send(send, int(kind), headers, body)
        elif kind == "429":
            wait = f.retry_after
            body = orjson.dumps({"detail": "Request was throttled. Expected available in "
                                           f"{wait} second{'s' if wait != 1 else ''}."})
            await _send(send, 429, [(b"content-type", b"application/json"),
                                    (b"retry-after", str(wait).encode())], body)
        elif kind == "drop":
            # Start a response, send part of it and return: the server closes the
            # connection without completing the message.
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"count": ',
                        "more_body": True})
        else:  # truncate, malformed: a 200 whose JSON body is broken
            status, headers, body = await _capture(self.app, scope, receive)
            if kind == "truncate":
                body = body[: max(1, len(body) // 2)]
            else:
                body = _malform(body)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            await _send(send, 200 if status < 400 else status, headers, body)


def _malform(body: bytes) -> bytes:
    for needle, repl in ((b'"results":', b'"results" '), (b'":', b'" ')):
        if needle in body:
            return body.replace(needle, repl, 1)
    return b"{" + body


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]],
                body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive
                   ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, capture)
    return status, headers, b"".join(chunks)


@dataclass
class DemoConfig:
    staff_token: str = DEFAULT_STAFF_TOKEN
    customer_token: str = DEFAULT_CUSTOMER_TOKEN
    customer_email: str = DEFAULT_CUSTOMER_EMAIL
    customer_password: str = DEFAULT_CUSTOMER_PASSWORD


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _page_links(request: Request, count: int, limit: int, offset: int
                ) -> tuple[str | None, str | None]:
    url = request.url
    nxt = None
    if offset + limit < count:
        nxt = str(url.include_query_params(limit=limit, offset=offset + limit))
    prev = None
    if offset > 0:
        if offset - limit <= 0:
            prev = str(url.include_query_params(limit=limit).remove_query_params("offset"))
        else:
            prev = str(url.include_query_params(limit=limit, offset=offset - limit))
    return nxt, prev


def _ecommerce_status_scope(status: str) -> tuple[str, list[object]]:
    shop = [s for s, e in ECOMMERCE_STATUS.items() if e == status]
    if status == "awaiting_payment":
        others = [s for s, e in ECOMMERCE_STATUS.items() if e != status] + ["deleted"]
        return f"o.status NOT IN ({','.join('?' * len(others))})", list(others)
    return f"o.status IN ({','.join('?' * len(shop))})", list(shop)


def create_app(dataset: Dataset, faults: Faults, config: DemoConfig | None = None) -> ASGIApp:
    """The ASGI app: Starlette routes wrapped in the fault middleware."""
    cfg = config or DemoConfig()
    renderer = dataset.renderer
    basic_ok = base64.b64encode(
        f"{cfg.customer_email}:{cfg.customer_password}".encode()).decode()
    shop_challenge = {"WWW-Authenticate": "Token"}
    ecom_challenge = {"WWW-Authenticate": 'Bearer realm="api"'}

    def shop_auth(request: Request) -> tuple[str | None, Response | None]:
        header = request.headers.get("authorization", "")
        parts = header.split()
        if not parts or parts[0].lower() != "token":
            return None, detail(NOT_PROVIDED, 401, shop_challenge)
        if len(parts) == 1:
            return None, detail("Invalid token header. No credentials provided.", 401,
                                shop_challenge)
        if len(parts) > 2:
            return None, detail("Invalid token header. Token string should not contain "
                                "spaces.", 401, shop_challenge)
        if parts[1] == cfg.staff_token:
            return "staff", None
        if parts[1] == cfg.customer_token:
            return "customer", None
        return None, detail(INVALID_TOKEN, 401, shop_challenge)

    def ecommerce_auth(request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        parts = header.split()
        if not parts:
            return detail(NOT_PROVIDED, 401, ecom_challenge)
        scheme = parts[0].lower()
        if scheme == "bearer":
            if len(parts) == 2 and parts[1] == cfg.customer_token:
                return None
            return detail(INVALID_TOKEN, 401, ecom_challenge)
        if scheme == "basic":
            if len(parts) == 2:
                if parts[1] == basic_ok:
                    return None
                try:
                    base64.b64decode(parts[1], validate=True).decode()
                except (binascii.Error, UnicodeDecodeError):
                    return detail("Invalid basic header. Credentials not correctly base64 "
                                  "encoded.", 401, ecom_challenge)
            return detail("Invalid username/password.", 401, ecom_challenge)
        return detail(NOT_PROVIDED, 401, ecom_challenge)

    def params(request: Request) -> dict[str, str]:
        return dict(request.query_params)

    def listing(request: Request, q: SqlQuery, scope: list[tuple[str, object]],
                render: Callable[[Any], object]) -> Response:
        count = dataset.count(q, scope)
        rows = dataset.page(q, scope) if q.offset < count else []
        nxt, prev = _page_links(request, count, q.limit, q.offset)
        return json_response({"count": count, "next": nxt, "previous": prev,
                              "results": [render(r) for r in rows]})

    def page_response(request: Request, count: int, q: SqlQuery,
                      results: list[bytes]) -> Response:
        """The envelope around orders already rendered to JSON bytes."""
        nxt, prev = _page_links(request, count, q.limit, q.offset)
        body = b"".join((b'{"count":', str(count).encode(), b',"next":', orjson.dumps(nxt),
                         b',"previous":', orjson.dumps(prev), b',"results":[',
                         b",".join(results), b"]}"))
        return Response(body, media_type="application/json")

    def render_staff(row: Any) -> bytes:
        return orjson.dumps(renderer.staff(row))

    def render_customer(row: Any) -> bytes:
        return orjson.dumps(renderer.shop_customer(row))

    def cached_listing(request: Request, q: SqlQuery, scope: list[tuple[str, object]],
                       endpoint: str, render: Callable[[Any], bytes]) -> Response:
        count = dataset.count(q, scope)
        rows = dataset.page(q, scope) if q.offset < count else []
        return page_response(request, count, q, dataset.render_rows(endpoint, rows, render))

    def keyset_listing(request: Request, p: dict[str, str], q: SqlQuery) -> Response | None:
        """``ordering=updated_at`` with at most an ``updated_from``/``updated_to`` window
        (what a sync asks for, page after page): the page is found by ``bisect`` on the
        orders pre-sorted by (updated_at, id), its orders' JSON rendered once. ``None``:
        not such a query (SQL answers it)."""
        if p.get("ordering", "").strip() != "updated_at" or not set(p) <= _KEYSET_PARAMS:
            return None
        lo = parse_when(p["updated_from"], end=False) if p.get("updated_from") else None
        hi = parse_when(p["updated_to"], end=True) if p.get("updated_to") else None
        span = dataset.updated_range(lo, hi)
        index = dataset.updated_order()
        if span is None or index is None:
            return None
        start, end = span
        count = end - start
        first = start + q.offset
        ids = index[1][first:min(end, first + q.limit)] if q.offset < count else []
        return page_response(request, count, q, dataset.rendered("staff", ids, render_staff))

    async def staff_orders(request: Request) -> Response:
        role, error = shop_auth(request)
        if error is not None:
            return error
        if role != "staff":
            return detail(NO_PERMISSION, 403)
        p = params(request)
        try:
            q = build(p, staff=True)
        except FieldErrors as exc:
            return json_response(exc.errors, 400)
        fast = keyset_listing(request, p, q)
        if fast is not None:
            return fast
        return cached_listing(request, q, [], "staff", render_staff)

    async def staff_order(request: Request) -> Response:
        role, error = shop_auth(request)
        if error is not None:
            return error
        if role != "staff":
            return detail(NO_PERMISSION, 403)
        row = _row_by_path(request)
        return json_response(renderer.staff(row)) if row else detail(NOT_FOUND, 404)

    def _row_by_path(request: Request) -> Any:
        try:
            oid = parse_int(request.path_params["oid"])
        except ValueError:
            return None
        return dataset.get(oid)

    async def customer_orders(request: Request) -> Response:
        role, error = shop_auth(request)
        if error is not None:
            return error
        if role != "customer":
            return detail(NO_PERMISSION, 403)
        try:
            q = build(params(request), staff=False)
        except FieldErrors as exc:
            return json_response(exc.errors, 400)
        return cached_listing(request, q, [("o.customer_id = ?", DEMO_CUSTOMER_ID)],
                              "shop_customer", render_customer)

    async def customer_order(request: Request) -> Response:
        role, error = shop_auth(request)
        if error is not None:
            return error
        if role != "customer":
            return detail(NO_PERMISSION, 403)
        row = _row_by_path(request)
        if row is None or row[3] != DEMO_CUSTOMER_ID:
            return detail(NOT_FOUND, 404)
        return json_response(renderer.shop_customer(row))

    async def ecommerce_orders(request: Request) -> Response:
        error = ecommerce_auth(request)
        if error is not None:
            return error
        p = params(request)
        errors: dict[str, list[str]] = {}
        q = SqlQuery()
        q.limit, q.offset = parse_pagination(p, errors)
        scope: list[tuple[str, object]] = [("o.customer_id = ?", DEMO_CUSTOMER_ID),
                                           ("o.status != 'deleted'", None)]
        status = p.get("status", "")
        if status:
            if status not in ("awaiting_payment", "paid", "delivered", "cancelled"):
                errors["status"] = [
                    f"Select a valid choice. {status} is not one of the available choices."]
            else:
                sql, args = _ecommerce_status_scope(status)
                q.where.append(sql)
                q.args += args
        if errors:
            return json_response(errors, 400)
        base = str(request.base_url).rstrip("/")
        return listing(request, q, scope, lambda row: renderer.ecommerce(row, base))

    async def ecommerce_order(request: Request) -> Response:
        error = ecommerce_auth(request)
        if error is not None:
            return error
        oid = renderer.order_id_from_uuid(request.path_params["uuid"])
        row = dataset.get(oid) if oid is not None else None
        if row is None or row[3] != DEMO_CUSTOMER_ID or row[2] == "deleted":
            return detail(NOT_FOUND, 404)
        return json_response(renderer.ecommerce(row, str(request.base_url).rstrip("/")))

    async def mutate(request: Request) -> Response:
        if not _is_loopback(request):
            return detail(NO_PERMISSION, 403)
        count: object = request.query_params.get("count")
        body = await request.body()
        if body.strip():
            try:
                data = orjson.loads(body)
            except orjson.JSONDecodeError:
                return json_response({"detail": "JSON parse error."}, 400)
            if isinstance(data, dict) and "count" in data:
                count = data["count"]
        try:
            n = 10 if count is None else parse_int(str(count))
        except ValueError:
            return json_response({"count": ["A valid integer is required."]}, 400)
        if not 0 <= n <= 100_000:
            return json_response({"count": ["Ensure 0 <= count <= 100000."]}, 400)
        return json_response(dataset.mutate(n))

    async def set_faults(request: Request) -> Response:
        if not _is_loopback(request):
            return detail(NO_PERMISSION, 403)
        try:
            data = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return json_response({"detail": "JSON parse error."}, 400)
        if not isinstance(data, dict):
            return json_response({"detail": "Expected a JSON object."}, 400)
        kind = str(data.get("kind", ""))
        errors: dict[str, list[str]] = {}
        if kind not in FAULT_KINDS:
            errors["kind"] = [f"Select a valid choice. {kind} is not one of the available "
                              f"choices: {', '.join(FAULT_KINDS)}."]
        count = data.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            errors["count"] = ["A valid integer is required."]
        delay = data.get("delay_ms")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int)):
            errors["delay_ms"] = ["A valid integer is required."]
        if errors:
            return json_response(errors, 400)
        if data.get("clear"):
            faults.forced.clear()
        faults.force(kind, int(count), delay)
        return json_response({"queued": len(faults.forced)})

    async def clear_faults(request: Request) -> Response:
        if not _is_loopback(request):
            return detail(NO_PERMISSION, 403)
        faults.forced.clear()
        return json_response({"queued": 0})

    async def info(request: Request) -> Response:
        if not _is_loopback(request):
            return detail(NO_PERMISSION, 403)
        return json_response({
            "orders": dataset.orders, "seed": dataset.seed,
            "mutation_round": dataset.mutation_round,
            "requests": faults.requests, "faults_produced": faults.produced,
            "faults_queued": len(faults.forced),
        })

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return detail(f'Method "{request.method}" not allowed.', 405)
        return detail(NOT_FOUND, 404)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("demo server error", exc_info=exc)
        return Response(_HTML_500, 500, media_type="text/html")

    staff_detail = STAFF_PATH + "/{oid}"
    customer_detail = SHOP_CUSTOMER_PATH + "/{oid}"
    routes = [
        Route(STAFF_PATH, staff_orders), Route(STAFF_PATH + "/", staff_orders),
        Route(staff_detail, staff_order), Route(staff_detail + "/", staff_order),
        Route(SHOP_CUSTOMER_PATH, customer_orders),
        Route(SHOP_CUSTOMER_PATH + "/", customer_orders),
        Route(customer_detail, customer_order), Route(customer_detail + "/", customer_order),
        Route(ECOMMERCE_PATH, ecommerce_orders),
        Route(ECOMMERCE_PATH + "{uuid}/", ecommerce_order),
        Route("/_demo/mutate", mutate, methods=["POST"]),
        Route("/_demo/faults", set_faults, methods=["POST"]),
        Route("/_demo/faults", clear_faults, methods=["DELETE"]),
        Route("/_demo/info", info),
    ]
    app = Starlette(routes=routes, exception_handlers={
        HTTPException: not_found, Exception: server_error})
    return FaultMiddleware(app, faults)

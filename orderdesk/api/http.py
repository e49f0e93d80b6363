"""One shared HTTP layer: timeouts, TLS verification, retries with backoff and jitter."""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from html import unescape
from typing import Any

import httpx
import msgspec

from orderdesk import __version__
from orderdesk.api.errors import (
    ApiError,
    AuthError,
    BadRequestError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
)

log = logging.getLogger(__name__)

_AUTH_HINTS = ("credentials", "authentica", "token", "password", "username", "login")


def decode_json(body: bytes, *, url: str = "") -> Any:
    """JSON with every non-integer number as an exact ``Decimal``."""
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        snippet = body[:120].decode("utf-8", "replace")
        raise ProtocolError(
            "The shop's server sent a reply that is not valid JSON "
            "(it may have been cut off).",
            details=f"{url}: {exc}; body starts with {snippet!r}") from exc


_DECODER = json.JSONDecoder(parse_float=Decimal)
_WS = " \t\n\r"


def split_array(text: str, start: int) -> tuple[list[Any], list[str], int]:
    """Elements of the JSON array at ``text[start] == "["``, each one's exact text, and
    the index just past the closing bracket."""
    items: list[Any] = []
    raws: list[str] = []
    idx = start + 1
    n = len(text)
    while idx < n and text[idx] in _WS:
        idx += 1
    if idx < n and text[idx] == "]":
        return items, raws, idx + 1
    while True:
        obj, end = _DECODER.raw_decode(text, idx)
        items.append(obj)
        raws.append(text[idx:end])
        idx = end
        while idx < n and text[idx] in _WS:
            idx += 1
        if idx >= n:
            raise ValueError("unterminated array")
        if text[idx] == "]":
            return items, raws, idx + 1
        if text[idx] != ",":
            raise ValueError(f"expected ',' at {idx}")
        idx += 1
        while idx < n and text[idx] in _WS:
            idx += 1


class _Envelope(msgspec.Struct):
    """A list page's envelope; every value kept as its JSON text (``msgspec.Raw``)."""

    results: list[msgspec.Raw]
    count: msgspec.Raw = msgspec.Raw(b"null")
    next: msgspec.Raw = msgspec.Raw(b"null")


#: JSON with every non-integer number as an exact ``Decimal`` (as ``decode_json``),
#: integers of any size as ``int``; it refuses what ``json`` would read loosely (NaN,
#: Infinity, lone surrogate escapes), and those pages take ``json``'s way
_EXACT = msgspec.json.Decoder(float_hook=Decimal)
_ENVELOPE = msgspec.json.Decoder(_Envelope)
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def _cut(body: bytes) -> tuple[dict[str, Any] | None, list[msgspec.Raw]] | None:
    """The page by msgspec, its orders not decoded: the envelope (``count`` and ``next``
    decoded; ``None`` for a bare array) and each order's span of the body (its exact
    text, as ``split_array`` cuts it). ``None`` when the body is neither an object nor
    an array; ``msgspec.DecodeError`` when msgspec refuses it (NaN, lone surrogate
    escapes, not a plain ``{..., "results": [...]}`` envelope)."""
    head = body.lstrip(b" \t\n\r")[:1]
    if head == b"[":
        return None, _ARRAY.decode(body)
    if head == b"{":
        env = _ENVELOPE.decode(body)
        return {"count": _EXACT.decode(env.count), "next": _EXACT.decode(env.next)}, \
            env.results
    return None


def _decode_fast(body: bytes) -> tuple[Any, list[str]] | None:
    """``decode_page`` by msgspec: each order's span of the body decoded on its own,
    ~2x faster than ``json``. ``None`` when msgspec refuses the page (:func:`_cut`)."""
    try:
        cut = _cut(body)
        if cut is None:
            return None
        envelope, raws = cut
        decode = _EXACT.decode
        items = [decode(raw) for raw in raws]
        texts = [bytes(raw).decode("utf-8") for raw in raws]
    except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError is a DecodeError
        return None
    if envelope is None:
        return items, texts
    envelope["results"] = items
    return envelope, texts


class SplitPage:
    """A list page cut into its orders' exact JSON, none of them read yet (the sync's
    way: each order is read straight from its bytes, or decoded only when needed)."""

    __slots__ = ("body", "envelope", "raws")

    def __init__(self, envelope: dict[str, Any] | None, raws: list[bytes],
                 body: bytes) -> None:
        #: ``count`` and ``next`` decoded (as ``decode_page`` does); None for a bare array
        self.envelope = envelope
        #: each order's span of the body: its UTF-8 JSON, exactly as sent
        self.raws = raws
        #: the whole body, for ``decode_page`` when an order cannot be decoded alone
        self.body = body


def split_page(body: bytes, *, url: str = "") -> SplitPage | tuple[Any, list[str]]:
    """A list page cut as ``decode_page`` cuts it, without decoding the orders; or, when
    msgspec refuses the page (not UTF-8, NaN, lone surrogates, not a plain envelope or
    array), ``decode_page``'s own result (which raises ``ProtocolError`` for what is
    not JSON)."""
    try:
        cut = _cut(body)
        if cut is None:
            return decode_page(body, url=url)
        if not body.isascii():
            body.decode("utf-8")  # msgspec does not check the text of what it skips
    except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError is a DecodeError
        return decode_page(body, url=url)
    envelope, raws = cut
    return SplitPage(envelope, [bytes(raw) for raw in raws], body)


def decode_exact(raw: bytes) -> Any:
    """One JSON value as ``decode_page`` decodes each order (non-integers as ``Decimal``);
    ``msgspec.DecodeError`` for what msgspec refuses (then decode the page with
    ``decode_page``)."""
    return _EXACT.decode(raw)


def decode_page(body: bytes, *, url: str = "") -> tuple[Any, list[str]]:
    """A list page: the decoded document, and the verbatim text of each listed order.

    The results array is decoded element by element, keeping each order's own JSON
    text (no re-serialising, the server's exact number spelling); the envelope around
    it is decoded on its own. Anything unusual falls back to a plain decode.
    """
    fast = _decode_fast(body)
    if fast is not None:
        return fast
    try:
        text = body.decode("utf-8")
        head = text.lstrip(_WS)
        if head.startswith("["):
            items, raws, end = split_array(text, text.index("["))
            if text[end:].strip(_WS):
                raise ValueError("trailing data")
            return items, raws
        key = text.index('"results"')
        start = key + len('"results"')
        while text[start] in _WS or text[start] == ":":
            start += 1
        if text[start] != "[":
            raise ValueError("results is not an array")
        items, raws, end = split_array(text, start)
        envelope = _DECODER.decode(text[:start] + "[]" + text[end:])
        if not isinstance(envelope, dict) or envelope.get("results") != []:
            raise ValueError("results key is not the envelope's")
        envelope["results"] = items
        return envelope, raws
    except (ValueError, IndexError, UnicodeDecodeError):
        return decode_json(body, url=url), []


def _server_message(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    """The server's own words: ``detail``, ``error``, field errors, or an HTML title."""
    body = response.content
    if not body.strip():
        return "", {}
    ctype = response.headers.get("content-type", "")
    if "html" in ctype or body.lstrip()[:1] == b"<":
        text = body.decode("utf-8", "replace")
        match = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S) or re.search(
            r"<h1[^>]*>(.*?)</h1>", text, re.I | re.S)
        return (unescape(re.sub(r"\s+", " ", match.group(1))).strip() if match else ""), {}
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip(), {}
    if isinstance(data, dict):
        for key in ("detail", "error", "message"):
            if isinstance(data.get(key), str):
                return data[key], {}
        fields: dict[str, list[str]] = {}
        for key, value in data.items():
            if isinstance(value, list):
                fields[str(key)] = [str(v) for v in value]
            elif isinstance(value, str):
                fields[str(key)] = [value]
        if fields:
            text = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
            return text, fields
    if isinstance(data, list) and data and all(isinstance(v, str) for v in data):
        return " ".join(data), {}
    return "", {}


def error_for(response: httpx.Response) -> ApiError:
    """The classed error for a non-2xx response."""
    status = response.status_code
    said, fields = _server_message(response)
    quoted = f' The server said: "{said}"' if said else ""
    details = f"HTTP {status} from {response.request.method} {response.request.url}"
    if status == 401 or (status == 403 and any(h in said.lower() for h in _AUTH_HINTS)):
        return AuthError("The shop did not accept the credentials of this connection "
                         "(check the token or password)." + quoted,
                         details=details, status=status)
    if status == 403:
        return ForbiddenError("This connection is not allowed to read these orders "
                              "(a customer token cannot read the staff order list)." + quoted,
                              details=details, status=status)
    if status == 404:
        return NotFoundError("The shop's server does not know this address or order "
                             "(check the connection's URL)." + quoted,
                             details=details, status=status)
    if status == 429:
        retry_after = _retry_after(response.headers.get("retry-after"))
        return RateLimitedError("The shop's server asks us to slow down." + quoted,
                                retry_after=retry_after, details=details, status=status)
    if 400 <= status < 500:
        return BadRequestError("The shop's server refused the request." + quoted,
                               field_errors=fields, details=details, status=status)
    return ServerError(f"The shop's server had a problem (HTTP {status}); "
                       "try again in a while." + quoted, details=details, status=status)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class HttpTransport:
    """A small wrapper over one ``httpx.Client`` shared by all API clients of a process."""

    def __init__(self, *, timeout: float = 30.0, max_retries: int = 4,
                 backoff: float = 0.5, max_backoff: float = 15.0, verify: bool = True,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        #: how to build the same transport in another process; None when a test injected
        #: a transport or a sleep (those stay in this process)
        self.settings: dict[str, Any] | None = None
        if transport is None and sleep is time.sleep:
            self.settings = {"timeout": timeout, "max_retries": max_retries,
                             "backoff": backoff, "max_backoff": max_backoff, "verify": verify}
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._rng = random.Random()
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            verify=verify, transport=transport, follow_redirects=False,
            headers={"User-Agent": f"orderdesk/{__version__}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _delay(self, attempt: int, error: ApiError) -> float:
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return min(error.retry_after, 120.0)
        base: float = min(self.max_backoff, self.backoff * (2.0 ** attempt))
        return base / 2 + self._rng.uniform(0, base / 2)

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None,
                 auth: httpx.Auth | None = None,
                 decode: Callable[..., Any] = decode_json) -> Any:
        """GET and decode JSON, retrying what may pass (network, 429, 5xx, cut-off bodies).

        ``decode(body, url=...)`` turns the body into the result (``decode_page`` for lists).
        """
        attempt = 0
        while True:
            try:
                return self._once(url, params, headers, auth, decode)
            except ApiError as error:
                if not error.retriable or attempt >= self.max_retries:
                    raise
                delay = self._delay(attempt, error)
                log.info("retrying %s in %.2fs after: %s", _redact(url), delay, error.details
                         or error.message)
                self._sleep(delay)
                attempt += 1

    def _once(self, url: str, params: Mapping[str, Any] | None,
              headers: Mapping[str, str] | None, auth: httpx.Auth | None,
              decode: Callable[..., Any]) -> Any:
        try:
            response = self.client.get(url, params=params, headers=headers,
                                       auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT)
            body = response.read()
        except httpx.TimeoutException as exc:
            raise NetworkError("The shop's server did not answer in time.",
                               details=f"{_redact(url)}: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise NetworkError("The shop's server cannot be reached (check the network and "
                               "the connection's URL).",
                               details=f"{_redact(url)}: {exc!r}") from exc
        if response.status_code >= 300:
            raise error_for(response)
        return decode(body, url=_redact(url))


def _redact(url: str) -> str:
    return re.sub(r"(token|password|key)=[^&]*", r"\1=***", url, flags=re.I)

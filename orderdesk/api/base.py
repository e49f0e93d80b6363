"""What every connection kind's client offers the sync engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from orderdesk.api.errors import ProtocolError
from orderdesk.api.http import HttpTransport, SplitPage, decode_page, split_page
from orderdesk.config.connections import ConnectionConfig
from orderdesk.models.entities import Order
from orderdesk.models.query import OrderQuery


@dataclass(frozen=True, slots=True)
class Page:
    results: list[Any]
    count: int | None
    next: str | None
    offset: int = 0
    #: each result's verbatim JSON text (empty when it could not be cut out)
    raw: list[str] = field(default_factory=list)

    def raw_of(self, index: int) -> str | None:
        return self.raw[index] if self.raw else None


@dataclass(frozen=True, slots=True)
class PushDown:
    """An ``OrderQuery`` as server parameters, and what the server cannot filter."""

    params: dict[str, str] = field(default_factory=dict)
    unsupported: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RawPage:
    """A list page whose orders are not read yet: each one's exact JSON as UTF-8 bytes
    (``ClientBase.get_raw_page``; the sync reads them, see ``sync/walk.py``)."""

    raws: list[bytes]
    count: int | None
    next: str | None
    offset: int = 0
    #: the whole body (``decoded()`` reads it when an order cannot be decoded alone)
    body: bytes = b""
    where: str = ""

    def decoded(self) -> Page:
        """The same page decoded as ``ClientBase.get_page`` decodes it."""
        return parse_page(decode_page(self.body, url=self.where), self.offset, self.where)


def _envelope(data: Any, where: str) -> tuple[int | None, str | None]:
    """``count`` and ``next`` of a DRF envelope, checked."""
    count = data.get("count")
    if isinstance(count, bool) or not isinstance(count, int | None):
        raise ProtocolError(f"The shop's order list at {where} has an invalid 'count'.")
    nxt = data.get("next")
    if nxt is not None and not isinstance(nxt, str):
        raise ProtocolError(f"The shop's order list at {where} has an invalid 'next'.")
    return count, nxt or None


def parse_page(decoded: tuple[Any, list[str]], offset: int, where: str) -> Page:
    """The DRF envelope ``{count, next, previous, results}``, or a bare JSON array."""
    data, raw = decoded
    if isinstance(data, list):
        return Page(results=data, count=len(data), next=None, offset=offset, raw=raw)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ProtocolError(f"The shop's order list at {where} is not in the documented shape "
                            "(no 'results' list).")
    count, nxt = _envelope(data, where)
    return Page(results=data["results"], count=count, next=nxt, offset=offset, raw=raw)


def parse_split(split: SplitPage | tuple[Any, list[str]], offset: int,
                where: str) -> RawPage | Page:
    """``split_page``'s result as a page: its orders unread, or (when the page had to be
    decoded whole) decoded, as ``parse_page`` gives it; the same checks and errors."""
    if not isinstance(split, SplitPage):
        return parse_page(split, offset, where)
    raws = split.raws
    if split.envelope is None:
        return RawPage(raws, len(raws), None, offset, split.body, where)
    count, nxt = _envelope(split.envelope, where)
    return RawPage(raws, count, nxt, offset, split.body, where)


class OrderClient(Protocol):
    config: ConnectionConfig
    #: whether the endpoint can be asked for ``ordering=updated_at`` + ``updated_from``
    supports_updated_since: bool

    def list_page(self, *, offset: int, limit: int, updated_from: datetime | None = None,
                  extra: Mapping[str, str] | None = None) -> Page: ...

    def normalize(self, data: Any, synced_at: datetime | None = None,
                  raw: str | None = None) -> Order: ...

    def push_down(self, query: OrderQuery) -> PushDown: ...


class ClientBase:
    """Auth and URL handling common to the kinds."""

    path = ""

    def __init__(self, config: ConnectionConfig, secret: str | None,
                 transport: HttpTransport) -> None:
        from orderdesk.api.errors import AuthError

        if not secret:
            raise AuthError(f"No token or password is available for the connection "
                            f"{config.name!r}. Store one (orderdesk connection add ... "
                            "--token-stdin) or set the environment variable it names.")
        self.config = config
        self.transport = transport
        self._secret = secret

    @property
    def url(self) -> str:
        return self.config.base_url + self.path

    def auth(self) -> tuple[dict[str, str], httpx.Auth | None]:
        if self.config.auth == "basic":
            return {}, httpx.BasicAuth(self.config.username, self._secret)
        scheme = "Bearer" if self.config.auth == "bearer" else "Token"
        return {"Authorization": f"{scheme} {self._secret}"}, None

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        headers, auth = self.auth()
        return self.transport.get_json(url, params=params, headers=headers, auth=auth)

    def get_page(self, params: Mapping[str, Any], offset: int) -> Page:
        headers, auth = self.auth()
        decoded = self.transport.get_json(self.url, params=params, headers=headers, auth=auth,
                                          decode=decode_page)
        return parse_page(decoded, offset, self.url)

    def get_raw_page(self, params: Mapping[str, Any], offset: int) -> RawPage | Page:
        """As :meth:`get_page`, the orders left unread (:class:`RawPage`) unless the page
        had to be decoded whole. Only HTTP and the page's cut: a body that is not JSON
        is retried as with :meth:`get_page`."""
        headers, auth = self.auth()
        split = self.transport.get_json(self.url, params=params, headers=headers, auth=auth,
                                        decode=split_page)
        return parse_split(split, offset, self.url)

    def worker_spec(self) -> tuple[dict[str, Any], str] | None:
        """What another process needs to build the same client (the connection, the
        transport's settings) and the secret, kept apart so that nothing persisted or
        logged holds it; ``None`` when the transport cannot be rebuilt elsewhere (a test's
        injected transport) or the URL is not a real http(s) server."""
        settings = self.transport.settings
        if settings is None or not self.config.base_url.startswith(("http://", "https://")):
            return None
        return {"config": self.config.to_json(), "transport": dict(settings)}, self._secret

    def __repr__(self) -> str:  # never show the secret
        return f"<{type(self).__name__} {self.config.name} {self.config.base_url}>"

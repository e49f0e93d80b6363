"""What a page of encoded orders stores, for comparing the sync's fast reader with the
reference path: the same rows, hashed differently (the fast reader's rows are made from
the order's JSON alone, so that is what it hashes: ``codec._content_hash``)."""

from __future__ import annotations

from typing import Any


def stored(fields: tuple[Any, ...]) -> tuple[Any, ...]:
    """``EncodedPage.fields()`` without the content hashes."""
    connection_id, remote_ids, _hashes, orders, *rest = fields
    return (connection_id, remote_ids, [row[:-1] for row in orders], *rest)

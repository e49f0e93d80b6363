"""``OrderQuery`` → SQL over the ``orders`` table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import UnaryExpression

from orderdesk.models.entities import to_micros
from orderdesk.models.money import to_storage_units
from orderdesk.models.query import OrderQuery, PaymentFilter, SortField, search_terms
from orderdesk.models.status import StatusCategory
from orderdesk.store.schema import orders

o = orders.c

SORT_COLUMNS: dict[SortField, Any] = {
    SortField.NUMBER: o.number,
    SortField.CREATED: o.created_at,
    SortField.UPDATED: o.updated_at,
    SortField.CUSTOMER: o.customer_sort,
    SortField.EMAIL: o.email,
    SortField.STATUS: o.category,
    SortField.LINES: o.line_count,
    SortField.QUANTITY: o.quantity,
    SortField.TOTAL: o.total,
    SortField.PAID: o.paid,
    SortField.OUTSTANDING: o.outstanding,
    SortField.PAYMENT_METHOD: o.payment_method,
    SortField.SHIPPING_METHOD: o.shipping_method,
    SortField.COUNTRY: o.country,
    SortField.SYNCED: o.synced_at,
    SortField.PROBLEMS: o.problems,
}

_PAYMENT_STATES = {
    PaymentFilter.PAID: ("paid",),
    PaymentFilter.UNPAID: ("unpaid",),
    PaymentFilter.OUTSTANDING: ("unpaid", "partially_paid"),
}


def _fts_match(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


#: How a search is read (see ``OrderStore._search_plan``): SORT the matches (rows
#: looked up by id, then sorted); WALK the sort index testing each order against
#: the set of matches (``id + 0`` keeps SQLite from looking the matches up by id);
#: PROBE: walk the sort index and test each order's own indexed text with
#: ``instr`` (a substring test, what a trigram phrase query means), no match set.
SORT, WALK, PROBE = "sort", "walk", "probe"


def _text_clause(term: str, dialect: str, index: int, *,
                 plan: str = SORT) -> ColumnElement[bool]:
    """One search term; ``index`` keeps each term's bound parameter apart (two text
    clauses with the same parameter name would share one value)."""
    name = f"term{index}"
    if dialect == "sqlite":
        if plan == PROBE:
            return text(  # type: ignore[return-value]
                f"instr((SELECT body FROM orders_fts WHERE orders_fts.rowid = orders.id), "
                f":{name}) > 0").bindparams(**{name: term})
        if len(term) >= 3:
            sub = text(f"SELECT rowid FROM orders_fts WHERE orders_fts MATCH :{name}"
                       ).bindparams(**{name: _fts_match(term)})
        else:
            # Too short for trigrams: scan the (folded) FTS text itself.
            sub = text(f"SELECT rowid FROM orders_fts WHERE instr(body, :{name}) > 0"
                       ).bindparams(**{name: term})
        target: Any = o.id + 0 if plan == WALK else o.id
        return target.in_(sub.columns(column("rowid", Integer)))  # type: ignore[no-any-return]
    raise NotImplementedError(f"free-text search on {dialect}")  # pragma: no cover


def where_clauses(query: OrderQuery, connection_ids: Mapping[str, int],
                  dialect: str, *, plan: str = SORT) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if query.connections:
        ids = [connection_ids[n] for n in query.connections if n in connection_ids]
        clauses.append(o.connection_id.in_(ids) if ids else false())
    if query.categories:
        clauses.append(o.category.in_([str(c) for c in query.categories]))
    if query.statuses:
        clauses.append(o.status_raw.in_(query.statuses))
    if not query.include_deleted:
        clauses.append(o.category != str(StatusCategory.DELETED))
    for index, term in enumerate(search_terms(query.text)):
        clauses.append(_text_clause(term, dialect, index, plan=plan))
    if query.numbers:
        clauses.append(or_(o.number.in_(query.numbers), o.remote_id.in_(query.numbers)))
    if query.created_from is not None:
        clauses.append(o.created_at >= to_micros(query.created_from))
    if query.created_to is not None:
        clauses.append(o.created_at < to_micros(query.created_to))
    if query.updated_from is not None:
        clauses.append(o.updated_at >= to_micros(query.updated_from))
    if query.updated_to is not None:
        clauses.append(o.updated_at < to_micros(query.updated_to))
    if query.total_min is not None:
        clauses.append(o.total >= _bound(query.total_min, "ceil"))
    if query.total_max is not None:
        clauses.append(o.total <= _bound(query.total_max, "floor"))
    if query.payment is not None:
        clauses.append(o.payment_state.in_(_PAYMENT_STATES[query.payment]))
    for values, col in ((query.payment_methods, o.payment_method),
                           (query.shipping_methods, o.shipping_method),
                           (query.countries, o.country), (query.states, o.state),
                           (query.cities, o.city)):
        if values:
            clauses.append(col.in_(values))
    if query.has_notes is not None:
        clauses.append(o.has_notes == query.has_notes)
    if query.has_problems is not None:
        clauses.append(o.problems > 0 if query.has_problems else o.problems == 0)
    return clauses


def _bound(value: Any, rounding: str) -> int:
    """A bound at storage scale; bounds finer than the scale round inward."""
    quant = Decimal("0.0001")
    mode = ROUND_CEILING if rounding == "ceil" else ROUND_FLOOR
    return to_storage_units(Decimal(value).quantize(quant, rounding=mode), field="total")


def sort_expressions(query: OrderQuery, connection_ids: Mapping[str, int]
                     ) -> list[tuple[Any, bool]]:
    """(expression, descending) of every sort key, the id tie-breaker last."""
    out: list[tuple[Any, bool]] = []
    for key in query.sort:
        if key.field is SortField.CONNECTION:
            ranked = sorted(connection_ids)
            sort_col: Any = case(
                {connection_ids[name]: rank for rank, name in enumerate(ranked)},
                value=o.connection_id, else_=len(ranked))
        else:
            sort_col = SORT_COLUMNS[key.field]
        out.append((sort_col, key.descending))
    first_desc = bool(query.sort) and query.sort[0].descending
    out.append((o.id, first_desc))
    return out


def order_by(query: OrderQuery, connection_ids: Mapping[str, int],
             dialect: str) -> list[UnaryExpression[Any]]:
    """Sort keys, then the internal id in the first key's direction as the tie-breaker.

    NULLs sort first ascending and last descending (SQLite's default, made explicit
    so that other databases agree).
    """
    terms: list[UnaryExpression[Any]] = []
    for sort_col, descending in sort_expressions(query, connection_ids):
        if dialect == "sqlite":  # the default; spelling it out would defeat the indexes
            terms.append(sort_col.desc() if descending else sort_col.asc())
        else:
            terms.append(sort_col.desc().nulls_last() if descending
                         else sort_col.asc().nulls_first())
    return terms


def ids_select(query: OrderQuery, connection_ids: Mapping[str, int],
               dialect: str, *, plan: str = SORT) -> Select[Any]:
    stmt = select(o.id).where(and_(True, *where_clauses(
        query, connection_ids, dialect, plan=plan)))
    return stmt.order_by(*order_by(query, connection_ids, dialect))


def count_select(query: OrderQuery, connection_ids: Mapping[str, int],
                 dialect: str) -> Select[Any]:
    """How many orders match ``query`` (one figure; an index-only count where one fits)."""
    clauses = where_clauses(query, connection_ids, dialect)
    return select(func.count()).select_from(o.id.table).where(and_(True, *clauses))


def is_text_only(query: OrderQuery) -> bool:
    """Only a free-text search (every term long enough for the trigram index)."""
    terms = search_terms(query.text)
    return (bool(terms) and all(len(t) >= 3 for t in terms)
            and replace(query, text="", sort=()) == OrderQuery(sort=()))


def fts_query(query: OrderQuery) -> str:
    """The FTS5 MATCH expression of every term (FTS5 joins phrases with AND)."""
    return " ".join(_fts_match(t) for t in search_terms(query.text))


def before_clause(query: OrderQuery, connection_ids: Mapping[str, int],
                  values: Sequence[Any]) -> ColumnElement[bool]:
    """Orders that come before the one whose sort values (``sort_expressions`` order,
    id last) are ``values``: its row number is the count of these. NULLs sort first
    ascending and last descending, as in ``order_by``."""
    keys = sort_expressions(query, connection_ids)
    alternatives: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for (expr, desc), value in zip(keys, values, strict=True):
        if value is None:
            before = expr.is_not(None) if desc else false()
            same = expr.is_(None)
        else:
            before = expr > value if desc else or_(expr.is_(None), expr < value)
            same = expr == value
        alternatives.append(and_(True, *equal, before))
        equal.append(same)
    return or_(*alternatives)


def counts_select(query: OrderQuery, connection_ids: Mapping[str, int],
                  dialect: str) -> Select[Any]:
    clauses = where_clauses(query, connection_ids, dialect)
    return (select(o.category, func.count()).where(and_(True, *clauses))
            .group_by(o.category))


def seekable(query: OrderQuery) -> bool:
    """Whether ``seek_segments`` can read ``query``'s order from an anchor: a single
    plain column (then the id), or the id alone."""
    return not query.sort or (len(query.sort) == 1 and query.sort[0].field in SORT_COLUMNS)


def seek_segments(query: OrderQuery, connection_ids: Mapping[str, int],
                  dialect: str, null_key: bool, columns: Sequence[Any]
                  ) -> list[tuple[Select[Any], Select[Any]]]:
    """The rows of ``query``'s order from an anchor's on (the order whose sort values,
    ``sort_expressions`` order, id last, are bound as ``seek_key`` and ``seek_id``;
    ``null_key``: its key is NULL), as consecutive parts, each one index read from a
    seek (no ``OFFSET`` scan from the first row). Each part is a pair: a select of
    ``columns`` (``LIMIT :seek_limit OFFSET :seek_offset``), and the count of its first
    ``:seek_offset`` rows (to skip a part that ends before the offset). Only for a
    ``seekable`` query; built once per query and reused with new values.

    Each part holds either ties of the anchor's key (ordered by id), or keys strictly
    after it, or NULL keys: a row-value comparison ``(key, id) > (?, ?)`` would seek on
    the key alone and then walk every tie (a status sort has 730,000 ties at a million
    orders), and NULLs compare as unknown (they sort first ascending, last
    descending, as in ``order_by``)."""
    if not seekable(query):
        raise ValueError("the order is not a single plain column")
    keys = sort_expressions(query, connection_ids)
    where = where_clauses(query, connection_ids, dialect)
    o_id, i = o.id, bindparam("seek_id", type_=Integer)
    limit = bindparam("seek_limit", type_=Integer)
    offset = bindparam("seek_offset", type_=Integer)

    def part(clause: ColumnElement[bool], *order: Any) -> tuple[Select[Any], Select[Any]]:
        rows = select(*columns).where(and_(True, *where, clause)).order_by(*order)
        count = select(func.count()).select_from(rows.limit(offset).subquery())
        return rows.limit(limit).offset(offset), count

    if len(keys) == 1:  # the id alone
        return [part(o_id >= i, o_id.asc())]
    key, desc = keys[0]
    v = bindparam("seek_key", type_=key.type)
    same = key.is_(None) if null_key else key == v
    if not desc:
        return [part(and_(same, o_id >= i), o_id.asc()),
                part(key.is_not(None) if null_key else key > v, key.asc(), o_id.asc())]
    parts = [part(and_(same, o_id <= i), o_id.desc())]
    if not null_key:
        parts += [part(key < v, key.desc(), o_id.desc()),
                  part(key.is_(None), o_id.desc())]
    return parts

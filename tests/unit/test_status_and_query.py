from datetime import datetime

import pytest

from orderdesk.models import DataError, OrderQuery, OrderStatus, SortField, SortKey, StatusCategory
from orderdesk.models.entities import parse_datetime


@pytest.mark.parametrize(("raw", "category"), [
    ("new", StatusCategory.AWAITING_PAYMENT), ("hold", StatusCategory.ON_HOLD),
    ("awaiting_payment", StatusCategory.AWAITING_PAYMENT), ("delivered", StatusCategory.DELIVERED),
    ("refunded", StatusCategory.REFUNDED), ("deleted", StatusCategory.DELETED),
])
def test_known_statuses(raw: str, category: StatusCategory) -> None:
    assert OrderStatus.from_raw(raw).category is category


def test_unknown_status_is_kept_verbatim() -> None:
    status = OrderStatus.from_raw("Backordered (supplier)")
    assert status.raw == "Backordered (supplier)"
    assert status.category is StatusCategory.OTHER
    assert status.label == "Backordered (supplier)"


def test_sort_key_parse() -> None:
    assert SortKey.parse("-total") == SortKey(SortField.TOTAL, True)
    assert SortKey.parse("payment-method") == SortKey(SortField.PAYMENT_METHOD, False)
    with pytest.raises(DataError, match="unknown sort key"):
        SortKey.parse("colour")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(DataError, match="time zone"):
        OrderQuery(created_from=datetime(2025, 1, 1))
    with pytest.raises(DataError, match="time zone"):
        parse_datetime("2025-01-01T10:00:00")


def test_datetimes_with_offsets_become_utc() -> None:
    value = parse_datetime("2026-03-01T12:30:00.123456+02:00")
    assert value.utcoffset() is not None and value.hour == 10 and value.microsecond == 123456
    assert parse_datetime("2026-03-01T10:30:00Z").hour == 10


def test_describe_lists_only_active_filters() -> None:
    q = OrderQuery(text="anna", has_notes=True)
    assert q.describe() == "text=anna has_notes=True sort=-created"
    assert q.is_filtered and not OrderQuery().is_filtered

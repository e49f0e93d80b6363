import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderdesk.models import Money, MoneyError, parse_decimal
from orderdesk.models.money import from_storage_units, to_storage_units

amounts = st.decimals(min_value=Decimal("-99999999999.99"), max_value=Decimal("99999999999.99"),
                      places=2, allow_nan=False, allow_infinity=False)


@given(amounts)
def test_string_round_trip_is_exact(amount: Decimal) -> None:
    text = f"{amount:f}"
    assert parse_decimal(text) == amount
    assert f"{parse_decimal(text):f}" == text


@given(amounts)
def test_json_number_round_trip_without_float(amount: Decimal) -> None:
    encoded = '{"x": ' + f"{amount:f}" + "}"
    value = json.loads(encoded, parse_float=Decimal)["x"]
    assert parse_decimal(value) == amount
    assert Money.parse(value, "EUR").amount == amount


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_minor_units_round_trip(units: int) -> None:
    money = Money.from_minor(units, "EUR")
    assert money.to_minor() == units
    assert Money.from_minor(units, "JPY").amount == Decimal(units)
    assert Money.from_minor(units, "KWD").to_minor() == units


@given(st.decimals(min_value=Decimal("-9999999999"), max_value=Decimal("9999999999"),
                   places=4, allow_nan=False, allow_infinity=False))
def test_storage_units_round_trip(amount: Decimal) -> None:
    assert from_storage_units(to_storage_units(amount)) == amount


def test_float_is_refused() -> None:
    with pytest.raises(MoneyError, match="float"):
        parse_decimal(0.1)


@pytest.mark.parametrize("bad", ["", "abc", "1,5", "NaN", "inf", "1e400000", None, True, [], {}])
def test_bad_values_raise_money_error(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_decimal(bad)


def test_huge_value_is_refused() -> None:
    with pytest.raises(MoneyError, match="too large"):
        parse_decimal("1" + "0" * 20)


def test_arithmetic_is_exact_and_checks_currency() -> None:
    a, b = Money.parse("0.10", "EUR"), Money.parse("0.20", "EUR")
    assert (a + b).amount == Decimal("0.30")
    assert (a * 3).amount == Decimal("0.30")
    assert (b - a) == Money(Decimal("0.10"), "EUR")
    with pytest.raises(MoneyError):
        _ = a + Money.parse("1", "USD")
    assert Money.parse("5", "EUR").plain() == "5.00"
    assert str(Money.parse("1234.5", "EUR")) == "1234.50 EUR"


def test_storage_refuses_precision_loss() -> None:
    with pytest.raises(MoneyError):
        to_storage_units(Decimal("0.00001"))

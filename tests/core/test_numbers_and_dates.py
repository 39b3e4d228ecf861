"""Numbers and dates in messages read as people write them."""

from decimal import Decimal

import pytest

from core.dates import no_such_day
from core.numbers import plain_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("60.0000", "60"),
        ("6E+1", "60"),
        ("70.5000", "70.5"),
        ("1000000", "1000000"),
        ("0.0000", "0"),
        ("0.0010", "0.001"),
        ("NaN", "NaN"),
        ("sNaN", "sNaN"),
    ],
)
def test_a_number_is_never_printed_in_scientific_notation(value, text):
    assert plain_number(Decimal(value)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "“2026-02-30”这一天不存在：2026年2月只有 28 天。"),
        ("2024-02-30", "“2024-02-30”这一天不存在：2024年2月只有 29 天。"),
        ("2026-04-31", "“2026-04-31”这一天不存在：2026年4月只有 30 天。"),
        ("2026-13-01", "“2026-13-01”这一天不存在：一年只有 12 个月。"),
        ("2026-02-28", None),
        ("2026/02/30", None),
        ("yesterday", None),
        (20260230, None),
    ],
)
def test_a_day_that_does_not_exist_is_named_as_such(text, message):
    assert no_such_day(text) == message

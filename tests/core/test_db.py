"""Reserved ids are never handed out again, by a later reservation or an ordinary insert."""

import pytest

from core.db import reserve_ids
from responsibility.models import Unit, UnitKind

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_reserved_ids_ascend_and_inserts_come_after_them():
    first = reserve_ids(Unit, 3)
    unit = Unit.objects.create(name="甲市", kind=UnitKind.CITY)
    second = reserve_ids(Unit, 2)
    later = Unit.objects.create(name="乙市", kind=UnitKind.CITY)

    assert first == sorted(first) and len(first) == 3
    assert max(first) < unit.pk < min(second) <= max(second) < later.pk


def test_reserving_no_ids_asks_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert reserve_ids(Unit, 0) == []

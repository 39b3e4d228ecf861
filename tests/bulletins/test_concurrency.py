"""Two offices' clerks drafting at the same moment: every issue gets its own number and
the numbers have no gap, whether or not the year's counter existed already."""

import datetime
from functools import partial

import pytest

from bulletins.models import Bulletin
from bulletins.services import bulletin_create
from responsibility.models import Unit, User
from tests.helpers import RACES_NEED_POSTGRES, race

from .conftest import PERIOD_END, PERIOD_START

pytestmark = RACES_NEED_POSTGRES

ROUNDS = 10
DRAFTERS = 2


def draft_at_once(actor_id: int, issuer_id: int, issued_on: datetime.date) -> None:
    """Each drafter in a thread of its own, with its own connection, released together."""
    issuer = Unit.objects.get(pk=issuer_id)
    # One user object per drafter: what a user may do is cached on the object.
    actors = [User.objects.get(pk=actor_id) for _ in range(DRAFTERS)]
    race(
        *(
            partial(
                bulletin_create,
                actor=actor,
                issuer=issuer,
                title="工作简报",
                period_start=PERIOD_START,
                period_end=PERIOD_END,
                issued_on=issued_on,
            )
            for actor in actors
        )
    )


@pytest.fixture
def office(transactional_db, django_db_serialized_rollback, world) -> tuple[int, int]:
    return world.person("city_supervisor").pk, world.unit("市委督查室").pk


def numbers(issuer_id: int, year: int) -> list[int]:
    return sorted(Bulletin.objects.filter(issuer_id=issuer_id, year=year).values_list("number", flat=True))


def test_drafts_of_the_same_year_at_once_are_numbered_without_gaps(office):
    actor_id, issuer_id = office
    for _ in range(ROUNDS):
        draft_at_once(actor_id, issuer_id, datetime.date(2018, 12, 3))

    assert numbers(issuer_id, 2018) == list(range(1, ROUNDS * DRAFTERS + 1))


def test_the_first_drafts_of_a_year_at_once_share_one_counter(office):
    actor_id, issuer_id = office
    years = range(2020, 2020 + ROUNDS)
    for year in years:
        draft_at_once(actor_id, issuer_id, datetime.date(year, 1, 2))

    for year in years:
        assert numbers(issuer_id, year) == list(range(1, DRAFTERS + 1))

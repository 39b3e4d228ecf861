"""Two notices drafted at the same moment by the same office, about two items: each gets its
own number and the numbers have no gap, whether or not the year's counter existed already."""

import datetime
from functools import partial

import pytest
import time_machine

from bulletins.models import Notice
from bulletins.notice_services import notice_issue
from responsibility.models import User
from tasks.models import Task
from tests.helpers import RACES_NEED_POSTGRES, race

from .conftest import at

pytestmark = RACES_NEED_POSTGRES

ROUNDS = 5
DRAFTERS = 2


@pytest.fixture
def items(transactional_db, django_db_serialized_rollback, world, make_task, settings, tmp_path):
    # Each issue renders and mails its PDF once it commits (Celery runs in-process here).
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(at(datetime.date(2018, 10, 15)), tick=False):
        tasks = [make_task(f"{name}危房改造", lead_unit=name) for name in ("义县", "黑山县")]
    return world.person("city_supervisor").pk, [task.pk for task in tasks]


def issue_at_once(actor_id: int, task_ids: list[int], day: datetime.date) -> None:
    """Each drafter in a thread of its own, with its own connection, released together."""
    # One user object per drafter: what a user may do is cached on the object.
    actors = [User.objects.get(pk=actor_id) for _ in task_ids]
    with time_machine.travel(at(day), tick=False):
        race(
            *(
                partial(
                    notice_issue,
                    actor=actor,
                    task_id=task_id,
                    urgency="urge",
                    request="请于三日内报送整改措施。",
                    reply_by=day + datetime.timedelta(days=3),
                )
                for actor, task_id in zip(actors, task_ids, strict=True)
            )
        )


def numbers(year: int) -> list[int]:
    return sorted(Notice.objects.filter(year=year).values_list("number", flat=True))


def test_notices_drafted_at_once_get_consecutive_numbers(items):
    actor_id, task_ids = items
    for _ in range(ROUNDS):
        issue_at_once(actor_id, task_ids, datetime.date(2018, 11, 20))

    assert numbers(2018) == list(range(1, ROUNDS * DRAFTERS + 1))
    # Each item got its half, and every notice its rendered PDF.
    assert sorted(Task.objects.filter(pk__in=task_ids).values_list("notices__task_id", flat=True)) == sorted(
        task_ids * ROUNDS
    )
    assert not Notice.objects.filter(pdf="").exists()


def test_the_first_notices_of_a_year_at_once_share_one_counter(items):
    actor_id, task_ids = items
    for year in (2018, 2019):
        issue_at_once(
            actor_id, task_ids, datetime.date(year, 11, 20) if year == 2018 else datetime.date(2019, 1, 3)
        )

    assert numbers(2018) == [1, 2]
    assert numbers(2019) == [1, 2]

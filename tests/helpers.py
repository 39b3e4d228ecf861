"""Assertions, a race starter and a target splitter shared by the tests."""

import datetime
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import pytest
import redis
from django.db import connection

from tasks.models import Task
from tasks.services import ChildSpec, task_decompose

T = TypeVar("T")

ERROR_KEYS = {"code", "message", "fields"}

# The marks of a module of races: they need PostgreSQL's row locks.
RACES_NEED_POSTGRES = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers; the race needs PostgreSQL"
    ),
]


def assert_error(
    response, status_code: int, code: str, *, fields: set[str] | None = None, strict: bool = False
) -> dict:
    """The response is Duban's error shape with this status and code. ``fields`` names the
    fields with messages; with ``strict``, ``fields`` is expected empty otherwise."""
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    if fields is not None:
        assert set(body["fields"]) == fields, body
    elif strict:
        assert body["fields"] == {}, body
    return body


def race(*targets: Callable[[], T], timeout: float = 60) -> list[T]:
    """Call each target in a thread of its own, all released at once, and return what each
    returned, in the order given.

    Each thread has its own database connection, opened before the release so that the
    targets start their first queries together, and closed when the thread ends. Whatever
    the targets raised is raised here, as one exception group, once every thread has ended.
    """
    start = threading.Barrier(len(targets))
    results: list = [None] * len(targets)
    errors: list[BaseException] = []

    def run(index: int, target: Callable[[], T]) -> None:
        try:
            connection.ensure_connection()
            start.wait(timeout=10)
            results[index] = target()
        except BaseException as error:  # raised again in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, target)) for n, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a raced target is still running"
    if errors:
        raise BaseExceptionGroup(f"{len(errors)} of {len(targets)} raced targets failed", errors)
    return results


def split_target(
    world, task: Task, shares: dict[str, int], *, by: str, due: datetime.date | None = None
) -> list[Task]:
    """Decompose a target of one indicator among units by name, each with its share."""
    indicator = task.indicators.get()
    return task_decompose(
        task_id=task.pk,
        actor=world.person(by),
        children=[
            ChildSpec(
                title=f"{unit}D级危房改造",
                lead_unit=world.unit(unit),
                due_date=due or task.due_date,
                targets={indicator.pk: Decimal(share)},
            )
            for unit, share in shares.items()
        ],
    )


def redis_answers() -> bool:
    """Whether Redis answers on 127.0.0.1:6379, for the tests that start workers against it."""
    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5).ping()
    except (redis.RedisError, OSError):
        return False

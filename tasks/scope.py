"""Keeping ``TaskScope`` right: each task under every unit whose subtree holds one of its
units, with the columns lists sort and filter on.

Two writes, both called inside the service's transaction:

- ``scope_rebuild(task_ids)``: the tasks' rows written afresh, for a task created,
  decomposed, imported or given other units, and for every task of a unit that moved;
- ``scope_sync(task)``: one UPDATE of the copied columns, for a change of the task's own
  columns (a transition, a due date, the responsible person).

``scope_fill()`` writes every task's rows at once, for the migration that added the table
and for the benchmark's generated province. Each is tested against visibility's definition
(``tasks.selectors.task_visibility_q``) after every kind of change.
"""

from collections.abc import Iterable

from django.db import connection
from django.dispatch import receiver

from core.db import insert_rows
from responsibility.models import PATH_SEPARATOR
from responsibility.services import unit_moved

from .models import Task, TaskScope, TaskUnit

# The task's columns copied to its scope rows, by attname.
COPIED = (
    "state",
    "kind",
    "campaign_id",
    "parent_id",
    "responsible_person_id",
    "due_date",
    "closed_at",
    "submitted_on",
    "next_obligation_date",
    "next_warned_date",
    "ongoing",
)
# The scope row's fields, in the order ``scope_rows`` writes them.
FIELDS = ("task", "unit", "issuing", *(name.removesuffix("_id") for name in COPIED))
# Tasks rebuilt per statement: bounds the IN lists and the rows held in memory.
CHUNK = 2000


def _ancestors(path: str) -> list[int]:
    """The ids of the unit at ``path`` and of every unit above it."""
    return [int(segment) for segment in path.split(PATH_SEPARATOR) if segment]


def scope_rows(task_ids: list[int]) -> list[tuple]:
    """The tasks' scope rows as they should be, in ``FIELDS`` order (two queries, both read
    before any row is written: a COPY holds the connection until it ends)."""
    links: dict[int, list[str]] = {}
    for task_id, path in TaskUnit.objects.filter(task_id__in=task_ids).values_list("task_id", "unit__path"):
        links.setdefault(task_id, []).append(path)
    rows = []
    tasks = Task.objects.filter(pk__in=task_ids).values_list("pk", "issuing_unit__path", *COPIED)
    for task_id, issuing_path, *copied in tasks:
        units = dict.fromkeys(_ancestors(issuing_path), True)
        for path in links.get(task_id, ()):
            for unit_id in _ancestors(path):
                units.setdefault(unit_id, False)
        rows.extend((task_id, unit_id, issuing, *copied) for unit_id, issuing in units.items())
    return rows


def scope_rebuild(task_ids: Iterable[int]) -> None:
    """Write the tasks' scope rows afresh: after their units, or the tree above them, changed."""
    ids = sorted(set(task_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        TaskScope.objects.filter(task_id__in=chunk).delete()
        insert_rows(TaskScope, FIELDS, scope_rows(chunk))


def scope_sync(task: Task) -> None:
    """Copy the task's own columns to its scope rows, as the caller has just saved them."""
    with connection.cursor() as cursor:
        cursor.execute(SYNC_SQL, [task.pk, task.pk])


def _sync_sql() -> str:
    # Copied by the database from the saved row: written by hand, as one statement on every
    # write to a task, it costs no ORM compile and no conversion of values (bench/FIXES.md).
    columns = ", ".join(Task._meta.get_field(name).column for name in COPIED)
    return (
        f"UPDATE {TaskScope._meta.db_table} SET ({columns}) = "
        f"(SELECT {columns} FROM {Task._meta.db_table} WHERE id = %s) WHERE task_id = %s"
    )


SYNC_SQL = _sync_sql()


# Every task's rows in one statement, on PostgreSQL: the ancestors are read off the unit's
# path (ids of 10 digits, each followed by "/"), as ``_ancestors`` does.
FILL_SQL = """
INSERT INTO tasks_taskscope (
    task_id, unit_id, issuing, state, kind, campaign_id, parent_id, responsible_person_id, due_date,
    closed_at, submitted_on, next_obligation_date, next_warned_date, ongoing
)
SELECT t.id, held.unit_id, bool_or(held.issuing), t.state, t.kind, t.campaign_id, t.parent_id,
       t.responsible_person_id, t.due_date, t.closed_at, t.submitted_on, t.next_obligation_date,
       t.next_warned_date, t.ongoing
FROM tasks_task t
JOIN (
    SELECT task.id AS task_id, task.issuing_unit_id AS unit_id, true AS issuing FROM tasks_task task
    UNION ALL
    SELECT link.task_id, link.unit_id, false FROM tasks_taskunit link
) own ON own.task_id = t.id
JOIN responsibility_unit u ON u.id = own.unit_id
CROSS JOIN LATERAL (
    SELECT segment::bigint AS unit_id, own.issuing
    FROM unnest(string_to_array(rtrim(u.path, '/'), '/')) AS segment
) held
GROUP BY t.id, held.unit_id
"""


def scope_fill() -> None:
    """Every task's scope rows, written anew."""
    TaskScope.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(FILL_SQL)
        return
    scope_rebuild(Task.objects.values_list("pk", flat=True))


@receiver(unit_moved)
def _unit_moved(sender, path: str, **kwargs) -> None:
    """A unit moved with its subtree: every task held in it has other units above it now."""
    issued = Task.objects.filter(issuing_unit__path__startswith=path).values_list("pk", flat=True)
    linked = TaskUnit.objects.filter(unit__path__startswith=path).values_list("task_id", flat=True)
    scope_rebuild({*issued, *linked})

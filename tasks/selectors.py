"""Reads of tasks. Every read path starts from the caller's visibility, written once in
three forms tested to agree (``task_visibility_q`` for sets, ``task_row_visibility_q`` for
tasks known by id, ``task_visible_to`` for a task already read with its units), so a task
the caller cannot see is missing everywhere (404), never forbidden (403)."""

import datetime
from dataclasses import dataclass
from functools import cached_property
from itertools import chain

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from core.db import CompiledRows
from core.errors import NotFound
from responsibility.models import Unit, User
from responsibility.selectors import Access, access_for_user, unit_subtree_ids

# Re-exported: the services and the importer read the day here.
from .lateness import overdue_q
from .models import (
    Attachment,
    EventAction,
    ExtensionRequest,
    Indicator,
    Obligation,
    ObligationKind,
    ProgressReport,
    RecheckAttachment,
    SourceAttachment,
    SourceEvent,
    Task,
    TaskEvent,
    TaskScope,
    TaskSource,
    TaskState,
    TaskUnit,
    TransferRequest,
)


def tasks_of_units_q(units: QuerySet) -> Q:
    """Tasks issued by, or linked to (lead, responsible, cooperating), any of ``units``.

    One UNION of two indexed lookups (every task links its lead unit too). An OR of the
    same conditions makes PostgreSQL filter every task row instead of using either index
    (bench/FIXES.md)."""
    linked = TaskUnit.objects.filter(unit__in=units).order_by().values("task_id")
    issued = Task.objects.filter(issuing_unit__in=units).order_by().values("pk")
    return Q(pk__in=linked.union(issued))


def task_visibility_q(user: User) -> Q:
    """The tasks the user sees, as a set: for lists and counts.

    A draft is not issued yet: only the issuing side sees it (people whose subtrees hold
    the issuing unit, and its lead leader), not the units it will be issued to."""
    access = access_for_user(user)
    if access.is_admin:
        return Q()
    condition = Q(lead_leader_id=user.pk)
    if access.visible_paths:
        units = unit_subtree_ids(access.visible_paths)
        # The UNION is kept whole (see tasks_of_units_q); the draft test is on the outer
        # row only, where it cannot turn the UNION back into a filter over every task.
        condition |= tasks_of_units_q(units) & (~Q(state=TaskState.DRAFT) | Q(issuing_unit__in=units))
    return condition


def task_row_visibility_q(user: User) -> Q:
    """The same visibility as ``task_visibility_q``, tested row by row: for a few tasks
    known by id. The set form would build a county's whole UNION to answer for one task;
    this one looks up that task's own links (bench/FIXES.md)."""
    access = access_for_user(user)
    if access.is_admin:
        return Q()
    condition = Q(lead_leader_id=user.pk)
    if access.visible_paths:
        subtree = unit_subtree_ids(access.visible_paths)
        linked = TaskUnit.objects.filter(task=OuterRef("pk"), unit__in=subtree)
        condition |= Q(issuing_unit__in=subtree) | (Q(Exists(linked)) & ~Q(state=TaskState.DRAFT))
    return condition


def task_visible_to(access: Access, task: Task) -> bool:
    """The same visibility, decided in Python on one task: for a service that has just
    locked the row, and so read it already; building and compiling the row form as SQL
    would cost more than that read (bench/FIXES.md). Cheapest first: a member of the
    issuing or lead unit sees the task without any unit being read; then the issuing
    unit's path; the links (the lead unit is one of them) only when that does not decide."""
    if access.is_admin or (access.user_id is not None and task.lead_leader_id == access.user_id):
        return True
    draft = task.state == TaskState.DRAFT
    units = (task.issuing_unit_id,) if draft else (task.issuing_unit_id, task.lead_unit_id)
    if access.is_member_of_any(units):
        return True
    paths = chain([task.issuing_unit], () if draft else (link.unit for link in task.links()))
    return any(unit.path.startswith(root) for unit in paths for root in access.visible_paths)


def visibility_roots(access: Access) -> list[int]:
    """The units at the roots of the subtrees the user sees, none inside another."""
    paths = access.visible_paths
    roots = [path for path in paths if not any(path != other and path.startswith(other) for other in paths)]
    return [int(path.rstrip("/").rsplit("/", 1)[-1]) for path in roots]


@dataclass(frozen=True)
class Reach:
    """Whose tasks a user's branches hold: every task (an administrator), or those under
    ``roots`` and those the user leads (``leader``)."""

    admin: bool
    roots: tuple[int, ...]
    leader: int | None

    @classmethod
    def of(cls, user: User) -> "Reach":
        access = access_for_user(user)
        return cls(access.is_admin, tuple(visibility_roots(access)), user.pk)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def scope_branches(
    reach: Reach, scopes: QuerySet[TaskScope], keys: dict | None = None
) -> list[tuple[str, list]]:
    """The scope rows of the tasks a user sees, among ``scopes``, as SQL for disjoint sets
    with one row per task (``task_id`` and the ``keys`` annotated on the rows): one set per
    root of the user's subtrees, each one range of the scope's index, then the tasks the
    user leads and sees no other way (under their issuing unit).

    The same visibility as ``task_visibility_q``, in the shape that costs what the user's
    units hold: an OR of the conditions, or one IN over several units, would make
    PostgreSQL read every row of those units and sort them for every page. The filtered
    rows are compiled once and each branch is a condition around them, which the
    database merges back into one scan: compiling the filters for every branch (a light
    is some forty comparisons) cost a page more than its queries (bench/FIXES.md). A test
    holds the two forms to the same tasks."""
    keys = keys or {}
    rows = scopes.order_by().annotate(**keys).values("task_id", "unit_id", "issuing", "state", *keys)
    scoped, scoped_params = _sql(rows)
    task_table = _q(Task._meta.db_table)
    columns = ", ".join(f"scoped.{_q(name)}" for name in ("task_id", *keys))
    select = f"SELECT {columns} FROM ({scoped}) scoped"
    under_issuer = (
        f" INNER JOIN {task_table} led ON led.{_q('id')} = scoped.{_q('task_id')}"
        f" WHERE scoped.{_q('unit_id')} = led.{_q('issuing_unit_id')}"
    )
    if reach.admin:
        return [(select + under_issuer, [*scoped_params])]
    branches = []
    for index, root in enumerate(reach.roots):
        where = f"scoped.{_q('unit_id')} = %s AND {_visible('scoped')}"
        params = [*scoped_params, root, TaskState.DRAFT]
        if index:
            where, params = _not_seen_under(where, params, reach.roots[:index])
        branches.append((f"{select} WHERE {where}", params))
    if reach.leader is not None:
        where, params = f"led.{_q('lead_leader_id')} = %s", [*scoped_params, reach.leader]
        if reach.roots:
            where, params = _not_seen_under(where, params, reach.roots)
        branches.append((f"{select}{under_issuer} AND {where}", params))
    return branches


def _visible(alias: str) -> str:
    # A scope row shows its task to whoever sees the row's unit's subtree: a draft only to
    # the issuing side (the first rule of ``task_visibility_q``, kept ready by
    # ``tasks.scope``). Its one parameter is the draft state.
    return f"({alias}.{_q('issuing')} OR {alias}.{_q('state')} <> %s)"


def _not_seen_under(where: str, params: list, roots: tuple[int, ...]) -> tuple[str, list]:
    """``where``, and the task is not seen under any of ``roots`` (an earlier branch's)."""
    marks = ", ".join(["%s"] * len(roots))
    seen = (
        f"NOT EXISTS (SELECT 1 FROM {_q(TaskScope._meta.db_table)} seen"
        f" WHERE seen.{_q('task_id')} = scoped.{_q('task_id')} AND seen.{_q('unit_id')} IN ({marks})"
        f" AND {_visible('seen')})"
    )
    return f"{where} AND {seen}", [*params, *roots, TaskState.DRAFT]


# The list's orderings, on the scope row or through to its task.
SCOPE_ORDERING = {
    "due_date": "due_date",
    "state": "state",
    "number": "task__number",
    "created_at": "task__created_at",
    "updated_at": "task__updated_at",
    "pk": "task_id",
    "id": "task_id",
}


class TaskPages:
    """The tasks of disjoint scope branches in a given order, for Django's ``Paginator``:
    ``count()`` is one query summing each branch's count; a slice is one query for the
    page's tasks, chosen by their ids (each branch ordered and cut at the slice's end,
    then merged), and two for their links and indicators (``listed_tasks``)."""

    def __init__(self, reach: Reach, scopes: QuerySet[TaskScope], ordering: list[str], *, rows: bool = False):
        self.reach, self.scopes = reach, scopes
        # Plain rows (``listed_rows``) for the API, which writes them out as JSON; tasks
        # (``listed_tasks``) for the pages' templates.
        self.rows = rows
        terms = [(term.removeprefix("-"), term.startswith("-")) for term in ordering]
        if not any(name in ("pk", "id") for name, _descending in terms):
            terms.append(("pk", False))
        self.terms = terms

    @cached_property
    def _keyed(self) -> list[tuple[str, list]]:
        """Each branch's task ids with the ordering's keys, unordered, compiled once for the
        count and the page."""
        keys = {f"key_{n}": F(SCOPE_ORDERING[name]) for n, (name, _descending) in enumerate(self.terms)}
        return scope_branches(self.reach, self.scopes, keys)

    def count(self) -> int:
        if all("__" not in SCOPE_ORDERING[name] for name, _descending in self.terms):
            branches = self._keyed
        else:
            # Keys read through the task would join it for every row counted.
            branches = scope_branches(self.reach, self.scopes)
        if not branches:
            return 0
        parts, params = [], []
        for index, (sql, branch_params) in enumerate(branches):
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{index})")
            params.extend(branch_params)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {' + '.join(parts)}", params)
            return cursor.fetchone()[0]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list:
        start, stop = page.start or 0, page.stop
        if stop <= start or not self._keyed:
            return []
        # The page's tasks sort again by the same columns (the scope's are copies).
        ordering = [f"{'-' if descending else ''}{name}" for name, descending in self.terms]
        ids = self._ids_sql(start, stop)
        if self.rows:
            return listed_rows(ids, ordering)
        return listed_tasks(Task.objects.filter(pk__in=RawSQL(*ids)).order_by(*ordering))

    def _ids_sql(self, start: int, stop: int) -> tuple[str, list]:
        order = ", ".join(
            f"{_q(f'key_{n}')} {'DESC' if descending else 'ASC'}"
            for n, (_name, descending) in enumerate(self.terms)
        )
        parts, params = [], []
        for index, (sql, branch_params) in enumerate(self._keyed):
            # Each branch ordered and cut at the page's end: one range of the scope's index.
            # Wrapped as a plain SELECT: SQLite refuses a parenthesised member of a UNION.
            cut = f"SELECT * FROM ({sql}) AS branch_{index} ORDER BY {order} LIMIT %s"
            parts.append(f"SELECT * FROM ({cut}) AS cut_{index}")
            params.extend([*branch_params, stop])
        merged = f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS merged ORDER BY {order} LIMIT %s OFFSET %s"
        return f"SELECT task_id FROM ({merged}) AS page", [*params, stop - start, start]


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def task_pages_for_user(
    user: User, scopes: QuerySet[TaskScope], ordering: list[str], *, rows: bool = False
) -> TaskPages:
    """The tasks the user sees among the filtered ``scopes``, in ``ordering``, for paging:
    as tasks, or as ``listed_rows`` with ``rows``."""
    return TaskPages(Reach.of(user), scopes, ordering, rows=rows)


def _with_details(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related(
        "campaign", "issuing_unit", "lead_unit", "lead_leader", "responsible_person"
    ).prefetch_related(
        Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit").order_by("pk")),
        # In their own order: the model's ordering by task would join every task again.
        Prefetch("indicators", queryset=Indicator.objects.order_by("pk")),
    )


# What a listed task shows of the rows it refers to (tasks.serializers.TaskSerializer):
# reading, and building models of, whole units and people (paths, aliases as JSON,
# password hashes) cost a page more than its queries did (bench/FIXES.md).
UNIT_SHOWN = ("name", "kind")
PERSON_SHOWN = ("full_name", "title")


def listed_tasks(tasks: QuerySet[Task]) -> list[Task]:
    """The tasks, with what a listed task shows: three queries.

    The unit links come as plain rows (``Task.listed_links``: unit id, name, kind and
    role) and the indicators as a list (``Task.listed_indicators``), attached to each task
    here: Django's prefetching builds a related manager and a filtered queryset for every
    task and relation, which cost a page more than the queries (bench/FIXES.md)."""
    shown = [
        *(field.name for field in Task._meta.concrete_fields),
        "campaign__name",
        "campaign__yellow_working_days",
        *(f"{unit}__{name}" for unit in ("issuing_unit", "lead_unit") for name in UNIT_SHOWN),
        *(f"{person}__{name}" for person in ("lead_leader", "responsible_person") for name in PERSON_SHOWN),
    ]
    tasks = tasks.select_related("campaign", "issuing_unit", "lead_unit", "lead_leader", "responsible_person")
    listed = list(tasks.only(*shown))
    by_id = {task.pk: task for task in listed}
    for task in listed:
        task.listed_links, task.listed_indicators = [], []
    ids = list(by_id)
    links = TaskUnit.objects.filter(task_id__in=ids).order_by("pk")
    for task_id, *link in links.values_list("task_id", "unit_id", "unit__name", "unit__kind", "role"):
        by_id[task_id].listed_links.append(link)
    for indicator in Indicator.objects.filter(task_id__in=ids).order_by("pk"):
        by_id[indicator.task_id].listed_indicators.append(indicator)
    return listed


def tasks_seen_among(user: User, scopes: QuerySet[TaskScope]) -> QuerySet[Task]:
    """The tasks the user sees among the filtered ``scopes``, as a set of tasks to order and
    read whole: for the ledgers, which read every one of them in chunks. The same branches
    as the list (``scope_branches``), united: visibility costs what the user's units hold,
    not the UNION of their links over the province's tasks (``task_visibility_q``)."""
    branches = scope_branches(Reach.of(user), scopes)
    if not branches:
        return Task.objects.none()
    selects = (f"SELECT task_id FROM ({sql}) AS seen_{n}" for n, (sql, _params) in enumerate(branches))
    united = " UNION ALL ".join(selects)
    params = [param for _sql, branch_params in branches for param in branch_params]
    return Task.objects.filter(pk__in=RawSQL(f"SELECT task_id FROM ({united}) AS seen", params))


# What the API shows of a listed task, as plain values (tasks.serializers.listed_task_data):
# the task's own columns that it shows or its light reads, and the names of what it refers
# to. Models of the task and of its four related rows, built for each task of a page and
# then only read, cost a page more Python than its queries did (bench/FIXES.md).
LISTED_VALUES = (
    "id",
    "number",
    "title",
    "description",
    "kind",
    "state",
    "campaign_id",
    "campaign__name",
    "campaign__yellow_working_days",
    "parent_id",
    "responsibility_id",
    *(f"{unit}{name}" for unit in ("issuing_unit", "lead_unit") for name in ("_id", "__name", "__kind")),
    *(
        f"{person}{name}"
        for person in ("lead_leader", "responsible_person")
        for name in ("_id", "__full_name", "__title")
    ),
    "due_date",
    "original_due_date",
    "submitted_on",
    "ongoing",
    "next_obligation_date",
    "next_warned_date",
    "escalation_rank",
    "reopen_count",
    "assigned_at",
    "submitted_at",
    "closed_at",
    "created_at",
    "updated_at",
)


# The listed page's tasks, and their unit links, as compiled reads (core.db.CompiledRows):
# their SQL is the same for every page of an ordering but for the ids.
_LISTED = CompiledRows(
    lambda ids, *ordering: Task.objects.filter(pk__in=ids).order_by(*ordering).values(*LISTED_VALUES)
)
_LINKS = CompiledRows(
    lambda ids: (
        TaskUnit.objects.filter(task_id__in=ids)
        .order_by("pk")
        .values("task_id", "unit_id", "unit__name", "unit__kind", "role")
    )
)


def listed_rows(ids: tuple[str, list], ordering: list[str]) -> list[dict]:
    """The tasks whose ids the SQL ``ids`` selects, in ``ordering``, as ``LISTED_VALUES``
    rows, each with its unit links (``links``: unit id, name, kind and role) and its
    indicators (``indicators``): three queries, as ``listed_tasks``."""
    rows = _LISTED.rows(tuple(ordering), *ids)
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        row["links"], row["indicators"] = [], []
    if not by_id:
        return rows
    ids = list(by_id)
    for link in _LINKS.rows((), ", ".join(["%s"] * len(ids)), ids):
        by_id[link["task_id"]]["links"].append(
            (link["unit_id"], link["unit__name"], link["unit__kind"], link["role"])
        )
    for indicator in Indicator.objects.filter(task_id__in=ids).order_by("pk"):
        by_id[indicator.task_id]["indicators"].append(indicator)
    return rows


def task_list_for_user(user: User) -> QuerySet[Task]:
    return _with_details(Task.objects.filter(task_visibility_q(user)))


def task_visible_get(user: User, pk) -> Task:
    """The task, if the user sees it, without the details a response shows: for views that
    hand it to a service, which re-reads it under a lock."""
    try:
        return Task.objects.filter(task_row_visibility_q(user)).get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def with_recheck(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Each task with its latest re-check (回头看, ``tasks.obligations``) as four columns of
    the same row: ``recheck_id``, ``recheck_due``, ``recheck_met_at``, ``recheck_result``
    (None without one). Read in the task's own query, so a detail costs what it did."""
    latest = Obligation.objects.filter(task=OuterRef("pk"), kind=ObligationKind.RECHECK).order_by("-pk")
    return tasks.annotate(
        recheck_id=Subquery(latest.values("pk")[:1]),
        recheck_due=Subquery(latest.values("due_date")[:1]),
        recheck_met_at=Subquery(latest.values("met_at")[:1]),
        recheck_result=Subquery(latest.values("result")[:1]),
    )


def recheck_of(task: Task, on: datetime.date) -> dict | None:
    """The latest re-check of a task read through ``with_recheck``: its date, when it was
    recorded and what was found (blank until then, or when reopening the item by hand made
    it moot), and whether it is missed on ``on`` (``tasks.obligations``)."""
    due = getattr(task, "recheck_due", None)
    if due is None:
        return None
    met_at = task.recheck_met_at
    return {
        "due_date": due,
        "recorded_at": met_at,
        "result": task.recheck_result or "",
        "missed": met_at is None and due < on,
        "attachments": getattr(task, "recheck_attachments", []),
    }


def _with_recheck_files(task: Task) -> Task:
    """The files of the task's latest re-check (``recheck_of``), read once it is loaded
    through ``with_recheck``: one query more only for an item that has a re-check."""
    task.recheck_attachments = (
        list(RecheckAttachment.objects.filter(obligation_id=task.recheck_id)) if task.recheck_id else []
    )
    return task


def _with_source(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The task's source and its files, as one task's page and detail show them: no query
    more for a task without a source (nothing to prefetch from)."""
    return tasks.select_related("source__registered_by").prefetch_related(
        Prefetch("source__attachments", queryset=SourceAttachment.objects.order_by("pk"))
    )


def task_get_with_details(pk) -> Task:
    """A task with everything a response shows, read again after a change the caller was
    allowed to make: the service found the task among those they see."""
    return _with_recheck_files(
        with_recheck(_with_source(_with_details(Task.objects.filter(pk=pk)))).prefetch_related("steps").get()
    )


def task_get_for_user(user: User, pk) -> Task:
    try:
        tasks = Task.objects.filter(task_row_visibility_q(user))
        task = with_recheck(_with_source(_with_details(tasks))).prefetch_related("steps").get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    return _with_recheck_files(task)


def task_visible_exists(user: User, task_ref: str = "task_id") -> Exists:
    """For rows that belong to a task, reached by ``task_ref``: whether the user sees it."""
    return Exists(Task.objects.filter(task_row_visibility_q(user), pk=OuterRef(task_ref)))


def task_history(task: Task) -> QuerySet[TaskEvent]:
    return TaskEvent.objects.filter(task=task).select_related("actor").order_by("at", "pk")


@dataclass
class Period:
    """Who carried a task from ``start`` until ``end`` (None: still)."""

    start: datetime.datetime
    end: datetime.datetime | None
    lead_unit: Unit | None
    responsible_person: User | None
    units: list[dict]


def responsibility_trace(task: Task) -> list[Period]:
    """Who was responsible for the task at each moment (责任倒查), from its history.

    ``task_update`` records every change of the lead unit, the units or the responsible
    person with the arrangement before and after (``_responsibility_snapshot``); reading
    those back in order gives the periods. A task never changed has one period, read from
    the task as it is now. An importer's re-import records what changed without the
    arrangements, and so starts no period.
    """
    changes = list(
        TaskEvent.objects.filter(task=task, action__in=[EventAction.REASSIGNED, EventAction.EDITED])
        .order_by("at", "pk")
        .values("at", "data")
    )
    changes = [
        c for c in changes if c["data"].get("before") and c["data"].get("before") != c["data"].get("after")
    ]
    first = changes[0]["data"]["before"] if changes else _arrangement_now(task)
    arrangements = [(task.created_at, first)] + [(c["at"], c["data"]["after"]) for c in changes]
    unit_ids = {a["lead_unit"] for _at, a in arrangements} | {
        unit_id for _at, a in arrangements for unit_id, _role in a.get("units", [])
    }
    user_ids = {a["responsible_person"] for _at, a in arrangements if a.get("responsible_person")}
    units = Unit.objects.in_bulk(unit_ids)
    users = User.objects.in_bulk(user_ids)
    periods = []
    for index, (start, arrangement) in enumerate(arrangements):
        end = arrangements[index + 1][0] if index + 1 < len(arrangements) else None
        periods.append(
            Period(
                start=start,
                end=end,
                lead_unit=units.get(arrangement["lead_unit"]),
                responsible_person=users.get(arrangement.get("responsible_person")),
                units=[
                    {
                        "unit": units[unit_id].name if unit_id in units else None,
                        "unit_id": unit_id,
                        "role": role,
                    }
                    for unit_id, role in arrangement.get("units", [])
                ],
            )
        )
    return periods


def _arrangement_now(task: Task) -> dict:
    """The task's arrangement in the shape ``task_update`` records it."""
    return {
        "lead_unit": task.lead_unit_id,
        "responsible_person": task.responsible_person_id,
        "lead_leader": task.lead_leader_id,
        "units": sorted([link.unit_id, link.role] for link in task.task_units.all()),
    }


def period_at(periods: list[Period], moment: datetime.datetime) -> Period | None:
    for period in periods:
        if period.start <= moment and (period.end is None or moment < period.end):
            return period
    return periods[0] if periods and moment < periods[0].start else None


def task_reports(task: Task) -> QuerySet[ProgressReport]:
    return ProgressReport.objects.filter(task=task).select_related("author").prefetch_related("attachments")


def task_extensions(task: Task) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(task=task).select_related("requested_by", "decided_by")


def extension_get_for_user(user: User, pk) -> ExtensionRequest:
    try:
        return ExtensionRequest.objects.select_related("task").filter(task_visible_exists(user)).get(pk=pk)
    except (ExtensionRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def task_transfers(task: Task) -> QuerySet[TransferRequest]:
    return TransferRequest.objects.filter(task=task).select_related(
        "requested_by", "decided_by", "from_unit", "to_unit"
    )


def transfer_get_for_user(user: User, pk) -> TransferRequest:
    try:
        return TransferRequest.objects.select_related("task").filter(task_visible_exists(user)).get(pk=pk)
    except (TransferRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def attachment_get_for_user(user: User, pk) -> Attachment:
    try:
        visible = task_visible_exists(user, "report__task_id")
        return Attachment.objects.select_related("report").filter(visible).get(pk=pk)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def recheck_attachment_get_for_user(user: User, pk) -> RecheckAttachment:
    """A re-check's file, for whoever sees its task (as evidence is); a 404 to anybody else."""
    try:
        visible = task_visible_exists(user, "obligation__task_id")
        return RecheckAttachment.objects.select_related("obligation").filter(visible).get(pk=pk)
    except (RecheckAttachment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def indicator_leaves(task: Task) -> QuerySet[Indicator]:
    return Indicator.objects.filter(task=task, children__isnull=True)


def overdue_in_unit(unit_id: int, on: datetime.date, *, limit: int = 100) -> tuple[dict, list[Task]]:
    """The open tasks past their due date under a unit (its ``TaskScope`` rows): how many
    have reached each rung (None: none yet), and the first ``limit`` of them, highest rung
    and oldest due date first. For a caller already allowed the unit's dashboard
    (``tasks.dashboard.dashboard_units``): an overdue task is no draft, so every one of
    them is a task that caller sees."""
    in_unit = Q(pk__in=TaskScope.objects.filter(unit_id=unit_id).values("task_id")) & overdue_q(on)
    counts = dict(
        Task.objects.filter(in_unit)
        .values("escalation_rank")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("escalation_rank", "n")
    )
    first = list(
        Task.objects.filter(in_unit)
        .select_related("lead_unit")
        .order_by(F("escalation_rank").desc(nulls_last=True), "due_date", "pk")[:limit]
    )
    return counts, first


def source_visibility_q(user: User) -> Q:
    """The sources the user sees: those registered by a unit in the subtrees they see, and
    those of any task they see (a village sees the 批示 its piece of work answers to). One
    rule with the tasks' (``task_row_visibility_q``), so a source is missing (404), never
    forbidden, to whoever sees neither."""
    access = access_for_user(user)
    if access.is_admin:
        return Q()
    condition = Q(Exists(Task.objects.filter(task_row_visibility_q(user), source_id=OuterRef("pk"))))
    if access.visible_paths:
        condition |= Q(registered_by__in=unit_subtree_ids(access.visible_paths))
    return condition


def source_list_for_user(user: User) -> QuerySet[TaskSource]:
    return (
        TaskSource.objects.filter(source_visibility_q(user))
        .select_related("registered_by")
        .prefetch_related(Prefetch("attachments", queryset=SourceAttachment.objects.order_by("pk")))
    )


def source_get_for_user(user: User, pk) -> TaskSource:
    try:
        return source_list_for_user(user).get(pk=pk)
    except (TaskSource.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def source_history_for_user(user: User, pk) -> QuerySet[SourceEvent]:
    """A source's history, oldest first, for whoever sees the source; a deleted source's
    for whoever saw its registering unit (no task was made from it, or it could not have
    been deleted, so that was the whole of who saw it). Missing (404) otherwise."""
    events = SourceEvent.objects.filter(source_id=pk)
    access = access_for_user(user)
    if not access.is_admin:
        events = events.filter(
            registered_by__in=unit_subtree_ids(access.visible_paths) if access.visible_paths else []
        )
    if TaskSource.objects.filter(source_visibility_q(user), pk=pk).exists():
        # Seen through a task made from it: the whole of its history.
        return SourceEvent.objects.filter(source_id=pk).select_related("actor").order_by("at", "pk")
    if not events.exists():
        raise NotFound()
    return events.select_related("actor").order_by("at", "pk")


def source_attachment_get_for_user(user: User, pk) -> SourceAttachment:
    """A file of a source the user sees; missing (404) otherwise, as evidence is."""
    visible = TaskSource.objects.filter(source_visibility_q(user), pk=OuterRef("source_id"))
    try:
        return SourceAttachment.objects.filter(Exists(visible)).get(pk=pk)
    except (SourceAttachment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None

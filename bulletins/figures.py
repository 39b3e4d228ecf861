"""The content of a bulletin, computed from the data of its period for the issuer's subtree.

Every figure is one aggregate query (the ranking groups by the path prefix of the units
one level down) plus, for a list, its page and the names on it, so a province's bulletin
costs the same number of queries as a village's (a rung's page reads more rows again only
when one item fills its first rows, ``_escalated_page``). The result is plain JSON: it is
frozen into the bulletin when it is published.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr

from core.db import as_date
from core.numbers import plain_number
from notifications.models import Escalation
from responsibility.models import PATH_SEGMENT_WIDTH, Unit, UnitKind, User
from tasks import lateness, obligations
from tasks.models import (
    OPEN_STATES,
    Comparison,
    Indicator,
    Obligation,
    ObligationKind,
    RecheckResult,
    SourceKind,
    Task,
    TaskKind,
    TaskState,
)
from tasks.rungs import Level
from tasks.standing import NOT_MET

# A bulletin names the worst units and the listed items; the full list is the ledger's.
# The listed and the criticised items are cut at LISTED_LIMIT each, the other lists
# (indicators, repeated problems) at ITEM_LIMIT.
ITEM_LIMIT = 60
LISTED_LIMIT = 60
RANKED_NAMED = 3


@dataclass(frozen=True)
class Scope:
    level: Unit  # the geographic level the issuer acts for
    start: datetime.date
    end: datetime.date
    as_of: datetime.date
    campaign_id: int | None = None


def _period_q(field: str, scope: Scope) -> Q:
    """A moment within the period's days, as a range of the column itself: the column's
    index serves and PostgreSQL estimates the rows, where casting every row's moment to a
    local date does neither (bench/FIXES.md)."""
    start = lateness.start_of_day(scope.start)
    after = lateness.start_of_day(scope.end + datetime.timedelta(days=1))
    return Q(**{f"{field}__gte": start, f"{field}__lt": after})


def scope_for(issuer: Unit, start, end, as_of, campaign_id=None) -> Scope:
    level = issuer if issuer.jurisdiction_id == issuer.pk else Unit.objects.get(pk=issuer.jurisdiction_id)
    return Scope(level=level, start=start, end=end, as_of=as_of, campaign_id=campaign_id)


def _in_scope_q(scope: Scope, prefix: str = "") -> Q:
    """The scope's tasks: issued work led within the level's subtree. ``prefix`` names the
    task from a related model ("task__"), so that indicators join their task instead of
    testing membership in a subquery of every task in scope."""
    condition = Q(**{f"{prefix}lead_unit__path__startswith": scope.level.path}) & ~Q(
        **{f"{prefix}state__in": [TaskState.DRAFT, TaskState.CANCELLED]}
    )
    if scope.campaign_id:
        condition &= Q(**{f"{prefix}campaign_id": scope.campaign_id})
    return condition


def _tasks(scope: Scope) -> QuerySet[Task]:
    return Task.objects.filter(_in_scope_q(scope))


def _counts(scope: Scope) -> dict:
    """Conditional counts of the scope's tasks: the headline's and the ranking's, and the
    rectification figures', so that one pass over the tasks gives them all. Late and on
    time are ``tasks.lateness``'s, by the office's day of closing."""
    due_in_period = Q(due_date__gte=scope.start, due_date__lte=scope.end)
    is_open = Q(state__in=OPEN_STATES)
    overdue = lateness.overdue_q(scope.as_of)
    rectification = Q(kind=TaskKind.RECTIFICATION)
    return {
        "due": Count("pk", filter=due_in_period),
        "closed_on_time": Count("pk", filter=due_in_period & lateness.closed_on_time_q()),
        "closed_late": Count("pk", filter=due_in_period & lateness.closed_late_q()),
        "overdue": Count("pk", filter=overdue & Q(due_date__lte=scope.end)),
        "rectification_found": Count("pk", filter=rectification & _period_q("created_at", scope)),
        "rectification_closed": Count("pk", filter=rectification & _period_q("closed_at", scope)),
        "rectification_open": Count("pk", filter=rectification & is_open),
        "rectification_overdue": Count("pk", filter=rectification & overdue),
        "rectification_reopened": Count("pk", filter=rectification & Q(reopen_count__gt=0)),
        # The unmet indicators the bulletin lists (``indicators_not_met``), as each task
        # keeps their count (``tasks.standing``).
        "veto_not_met": Sum("veto_not_met"),
        "targets_not_met": Sum("targets_not_met", filter=Q(due_date__lte=scope.end)),
    }


def _rate(on_time: int, due: int) -> float | None:
    return round(100 * on_time / due, 1) if due else None


COUNTED = ("due", "closed_on_time", "closed_late", "overdue")


def _counts_by_child(scope: Scope) -> dict[str, dict]:
    """The counts of the scope's tasks (``_counts``), grouped by the unit one level down
    that leads them (its path); tasks the level's own units lead group under its path."""
    width = len(scope.level.path) + PATH_SEGMENT_WIDTH + 1
    # Every count needs a task due by the period's end, a rectification item or an unmet
    # veto indicator: other tasks due later would be read and counted nowhere.
    counted = Q(due_date__lte=scope.end) | Q(kind=TaskKind.RECTIFICATION) | Q(veto_not_met__gt=0)
    tasks = _tasks(scope).filter(counted).annotate(child_path=Substr("lead_unit__path", 1, width))
    rows = tasks.values("child_path").annotate(**_counts(scope)).order_by()
    return {row["child_path"]: row for row in rows}


def _total(counts_by_child: dict[str, dict], name: str) -> int:
    # A sum over a group without a row to add up is empty.
    return sum(group[name] or 0 for group in counts_by_child.values())


def headline(counts_by_child: dict[str, dict]) -> dict:
    """The level's totals: the sum of the groups ``ranking`` reads, which every task in
    scope falls in, so both come from one pass over the tasks."""
    row = {name: _total(counts_by_child, name) for name in COUNTED}
    return {**row, "on_time_rate": _rate(row["closed_on_time"], row["due"])}


def ranking(scope: Scope, counts_by_child: dict[str, dict]) -> dict[str, list[dict]]:
    """The units one level down, best first (on-time rate, then fewest overdue), like with
    like: the places (counties under a city, townships under a county) in one ranking and
    the departments in another, since a department's few sector tasks do not compare with
    a county's whole load."""
    children = {
        unit.path: unit
        for unit in Unit.objects.filter(parent=scope.level).exclude(
            kind__in=[UnitKind.SUPERVISION_OFFICE, UnitKind.LEADING_GROUP]
        )
    }
    ranked = {"places": [], "departments": []}
    for path, unit in children.items():
        row = counts_by_child.get(path, dict.fromkeys(COUNTED, 0))
        if not (row["due"] or row["overdue"]):
            continue
        group = "departments" if unit.kind == UnitKind.DEPARTMENT else "places"
        ranked[group].append(
            {
                "unit": unit.name,
                "kind": unit.kind,
                "due": row["due"],
                "closed_on_time": row["closed_on_time"],
                "closed_late": row["closed_late"],
                "overdue": row["overdue"],
                "on_time_rate": _rate(row["closed_on_time"], row["due"]),
            }
        )
    for rows in ranked.values():
        rows.sort(key=lambda r: (-(r["on_time_rate"] or 0), r["overdue"], r["unit"]))
    return ranked


def honour_roll(ranked: list[dict]) -> tuple[list[dict], list[dict]]:
    """红黑榜: the best and the worst few, never the same unit on both lists. A unit is
    named only if it did better or worse than the other end of the ranking, and praised
    only if it finished something on time: when every unit is at 0 %, nobody is best."""
    named = min(RANKED_NAMED, len(ranked) // 2)
    if not named:
        return [], []

    def standing(row: dict) -> tuple:
        return (row["on_time_rate"] or 0, -row["overdue"])

    best = [row for row in ranked[:named] if row["on_time_rate"] and standing(row) > standing(ranked[-1])]
    worst = [row for row in reversed(ranked[-named:]) if standing(row) < standing(ranked[0])]
    return best, worst


def _escalations(scope: Scope) -> QuerySet[Escalation]:
    """The period's escalations recorded against a unit in the level's subtree, of tasks
    not cancelled since, and not withdrawn (a 督办通知单's rung the office took back). The
    recorded unit carried the task when it was reached: 责任倒查 reads it and the list names
    it; testing it spares joining every escalated task to its current lead unit."""
    escalations = Escalation.objects.filter(
        _period_q("created_at", scope),
        lead_unit__path__startswith=scope.level.path,
        withdrawn_at__isnull=True,
    ).exclude(task__in=Task.objects.filter(state=TaskState.CANCELLED).values("pk"))
    if scope.campaign_id:
        escalations = escalations.filter(task__campaign_id=scope.campaign_id)
    return escalations


def _parent_reached(scope: Scope, levels: list[str], parent) -> QuerySet[Escalation]:
    """The scope's rows at ``levels`` of the task ``parent`` names, at the same rung."""
    return _escalations(scope).filter(level__in=levels, task_id=parent).order_by()


def _chain_tops(scope: Scope, levels: list[str]) -> QuerySet[Escalation]:
    """The scope's escalations at ``levels`` whose task's parent did not reach the same rung
    in the scope: the top of each chain. A late target split city → county → townships →
    villages reaches the rung at every level; the bulletin names it once, at its top. The
    parents' rows are looked for among those rungs only, which the planner hashes instead
    of every rung's rows (reminders and warnings are most of them)."""
    parent_reached = _parent_reached(scope, levels, OuterRef("task_parent_id")).filter(
        level=OuterRef("level")
    )
    return _escalations(scope).filter(~Exists(parent_reached), level__in=levels).order_by()


def _escalated_counts(scope: Scope, levels: list[str]) -> dict[str, int]:
    """How many items (chains) reached each rung in the period, each task once. Only the
    (rung, task) pairs are kept, hashed as the tops are found: grouping the tops by every
    key of an item and its first date took twice as long at a province's size
    (bench/FIXES.md)."""
    tops_sql, tops_params = _chain_tops(scope, levels).values("level", "task_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT level, COUNT(*) FROM (SELECT DISTINCT level, task_id FROM ({tops_sql}) AS tops)"
            " AS reached GROUP BY level",
            tops_params,
        )
        counts = dict(cursor.fetchall())
    return {level: counts.get(level, 0) for level in levels}


def _escalated_page(scope: Scope, level: str) -> list[tuple]:
    """The rung's first ``LISTED_LIMIT`` items by due date, as (first date, task, unit,
    person): the chain tops read off the listing index in (due date, task, unit, person)
    order, so an item's first row is its earliest date and the items come in the order
    of their earliest dates. Rows are read in growing batches until that many items are
    found: a task chased for its due date and for an obligation (签收, a step) reaches the
    rung once per date, and a hand-listed item may repeat an automatic one.

    Whether the parent reached the rung is asked of the parent's own rows (the task's
    index) for each row read; without the fence (``OFFSET 0``), PostgreSQL hashes every
    row of the rung for it, as in ``_units_behind``."""
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    rows_sql, rows_params = (
        _escalations(scope)
        .filter(level=level)
        .order_by()
        .values("due_date", "task_id", "lead_unit_id", "responsible_person_id", "task_parent_id")
        .query.sql_with_params()
    )
    parent_sql, parent_params = (
        _parent_reached(scope, [level], RawSQL("rung.task_parent_id", ()))
        .values("pk")
        .query.sql_with_params()
    )
    sql = (
        f"SELECT due_date, task_id, lead_unit_id, responsible_person_id FROM ({rows_sql}) AS rung"
        f" WHERE NOT EXISTS ({parent_sql}{fence})"
        " ORDER BY due_date, task_id, lead_unit_id, responsible_person_id LIMIT %s"
    )
    batch = 4 * LISTED_LIMIT
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*rows_params, *parent_params, batch])
            rows = cursor.fetchall()
        items: dict[tuple, object] = {}
        for first, *key in rows:
            items.setdefault(tuple(key), first)
        if len(items) >= LISTED_LIMIT or len(rows) < batch:
            return [(as_date(first), *key) for key, first in list(items.items())[:LISTED_LIMIT]]
        batch *= 4


def _units_behind(scope: Scope, level: str, top_ids: set[int]) -> dict[int, list[str]]:
    """For each top, the units below it that are behind: the lowest tasks of its chain that
    reached the rung (no child of theirs did), named by the unit that carried each when it
    was reached. Two queries whatever the depth: the chain is followed by a recursive query
    through the tasks that reached the rung."""
    if not top_ids:
        return {}
    # Whether a child reached the rung is asked of its own escalations (the task's index),
    # not by hashing every task that reached it in the province at each step of the walk:
    # with report periods chased, that set is hundreds of thousands of rows (bench/FIXES.md).
    # PostgreSQL turns an EXISTS into such a join of its own accord, unless its subquery has
    # an OFFSET: 3.6 s against 0.02 s for a province's listed items. SQLite asks it per row.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    reached_sql, reached_params = (
        _escalations(scope)
        .filter(level=level, task_id=RawSQL("child.id", ()))
        .values("pk")
        .query.sql_with_params()
    )
    table = connection.ops.quote_name(Task._meta.db_table)
    tops = ", ".join(["%s"] * len(top_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE chain(top_id, task_id, parent_id) AS (
                SELECT id, id, parent_id FROM {table} WHERE id IN ({tops})
                UNION
                SELECT chain.top_id, child.id, child.parent_id
                FROM {table} child JOIN chain ON child.parent_id = chain.task_id
                WHERE EXISTS ({reached_sql}{fence})
            )
            SELECT top_id, task_id, parent_id FROM chain
            """,
            [*sorted(top_ids), *reached_params],
        )
        chain = cursor.fetchall()
    parents = {parent_id for _top, _task, parent_id in chain if parent_id is not None}
    lowest = {task_id: top_id for top_id, task_id, _parent in chain if task_id != top_id}
    lowest = {task_id: top_id for task_id, top_id in lowest.items() if task_id not in parents}
    names = (
        _escalations(scope)
        .filter(level=level, task_id__in=lowest)
        .values_list("task_id", "lead_unit__name", "lead_unit__path")
        .distinct()
    )
    behind: dict[int, set[tuple[str, str]]] = {}
    for task_id, name, path in names:
        behind.setdefault(lowest[task_id], set()).add((path, name))
    return {top: [name for _path, name in sorted(units)] for top, units in behind.items()}


def escalated(scope: Scope, levels: list[str]) -> dict[str, dict]:
    """For each rung, how many items reached it and its first ``LISTED_LIMIT`` items, by due
    date, each the top of its chain with the units behind it.

    An item is a (task, unit, person), named by the earliest date it was chased for; the
    count counts each task once. Items are found on those narrow columns, with the names
    read for the page only: a DISTINCT over every shown column sorts wide rows, which at a
    province's size no longer fit in memory."""
    totals = _escalated_counts(scope, levels)
    return {
        level: _escalated_items(scope, level, totals[level], _escalated_page(scope, level))
        for level in levels
    }


def _escalated_items(scope: Scope, level: str, total: int, keys: list[tuple]) -> dict:
    tasks = Task.objects.only("number", "title", "state", "closed_at", "submitted_on").in_bulk(
        {key[1] for key in keys}
    )
    units = dict(Unit.objects.filter(pk__in={key[2] for key in keys}).values_list("pk", "name"))
    people = dict(User.objects.filter(pk__in={key[3] for key in keys}).values_list("pk", "full_name"))
    behind = _units_behind(scope, level, {key[1] for key in keys})
    items = []
    for due_date, task_id, unit_id, person_id in keys:
        task = tasks[task_id]
        items.append(
            {
                "task": task_id,
                "number": task.number,
                "title": task.title,
                "unit": units[unit_id],
                "person": people.get(person_id) or "",
                "due_date": due_date.isoformat(),
                # Against the due date the rung was reached on, which an extension
                # approved since has moved on the task.
                "days_overdue": lateness.calendar_days_past(
                    due_date, lateness.counted_until(task, scope.as_of)
                ),
                "state": str(TaskState(task.state).label),
                "behind": behind.get(task_id, []),
            }
        )
    return {"total": total, "items": items}


def indicators_not_met(scope: Scope, counts_by_child: dict[str, dict], *, veto: bool) -> dict:
    """The scope's unmet indicators, veto ones (一票否决) or the others, behind schedule: a
    target whose deadline has come, at whatever level it was split to (a county at 600 of
    its 938 is behind even when the city's total is not yet due).

    The total is the tasks' kept counts, summed with the other counts (``_counts``). The
    page is read from the first tasks that have any, by due date, off their partial index:
    the due date of the ``ITEM_LIMIT``-th such task bounds the page, since each has at
    least one. Asked for the page alone, the planner takes the unmet indicators and their
    tasks to be independent, expects a few dozen rows and reads every indicator in scope."""
    kept = "veto_not_met" if veto else "targets_not_met"
    tasks = _tasks(scope).filter(**{f"{kept}__gt": 0})
    if not veto:
        tasks = tasks.filter(due_date__lte=scope.end)
    last = tasks.order_by("due_date", "pk").values_list("due_date", flat=True)[ITEM_LIMIT - 1 : ITEM_LIMIT]
    if last:
        tasks = tasks.filter(due_date__lte=last[0])
    indicators = Indicator.objects.filter(NOT_MET, veto=veto, task__in=tasks)
    rows = indicators.order_by("task__due_date", "task__lead_unit__path", "pk").values(
        "name",
        "target",
        "current_value",
        "comparison",
        "unit_of_measure",
        "task__title",
        "task__lead_unit__name",
        "task__due_date",
    )[:ITEM_LIMIT]
    return {
        "total": _total(counts_by_child, kept),
        "items": [
            {
                "name": row["name"],
                "task": row["task__title"],
                "unit": row["task__lead_unit__name"],
                "target": f"{Comparison(row['comparison']).label} {plain_number(row['target'])}",
                "current": plain_number(row["current_value"]),
                "unit_of_measure": row["unit_of_measure"],
                "due_date": row["task__due_date"].isoformat(),
            }
            for row in rows
        ],
    }


def rechecks(scope: Scope) -> dict:
    """回头看 in the period, in one aggregate over the scope's re-checks: ``due``, those
    falling due in the period; ``passed`` and ``failed`` (each failure reopened its item),
    those recorded in the period; ``missed``, those past their date and not recorded as of
    the bulletin's day (``tasks.obligations.recheck_missed_rows_q``)."""
    recorded = _period_q("met_at", scope)
    return Obligation.objects.filter(_in_scope_q(scope, "task__"), kind=ObligationKind.RECHECK).aggregate(
        due=Count("pk", filter=Q(due_date__gte=scope.start, due_date__lte=scope.end)),
        passed=Count("pk", filter=recorded & Q(result=RecheckResult.PASSED)),
        failed=Count("pk", filter=recorded & Q(result=RecheckResult.FAILED)),
        missed=Count("pk", filter=obligations.recheck_missed_rows_q(scope.as_of)),
    )


def rectification(scope: Scope, counts_by_child: dict[str, dict]) -> dict:
    counts = {
        name: _total(counts_by_child, f"rectification_{name}")
        for name in ("found", "closed", "open", "overdue", "reopened")
    }
    repeated = (
        _tasks(scope)
        .filter(kind=TaskKind.RECTIFICATION, reopen_count__gt=0)
        .order_by("-reopen_count", "due_date", "pk")
        .values("number", "title", "lead_unit__name", "reopen_count", "state")[:ITEM_LIMIT]
    )
    counts["recheck"] = rechecks(scope)
    counts["repeated"] = [
        {
            "number": row["number"],
            "title": row["title"],
            "unit": row["lead_unit__name"],
            "reopen_count": row["reopen_count"],
            "state": str(TaskState(row["state"]).label),
        }
        for row in repeated
    ]
    return counts


def sources(scope: Scope) -> dict:
    """Where the scope's work came from: per kind of source, the items received by the
    period's end, how many are closed and how many overdue as of the bulletin's day. One
    aggregate query. An item is counted once, at the top of its chain in the scope: a 批示
    the city split among its counties is one item in the city's bulletin, and in a
    county's the county's piece of it (the pieces carry their top task's source)."""
    by_period_end = lateness.start_of_day(scope.end + datetime.timedelta(days=1))
    received = Q(source__isnull=False, created_at__lt=by_period_end)
    top = Q(parent__isnull=True) | ~Q(parent__lead_unit__path__startswith=scope.level.path)
    rows = (
        _tasks(scope)
        .filter(received, top)
        .values("source__kind")
        .annotate(
            total=Count("pk"),
            closed=Count("pk", filter=Q(state=TaskState.CLOSED)),
            overdue=Count("pk", filter=lateness.overdue_q(scope.as_of)),
        )
        .order_by()
    )
    counted = {row["source__kind"]: row for row in rows}
    kinds = [
        {
            "kind": kind,
            "label": str(label),
            **{name: counted.get(kind, {}).get(name, 0) for name in ("total", "closed", "overdue")},
        }
        for kind, label in SourceKind.choices
    ]
    return {
        "kinds": kinds,
        **{name: sum(row[name] for row in kinds) for name in ("total", "closed", "overdue")},
    }


def bulletin_figures(scope: Scope) -> dict:
    """Every figure of the bulletin, read in one transaction without PostgreSQL's JIT: a
    province's figures aggregate hundreds of thousands of escalations, and the planner's
    estimates made it compile each query, which took longer than running it (the walk
    down the listed chains: 0.27 s with it, 0.02 s without; bench/FIXES.md)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                # The escalations' keys are sorted and grouped in memory, not on disk.
                cursor.execute("SET LOCAL work_mem = '64MB'")
        return _figures(scope)


def _figures(scope: Scope) -> dict:
    counts_by_child = _counts_by_child(scope)
    reached = escalated(scope, [Level.LISTED, Level.CRITICISM])
    ranked = ranking(scope, counts_by_child)
    best, worst = honour_roll(ranked["places"])
    department_best, department_worst = honour_roll(ranked["departments"])
    return {
        "level": scope.level.name,
        "period": [scope.start.isoformat(), scope.end.isoformat()],
        "as_of": scope.as_of.isoformat(),
        "headline": headline(counts_by_child),
        "ranking": ranked["places"],
        "best": best,
        "worst": worst,
        "departments": {
            "ranking": ranked["departments"],
            "best": department_best,
            "worst": department_worst,
        },
        "listed": reached[Level.LISTED],
        "criticised": reached[Level.CRITICISM],
        "veto_not_met": indicators_not_met(scope, counts_by_child, veto=True),
        "targets_behind": indicators_not_met(scope, counts_by_child, veto=False),
        "rectification": rectification(scope, counts_by_child),
        "sources": sources(scope),
    }

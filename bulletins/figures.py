"""The content of a bulletin, computed from the data of its period for the issuer's subtree.

Every figure is one aggregate query (the ranking groups by the path prefix of the units
one level down), so a province's bulletin costs the same number of queries as a
village's. The result is plain JSON: it is frozen into the bulletin when it is published.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr, TruncDate

from notifications.models import Escalation, Level
from responsibility.models import PATH_SEGMENT_WIDTH, Unit, UnitKind
from tasks.models import OPEN_STATES, Comparison, Indicator, Task, TaskKind, TaskState

# A bulletin names the worst units and the listed items; the full list is the ledger's.
ITEM_LIMIT = 60
RANKED_NAMED = 3


@dataclass(frozen=True)
class Scope:
    level: Unit  # the geographic level the issuer acts for
    start: datetime.date
    end: datetime.date
    as_of: datetime.date
    campaign_id: int | None = None


def scope_for(issuer: Unit, start, end, as_of, campaign_id=None) -> Scope:
    level = issuer if issuer.jurisdiction_id == issuer.pk else Unit.objects.get(pk=issuer.jurisdiction_id)
    return Scope(level=level, start=start, end=end, as_of=as_of, campaign_id=campaign_id)


def _tasks(scope: Scope) -> QuerySet[Task]:
    tasks = Task.objects.filter(lead_unit__path__startswith=scope.level.path).exclude(
        state__in=[TaskState.DRAFT, TaskState.CANCELLED]
    )
    if scope.campaign_id:
        tasks = tasks.filter(campaign_id=scope.campaign_id)
    return tasks


def _counts(scope: Scope) -> dict:
    """Conditional counts shared by the headline and the ranking."""
    due_in_period = Q(due_date__gte=scope.start, due_date__lte=scope.end)
    closed_on = TruncDate("closed_at")
    return {
        "due": Count("pk", filter=due_in_period),
        "closed_on_time": Count(
            "pk", filter=due_in_period & Q(state=TaskState.CLOSED, closed_day__lte=F("due_date"))
        ),
        "closed_late": Count(
            "pk", filter=due_in_period & Q(state=TaskState.CLOSED, closed_day__gt=F("due_date"))
        ),
        "overdue": Count("pk", filter=Q(state__in=OPEN_STATES, due_date__lt=scope.as_of)),
        "_closed_on": closed_on,
    }


def _aggregate(queryset: QuerySet, scope: Scope, *group_by: str):
    counts = _counts(scope)
    queryset = queryset.filter(due_date__lte=scope.end).annotate(closed_day=counts.pop("_closed_on"))
    if group_by:
        return queryset.values(*group_by).annotate(**counts).order_by()
    return queryset.aggregate(**counts)


def _rate(on_time: int, due: int) -> float | None:
    return round(100 * on_time / due, 1) if due else None


def headline(scope: Scope) -> dict:
    row = _aggregate(_tasks(scope), scope)
    return {**row, "on_time_rate": _rate(row["closed_on_time"], row["due"])}


def ranking(scope: Scope) -> list[dict]:
    """The units one level down, best first: on-time rate, then fewest overdue."""
    width = len(scope.level.path) + PATH_SEGMENT_WIDTH + 1
    children = {
        unit.path: unit
        for unit in Unit.objects.filter(parent=scope.level).exclude(
            kind__in=[UnitKind.SUPERVISION_OFFICE, UnitKind.LEADING_GROUP]
        )
    }
    tasks = _tasks(scope).annotate(child_path=Substr("lead_unit__path", 1, width))
    rows = {row["child_path"]: row for row in _aggregate(tasks, scope, "child_path")}
    ranked = []
    for path, unit in children.items():
        row = rows.get(path, {"due": 0, "closed_on_time": 0, "closed_late": 0, "overdue": 0})
        ranked.append(
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
    ranked = [r for r in ranked if r["due"] or r["overdue"]]
    ranked.sort(key=lambda r: (-(r["on_time_rate"] or 0), r["overdue"], r["unit"]))
    return ranked


def escalated_items(scope: Scope, level: str) -> dict:
    escalations = Escalation.objects.filter(
        level=level,
        task__in=_tasks(scope).values("pk"),
        created_at__date__gte=scope.start,
        created_at__date__lte=scope.end,
    )
    total = escalations.values("task_id").distinct().count()
    rows = (
        escalations.order_by("due_date", "task_id")
        .values(
            "task_id",
            "task__number",
            "task__title",
            "task__state",
            "task__closed_at",
            "lead_unit__name",
            "responsible_person__full_name",
            "due_date",
        )
        .distinct()[:ITEM_LIMIT]
    )
    items = []
    for row in rows:
        finished = row["task__closed_at"].date() if row["task__closed_at"] else None
        until = finished if finished and row["task__state"] == TaskState.CLOSED else scope.as_of
        items.append(
            {
                "task": row["task_id"],
                "number": row["task__number"],
                "title": row["task__title"],
                "unit": row["lead_unit__name"],
                "person": row["responsible_person__full_name"] or "",
                "due_date": row["due_date"].isoformat(),
                "days_overdue": max((until - row["due_date"]).days, 0),
                "state": str(TaskState(row["task__state"]).label),
            }
        )
    return {"total": total, "items": items}


def _not_met_q() -> Q:
    return Q(comparison=Comparison.AT_LEAST, current_value__lt=F("target")) | Q(
        comparison=Comparison.AT_MOST, current_value__gt=F("target")
    )


def indicators_not_met(scope: Scope, *, veto: bool) -> dict:
    indicators = Indicator.objects.filter(_not_met_q(), veto=veto, task__in=_tasks(scope).values("pk"))
    if not veto:
        # Behind schedule: a top-level target whose deadline has come.
        indicators = indicators.filter(parent__isnull=True, task__due_date__lte=scope.end)
    rows = indicators.order_by("task__due_date", "pk").values(
        "name",
        "target",
        "current_value",
        "comparison",
        "unit_of_measure",
        "task__title",
        "task__lead_unit__name",
        "task__due_date",
    )
    return {
        "total": indicators.count(),
        "items": [
            {
                "name": row["name"],
                "task": row["task__title"],
                "unit": row["task__lead_unit__name"],
                "target": f"{Comparison(row['comparison']).label} {row['target'].normalize():f}",
                "current": f"{row['current_value'].normalize():f}",
                "unit_of_measure": row["unit_of_measure"],
                "due_date": row["task__due_date"].isoformat(),
            }
            for row in rows[:ITEM_LIMIT]
        ],
    }


def rectification(scope: Scope) -> dict:
    items = _tasks(scope).filter(kind=TaskKind.RECTIFICATION)
    counts = items.aggregate(
        found=Count("pk", filter=Q(created_at__date__gte=scope.start, created_at__date__lte=scope.end)),
        closed=Count("pk", filter=Q(closed_at__date__gte=scope.start, closed_at__date__lte=scope.end)),
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        overdue=Count("pk", filter=Q(state__in=OPEN_STATES, due_date__lt=scope.as_of)),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
    )
    repeated = (
        items.filter(reopen_count__gt=0)
        .order_by("-reopen_count", "due_date")
        .values("number", "title", "lead_unit__name", "reopen_count", "state")[:ITEM_LIMIT]
    )
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


def bulletin_figures(scope: Scope) -> dict:
    ranked = ranking(scope)
    # 红黑榜: the best and the worst few, never the same unit on both lists, and a unit is
    # praised or named only if it did better or worse than the other end of the ranking.
    named = min(RANKED_NAMED, len(ranked) // 2)

    def standing(row: dict) -> tuple:
        return (row["on_time_rate"] or 0, -row["overdue"])

    best = [row for row in ranked[:named] if standing(row) > standing(ranked[-1])]
    worst = [row for row in reversed(ranked[-named:]) if standing(row) < standing(ranked[0])] if named else []
    return {
        "level": scope.level.name,
        "period": [scope.start.isoformat(), scope.end.isoformat()],
        "as_of": scope.as_of.isoformat(),
        "headline": headline(scope),
        "ranking": ranked,
        "best": best,
        "worst": worst,
        "listed": escalated_items(scope, Level.LISTED),
        "criticised": escalated_items(scope, Level.CRITICISM),
        "veto_not_met": indicators_not_met(scope, veto=True),
        "targets_behind": indicators_not_met(scope, veto=False),
        "rectification": rectification(scope),
    }

"""Each task's count of its own indicators not met, kept on the task.

A bulletin counts and lists the unmet indicators (一票否决指标未达标, 指标进度滞后) of all the
tasks in its scope. Read from the indicators alone, that is a join of each unmet indicator
to its task, a scan of a province's million tasks for each list. With the counts kept on
the task, the bulletin's totals are two more sums in its one pass over the tasks, and its
lists start from the tasks that have any, in due-date order, off a partial index
(``Task.Meta.indexes``; bench/FIXES.md).

``standing_refresh(task_ids)`` runs inside the transaction of every service that writes
indicators: creating a task with its indicators, decomposing one (the children's shares),
and recording reported figures (the leaves and every ancestor's sum). A test compares the
counts with ``Indicator.is_met`` after each of them (tests/tasks/test_services.py).
"""

from collections.abc import Iterable

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Comparison, Indicator, Task

# The one definition of an indicator not met: short of an at-least target, or over an
# at-most one (a poverty rate).
NOT_MET = Q(comparison=Comparison.AT_LEAST, current_value__lt=F("target")) | Q(
    comparison=Comparison.AT_MOST, current_value__gt=F("target")
)


def _not_met(indicators: QuerySet, *, veto: bool) -> Coalesce:
    """How many of the outer task's indicators (veto or not) are not met."""
    counted = (
        indicators.filter(NOT_MET, task=OuterRef("pk"), veto=veto)
        .order_by()
        .values("task")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted), 0)


def refresh(tasks: QuerySet, indicators: QuerySet) -> int:
    """Write the counts of ``tasks`` that are not what their indicators say; how many
    changed. Models are passed in so that a migration can use its own."""
    targets, veto = _not_met(indicators, veto=False), _not_met(indicators, veto=True)
    # Most reported figures leave the counts as they were: the row is written only when
    # they change.
    stale = tasks.exclude(targets_not_met=targets, veto_not_met=veto)
    return stale.update(targets_not_met=targets, veto_not_met=veto)


def standing_refresh(task_ids: Iterable[int]) -> int:
    """The counts of these tasks, after their indicators were written."""
    return refresh(Task.objects.filter(pk__in=sorted(set(task_ids))), Indicator.objects.all())


def standing_fill() -> int:
    """Every task's counts: the tasks with indicators (the others keep 0)."""
    with_indicators = Task.objects.filter(Exists(Indicator.objects.filter(task=OuterRef("pk"))))
    return refresh(with_indicators, Indicator.objects.all())

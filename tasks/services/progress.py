"""Progress reports with their figures, the roll-up of indicators, and procedure steps."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.db import related_known
from core.errors import Conflict, InvalidInput, NotFound
from core.numbers import plain_number
from responsibility.models import User

from .. import rules
from ..attachments import store_attachments
from ..lateness import local_date
from ..models import Comparison, EventAction, Indicator, ProcedureStep, ProgressReport
from ..obligations import next_obligation_refresh, obligation_step_met
from ..schedules import report_period_met
from ..selectors import indicator_leaves
from ..standing import standing_refresh
from .common import event_record, locked_task, require_text

PERCENT_UNITS = frozenset({"%", "％"})


def _figure_limits(indicator: Indicator) -> tuple[Decimal, Decimal]:
    """The values a figure of this indicator can mean, from 0 to the lowest upper bound.

    A count or an amount is never negative; a percentage is at most 100; a target to reach
    is not exceeded many times over (``DUBAN["FIGURE_MAX_MULTIPLE"]``): such a figure is a
    typing error, and it would roll up into every ancestor's figure. A target of 0 sets no
    multiple. Nothing may exceed what the indicator's column stores."""
    column = Indicator._meta.get_field("current_value")
    high = Decimal(10) ** (column.max_digits - column.decimal_places) - Decimal(10) ** -column.decimal_places
    if indicator.unit_of_measure.strip() in PERCENT_UNITS:
        high = min(high, Decimal(100))
    if indicator.comparison == Comparison.AT_LEAST and indicator.target > 0:
        high = min(high, indicator.target * Decimal(str(settings.DUBAN["FIGURE_MAX_MULTIPLE"])))
    return Decimal(0), high


def _ensure_figures_in_range(figures: dict[int, Decimal], indicators: dict[int, Indicator]) -> None:
    messages = []
    for pk, value in figures.items():
        indicator = indicators[pk]
        low, high = _figure_limits(indicator)
        if not (value.is_finite() and low <= value <= high):
            messages.append(
                _("指标“%(name)s”（%(id)s）的数值 %(value)s 超出合理范围，应在 %(low)s 至 %(high)s 之间。")
                % {
                    "name": indicator.name,
                    "id": pk,
                    "value": plain_number(value),
                    "low": plain_number(low),
                    "high": plain_number(high),
                }
            )
    if messages:
        raise InvalidInput(messages[0], code="figure_out_of_range", fields={"figures": messages})


def progress_report_create(
    *,
    task_id: int,
    actor: User,
    text: str,
    figures: dict[int, Decimal] | None = None,
    files: list | None = None,
) -> ProgressReport:
    """Record progress with figures and evidence; reported figures roll up the tree."""
    text = require_text(text, "text", _("请填写进展情况。"))
    figures = figures or {}
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "report")
        rules.ensure_state(task, "report", _("只有办理中的任务可以报送进展，请先签收。"))
        leaves = indicator_leaves(task).in_bulk() if figures else {}
        unknown = [key for key in figures if key not in leaves]
        if unknown:
            message = _("这些指标不属于该任务或由下级汇总：%(ids)s。") % {"ids": ", ".join(map(str, unknown))}
            raise InvalidInput(message, code="unknown_indicator", fields={"figures": [message]})
        _ensure_figures_in_range(figures, leaves)
        report = ProgressReport.objects.create(
            task=task,
            author=actor,
            text=text,
            figures={str(key): str(value) for key, value in figures.items()},
        )
        # A new report's files are those just stored: its answer need not read them back.
        related_known(report, "attachments", store_attachments(report, files or []))
        # The report meets the period of the task's report schedule it falls in, if any.
        if report_period_met(task, local_date(report.created_at)):
            next_obligation_refresh(task)
        if figures:
            indicator_record_values(figures)
        event_record(
            task,
            actor,
            EventAction.REPORTED,
            from_state=task.state,
            to_state=task.state,
            comment=text,
            data={"report": report.pk, "figures": report.figures},
        )
    return report


def indicator_record_values(values: dict[int, Decimal]) -> None:
    """Set leaf indicators and recompute every ancestor as the sum of its children.

    Ancestors are locked first, in id order, so concurrent reports under the same parent
    wait for each other instead of overwriting each other's sums. Not a service of its own:
    it runs inside the transaction of the one that recorded the figures and holds the
    reporting task's lock (``progress_report_create``), which checked who may report them.
    """
    chain: dict[int, int | None] = {}
    tasks: set[int] = set()
    frontier = set(values)
    while frontier:
        rows = Indicator.objects.filter(pk__in=frontier).values_list("pk", "parent_id", "task_id")
        frontier = set()
        for pk, parent_id, task_id in rows:
            chain[pk] = parent_id
            tasks.add(task_id)
            if parent_id and parent_id not in chain:
                frontier.add(parent_id)
    ancestors = {parent for parent in chain.values() if parent}
    list(
        Indicator.objects.select_for_update()
        .filter(pk__in=sorted(ancestors))
        .order_by("pk")
        .values_list("pk")
    )
    for pk, value in values.items():
        Indicator.objects.filter(pk=pk).update(current_value=value)
    level = {chain[pk] for pk in values if chain[pk]}
    while level:
        sums = dict(
            Indicator.objects.filter(parent_id__in=level)
            .values("parent_id")
            .annotate(total=Sum("current_value"))
            .values_list("parent_id", "total")
        )
        for pk in level:
            Indicator.objects.filter(pk=pk).update(current_value=sums.get(pk) or Decimal(0))
        level = {chain[pk] for pk in level if chain.get(pk)}
    standing_refresh(tasks)


def procedure_step_complete(*, task_id: int, step_id: int, actor: User) -> ProcedureStep:
    """Mark the next step of a procedure task done (入户核查 → 民主评议 → …), in order.

    The step is named with its task, which is locked first like every write to a task; a
    step that is not the task's is missing (404)."""
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "complete_step")
        rules.ensure_state(task, "complete_step", _("只有办理中的任务可以完成步骤。"))
        try:
            step = task.steps.select_for_update().get(pk=step_id)
        except ProcedureStep.DoesNotExist:
            raise NotFound() from None
        if step.done_at is not None:
            raise Conflict(_("该步骤已完成。"), code="step_done")
        if task.steps.filter(order__lt=step.order, done_at__isnull=True).exists():
            raise Conflict(_("请先完成前面的步骤。"), code="step_out_of_order")
        step.done_at, step.done_by = timezone.now(), actor
        step.save(update_fields=["done_at", "done_by"])
        obligation_step_met(task, step.pk)
        event_record(
            task,
            actor,
            EventAction.STEP_COMPLETED,
            from_state=task.state,
            to_state=task.state,
            data={"step": step.pk, "name": step.name, "order": step.order},
        )
    return step

"""Splitting a task into child tasks for the units below (再细化、再分解)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
from core.numbers import plain_number
from responsibility import jurisdiction
from responsibility.models import Unit, User

from .. import rules
from ..models import (
    EventAction,
    Indicator,
    ProcedureStep,
    ReportSchedule,
    Task,
    TaskEvent,
    TaskKind,
    TaskState,
    TaskUnit,
    TaskUnitRole,
)
from ..obligations import obligations_issued
from ..scope import scope_rebuild
from ..standing import standing_refresh
from .common import event_record, locked_task


@dataclass
class ChildSpec:
    title: str
    lead_unit: Unit
    # None only for a piece of 长期坚持 work (``ongoing``): it is due when the parent is.
    due_date: datetime.date | None
    description: str = ""
    responsible_person: User | None = None
    cooperating_units: list[Unit] = field(default_factory=list)
    # parent indicator id -> this child's share of the target
    targets: dict[int, Decimal] = field(default_factory=dict)
    # The piece reports as the whole does (its own copy of the parent's schedule), unless
    # the split says otherwise.
    inherit_report_schedule: bool = True
    # 长期坚持: None, as the parent is. A piece of ongoing work is ongoing too unless the split
    # says ``False`` and gives it a date of its own; work with a final date has no ongoing
    # pieces.
    ongoing: bool | None = None


def task_decompose(*, task_id: int, actor: User, children: list[ChildSpec]) -> list[Task]:
    """Split a task into child tasks for units below the decomposing unit (再细化、再分解).

    Children are issued at once by the decomposing unit. Each child is due no later than
    the parent; for each split indicator the children's targets may not exceed the
    parent's (what remains unallocated is shown on the parent). Each child reports on the
    parent's report schedule (按期反馈), a copy of its own with its own periods from its
    issue to its due date, unless its spec says otherwise. The pieces of 长期坚持 work
    (``Task.ongoing``) are ongoing too, due when the parent is (the campaign's end), unless
    a spec says ``ongoing=False`` with a date of its own.
    """
    if not children:
        raise InvalidInput(_("至少需要一个子任务。"), code="children_required")
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "decompose")
        rules.ensure_state(task, "decompose", _("只有已下达或办理中的任务可以分解。"))
        issuing_unit = Unit.objects.get(pk=rules.decomposing_unit_id(access, task))
        _ensure_children_assignable(issuing_unit, children)
        parent_indicators = {i.pk: i for i in task.indicators.all()}
        _ensure_plan_valid(task, children, parent_indicators)
        created = _children_create(task, issuing_unit, children)
        _children_link_units(created, children)
        scope_rebuild(c.pk for c in created)
        _children_split_indicators(created, children, parent_indicators)
        if parent_indicators:
            standing_refresh(c.pk for c in created)
        if task.kind == TaskKind.PROCEDURE:
            _children_copy_steps(task, created)
        _children_record_issue(task, created, actor)
        schedules = _children_copy_schedule(task, created, children)
        obligations_issued(created, task.campaign, schedules)
        event_record(
            task,
            actor,
            EventAction.DECOMPOSED,
            from_state=task.state,
            to_state=task.state,
            data={"children": [c.pk for c in created]},
        )
    return created


def _ensure_children_assignable(issuing_unit: Unit, children: list[ChildSpec]) -> None:
    # Splitting the task it was given, a department reaches what its level reaches.
    jurisdiction.ensure_reaches(
        issuing_unit,
        {
            "lead_unit": [child.lead_unit for child in children],
            "cooperating_units": [unit for child in children for unit in child.cooperating_units],
        },
        through_task=True,
    )
    jurisdiction.ensure_all_answer_for(
        [(child.responsible_person, child.lead_unit) for child in children if child.responsible_person]
    )


def _ensure_plan_valid(
    task: Task, children: list[ChildSpec], parent_indicators: dict[int, Indicator]
) -> None:
    """Every problem of the plan at once: each child's under its index, the totals that
    exceed a parent target under ``targets``."""
    allocated = _allocated_targets(parent_indicators)
    errors: dict[str, list] = {}
    for index, child in enumerate(children):
        problems = _child_problems(task, child, parent_indicators, allocated)
        if problems:
            errors[str(index)] = problems
    exceeded = _targets_exceeded(allocated, parent_indicators)
    if exceeded:
        errors["targets"] = exceeded
    if errors:
        raise InvalidInput(_("分解方案有误。"), code="invalid_decomposition", fields={"children": errors})


def _child_problems(
    task: Task, child: ChildSpec, parent_indicators: dict[int, Indicator], allocated: dict[int, Decimal]
) -> list[str]:
    """What is wrong with one child; its valid shares are added to ``allocated``."""
    problems = []
    ongoing = _child_ongoing(task, child)
    if child.ongoing and not task.ongoing:
        problems.append(str(_("上级任务有完成时限，子任务不能设为长期坚持。")))
    elif ongoing and child.due_date not in (None, task.due_date):
        problems.append(
            str(_("长期坚持的子任务不设完成时限，随上级任务至%(date)s。") % {"date": task.due_date})
        )
    elif not ongoing and child.due_date is None:
        problems.append(str(_("请填写完成时限。")))
    elif child.due_date is not None and child.due_date > task.due_date:
        problems.append(str(_("完成时限不能晚于上级任务的完成时限（%(date)s）。") % {"date": task.due_date}))
    for indicator_id, share in child.targets.items():
        if indicator_id not in parent_indicators:
            problems.append(str(_("指标 %(id)s 不属于该任务。") % {"id": indicator_id}))
        elif share < 0:
            problems.append(str(_("指标目标值不能为负数。")))
        else:
            allocated[indicator_id] += share
    return problems


def _targets_exceeded(allocated: dict[int, Decimal], parent_indicators: dict[int, Indicator]) -> list[str]:
    return [
        str(
            _("“%(name)s”分解后的目标合计 %(total)s 超过上级目标 %(target)s。")
            % {
                "name": parent_indicators[indicator_id].name,
                "total": plain_number(total),
                "target": plain_number(parent_indicators[indicator_id].target),
            }
        )
        for indicator_id, total in allocated.items()
        if total > parent_indicators[indicator_id].target
    ]


def _child_ongoing(task: Task, child: ChildSpec) -> bool:
    """A piece is 长期坚持 when the parent is, unless its spec says otherwise."""
    return task.ongoing if child.ongoing is None else child.ongoing and task.ongoing


def _allocated_targets(parent_indicators: dict[int, Indicator]) -> dict[int, Decimal]:
    """How much of each parent target earlier decompositions already gave out."""
    totals = dict(
        Indicator.objects.filter(parent_id__in=parent_indicators)
        .values("parent_id")
        .annotate(total=Sum("target"))
        .values_list("parent_id", "total")
    )
    return {pk: totals.get(pk) or Decimal(0) for pk in parent_indicators}


def _children_create(task: Task, issuing_unit: Unit, children: list[ChildSpec]) -> list[Task]:
    """The children as issued tasks, numbered after the parent's existing children."""
    start = task.children.count()
    now = timezone.now()
    # A piece of ongoing work holds the parent's date, the campaign's end.
    dated = [
        (child, True, task.due_date) if _child_ongoing(task, child) else (child, False, child.due_date)
        for child in children
    ]
    return Task.objects.bulk_create(
        Task(
            campaign_id=task.campaign_id,
            parent=task,
            kind=task.kind,
            number=f"{task.number}.{start + n}" if task.number else str(start + n),
            title=child.title,
            description=child.description,
            issuing_unit=issuing_unit,
            lead_unit=child.lead_unit,
            lead_leader_id=task.lead_leader_id,
            responsible_person=child.responsible_person,
            due_date=due_date,
            original_due_date=due_date,
            ongoing=ongoing,
            state=TaskState.ASSIGNED,
            assigned_at=now,
            responsibility_id=task.responsibility_id,
            # The pieces answer to the same document as the whole (``Task.source``).
            source_id=task.source_id,
        )
        for n, (child, ongoing, due_date) in enumerate(dated, start=1)
    )


def _children_link_units(created: list[Task], children: list[ChildSpec]) -> None:
    TaskUnit.objects.bulk_create(
        [
            TaskUnit(task=c, unit=spec.lead_unit, role=TaskUnitRole.RESPONSIBLE)
            for c, spec in zip(created, children, strict=True)
        ]
        + [
            TaskUnit(task=c, unit=u, role=TaskUnitRole.COOPERATING)
            for c, spec in zip(created, children, strict=True)
            for u in spec.cooperating_units
            if u != spec.lead_unit
        ]
    )


def _children_split_indicators(
    created: list[Task], children: list[ChildSpec], parent_indicators: dict[int, Indicator]
) -> None:
    """Each child's share of a parent indicator, as its own indicator under the parent's."""
    Indicator.objects.bulk_create(
        Indicator(
            task=c,
            parent=parent_indicators[i],
            name=parent_indicators[i].name,
            unit_of_measure=parent_indicators[i].unit_of_measure,
            comparison=parent_indicators[i].comparison,
            veto=parent_indicators[i].veto,
            target=share,
        )
        for c, spec in zip(created, children, strict=True)
        for i, share in spec.targets.items()
    )


def _children_copy_steps(task: Task, created: list[Task]) -> None:
    """A procedure's children go through the same steps, none due after the child."""
    steps = list(task.steps.all())
    ProcedureStep.objects.bulk_create(
        ProcedureStep(task=c, order=s.order, name=s.name, due_date=min(s.due_date, c.due_date))
        for c in created
        for s in steps
    )


def _children_copy_schedule(
    task: Task, created: list[Task], children: list[ChildSpec]
) -> dict[int, ReportSchedule]:
    """The parent's report schedule copied to each child that inherits it, in one statement;
    answers the copies by child id."""
    schedule = ReportSchedule.objects.filter(task=task).first()
    if schedule is None:
        return {}
    copies = [
        ReportSchedule(
            task=child,
            cadence=schedule.cadence,
            day=schedule.day,
            once_on=schedule.once_on,
            wording=schedule.wording,
        )
        for child, spec in zip(created, children, strict=True)
        if spec.inherit_report_schedule
    ]
    ReportSchedule.objects.bulk_create(copies)
    return {copy.task_id: copy for copy in copies}


def _children_record_issue(task: Task, created: list[Task], actor: User) -> None:
    """Each child's history starts as if it had been created, then issued."""
    TaskEvent.objects.bulk_create(
        [
            TaskEvent(
                task=c,
                actor=actor,
                action=EventAction.CREATED,
                to_state=TaskState.DRAFT,
                data={"parent": task.pk},
            )
            for c in created
        ]
        + [
            TaskEvent(
                task=c,
                actor=actor,
                action=EventAction.ASSIGNED,
                from_state=TaskState.DRAFT,
                to_state=TaskState.ASSIGNED,
            )
            for c in created
        ]
    )

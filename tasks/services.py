"""Every change to a task goes through here, for every caller: API, admin, importer, jobs.

Each service opens a transaction, locks the task row if the actor can see it (else 404),
checks the actor's right (``tasks.rules``), checks the state machine, changes the row, and
appends the history.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.db import insert_rows, new_row, reserve_ids
from core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from responsibility import jurisdiction
from responsibility.models import Unit, User
from responsibility.selectors import Access, access_for_user

from . import rules
from .attachments import store_attachments
from .models import (
    UNFINISHED_STATES,
    Campaign,
    Comparison,
    EventAction,
    ExtensionRequest,
    Indicator,
    ProcedureStep,
    ProgressReport,
    Task,
    TaskEvent,
    TaskKind,
    TaskState,
    TaskUnit,
    TaskUnitRole,
)
from .selectors import indicator_leaves, task_visible_to, today
from .workdays import calendar_for


def _locked(task_id: int, actor: User) -> tuple[Task, Access]:
    """The task under a row lock, if the actor can see it, and what the actor's memberships
    reach, for the service's own rules to decide on without reading them again.

    Visibility is decided on the locked row (``task_visible_to``), so an API write reads
    the task once: a task the actor cannot see is missing (404), as on every read path.
    Units, unit links and the parent are read only by the rules and services that need
    them: most writes come from a member of the lead unit, decided on the row alone."""
    try:
        task = Task.objects.select_for_update().get(pk=task_id)
    except Task.DoesNotExist:
        raise NotFound() from None
    access = access_for_user(actor)
    if not task_visible_to(access, task):
        raise NotFound()
    return task, access


def _record(
    task: Task,
    actor: User | None,
    action: str,
    *,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict | None = None,
) -> TaskEvent:
    return TaskEvent.objects.create(
        task=task,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        data=data or {},
    )


def _require_text(value: str, field_name: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, code="required", fields={field_name: [message]})
    return value


def _ensure_no_open_children(task: Task) -> None:
    """Every child is finished, and stays so until the parent's change commits.

    All children are locked, in id order, and their states read from the locked rows: a
    child reopened at the same moment either commits first (and is seen open here) or
    waits, then finds the parent closed (``_ensure_parent_open``). Filtering the lock by
    state would miss a child that was closed in this statement's snapshot and reopened
    while it waited."""
    states = Task.objects.select_for_update().filter(parent_id=task.pk).order_by("pk").values_list("state")
    if any(state in UNFINISHED_STATES for (state,) in states):
        raise Conflict(_("仍有未办结的子任务，不能销号。"), code="children_open")


def _ensure_parent_open(task: Task) -> None:
    """A child is reopened only under a parent that is still being worked on.

    A submitted, closed or cancelled parent has no open child (``_ensure_no_open_children``).
    Reopening the parent along with the child would move another unit's item back without
    its issuer deciding it; refused, the recurrence (屡改屡犯) goes to whoever issued the
    parent, who reopens it first, so the issuer above sees the item come back. The parent
    row is read, not locked: a parent closing at the same moment holds its children's locks
    until it commits, so this child's lock is had only after that parent state is final."""
    if task.parent_id is None:
        return
    parent_state = Task.objects.filter(pk=task.parent_id).values_list("state", flat=True).get()
    if parent_state in (TaskState.SUBMITTED, TaskState.CLOSED, TaskState.CANCELLED):
        raise Conflict(_("上级任务已申请销号、已销号或已撤销，请先重新打开上级任务。"), code="parent_closed")


def _ensure_steps_done(task: Task) -> None:
    if task.kind == TaskKind.PROCEDURE and task.steps.filter(done_at__isnull=True).exists():
        raise Conflict(_("程序步骤尚未全部完成。"), code="steps_incomplete")


def due_date_bounds(campaign: Campaign) -> tuple[datetime.date, datetime.date]:
    """The dates a campaign's work may fall due on: from the start of the year it starts in
    (an annual plan imported mid-year keeps its "6月底前" items) to the end of the year after
    it ends (rectification items it finds late are due in the office's follow-up year)."""
    return datetime.date(campaign.starts_on.year, 1, 1), datetime.date(campaign.ends_on.year + 1, 12, 31)


def _ensure_within_campaign(
    due_date: datetime.date, campaign: Campaign, field_name: str = "due_date"
) -> None:
    """A date outside ``due_date_bounds`` is a typing error (0001-01-01, 9999-12-31), not a plan."""
    earliest, latest = due_date_bounds(campaign)
    if not earliest <= due_date <= latest:
        message = _("完成时限须在 %(start)s 至 %(end)s 之间（攻坚行动所在年度及其后一年）。") % {
            "start": earliest,
            "end": latest,
        }
        raise InvalidInput(message, code="due_date_outside_campaign", fields={field_name: [message]})


def _ensure_within_parent(due_date: datetime.date, parent: Task | None, field_name: str = "due_date") -> None:
    if parent is not None and due_date > parent.due_date:
        message = _("完成时限不能晚于上级任务的完成时限（%(date)s）。") % {"date": parent.due_date}
        raise InvalidInput(message, code="due_date_after_parent", fields={field_name: [message]})


def _column_values(task: Task) -> dict[str, object]:
    return {field.attname: getattr(task, field.attname) for field in Task._meta.concrete_fields}


def _save_changed(task: Task, before: dict[str, object]) -> None:
    """Save the columns a transition changed: it sets two or three of thirty, and writing
    the other columns back is a part of a write request's time worth saving (bench/FIXES.md)."""
    changed = [name for name, value in _column_values(task).items() if value != before[name]]
    task.save(update_fields=[*changed, "updated_at"])


@dataclass(frozen=True)
class TransitionSpec:
    method: str
    action: str
    needs_comment: bool = False
    # Extra checks that need queries, run after the rules and before the transition.
    checks: tuple[Callable[[Task], None], ...] = ()
    # Keyword arguments the transition method needs, computed from the locked task.
    arguments: Callable[[Task], dict] = field(default=lambda task: {})


def _resume_arguments(task: Task) -> dict:
    # The overdue clock stood still while the task was suspended: move the due date by
    # the working days it spent suspended.
    on = today()
    calendar = calendar_for(task.suspended_on, on, task.due_date)
    paused = max(calendar.working_days_between(task.suspended_on, on), 0)
    new_due = calendar.add_working_days(task.due_date, paused) if paused else task.due_date
    return {"new_due_date": new_due}


TRANSITIONS: dict[str, TransitionSpec] = {
    "assign": TransitionSpec("assign", EventAction.ASSIGNED),
    "accept": TransitionSpec("accept", EventAction.ACCEPTED),
    "submit": TransitionSpec(
        "submit",
        EventAction.SUBMITTED,
        needs_comment=True,
        checks=(_ensure_no_open_children, _ensure_steps_done),
    ),
    "close": TransitionSpec("close", EventAction.CLOSED, checks=(_ensure_no_open_children,)),
    "return": TransitionSpec("send_back", EventAction.RETURNED, needs_comment=True),
    "suspend": TransitionSpec(
        "suspend",
        EventAction.SUSPENDED,
        needs_comment=True,
        arguments=lambda task: {"today": today()},
    ),
    "resume": TransitionSpec("resume", EventAction.RESUMED, arguments=_resume_arguments),
    "cancel": TransitionSpec(
        "cancel", EventAction.CANCELLED, needs_comment=True, checks=(_ensure_no_open_children,)
    ),
    "reopen": TransitionSpec(
        "reopen", EventAction.REOPENED, needs_comment=True, checks=(_ensure_parent_open,)
    ),
}


def task_available_transitions(*, task: Task, actor: User) -> list[str]:
    """The transitions the actor could perform on the task now."""
    access = access_for_user(actor)
    return [
        name
        for name, spec in TRANSITIONS.items()
        if can_proceed(getattr(task, spec.method)) and rules.may(access, task, name)
    ]


def task_transition(*, task_id: int, actor: User, name: str, comment: str = "") -> Task:
    """Perform one named transition (see ``TRANSITIONS``) for the actor."""
    spec = TRANSITIONS.get(name)
    if spec is None:
        raise InvalidInput(_("未知的操作：%(name)s。") % {"name": name}, code="unknown_transition")
    if spec.needs_comment:
        comment = _require_text(comment, "comment", _("请填写说明或理由。"))
    with transaction.atomic():
        task, access = _locked(task_id, actor)
        rules.ensure_may(access, task, name)
        method = getattr(task, spec.method)
        if not can_proceed(method):
            raise InvalidTransition()
        for check in spec.checks:
            check(task)
        from_state = task.state
        old_due = task.due_date
        before = _column_values(task)
        method(**spec.arguments(task))
        _save_changed(task, before)
        data = {"due_date": [str(old_due), str(task.due_date)]} if task.due_date != old_due else {}
        _record(
            task, actor, spec.action, from_state=from_state, to_state=task.state, comment=comment, data=data
        )
    return task


@dataclass
class IndicatorSpec:
    name: str
    target: Decimal
    unit_of_measure: str = ""
    comparison: str = "gte"
    veto: bool = False


@dataclass
class StepSpec:
    name: str
    due_date: datetime.date


def _set_units(task: Task, responsible: list[Unit], cooperating: list[Unit]) -> None:
    links = {unit.pk: TaskUnit(task=task, unit=unit, role=TaskUnitRole.RESPONSIBLE) for unit in responsible}
    for unit in cooperating:
        if unit.pk in links:
            message = _("同一单位不能既是责任单位又是配合单位。")
            raise InvalidInput(message, code="unit_twice", fields={"cooperating_units": [message]})
        links[unit.pk] = TaskUnit(task=task, unit=unit, role=TaskUnitRole.COOPERATING)
    TaskUnit.objects.filter(task=task).delete()
    TaskUnit.objects.bulk_create(links.values())


def _ensure_steps_ordered(steps: list[StepSpec], due_date: datetime.date) -> None:
    previous = None
    for step in steps:
        if step.due_date > due_date or (previous and step.due_date < previous):
            message = _("步骤时限须按顺序排列，且不晚于任务完成时限。")
            raise InvalidInput(message, code="steps_out_of_order", fields={"steps": [message]})
        previous = step.due_date


def _ensure_assignment(
    issuing_unit: Unit,
    *,
    lead_unit: Unit,
    responsible_units=(),
    cooperating_units=(),
    responsible_person: User | None = None,
    lead_leader: User | None = None,
    through_task: bool = False,
) -> None:
    """Who a task is handed to, checked against the issuing unit's jurisdiction."""
    jurisdiction.ensure_reaches(
        issuing_unit,
        {
            "lead_unit": [lead_unit],
            "responsible_units": responsible_units,
            "cooperating_units": cooperating_units,
        },
        through_task=through_task,
    )
    jurisdiction.ensure_answers_for(responsible_person, lead_unit)
    jurisdiction.ensure_leads_level(lead_leader, issuing_unit)


@transaction.atomic
def task_create(
    *,
    actor: User,
    campaign: Campaign,
    title: str,
    issuing_unit: Unit,
    lead_unit: Unit,
    due_date: datetime.date,
    kind: str = TaskKind.TASK,
    description: str = "",
    number: str = "",
    lead_leader: User | None = None,
    responsible_person: User | None = None,
    responsible_units: list[Unit] = (),
    cooperating_units: list[Unit] = (),
    indicators: list[IndicatorSpec] = (),
    steps: list[StepSpec] = (),
    responsibility=None,
    assign: bool = False,
) -> Task:
    """Create a top-level task as a draft of the issuing unit (or issue it at once).

    The issuing unit hands the work to units within its jurisdiction, names a responsible
    person of the lead unit and a lead leader of its own level (``responsibility.jurisdiction``).
    """
    # A new task has no row to lock yet; the rule is the issuer's, as for editing.
    rules.ensure_may(access_for_user(actor), Task(issuing_unit=issuing_unit), "edit")
    jurisdiction.ensure_may_issue_in(campaign.issuing_unit, issuing_unit)
    _ensure_assignment(
        issuing_unit,
        lead_unit=lead_unit,
        responsible_units=responsible_units,
        cooperating_units=cooperating_units,
        responsible_person=responsible_person,
        lead_leader=lead_leader,
    )
    _ensure_within_campaign(due_date, campaign)
    if kind == TaskKind.TARGET and not indicators:
        message = _("指标任务至少需要一个指标。")
        raise InvalidInput(message, code="indicators_required", fields={"indicators": [message]})
    if kind == TaskKind.PROCEDURE and not steps:
        message = _("程序任务至少需要一个步骤。")
        raise InvalidInput(message, code="steps_required", fields={"steps": [message]})
    _ensure_steps_ordered(list(steps), due_date)
    task = Task.objects.create(
        campaign=campaign,
        title=title,
        description=description,
        number=number,
        kind=kind,
        issuing_unit=issuing_unit,
        lead_unit=lead_unit,
        lead_leader=lead_leader,
        responsible_person=responsible_person,
        due_date=due_date,
        original_due_date=due_date,
        responsibility=responsibility,
    )
    _set_units(task, [lead_unit, *[u for u in responsible_units if u != lead_unit]], list(cooperating_units))
    Indicator.objects.bulk_create(
        Indicator(
            task=task,
            name=i.name,
            target=i.target,
            unit_of_measure=i.unit_of_measure,
            comparison=i.comparison,
            veto=i.veto,
        )
        for i in indicators
    )
    ProcedureStep.objects.bulk_create(
        ProcedureStep(task=task, order=n, name=s.name, due_date=s.due_date)
        for n, s in enumerate(steps, start=1)
    )
    _record(task, actor, EventAction.CREATED, to_state=task.state)
    if assign:
        task = task_transition(task_id=task.pk, actor=actor, name="assign")
    return task


EDITABLE_ALWAYS = {"title", "description", "number", "lead_leader", "responsible_person"}
EDITABLE_IN_DRAFT = {"due_date", "kind"}


def task_update(*, task_id: int, actor: User, **changes) -> Task:
    """Edit a task as its issuer. Changing who is responsible is recorded as a reassignment;
    once issued, the due date moves only through an approved extension."""
    with transaction.atomic():
        task, access = _locked(task_id, actor)
        rules.ensure_may(access, task, "edit")
        if task.state not in UNFINISHED_STATES:
            raise InvalidTransition(_("已办结或已撤销的任务不能修改。"))
        locked = set(changes) & EDITABLE_IN_DRAFT if task.state != TaskState.DRAFT else set()
        if locked:
            message = _("任务下达后，完成时限只能通过延期申请调整。")
            raise InvalidInput(message, code="field_locked", fields={name: [message] for name in locked})
        units = {
            name: changes.pop(name)
            for name in ("lead_unit", "responsible_units", "cooperating_units")
            if name in changes
        }
        before = _responsibility_snapshot(task)
        for name, value in changes.items():
            if name not in EDITABLE_ALWAYS | EDITABLE_IN_DRAFT:
                raise InvalidInput(_("字段不可修改：%(name)s。") % {"name": name}, code="field_locked")
            setattr(task, name, value)
        if "due_date" in changes:
            _ensure_within_campaign(task.due_date, task.campaign)
            _ensure_within_parent(task.due_date, task.parent)
            task.original_due_date = task.due_date
        if units:
            old_lead_id = task.lead_unit_id
            task.lead_unit = units.get("lead_unit", task.lead_unit)
            links = list(task.task_units.select_related("unit"))
            # The old lead unit was responsible only by leading: a new lead replaces it, and
            # a cooperating unit promoted to lead stops cooperating.
            responsible = units.get(
                "responsible_units",
                [x.unit for x in links if x.role == TaskUnitRole.RESPONSIBLE and x.unit_id != old_lead_id],
            )
            cooperating = units.get(
                "cooperating_units",
                [
                    x.unit
                    for x in links
                    if x.role == TaskUnitRole.COOPERATING and x.unit_id != task.lead_unit_id
                ],
            )
        if units or {"lead_leader", "responsible_person"} & set(changes):
            # Only what the edit names is checked, against the whole arrangement it leaves:
            # a new lead unit needs a responsible person of its own.
            _ensure_assignment(
                task.issuing_unit,
                through_task=task.parent_id is not None,
                lead_unit=task.lead_unit,
                responsible_units=units.get("responsible_units", ()),
                cooperating_units=units.get("cooperating_units", ()),
                responsible_person=task.responsible_person,
                lead_leader=task.lead_leader if "lead_leader" in changes else None,
            )
        if units:
            _set_units(task, [task.lead_unit, *[u for u in responsible if u != task.lead_unit]], cooperating)
        task.save()
        after = _responsibility_snapshot(Task.objects.prefetch_related("task_units").get(pk=task.pk))
        reassigned = before != after and task.state != TaskState.DRAFT
        _record(
            task,
            actor,
            EventAction.REASSIGNED if reassigned else EventAction.EDITED,
            from_state=task.state,
            to_state=task.state,
            data={"changed": sorted([*changes, *units]), "before": before, "after": after},
        )
    return task


def _responsibility_snapshot(task: Task) -> dict:
    return {
        "lead_unit": task.lead_unit_id,
        "responsible_person": task.responsible_person_id,
        "lead_leader": task.lead_leader_id,
        "units": sorted([link.unit_id, link.role] for link in task.task_units.all()),
    }


@dataclass
class ChildSpec:
    title: str
    lead_unit: Unit
    due_date: datetime.date
    description: str = ""
    responsible_person: User | None = None
    cooperating_units: list[Unit] = field(default_factory=list)
    # parent indicator id -> this child's share of the target
    targets: dict[int, Decimal] = field(default_factory=dict)


def task_decompose(*, task_id: int, actor: User, children: list[ChildSpec]) -> list[Task]:
    """Split a task into child tasks for units below the decomposing unit (再细化、再分解).

    Children are issued at once by the decomposing unit. Each child is due no later than
    the parent; for each split indicator the children's targets may not exceed the
    parent's (what remains unallocated is shown on the parent).
    """
    if not children:
        raise InvalidInput(_("至少需要一个子任务。"), code="children_required")
    with transaction.atomic():
        task, access = _locked(task_id, actor)
        rules.ensure_may(access, task, "decompose")
        if task.state not in (TaskState.ASSIGNED, TaskState.IN_PROGRESS):
            raise InvalidTransition(_("只有已下达或办理中的任务可以分解。"))
        issuing_unit = Unit.objects.get(pk=rules.decomposing_unit_id(access, task))
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
        parent_indicators = {i.pk: i for i in task.indicators.all()}
        allocated = _allocated_targets(parent_indicators)
        errors: dict[str, list] = {}
        for index, child in enumerate(children):
            problems = []
            if child.due_date > task.due_date:
                problems.append(
                    str(_("完成时限不能晚于上级任务的完成时限（%(date)s）。") % {"date": task.due_date})
                )
            for indicator_id, share in child.targets.items():
                if indicator_id not in parent_indicators:
                    problems.append(str(_("指标 %(id)s 不属于该任务。") % {"id": indicator_id}))
                elif share < 0:
                    problems.append(str(_("指标目标值不能为负数。")))
                else:
                    allocated[indicator_id] += share
            if problems:
                errors[str(index)] = problems
        for indicator_id, total in allocated.items():
            if total > parent_indicators[indicator_id].target:
                errors.setdefault("targets", []).append(
                    str(
                        _("“%(name)s”分解后的目标合计 %(total)s 超过上级目标 %(target)s。")
                        % {
                            "name": parent_indicators[indicator_id].name,
                            "total": total.normalize(),
                            "target": parent_indicators[indicator_id].target.normalize(),
                        }
                    )
                )
        if errors:
            raise InvalidInput(_("分解方案有误。"), code="invalid_decomposition", fields={"children": errors})

        start = task.children.count()
        now = timezone.now()
        created = Task.objects.bulk_create(
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
                due_date=child.due_date,
                original_due_date=child.due_date,
                state=TaskState.ASSIGNED,
                assigned_at=now,
                responsibility_id=task.responsibility_id,
            )
            for n, child in enumerate(children, start=1)
        )
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
        if task.kind == TaskKind.PROCEDURE:
            steps = list(task.steps.all())
            ProcedureStep.objects.bulk_create(
                ProcedureStep(task=c, order=s.order, name=s.name, due_date=min(s.due_date, c.due_date))
                for c in created
                for s in steps
            )
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
        _record(
            task,
            actor,
            EventAction.DECOMPOSED,
            from_state=task.state,
            to_state=task.state,
            data={"children": [c.pk for c in created]},
        )
    return created


def _allocated_targets(parent_indicators: dict[int, Indicator]) -> dict[int, Decimal]:
    totals = dict(
        Indicator.objects.filter(parent_id__in=parent_indicators)
        .values("parent_id")
        .annotate(total=Sum("target"))
        .values_list("parent_id", "total")
    )
    return {pk: totals.get(pk) or Decimal(0) for pk in parent_indicators}


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
                    "value": f"{value:f}",
                    "low": f"{low.normalize():f}",
                    "high": f"{high.normalize():f}",
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
    text = _require_text(text, "text", _("请填写进展情况。"))
    figures = figures or {}
    with transaction.atomic():
        task, access = _locked(task_id, actor)
        rules.ensure_may(access, task, "report")
        if task.state != TaskState.IN_PROGRESS:
            raise InvalidTransition(_("只有办理中的任务可以报送进展，请先签收。"))
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
        store_attachments(report, files or [])
        if figures:
            indicator_record_values(figures)
        _record(
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
    wait for each other instead of overwriting each other's sums.
    """
    chain: dict[int, int | None] = {}
    frontier = set(values)
    while frontier:
        rows = Indicator.objects.filter(pk__in=frontier).values_list("pk", "parent_id")
        frontier = set()
        for pk, parent_id in rows:
            chain[pk] = parent_id
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


def procedure_step_complete(*, step: ProcedureStep, actor: User) -> ProcedureStep:
    with transaction.atomic():
        task, access = _locked(step.task_id, actor)
        rules.ensure_may(access, task, "complete_step")
        if task.state != TaskState.IN_PROGRESS:
            raise InvalidTransition(_("只有办理中的任务可以完成步骤。"))
        step = ProcedureStep.objects.select_for_update().get(pk=step.pk)
        if step.done_at is not None:
            raise Conflict(_("该步骤已完成。"), code="step_done")
        if task.steps.filter(order__lt=step.order, done_at__isnull=True).exists():
            raise Conflict(_("请先完成前面的步骤。"), code="step_out_of_order")
        step.done_at, step.done_by = timezone.now(), actor
        step.save(update_fields=["done_at", "done_by"])
        _record(
            task,
            actor,
            EventAction.STEP_COMPLETED,
            from_state=task.state,
            to_state=task.state,
            data={"step": step.pk, "name": step.name, "order": step.order},
        )
    return step


def extension_request_create(
    *, task_id: int, actor: User, requested_due_date: datetime.date, reason: str
) -> ExtensionRequest:
    reason = _require_text(reason, "reason", _("请填写延期理由。"))
    with transaction.atomic():
        task, access = _locked(task_id, actor)
        rules.ensure_may(access, task, "request_extension")
        if task.state not in (TaskState.ASSIGNED, TaskState.IN_PROGRESS):
            raise InvalidTransition(_("只有已下达或办理中的任务可以申请延期。"))
        if requested_due_date <= task.due_date:
            message = _("申请的时限须晚于当前完成时限（%(date)s）。") % {"date": task.due_date}
            raise InvalidInput(message, code="not_later", fields={"requested_due_date": [message]})
        _ensure_within_campaign(requested_due_date, task.campaign, "requested_due_date")
        _ensure_within_parent(requested_due_date, task.parent, "requested_due_date")
        try:
            with transaction.atomic():
                extension = ExtensionRequest.objects.create(
                    task=task, requested_by=actor, requested_due_date=requested_due_date, reason=reason
                )
        except IntegrityError:
            raise Conflict(_("该任务已有待审批的延期申请。"), code="extension_pending") from None
        _record(
            task,
            actor,
            EventAction.EXTENSION_REQUESTED,
            from_state=task.state,
            to_state=task.state,
            comment=reason,
            data={"extension": extension.pk, "requested_due_date": str(requested_due_date)},
        )
    return extension


def extension_decide(
    *, extension: ExtensionRequest, actor: User, approve: bool, comment: str = ""
) -> ExtensionRequest:
    """Approve (moving the due date; the original date is kept) or reject an extension."""
    if not approve:
        comment = _require_text(comment, "comment", _("驳回须说明理由。"))
    with transaction.atomic():
        task, access = _locked(extension.task_id, actor)
        rules.ensure_may(access, task, "decide_extension")
        extension = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
        method = extension.approve if approve else extension.reject
        if not can_proceed(method):
            raise InvalidTransition(_("该延期申请已处理。"))
        if approve:
            if task.state not in UNFINISHED_STATES:
                raise InvalidTransition(_("任务已办结或撤销，不能延期。"))
            _ensure_within_parent(extension.requested_due_date, task.parent, "requested_due_date")
        method(by=actor, comment=comment)
        extension.save()
        data = {"extension": extension.pk}
        if approve:
            data["due_date"] = [str(task.due_date), str(extension.requested_due_date)]
            data["was_overdue"] = task.due_date < today()
            task.due_date = extension.requested_due_date
            task.save(update_fields=["due_date", "updated_at"])
        _record(
            task,
            actor,
            EventAction.EXTENSION_APPROVED if approve else EventAction.EXTENSION_REJECTED,
            from_state=task.state,
            to_state=task.state,
            comment=comment,
            data=data,
        )
    return extension


@dataclass
class TaskSpec:
    """One task of a decomposition table, as the importer read it."""

    number: str  # the full number path, unique among the campaign's imported tasks
    parent_number: str | None
    title: str
    lead_unit: Unit
    due_date: datetime.date
    responsible_units: list[Unit] = field(default_factory=list)
    cooperating_units: list[Unit] = field(default_factory=list)
    lead_leader: User | None = None
    deadline_text: str = ""
    notes: str = ""


@dataclass
class SpecChange:
    number: str
    # "created", "updated", "unchanged", "locked" (may not change) or "missing" (no longer
    # in the table; kept)
    action: str
    fields: list[str] = field(default_factory=list)


SYNCED_FIELDS = ("title", "lead_unit_id", "lead_leader_id", "due_date", "deadline_text", "notes", "parent_id")


def _spec_units(spec: TaskSpec) -> list[list]:
    links = {spec.lead_unit.pk: TaskUnitRole.RESPONSIBLE}
    links.update({u.pk: TaskUnitRole.RESPONSIBLE for u in spec.responsible_units if u.pk not in links})
    links.update({u.pk: TaskUnitRole.COOPERATING for u in spec.cooperating_units if u.pk not in links})
    return sorted([unit_id, role] for unit_id, role in links.items())


def tasks_sync_imported(
    *, actor: User, campaign: Campaign, specs: list[TaskSpec], apply: bool
) -> list[SpecChange]:
    """Create or update a campaign's imported tasks from a table, matched by number.

    Without ``apply`` nothing is written: the changes are what an import would do. With it,
    everything is written in bulk in one transaction (new tasks as drafts of the campaign's
    issuing unit, each with its history row). Once a task is issued its due date moves only
    by an extension: such a change is reported as ``locked``, and then nothing is written.
    """
    rules.ensure_may(access_for_user(actor), Task(issuing_unit=campaign.issuing_unit), "edit")
    _ensure_imported_assignments(campaign, specs)
    with transaction.atomic():
        existing = {
            task.number: task
            for task in Task.objects.filter(campaign=campaign, imported=True)
            .select_for_update(of=("self",))
            .prefetch_related("task_units")
        }
        changes, created, updated = [], [], []
        for spec in specs:
            task = existing.get(spec.number)
            if task is None:
                changes.append(SpecChange(spec.number, "created"))
                created.append(spec)
                continue
            wanted = {
                "title": spec.title,
                "lead_unit_id": spec.lead_unit.pk,
                "lead_leader_id": spec.lead_leader.pk if spec.lead_leader else None,
                "due_date": spec.due_date,
                "deadline_text": spec.deadline_text,
                "notes": spec.notes,
                "parent_id": existing[spec.parent_number].pk
                if spec.parent_number in existing
                else task.parent_id,
            }
            differing = [name for name, value in wanted.items() if getattr(task, name) != value]
            if sorted([link.unit_id, link.role] for link in task.task_units.all()) != _spec_units(spec):
                differing.append("units")
            if not differing:
                changes.append(SpecChange(spec.number, "unchanged"))
            elif "due_date" in differing and task.state != TaskState.DRAFT:
                changes.append(SpecChange(spec.number, "locked", differing))
            else:
                changes.append(SpecChange(spec.number, "updated", differing))
                updated.append((task, spec, wanted, differing))
        # Tasks the table no longer lists are kept (they may be under way) and reported.
        listed = {spec.number for spec in specs}
        changes.extend(SpecChange(number, "missing") for number in existing if number not in listed)
        # A locked change refuses the whole import: nothing is written, the caller says why.
        if apply and not any(change.action == "locked" for change in changes):
            by_number = {number: task.pk for number, task in existing.items()}
            _create_imported(actor, campaign, created, by_number)
            _update_imported(actor, updated, by_number)
        else:
            transaction.set_rollback(True)
    return changes


def _ensure_imported_assignments(campaign: Campaign, specs: list[TaskSpec]) -> None:
    """The importer names units, leaders and dates the way ``task_create`` allows them: its
    plan reports each problem at its row, and this is the rule itself, checked again."""
    issuer = campaign.issuing_unit
    jurisdiction.ensure_reaches(
        issuer,
        {
            "lead_unit": [spec.lead_unit for spec in specs if spec.lead_unit != issuer],
            "responsible_units": [unit for spec in specs for unit in spec.responsible_units],
            "cooperating_units": [unit for spec in specs for unit in spec.cooperating_units],
        },
    )
    jurisdiction.ensure_all_lead_level(issuer, {spec.lead_leader for spec in specs if spec.lead_leader})
    for spec in specs:
        _ensure_within_campaign(spec.due_date, campaign)


def _depth(spec: TaskSpec) -> int:
    return spec.number.count(".")


def _link_units(links) -> None:
    """Each (task id, its ``_spec_units``) pair's unit links, in bulk."""
    insert_rows(
        TaskUnit,
        ("task", "unit", "role"),
        ((task_id, unit_id, role) for task_id, units in links for unit_id, role in units),
    )


def _create_imported(actor: User, campaign: Campaign, specs: list[TaskSpec], by_number: dict) -> None:
    # Parents first: ids ascend level by level, then in table order, which lists ordered by
    # due date keep among tasks due the same day.
    specs = sorted(specs, key=_depth)
    ids = reserve_ids(Task, len(specs))
    by_number.update({spec.number: task_id for spec, task_id in zip(specs, ids, strict=True)})
    # COPY rather than bulk_create: for a large table, building a model instance per row
    # and Django's preparing of their INSERT cost more than PostgreSQL's own work
    # (bench/FIXES.md).
    template = new_row(Task, campaign_id=campaign.pk, issuing_unit_id=campaign.issuing_unit_id, imported=True)
    insert_rows(
        Task,
        list(template),
        (
            tuple(
                {
                    **template,
                    "id": task_id,
                    "parent_id": by_number.get(spec.parent_number),
                    "number": spec.number,
                    "title": spec.title,
                    "lead_unit_id": spec.lead_unit.pk,
                    "lead_leader_id": spec.lead_leader.pk if spec.lead_leader else None,
                    "due_date": spec.due_date,
                    "original_due_date": spec.due_date,
                    "deadline_text": spec.deadline_text,
                    "notes": spec.notes,
                }.values()
            )
            for spec, task_id in zip(specs, ids, strict=True)
        ),
    )
    units = [_spec_units(spec) for spec in specs]
    _link_units(zip(ids, units, strict=True))
    data = TaskEvent._meta.get_field("data")
    insert_rows(
        TaskEvent,
        ("task", "actor", "at", "action", "from_state", "to_state", "comment", "data"),
        (
            (
                task_id,
                actor.pk,
                template["created_at"],
                EventAction.CREATED,
                "",
                template["state"],
                "",
                data.get_db_prep_save(
                    {"imported": True, "after": {"lead_unit": spec.lead_unit.pk, "units": spec_units}},
                    connection,
                ),
            )
            for spec, task_id, spec_units in zip(specs, ids, units, strict=True)
        ),
    )


def _update_imported(actor: User, updated: list, by_number: dict) -> None:
    if not updated:
        return
    for task, spec, wanted, _differing in updated:
        if spec.parent_number in by_number:
            wanted["parent_id"] = by_number[spec.parent_number]
        for name, value in wanted.items():
            setattr(task, name, value)
        if task.state == TaskState.DRAFT:
            task.original_due_date = task.due_date
    Task.objects.bulk_update(
        [task for task, *_ in updated], [*SYNCED_FIELDS, "original_due_date"], batch_size=500
    )
    TaskUnit.objects.filter(task__in=[task for task, *_ in updated]).delete()
    _link_units((task.pk, _spec_units(spec)) for task, spec, *_ in updated)
    TaskEvent.objects.bulk_create(
        [
            TaskEvent(
                task=task,
                actor=actor,
                action=EventAction.REASSIGNED
                if {"lead_unit_id", "units"} & set(differing)
                else EventAction.EDITED,
                from_state=task.state,
                to_state=task.state,
                data={"imported": True, "changed": differing},
            )
            for task, _spec, _wanted, differing in updated
        ],
        batch_size=1000,
    )

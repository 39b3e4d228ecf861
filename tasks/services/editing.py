"""Creating and editing a task as its issuer."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
from responsibility import jurisdiction
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user

from .. import rules
from ..models import (
    Campaign,
    EventAction,
    Indicator,
    ProcedureStep,
    Task,
    TaskKind,
    TaskSource,
    TaskState,
    TaskUnit,
    TaskUnitRole,
)
from ..obligations import obligations_reowned
from ..scope import scope_rebuild, scope_sync
from ..standing import standing_refresh
from ..workdays import plan_backwards
from .common import ensure_within_campaign, ensure_within_parent, event_record, locked_task
from .lifecycle import task_transition
from .sources import source_for_task
from .transfers import transfers_supersede


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


def steps_plan_backwards(*, due_date: datetime.date, steps: list[tuple[str, int]]) -> list[dict]:
    """倒排工期: each step's date planned back from the final ``due_date`` and the working
    days each step needs (``tasks.workdays.plan_backwards``), for the issuer to see before
    the task is saved with them. Nothing is written."""
    try:
        dates = plan_backwards(due_date, [days for _name, days in steps])
    except (ValueError, OverflowError) as error:
        message = _("无法按节假日安排倒排这些步骤的日期（%(error)s）。") % {"error": error}
        raise InvalidInput(message, code="plan_out_of_calendar", fields={"steps": [message]}) from None
    return [
        {"name": name, "working_days": days, "due_date": day}
        for (name, days), day in zip(steps, dates, strict=True)
    ]


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
    due_date: datetime.date | None = None,
    ongoing: bool = False,
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
    source: TaskSource | None = None,
    assign: bool = False,
) -> Task:
    """Create a top-level task as a draft of the issuing unit (or issue it at once).

    The issuing unit hands the work to units within its jurisdiction, names a responsible
    person of the lead unit and a lead leader of its own level (``responsibility.jurisdiction``).
    It takes the campaign, units and people themselves: there is no task row to lock yet, and
    none of them is changed. Work without a final date (长期坚持, ``ongoing``) takes no
    ``due_date``: it falls due at the campaign's end, as an imported one does.
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
    due_date = _ongoing_due_date(due_date, ongoing, campaign)
    ensure_within_campaign(due_date, campaign)
    if source is not None:
        source_for_task(actor, source, issuing_unit)
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
        ongoing=ongoing,
        responsibility=responsibility,
        source=source,
    )
    _set_units(task, [lead_unit, *[u for u in responsible_units if u != lead_unit]], list(cooperating_units))
    scope_rebuild([task.pk])
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
    if indicators:
        standing_refresh([task.pk])
    ProcedureStep.objects.bulk_create(
        ProcedureStep(task=task, order=n, name=s.name, due_date=s.due_date)
        for n, s in enumerate(steps, start=1)
    )
    event_record(task, actor, EventAction.CREATED, to_state=task.state)
    if assign:
        task = task_transition(task_id=task.pk, actor=actor, name="assign")
    return task


EDITABLE_ALWAYS = {"title", "description", "number", "lead_leader", "responsible_person"}
# 长期坚持 is a deadline as much as the date is: once issued, neither changes by an edit.
EDITABLE_IN_DRAFT = {"due_date", "kind", "ongoing"}
# What only the issuer's own document restating an item changes besides (``task_update``).
EDITABLE_RESTATED = {"deadline_text"}


def _ongoing_due_date(due_date: datetime.date | None, ongoing: bool, campaign: Campaign) -> datetime.date:
    """The date a task falls due: its own, or for work without one (长期坚持) the campaign's
    end, which keeps the lists in order while the work is never late by it."""
    if ongoing and due_date is not None:
        message = _("长期坚持的工作不设完成时限。")
        raise InvalidInput(message, code="ongoing_has_no_date", fields={"due_date": [message]})
    if ongoing:
        return campaign.ends_on
    if due_date is None:
        message = _("请填写完成时限；不设时限的工作请选择长期坚持。")
        raise InvalidInput(message, code="required", fields={"due_date": [message]})
    return due_date


def task_update(*, task_id: int, actor: User, restated_by: str = "", **changes) -> Task:
    """Edit a task as its issuer. Changing who is responsible is recorded as a reassignment;
    once issued, the due date moves only through an approved extension. A top-level task's
    source may be given or changed while it is unfinished; its pieces follow.

    ``restated_by`` names the issuer's own document that restates an unfinished item's terms
    (``"problem_list"``: a problem list imported again with another 整改时限): then the due
    date moves though the item is issued, with the words of its deadline (``deadline_text``),
    the ladder starting again from the new date and the original date kept, as for an
    extension; the history names the document and both dates."""
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "edit")
        rules.ensure_state(task, "edit", _("已办结或已撤销的任务不能修改。"))
        issued = task.state != TaskState.DRAFT
        locked = set(changes) & EDITABLE_IN_DRAFT if issued else set()
        if restated_by:
            locked -= {"due_date"}
        if locked:
            message = _("任务下达后，完成时限只能通过延期申请调整。")
            raise InvalidInput(message, code="field_locked", fields={name: [message] for name in locked})
        units = {
            name: changes.pop(name)
            for name in ("lead_unit", "responsible_units", "cooperating_units")
            if name in changes
        }
        sourced = "source" in changes
        if sourced:
            _set_source(actor, task, changes.pop("source"))
        before = _responsibility_snapshot(task)
        old_due = task.due_date
        editable = EDITABLE_ALWAYS | EDITABLE_IN_DRAFT | (EDITABLE_RESTATED if restated_by else set())
        for name, value in changes.items():
            if name not in editable:
                raise InvalidInput(_("字段不可修改：%(name)s。") % {"name": name}, code="field_locked")
            if name == "due_date" and issued:
                task.move_due_date(value)
            else:
                setattr(task, name, value)
        if changes.get("ongoing"):
            task.due_date = _ongoing_due_date(changes.get("due_date"), True, task.campaign)
        if "due_date" in changes or changes.get("ongoing"):
            ensure_within_campaign(task.due_date, task.campaign)
            ensure_within_parent(task.due_date, task.parent)
            if not issued:
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
        if units:
            scope_rebuild([task.pk])
            obligations_reowned([task.pk])
        else:
            scope_sync(task)
        after = _responsibility_snapshot(Task.objects.prefetch_related("task_units").get(pk=task.pk))
        reassigned = before != after and task.state != TaskState.DRAFT
        event_record(
            task,
            actor,
            EventAction.REASSIGNED if reassigned else EventAction.EDITED,
            from_state=task.state,
            to_state=task.state,
            data={
                "changed": sorted([*changes, *units, *(["source"] if sourced else [])]),
                "before": before,
                "after": after,
                **(
                    {"restated_by": restated_by, "due_date": [str(old_due), str(task.due_date)]}
                    if restated_by
                    else {}
                ),
            },
        )
        if task.lead_unit_id != before["lead_unit"] and task.state == TaskState.ASSIGNED:
            # The unit that asked for a transfer no longer leads the task.
            transfers_supersede([task], actor=actor, because="edit")
    return task


def _set_source(actor: User, task: Task, source: TaskSource | None) -> None:
    """Give a top-level task its source (or none), and its pieces with it, every level down
    in one statement: a piece answers to the document its whole answers to."""
    if task.parent_id is not None:
        message = _("来源登记在顶层任务上，分解出的任务随之继承。")
        raise InvalidInput(message, code="field_locked", fields={"source": [message]})
    if source is not None:
        source_for_task(actor, source, task.issuing_unit)
    task.source = source
    table = connection.ops.quote_name(Task._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE pieces(id) AS (
                SELECT id FROM {table} WHERE parent_id = %s
                UNION ALL
                SELECT child.id FROM {table} child JOIN pieces ON child.parent_id = pieces.id
            )
            UPDATE {table} SET source_id = %s WHERE id IN (SELECT id FROM pieces)
            """,
            [task.pk, source.pk if source else None],
        )


def _responsibility_snapshot(task: Task) -> dict:
    return {
        "lead_unit": task.lead_unit_id,
        "responsible_person": task.responsible_person_id,
        "lead_leader": task.lead_leader_id,
        "units": sorted([link.unit_id, link.role] for link in task.task_units.all()),
    }

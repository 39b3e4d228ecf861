"""Writing a decomposition table's tasks: created and updated in bulk, matched by number.

The importer's plan decides what each row means and reports every problem at its row; this
module checks the assignment rules once more, as ``task_create`` would, and writes.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from core.db import insert_rows, new_row, reserve_ids
from responsibility import jurisdiction
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user
from tasks import rules
from tasks.lateness import today as local_today
from tasks.models import (
    OPEN_STATES,
    Campaign,
    EventAction,
    ReportSchedule,
    Task,
    TaskEvent,
    TaskState,
    TaskUnit,
    TaskUnitRole,
)
from tasks.obligations import next_obligations_refresh, obligations_reowned
from tasks.schedules import periods_rewrite
from tasks.scope import scope_rebuild
from tasks.services import ensure_within_campaign, sources_for_texts, transfers_supersede
from tasks.sources import source_matches_text

from .models import TaskWording


@dataclass(frozen=True)
class TaskWords:
    """A task row's assignment cells as the office wrote them."""

    lead_leader: str = ""
    lead_unit: str = ""
    responsible_units: str = ""
    cooperating_units: str = ""
    deadline: str = ""


WORD_FIELDS = tuple(TaskWords.__dataclass_fields__)


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
    # 长期坚持, and the report schedule the deadline cell names ("每月28日前报送"), as
    # ``tasks.models.ReportSchedule`` keeps it: cadence, day, the office's words.
    ongoing: bool = False
    report_schedule: tuple[str, int | None, str] | None = None
    # None for a heading, which has no assignment cells.
    words: TaskWords | None = None
    # The 来源 cell: the source document the task comes from, found or registered by
    # ``tasks.services.sources_for_texts``; an empty cell leaves the task's source as it is.
    source_text: str = ""


@dataclass
class SpecChange:
    number: str
    # "created", "updated", "unchanged", "locked" (may not change) or "missing" (no longer
    # in the table; kept)
    action: str
    fields: list[str] = field(default_factory=list)


SYNCED_FIELDS = (
    "title",
    "lead_unit_id",
    "lead_leader_id",
    "due_date",
    "deadline_text",
    "ongoing",
    "notes",
    "parent_id",
)


def _spec_units(spec: TaskSpec) -> list[list]:
    links = {spec.lead_unit.pk: TaskUnitRole.RESPONSIBLE}
    links.update({u.pk: TaskUnitRole.RESPONSIBLE for u in spec.responsible_units if u.pk not in links})
    links.update({u.pk: TaskUnitRole.COOPERATING for u in spec.cooperating_units if u.pk not in links})
    return sorted([unit_id, role] for unit_id, role in links.items())


def _resolved(spec: TaskSpec, units: list[list]) -> dict:
    """What the spec's words resolved to, in the form ``TaskWording.resolved`` keeps."""
    return {
        "lead_leader": spec.lead_leader.pk if spec.lead_leader else None,
        "lead_unit": spec.lead_unit.pk,
        "units": units,
        "due_date": spec.due_date.isoformat(),
    }


def _wording_differs(task: Task, spec: TaskSpec) -> bool:
    wording = getattr(task, "wording", None)
    if spec.words is None:
        return wording is not None
    if wording is None:
        return True
    words = TaskWords(**{name: getattr(wording, name) for name in WORD_FIELDS})
    return words != spec.words or wording.resolved != _resolved(spec, _spec_units(spec))


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
            .select_related("wording", "source", "report_schedule")
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
                "ongoing": spec.ongoing,
                "notes": spec.notes,
                "parent_id": existing[spec.parent_number].pk
                if spec.parent_number in existing
                else task.parent_id,
            }
            differing = [name for name, value in wanted.items() if getattr(task, name) != value]
            if sorted([link.unit_id, link.role] for link in task.task_units.all()) != _spec_units(spec):
                differing.append("units")
            text = spec.source_text
            if text and (task.source is None or not source_matches_text(task.source, text)):
                differing.append("source")
            if _schedule_of(task) != spec.report_schedule:
                differing.append("report_schedule")
            # Words that change what the task has changed with it; words alone ("王 某" for
            # 王某, "各县(市)区" for the counties by name) are a change of their own.
            if not differing and _wording_differs(task, spec):
                differing.append("wording")
            if not differing:
                changes.append(SpecChange(spec.number, "unchanged"))
            elif {"due_date", "ongoing"} & set(differing) and task.state != TaskState.DRAFT:
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
            sources = _sources(actor, campaign, created, updated)
            _create_imported(actor, campaign, created, by_number, sources)
            _update_imported(actor, updated, by_number, sources)
        else:
            transaction.set_rollback(True)
    return changes


def _sources(actor: User, campaign: Campaign, created: list, updated: list) -> dict[str, int]:
    """The id of the source each 来源 cell to be written names, registered by the campaign's
    issuing unit (found, or registered now): a statement or two for the whole table."""
    texts = [spec.source_text for spec in created if spec.source_text]
    texts += [spec.source_text for _task, spec, _wanted, differing in updated if "source" in differing]
    if not texts:
        return {}
    found = sources_for_texts(actor=actor, registered_by=campaign.issuing_unit, texts=texts)
    return {text: source.pk for text, source in found.items()}


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
        ensure_within_campaign(spec.due_date, campaign)


def _depth(spec: TaskSpec) -> int:
    return spec.number.count(".")


def _link_units(links) -> None:
    """Each (task id, its ``_spec_units``) pair's unit links, in bulk."""
    insert_rows(
        TaskUnit,
        ("task", "unit", "role"),
        ((task_id, unit_id, role) for task_id, units in links for unit_id, role in units),
    )


def _word_tasks(rows) -> None:
    """Each (task id, spec, its ``_spec_units``) triple's words, in bulk; headings have none."""
    resolved = TaskWording._meta.get_field("resolved")
    insert_rows(
        TaskWording,
        ("task", *WORD_FIELDS, "resolved"),
        (
            (
                task_id,
                *(getattr(spec.words, name) for name in WORD_FIELDS),
                resolved.get_db_prep_save(_resolved(spec, units), connection),
            )
            for task_id, spec, units in rows
            if spec.words is not None
        ),
    )


def _schedule_of(task: Task) -> tuple[str, int | None, str] | None:
    """The task's report schedule as a spec names it (cadence, day, the office's words)."""
    schedule = getattr(task, "report_schedule", None)
    return None if schedule is None else (schedule.cadence, schedule.day, schedule.wording)


def _schedule_row(task: Task, spec: TaskSpec) -> ReportSchedule | None:
    if spec.report_schedule is None:
        return None
    cadence, day, wording = spec.report_schedule
    return ReportSchedule(task=task, cadence=cadence, day=day, wording=wording)


def _schedule_tasks(rows) -> None:
    """Each (task id, spec) pair's report schedule, in bulk; most rows name none."""
    now = timezone.now()
    insert_rows(
        ReportSchedule,
        ("task", "cadence", "day", "once_on", "wording", "updated_at"),
        (
            (task_id, *spec.report_schedule[:2], None, spec.report_schedule[2], now)
            for task_id, spec in rows
            if spec.report_schedule is not None
        ),
    )


def _create_imported(
    actor: User, campaign: Campaign, specs: list[TaskSpec], by_number: dict, sources: dict[str, int]
) -> None:
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
                    "ongoing": spec.ongoing,
                    "notes": spec.notes,
                    "source_id": sources.get(spec.source_text),
                }.values()
            )
            for spec, task_id in zip(specs, ids, strict=True)
        ),
    )
    units = [_spec_units(spec) for spec in specs]
    _link_units(zip(ids, units, strict=True))
    _word_tasks(zip(ids, specs, units, strict=True))
    _schedule_tasks(zip(ids, specs, strict=True))
    scope_rebuild(ids)
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


def _update_imported(actor: User, updated: list, by_number: dict, sources: dict[str, int]) -> None:
    if not updated:
        return
    for task, spec, wanted, differing in updated:
        if "source" in differing:
            task.source_id = sources[spec.source_text]
        if spec.parent_number in by_number:
            wanted["parent_id"] = by_number[spec.parent_number]
        if "due_date" in wanted:
            # A new due date starts the ladder again, as an extension does.
            task.move_due_date(wanted.pop("due_date"))
        for name, value in wanted.items():
            setattr(task, name, value)
        if task.state == TaskState.DRAFT:
            task.original_due_date = task.due_date
    Task.objects.bulk_update(
        [task for task, *_ in updated],
        [*SYNCED_FIELDS, "original_due_date", "escalation_rank", "source_id"],
        batch_size=500,
    )
    TaskUnit.objects.filter(task__in=[task for task, *_ in updated]).delete()
    _link_units((task.pk, _spec_units(spec)) for task, spec, *_ in updated)
    TaskWording.objects.filter(task__in=[task for task, *_ in updated]).delete()
    _word_tasks((task.pk, spec, _spec_units(spec)) for task, spec, *_ in updated)
    ReportSchedule.objects.filter(task__in=[task for task, *_ in updated]).delete()
    _schedule_tasks((task.pk, spec) for task, spec, *_ in updated)
    # A draft's periods are written when it is assigned; an issued task's schedule changed
    # by the table rewrites the periods not yet due, as setting it by hand does.
    rescheduled = [
        (task, _schedule_row(task, spec))
        for task, spec, _wanted, differing in updated
        if "report_schedule" in differing and task.state in OPEN_STATES
    ]
    periods_rewrite(rescheduled, local_today())
    next_obligations_refresh([task.pk for task, _schedule in rescheduled])
    scope_rebuild(task.pk for task, *_ in updated)
    # An issued task given another lead unit: what the lead unit owes passes to the new one.
    releaded = [task for task, _s, _w, differing in updated if "lead_unit_id" in differing]
    obligations_reowned([task.pk for task in releaded])
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
    # A transfer the old lead unit asked for is moot (``transfers_supersede``).
    assigned = [task for task in releaded if task.state == TaskState.ASSIGNED]
    transfers_supersede(assigned, actor=actor, because="import")

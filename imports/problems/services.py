"""Importing a problem list (问题清单) into a campaign's rectification items (整改事项): a dry
run first, then all or nothing; importing the same list again changes nothing.

Each problem becomes a rectification item issued by the campaign's issuing unit at once
(交办): it owes its 签收 from the import (``tasks.obligations.obligations_issued``), and
its 整改 evidence, 销号 and any reopening go as for any item. A problem is found again by
its identity (``imports.models.ProblemRecord``): a row already imported with the same
words is unchanged. One whose 责任单位, 整改时限, 整改措施 or 来源 now read otherwise is the
office restating an item not yet finished: the real import applies the change through
the issuer's editing service (``tasks.services.task_update``, with its rules and history),
and the record keeps the new words, so that the same list again changes nothing. A
finished item (closed, cancelled) is not rewritten by a list, nor is a problem's place
(所在单位): those are row errors (``problem_changed``). A restated 整改时限 earlier than an
extension the item was granted does not take the extension back: the item keeps the
approved date and the result says so (``kept``).
"""

import datetime
from dataclasses import asdict, dataclass, field

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import insert_rows
from responsibility import jurisdiction
from responsibility.models import User
from responsibility.selectors import access_scope
from tasks.models import (
    Campaign,
    EventAction,
    ExtensionRequest,
    ExtensionState,
    Task,
    TaskEvent,
    TaskKind,
    TaskSource,
    TaskState,
    TaskUnit,
)
from tasks.obligations import obligations_issued
from tasks.rules import ACTION_STATES
from tasks.scope import scope_rebuild
from tasks.services import ensure_within_campaign, sources_for_texts, task_update

from ..models import ProblemRecord
from ..readers import read_rows
from ..services import ImportInvalid, ensure_may_handle_table, error_fields
from ..table import RowError
from .plan import ProblemPlan, ProblemSpec, build_problem_plan
from .table import LABELS, PROBLEM_LIST

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# What a re-import compares, by column: the meaning the words resolved to (a unit, the
# units, a date), or for free text the words themselves.
COMPARED = (
    ("location", "location"),
    ("responsible_units", "units"),
    ("responsible_person", "responsible_person"),
    ("lead_leader", "lead_leader"),
    ("deadline", "due_date"),
    ("measures", None),
    ("source", None),
)
# The cells a record keeps as the list wrote them, besides its place (所在单位), which a
# re-import never changes.
RECORD_WORDS = ("responsible_units", "responsible_person", "lead_leader", "deadline")
# The columns a re-import may change on an item not yet finished; any other (its place)
# makes it another problem's row, an error.
RESTATED = ("responsible_units", "responsible_person", "lead_leader", "deadline", "measures", "source")


@dataclass
class ProblemImportResult:
    dry_run: bool
    notes: list[str]
    rows: list[dict]
    errors: list[dict]
    counts: dict[str, int] = field(default_factory=dict)
    # Per item whose restated 整改时限 gave way to an approved extension: row, column, code,
    # message.
    kept: list[dict] = field(default_factory=list)


def problem_list_import(
    *, actor: User, campaign: Campaign, data: bytes, filename: str, dry_run: bool
) -> ProblemImportResult:
    """Read the list and show, row by row, which items would be created and which exist
    already, with every error; unless it is a dry run, create them, in one transaction. Any
    row error and nothing is written. For the campaign's issuing unit, as the task table."""
    with access_scope():
        ensure_may_handle_table(actor, campaign)
        source_rows, notes = read_rows(data, filename, PROBLEM_LIST)
        with transaction.atomic():
            # One import into a campaign at a time: the second finds the first's items.
            list(Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk"))
            plan = build_problem_plan(source_rows, campaign)
            actions, restated = _compare(campaign, plan) if not plan.errors else ({}, {})
            result = _result(plan, [*notes, *plan.notes], actions, restated, dry_run)
            if plan.errors and not dry_run:
                message = _(
                    "问题清单有 %(count)d 处错误，未导入任何内容。请先试导入（dry run）查看逐行错误。"
                ) % {"count": len(plan.errors)}
                raise ImportInvalid(message, fields=error_fields(plan.errors))
            if not dry_run and not plan.errors:
                created = [spec for spec in plan.specs if actions[spec.row] == CREATED]
                _ensure_assignable(campaign, created)
                _create(actor, campaign, created)
                _restate(actor, campaign, restated)
    return result


@dataclass
class Restated:
    """An issued item the list now words otherwise: its record, the row and the columns."""

    record: ProblemRecord
    spec: ProblemSpec
    columns: list[str]
    # The approved extension's date the item keeps instead of the list's 整改时限, if any.
    extended: datetime.date | None = None


def _compare(campaign: Campaign, plan: ProblemPlan) -> tuple[dict[int, str], dict[int, Restated]]:
    """Each row's action, and the items a row restates by row; a problem imported before
    whose place now reads otherwise, or whose item is finished, is an error at the first
    column that differs."""
    records = {
        (record.anchor_unit_id, record.key): record
        for record in ProblemRecord.objects.filter(
            campaign=campaign, key__in={spec.key for spec in plan.specs}
        ).select_related("task")
    }
    actions, restated = {}, {}
    for spec in plan.specs:
        record = records.get((spec.anchor.pk, spec.key))
        if record is None:
            actions[spec.row] = CREATED
            continue
        differing = _differing(spec, record)
        actions[spec.row] = UNCHANGED
        if not differing:
            continue
        unfinished = record.task.state in ACTION_STATES["edit"]
        if unfinished and all(column in RESTATED for column in differing):
            actions[spec.row] = UPDATED
            restated[spec.row] = Restated(record, spec, differing)
        else:
            plan.errors.append(_changed_error(spec, record, differing[0], unfinished))
    _keep_extensions(restated, actions)
    return actions, restated


def _keep_extensions(restated: dict[int, Restated], actions: dict[int, str]) -> None:
    """A list restated after an extension was approved may still carry the date the
    extension replaced (or another before the approved one): the office granted the later
    date, and a table copied forward does not take it back. Such a row keeps the item's
    due date; a restated date later than the extension applies as any restatement does.
    One query, for the rows that restate a 整改时限."""
    moved = {row: change for row, change in restated.items() if "deadline" in change.columns}
    if not moved:
        return
    extended = dict(
        ExtensionRequest.objects.filter(
            task__in={change.record.task_id for change in moved.values()}, state=ExtensionState.APPROVED
        )
        .values("task_id")
        .annotate(latest=Max("requested_due_date"))
        .values_list("task_id", "latest")
    )
    for row, change in moved.items():
        date = extended.get(change.record.task_id)
        if date is None or change.spec.due_date >= date:
            continue
        change.extended = change.record.task.due_date
        change.columns = [column for column in change.columns if column != "deadline"]
        if not change.columns:
            # Nothing else to change on the item: its record still takes the list's words.
            actions[row] = UNCHANGED


def _differing(spec: ProblemSpec, record: ProblemRecord) -> list[str]:
    """The columns whose words now mean something else than when the record was written."""
    resolved = spec.resolved()
    differing = []
    for column, meaning in COMPARED:
        if meaning == "units":
            differs = (record.resolved.get("lead_unit"), record.resolved.get("units")) != (
                resolved["lead_unit"],
                resolved["units"],
            )
        elif meaning in ("responsible_person", "lead_leader"):
            # An empty 责任人 or 责任领导 cell says nothing: the person named since stays.
            differs = resolved[meaning] is not None and record.resolved.get(meaning) != resolved[meaning]
        elif meaning is not None:
            differs = record.resolved.get(meaning) != resolved[meaning]
        else:
            differs = getattr(record, column) != getattr(spec, column)
        if differs:
            differing.append(column)
    return differing


def _changed_error(spec: ProblemSpec, record: ProblemRecord, column: str, unfinished: bool) -> RowError:
    was = getattr(record, column)
    now = spec.words[column] if column in spec.words else getattr(spec, column)
    values = {"row": record.row, "label": LABELS[column], "was": was, "now": now}
    if unfinished:
        # Only its place: another place is another problem, not this one moved.
        message = (
            _(
                "该问题已于第 %(row)d 行导入为整改事项，%(label)s原为“%(was)s”，现为“%(now)s”。"
                "问题所在单位不随清单修改；如确属另一处的问题，请作为新问题单列。"
            )
            % values
        )
    else:
        message = (
            _(
                "该问题已于第 %(row)d 行导入为整改事项，已办结（或已撤销），%(label)s原为“%(was)s”，"
                "现为“%(now)s”。已办结的事项不随清单修改，表中请保持原样；问题复发请重新打开该事项。"
            )
            % values
        )
    return RowError(spec.row, column, "problem_changed", message)


def _restate(actor: User, campaign: Campaign, restated: dict[int, Restated]) -> None:
    """Apply each restated row to its item through the issuer's editing service (its rules,
    its history naming the list), then keep the list's new words on the record."""
    records = []
    # The sources the restated 来源 cells name, found or registered at once.
    resourced = [change for change in restated.values() if "source" in change.columns]
    sources: dict[str, TaskSource] = {}
    if resourced:
        found = problem_sources(actor, campaign, [change.spec for change in resourced])
        by_id = TaskSource.objects.in_bulk(found.values())
        sources = {text: by_id[pk] for text, pk in found.items()}
    for change in restated.values():
        spec, record, columns = change.spec, change.record, change.columns
        changes: dict = {}
        if "deadline" in columns:
            changes.update(due_date=spec.due_date, deadline_text=spec.deadline_text[:50])
        if "responsible_units" in columns:
            changes.update(lead_unit=spec.lead_unit, responsible_units=spec.responsible_units)
            if spec.lead_unit.pk != record.task.lead_unit_id and (
                record.task.responsible_person_id or spec.responsible_person
            ):
                # Another lead unit: the list's 责任人 in it, or none for the unit to name its
                # own, as after a transfer.
                changes["responsible_person"] = spec.responsible_person
        if "responsible_person" in columns:
            changes["responsible_person"] = spec.responsible_person
        if "lead_leader" in columns:
            changes["lead_leader"] = spec.lead_leader
        if "measures" in columns:
            changes["description"] = _description(spec)
        if "source" in columns:
            changes["source"] = sources.get(problem_source(spec.source))
        if changes:
            task_update(task_id=record.task_id, actor=actor, restated_by="problem_list", **changes)
        record.row = spec.row
        for column in RECORD_WORDS:
            setattr(record, column, spec.words[column])
        record.measures = spec.measures
        record.source = problem_source(spec.source)
        record.resolved = spec.resolved()
        records.append(record)
    ProblemRecord.objects.bulk_update(records, ["row", *RECORD_WORDS, "measures", "source", "resolved"])


def _ensure_assignable(campaign: Campaign, specs: list[ProblemSpec]) -> None:
    """The plan reports each unit beyond the issuer's reach at its row; this is the rule
    itself, checked once more before writing, as ``task_create`` does."""
    issuer = campaign.issuing_unit
    jurisdiction.ensure_reaches(
        issuer,
        {
            "responsible_units": [
                unit for spec in specs for unit in [spec.lead_unit, *spec.responsible_units] if unit != issuer
            ],
            "location": [spec.location for spec in specs if spec.location],
        },
    )
    jurisdiction.ensure_all_answer_for(
        [(spec.responsible_person, spec.lead_unit) for spec in specs if spec.responsible_person]
    )
    jurisdiction.ensure_all_lead_level(issuer, {spec.lead_leader for spec in specs if spec.lead_leader})
    for spec in specs:
        ensure_within_campaign(spec.due_date, campaign)


def problem_source(text: str) -> str:
    """The 来源 cell as the record keeps it and a re-import compares it (``COMPARED``)."""
    return text.strip()


def problem_sources(actor: User, campaign: Campaign, specs: list[ProblemSpec]) -> dict[str, int]:
    """The source each 来源 cell names, by the cell: "抽查暗访", "脱贫质量“回头看”" and "中省第三方
    评估" are 督查发现, "市委书记批示" a 批示 (``tasks.sources.kind_from_text``), found among the
    sources the campaign's issuing unit registered or registered now
    (``tasks.services.sources_for_texts``); the same list imported again finds them again.
    Two statements at most, whatever the length of the list."""
    texts = [problem_source(spec.source) for spec in specs if spec.source.strip()]
    if not texts:
        return {}
    found = sources_for_texts(actor=actor, registered_by=campaign.issuing_unit, texts=texts)
    return {text: source.pk for text, source in found.items()}


def _description(spec: ProblemSpec) -> str:
    lines = [
        (_("所在单位"), spec.words["location"]),
        (_("整改措施"), spec.measures),
        (_("备注"), spec.remarks),
    ]
    return "\n".join(f"{label}：{text}" for label, text in lines if text)


def _create(actor: User, campaign: Campaign, specs: list[ProblemSpec]) -> None:
    """The items, issued at once, with their unit links, scope rows, records, history and
    签收 obligations: a statement or two per table. Batches are large enough that a list
    of a few thousand problems (Jinzhou's 1,396) costs the queries of a list of ten."""
    if not specs:
        return
    now = timezone.now()
    sources = problem_sources(actor, campaign, specs)
    tasks = Task.objects.bulk_create(
        [
            Task(
                campaign=campaign,
                kind=TaskKind.RECTIFICATION,
                number=spec.number,
                title=spec.title,
                description=_description(spec),
                issuing_unit_id=campaign.issuing_unit_id,
                lead_unit=spec.lead_unit,
                responsible_person=spec.responsible_person,
                lead_leader=spec.lead_leader,
                due_date=spec.due_date,
                original_due_date=spec.due_date,
                deadline_text=spec.deadline_text[:50],
                source_id=sources.get(problem_source(spec.source)),
                state=TaskState.ASSIGNED,
                assigned_at=now,
            )
            for spec in specs
        ],
        batch_size=2000,
    )
    TaskUnit.objects.bulk_create(
        [
            TaskUnit(task=task, unit_id=unit_id, role=role)
            for task, spec in zip(tasks, specs, strict=True)
            for unit_id, role in spec.units()
        ],
        batch_size=5000,
    )
    ids = [task.pk for task in tasks]
    scope_rebuild(ids)
    resolved = ProblemRecord._meta.get_field("resolved")
    insert_rows(
        ProblemRecord,
        (
            "task",
            "campaign",
            "key",
            "anchor_unit",
            "location_unit",
            "row",
            "location",
            *RECORD_WORDS,
            "measures",
            "source",
            "resolved",
        ),
        (
            (
                task.pk,
                campaign.pk,
                spec.key,
                spec.anchor.pk,
                spec.location.pk if spec.location else None,
                spec.row,
                spec.words["location"],
                *(spec.words[column] for column in RECORD_WORDS),
                spec.measures,
                problem_source(spec.source),
                resolved.get_db_prep_save(spec.resolved(), connection),
            )
            for task, spec in zip(tasks, specs, strict=True)
        ),
    )
    TaskEvent.objects.bulk_create(
        [
            event
            for task in tasks
            for event in (
                TaskEvent(
                    task=task,
                    actor=actor,
                    action=EventAction.CREATED,
                    to_state=TaskState.DRAFT,
                    data={"imported": "problem_list"},
                ),
                TaskEvent(
                    task=task,
                    actor=actor,
                    action=EventAction.ASSIGNED,
                    from_state=TaskState.DRAFT,
                    to_state=TaskState.ASSIGNED,
                ),
            )
        ],
        batch_size=5000,
    )
    obligations_issued(tasks, campaign)


def _result(
    plan: ProblemPlan, notes: list[str], actions: dict[int, str], restated: dict[int, Restated], dry_run: bool
) -> ProblemImportResult:
    rows = [
        {
            "row": spec.row,
            "number": spec.number,
            "problem": spec.title,
            "location": spec.location.name if spec.location else "",
            "lead_unit": spec.lead_unit.name,
            "responsible_units": [unit.name for unit in spec.responsible_units],
            "responsible_person": spec.responsible_person.full_name if spec.responsible_person else "",
            "lead_leader": spec.lead_leader.full_name if spec.lead_leader else "",
            "due_date": spec.due_date.isoformat(),
            "deadline_text": spec.deadline_text,
            "source": spec.source,
            "action": actions.get(spec.row),
            # What an update changes, by column (责任单位, 责任人, 责任领导, 整改时限, 整改措施, 来源).
            "changes": restated[spec.row].columns if spec.row in restated else [],
        }
        for spec in plan.specs
    ]
    return ProblemImportResult(
        dry_run=dry_run,
        notes=notes,
        rows=rows,
        errors=[
            {**asdict(error), "column_label": LABELS.get(error.column, error.column)} for error in plan.errors
        ],
        counts={
            "created": sum(1 for action in actions.values() if action == CREATED),
            "updated": sum(1 for action in actions.values() if action == UPDATED),
            "unchanged": sum(1 for action in actions.values() if action == UNCHANGED),
            "headings": len(plan.headings),
        },
        kept=[_kept(change) for change in restated.values() if change.extended],
    )


def _kept(change: Restated) -> dict:
    message = _(
        "整改时限“%(words)s”（%(date)s）早于已批准的延期，该事项仍按延期后的 %(extended)s 办理。"
        "如需再改时限，请在清单中写明晚于 %(extended)s 的日期。"
    ) % {"words": change.spec.words["deadline"], "date": change.spec.due_date, "extended": change.extended}
    return {"row": change.spec.row, "column": "deadline", "code": "extension_kept", "message": message}

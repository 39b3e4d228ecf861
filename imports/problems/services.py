"""Importing a problem list (问题清单) into a campaign's rectification items (整改事项): a dry
run first, then all or nothing; importing the same list again changes nothing.

Each problem becomes a rectification item issued by the campaign's issuing unit at once
(交办): it owes its 签收 from the import (``tasks.obligations.obligations_issued``), and
its 整改 evidence, 销号 and any reopening go as for any item. A problem is found again by
its identity (``imports.models.ProblemRecord``): a row already imported with the same
words is unchanged; one whose units or deadline now read otherwise is a row error, since
an issued item changes by an extension or a reassignment, not by a spreadsheet.
"""

from dataclasses import asdict, dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import insert_rows
from responsibility import jurisdiction
from responsibility.models import User
from responsibility.selectors import access_scope
from tasks.models import Campaign, EventAction, Task, TaskEvent, TaskKind, TaskState, TaskUnit
from tasks.obligations import obligations_issued
from tasks.scope import scope_rebuild
from tasks.services import ensure_within_campaign, sources_for_texts

from ..models import ProblemRecord
from ..readers import read_rows
from ..services import ImportInvalid, ensure_may_handle_table, error_fields
from ..table import RowError
from .plan import ProblemPlan, ProblemSpec, build_problem_plan
from .table import LABELS, PROBLEM_LIST

CREATED, UNCHANGED = "created", "unchanged"
# What a re-import compares, by the column it is reported at.
# What a re-import compares, by column: the meaning the words resolved to (a unit, the
# units, a date), or for free text the words themselves.
COMPARED = (
    ("location", "location"),
    ("responsible_units", "units"),
    ("deadline", "due_date"),
    ("measures", None),
    ("source", None),
)


@dataclass
class ProblemImportResult:
    dry_run: bool
    notes: list[str]
    rows: list[dict]
    errors: list[dict]
    counts: dict[str, int] = field(default_factory=dict)


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
            actions = _compare(campaign, plan) if not plan.errors else {}
            result = _result(plan, [*notes, *plan.notes], actions, dry_run)
            if plan.errors and not dry_run:
                message = _(
                    "问题清单有 %(count)d 处错误，未导入任何内容。请先试导入（dry run）查看逐行错误。"
                ) % {"count": len(plan.errors)}
                raise ImportInvalid(message, fields=error_fields(plan.errors))
            if not dry_run and not plan.errors:
                created = [spec for spec in plan.specs if actions[spec.row] == CREATED]
                _ensure_assignable(campaign, created)
                _create(actor, campaign, created)
    return result


def _compare(campaign: Campaign, plan: ProblemPlan) -> dict[int, str]:
    """Each row's action; a problem imported before whose words now mean something else is
    an error at the first column that differs."""
    records = {
        (record.anchor_unit_id, record.key): record
        for record in ProblemRecord.objects.filter(
            campaign=campaign, key__in={spec.key for spec in plan.specs}
        )
    }
    actions = {}
    for spec in plan.specs:
        record = records.get((spec.anchor.pk, spec.key))
        if record is None:
            actions[spec.row] = CREATED
            continue
        actions[spec.row] = UNCHANGED
        error = _difference(spec, record)
        if error is not None:
            plan.errors.append(error)
    return actions


def _difference(spec: ProblemSpec, record: ProblemRecord) -> RowError | None:
    resolved = spec.resolved()
    for column, meaning in COMPARED:
        was = getattr(record, column)
        now = spec.words[column] if column in spec.words else getattr(spec, column)
        if meaning == "units":
            differs = (record.resolved.get("lead_unit"), record.resolved.get("units")) != (
                resolved["lead_unit"],
                resolved["units"],
            )
        elif meaning is not None:
            differs = record.resolved.get(meaning) != resolved[meaning]
        else:
            differs = was != now
        if differs:
            message = _(
                "该问题已于第 %(row)d 行导入为整改事项，%(label)s原为“%(was)s”，现为“%(now)s”。"
                "已交办的事项请在事项中调整（延期申请、调整责任单位），表中请保持原样。"
            ) % {"row": record.row, "label": LABELS[column], "was": was, "now": now}
            return RowError(spec.row, column, "problem_changed", message)
    return None


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
            "responsible_units",
            "measures",
            "deadline",
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
                spec.words["responsible_units"],
                spec.measures,
                spec.words["deadline"],
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
    plan: ProblemPlan, notes: list[str], actions: dict[int, str], dry_run: bool
) -> ProblemImportResult:
    rows = [
        {
            "row": spec.row,
            "number": spec.number,
            "problem": spec.title,
            "location": spec.location.name if spec.location else "",
            "lead_unit": spec.lead_unit.name,
            "responsible_units": [unit.name for unit in spec.responsible_units],
            "due_date": spec.due_date.isoformat(),
            "deadline_text": spec.deadline_text,
            "source": spec.source,
            "action": actions.get(spec.row),
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
            "unchanged": sum(1 for action in actions.values() if action == UNCHANGED),
            "headings": len(plan.headings),
        },
    )

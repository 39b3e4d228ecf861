"""Importing a task-decomposition table (任务分解表) into a campaign: a dry run first, then
all or nothing."""

from dataclasses import asdict, dataclass, field

from core.errors import InvalidInput
from responsibility.models import User
from responsibility.selectors import access_for_user, access_scope
from tasks import rules
from tasks.models import Campaign, Task

from .plan import build_plan
from .readers import read_rows
from .table import COLUMN_LABELS, RowError
from .writer import tasks_sync_imported


@dataclass
class ImportResult:
    dry_run: bool
    notes: list[str]
    rows: list[dict]
    errors: list[dict]
    counts: dict[str, int] = field(default_factory=dict)
    # Numbers of imported tasks the table no longer lists: kept, not deleted.
    missing: list[str] = field(default_factory=list)


class ImportInvalid(InvalidInput):
    code = "import_invalid"


def error_fields(errors: list[RowError]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        fields.setdefault(f"{error.row}:{error.column}", []).append(error.message)
    return fields


def ensure_may_handle_table(actor: User, campaign: Campaign) -> None:
    """Importing and exporting a campaign's table is for its issuing unit, which may see its
    drafts; anyone else is refused before the file is read or a task listed."""
    rules.ensure_may(access_for_user(actor), Task(issuing_unit=campaign.issuing_unit), "edit")


def table_import(
    *, actor: User, campaign: Campaign, data: bytes, filename: str, dry_run: bool
) -> ImportResult:
    """Read the table and show, row by row, what would be created or changed; unless it is
    a dry run, do it, in one transaction. Any row error and nothing is written."""
    # One scope, as in a request: the check here and the one in tasks_sync_imported read
    # the actor's memberships once, from the command line as from the API.
    with access_scope():
        ensure_may_handle_table(actor, campaign)
        source_rows, notes = read_rows(data, filename)
        plan = build_plan(source_rows, campaign)
        changes = {}
        if not plan.errors:
            synced = tasks_sync_imported(actor=actor, campaign=campaign, specs=plan.specs, apply=not dry_run)
            changes = {change.number: change for change in synced}
    errors = list(plan.errors)
    row_of = {row.number: row.row for row in plan.rows}
    for change in changes.values():
        if change.action == "locked":
            errors.append(
                RowError(
                    row_of.get(change.number, 0),
                    "deadline",
                    "field_locked",
                    "任务已下达，完成时限只能通过延期申请调整。",
                )
            )
    # vars, not asdict: a planned row holds only scalars, which asdict would deep-copy one
    # by one for every row of the table.
    rows = [
        {
            **vars(row),
            "action": changes[row.number].action if row.number in changes else None,
            "changed": changes[row.number].fields if row.number in changes else [],
        }
        for row in plan.rows
    ]
    result = ImportResult(
        dry_run=dry_run,
        notes=[*notes, *plan.notes],
        rows=rows,
        errors=[
            {**asdict(error), "column_label": COLUMN_LABELS.get(error.column, error.column)}
            for error in errors
        ],
        counts={
            action: sum(1 for c in changes.values() if c.action == action)
            for action in ("created", "updated", "unchanged", "missing")
        },
        missing=[number for number, change in changes.items() if change.action == "missing"],
    )
    if errors and not dry_run:
        raise ImportInvalid(
            f"表格有 {len(errors)} 处错误，未导入任何内容。请先试导入（dry run）查看逐行错误。",
            fields=error_fields(errors),
        )
    return result

"""Importing a task-decomposition table (任务分解表) into a campaign: a dry run first, then
all or nothing."""

import datetime
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

from core.errors import InvalidInput
from responsibility.models import User
from responsibility.selectors import access_for_user, access_scope
from tasks import rules
from tasks.models import Campaign, Task
from tasks.services import ensure_within_campaign

from .plan import Plan, build_plan
from .readers import read_rows
from .table import COLUMN_LABELS, RowError
from .unitnames import normalize_name
from .writer import tasks_sync_imported

MAX_UNIT_MAP_ENTRIES = 200
# "名称=单位、单位", with a full-width "＝" as Chinese input methods type it.
_MAP_ENTRY = re.compile(r"([^=＝]*)[=＝](.*)", re.DOTALL)


@dataclass
class ImportResult:
    dry_run: bool
    notes: list[str]
    rows: list[dict]
    errors: list[dict]
    counts: dict[str, int] = field(default_factory=dict)
    # Numbers of imported tasks the table no longer lists: kept, not deleted.
    missing: list[str] = field(default_factory=list)
    # Tasks the table gives no 完成时限: {"date": the default offered, "rows": how many,
    # "accepted": whether the import was told to use it}; None when every task has one.
    default_deadline: dict | None = None


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


def parse_unit_map(entries: Iterable[str]) -> dict[str, str]:
    """The office's "名称=单位、单位" entries, as the API and the command take them: which
    units a name in the table stands for ("各主要经济指标牵头单位=市发改委、市统计局"). An
    entry with nothing after "=" says the name stands for no unit."""
    mapping: dict[str, str] = {}
    seen: set[str] = set()
    entries = list(entries)
    if len(entries) > MAX_UNIT_MAP_ENTRIES:
        _refuse_unit_map(_("对应关系最多 %(count)d 条。") % {"count": MAX_UNIT_MAP_ENTRIES})
    for entry in entries:
        match = _MAP_ENTRY.fullmatch(entry)
        if match is None or not normalize_name(match.group(1)):
            _refuse_unit_map(_("“%(entry)s”应写作“名称=单位名称、单位名称”。") % {"entry": entry})
        name, units = match.group(1).strip(), match.group(2).strip()
        if normalize_name(name) in seen:
            _refuse_unit_map(_("“%(name)s”的对应关系给了不止一次。") % {"name": name})
        seen.add(normalize_name(name))
        mapping[name] = units
    return mapping


def _refuse_unit_map(message: str) -> None:
    raise InvalidInput(message, code="invalid_unit_map", fields={"unit_map": [message]})


def table_import(
    *,
    actor: User,
    campaign: Campaign,
    data: bytes,
    filename: str,
    dry_run: bool,
    unit_map: dict[str, str] | None = None,
    default_deadline: datetime.date | None = None,
    accept_default_deadline: bool = False,
) -> ImportResult:
    """Read the table and show, row by row, what would be created or changed; unless it is
    a dry run, do it, in one transaction. Any row error and nothing is written.

    ``unit_map`` names the units a name of the table stands for (``parse_unit_map``). Tasks
    without a 完成时限 are offered ``default_deadline`` (else the campaign's end): a dry run
    marks them, and an import takes them only with ``accept_default_deadline``.
    """
    # One scope, as in a request: the check here and the one in tasks_sync_imported read
    # the actor's memberships once, from the command line as from the API.
    with access_scope():
        ensure_may_handle_table(actor, campaign)
        if default_deadline is not None:
            ensure_within_campaign(default_deadline, campaign, field_name="default_deadline")
        source_rows, notes = read_rows(data, filename)
        plan = build_plan(source_rows, campaign, unit_map=unit_map, default_deadline=default_deadline)
        if not dry_run and not accept_default_deadline:
            plan.errors.extend(_unconfirmed_defaults(plan))
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
        default_deadline={
            "date": plan.default_deadline.isoformat(),
            "rows": plan.defaulted,
            "accepted": accept_default_deadline,
        }
        if plan.default_deadline
        else None,
    )
    if errors and not dry_run:
        raise ImportInvalid(
            f"表格有 {len(errors)} 处错误，未导入任何内容。请先试导入（dry run）查看逐行错误。",
            fields=error_fields(errors),
        )
    return result


def _unconfirmed_defaults(plan: Plan) -> list[RowError]:
    """The rows an import may not give the default 完成时限 until the office accepts it."""
    message = _(
        "表中没有完成时限。试导入时按 %(date)s 计；确认使用该默认时限（accept_default_deadline）后才会导入。"
    ) % {"date": plan.default_deadline}
    return [
        RowError(row.row, "deadline", "default_deadline_unconfirmed", message)
        for row in plan.rows
        if row.deadline_defaulted
    ]

"""From the rows of a decomposition table to the tasks it describes, with every error.

Headings (一、… （一）… 1. …) become parent tasks, nested as the source nests them; their
numbers make each task's number path ("一.（一）.1"), by which a re-import finds the task
it created. Nothing here writes to the database.
"""

import datetime
import difflib
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from responsibility.jurisdiction import level_leaders_q, outside_reach
from responsibility.models import Membership, Unit, User
from tasks.models import Campaign, Task, TaskSource
from tasks.services import due_date_bounds

from .deadlines import Deadline, DeadlineError, parse_deadline
from .table import NumberMark, RowError, SourceRow, parse_number
from .text import compact, compact_expression
from .unitnames import (
    AmbiguousName,
    UnitMatcher,
    UnknownName,
    is_role_name,
    normalize_name,
    role_name_message,
    split_units,
)
from .writer import TaskSpec, TaskWords

ASSIGNMENT_COLUMNS = ("lead_leader", "lead_unit", "responsible_units", "cooperating_units", "deadline")
LEAD_FROM_RESPONSIBLE = "表中没有牵头单位列：按惯例，以责任单位中所列第一个单位为牵头单位。"
NUMBERED_BY_POSITION = "部分任务没有序号：按其在表中的顺序编号。"
MAX_LENGTHS = {
    "task": Task._meta.get_field("title").max_length,
    "remarks": Task._meta.get_field("notes").max_length,
    "source": TaskSource._meta.get_field("title").max_length,
}


@dataclass
class PlannedRow:
    row: int
    number: str
    title: str
    heading: bool
    # The table gives no 完成时限 for this task: it takes the default the import offers.
    deadline_defaulted: bool = False


@dataclass
class Plan:
    specs: list[TaskSpec] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The date tasks without a 完成时限 take, and how many do.
    default_deadline: datetime.date | None = None
    defaulted: int = 0


def clean_mark(mark: str) -> str:
    """The numbering mark without its trailing punctuation: "一、" → "一", "1." → "1"."""
    return re.sub(r"\s+", "", mark).rstrip("、.．")


def mark_for_export(segment: str) -> str:
    """A number path segment written back as the source would: "一" → "一、"."""
    if segment[:1] in "（(" or segment[:1].isdigit() or not segment:
        return segment
    return f"{segment}、"


@dataclass
class _Context:
    campaign: Campaign
    level: Unit
    matcher: UnitMatcher
    # Leaders of the level by their name without whitespace ("王 某" is 王某).
    leaders: dict[str, list[User]]
    # Names the table gives (without whitespace) that belong to people who are not leaders
    # of the level.
    not_leaders: set[str]
    has_lead_column: bool
    due_bounds: tuple[datetime.date, datetime.date]
    default_deadline: datetime.date
    # Names the office mapped to units for this import ("各主要经济指标牵头单位" → units), by
    # their compared form; the ones a cell used.
    unit_map: dict[str, str] = field(default_factory=dict)
    mapped: set[str] = field(default_factory=set)
    # Tables name the same few units, leaders and deadlines row after row: each distinct
    # cell is resolved once, with its problems as (code, message) (bench/import_table.py).
    units_named: dict[str, tuple[list[Unit], list[tuple[str, str]]]] = field(default_factory=dict)
    leaders_named: dict[str, tuple[User | None, list[tuple[str, str]]]] = field(default_factory=dict)
    deadlines: dict[tuple[str, int], Deadline | DeadlineError] = field(default_factory=dict)


def level_leaders(issuer: Unit, texts: list[str]) -> tuple[dict[str, list[User]], set[str]]:
    """The leaders of the issuer's level by their name without whitespace, and the names
    the cells ``texts`` give that belong to people who are not (two queries). A lead leader
    leads at the issuing level (``responsibility.jurisdiction``): a namesake elsewhere in the
    province is neither matched nor makes the name ambiguous."""
    # Typesetting puts spaces inside two-character names ("王 某"): a name is compared
    # without whitespace, in the table and in the directory alike.
    wanted = {compact(name) for text in texts if text for name in split_units(text)}
    leaders: dict[str, list[User]] = {}
    leading = Membership.objects.filter(level_leaders_q(issuer)).values("user_id")
    for user in User.objects.filter(pk__in=leading):
        leaders.setdefault(compact(user.full_name), []).append(user)
    elsewhere = (
        User.objects.annotate(compact_name=compact_expression("full_name"))
        .filter(compact_name__in=wanted - set(leaders))
        .values_list("compact_name", flat=True)
    )
    return leaders, set(elsewhere)


def _context(
    campaign: Campaign,
    rows: list[SourceRow],
    unit_map: dict[str, str],
    default_deadline: datetime.date | None,
) -> _Context:
    issuer = campaign.issuing_unit
    level = issuer if issuer.jurisdiction_id == issuer.pk else Unit.objects.get(pk=issuer.jurisdiction_id)
    leaders, not_leaders = level_leaders(issuer, [row.values["lead_leader"] for row in rows])
    return _Context(
        campaign=campaign,
        level=level,
        matcher=UnitMatcher(Unit.objects.filter(path__startswith=level.path)),
        leaders=leaders,
        not_leaders=not_leaders,
        has_lead_column=any(row.values["lead_unit"] for row in rows),
        due_bounds=due_date_bounds(campaign),
        default_deadline=default_deadline or campaign.ends_on,
        unit_map={normalize_name(name): units for name, units in unit_map.items()},
    )


def _units(text: str, row: int, column: str, context: _Context, errors: list[RowError]) -> list[Unit]:
    if text not in context.units_named:
        context.units_named[text] = _named_units(text, context)
    units, problems = context.units_named[text]
    errors.extend(RowError(row, column, code, message) for code, message in problems)
    return list(units)


def _named_units(text: str, context: _Context) -> tuple[list[Unit], list[tuple[str, str]]]:
    units: list[Unit] = []
    problems: list[tuple[str, str]] = []
    after_set = False
    for name in split_units(text):
        key = normalize_name(name)
        if key in context.unit_map:
            # The office said which units this name means, for this import.
            context.mapped.add(key)
            mapped, mapped_problems = _resolved_names(context.unit_map[key], context)
            units.extend(unit for unit in mapped if unit not in units)
            mapping = f"{name}={context.unit_map[key]}"
            problems.extend(
                (code, _("按“%(mapping)s”：%(message)s") % {"mapping": mapping, "message": message})
                for code, message in mapped_problems
            )
            after_set = False
            continue
        found, problem, after_set = _resolved_name(name, after_set, context)
        units.extend(unit for unit in found if unit not in units)
        if problem:
            problems.append(problem)
    # The matcher knows the level's subtree; the level itself (or the issuer) is the one
    # handing the work out, never handed it (responsibility.jurisdiction).
    issuer = context.campaign.issuing_unit
    for unit in outside_reach(issuer, units):
        message = f"“{unit.name}”不在{issuer.name}的管辖范围内，不能承担本表任务。"
        problems.append(("outside_jurisdiction", message))
    return units, problems


def _resolved_names(text: str, context: _Context) -> tuple[list[Unit], list[tuple[str, str]]]:
    """The units of a list of names, with the problems of those that name none; no mapping."""
    units: list[Unit] = []
    problems: list[tuple[str, str]] = []
    after_set = False
    for name in split_units(text):
        found, problem, after_set = _resolved_name(name, after_set, context)
        units.extend(unit for unit in found if unit not in units)
        if problem:
            problems.append(problem)
    return units, problems


def _resolved_name(
    name: str, after_set: bool, context: _Context
) -> tuple[list[Unit], tuple[str, str] | None, bool]:
    """The units one name of a cell stands for, its problem, and whether it was a set phrase.

    A list of sets shares its "各": in "各开发区、镇（街道）" the second part is "各镇（街道）".
    """
    matcher, level = context.matcher, context.level
    expanded = matcher.expand(name, level)
    if expanded is None:
        try:
            return [matcher.match(name)], None, False
        except AmbiguousName as error:
            return [], (error.code, error.message), False
        except UnknownName as error:
            if after_set and not normalize_name(name).startswith("各"):
                expanded = matcher.expand(f"各{name}", level)
            if expanded is None:
                if is_role_name(name):
                    return [], ("role_unit", role_name_message(name)), False
                return [], (error.code, error.message), False
    if not expanded:
        message = _("“%(name)s”在%(level)s之下没有对应的单位。") % {"name": name, "level": level.name}
        return [], ("empty_set", message), True
    return expanded, None, True


def _leader(text: str, row: int, context: _Context, errors: list[RowError]) -> User | None:
    if text not in context.leaders_named:
        context.leaders_named[text] = _named_leader(text, context)
    leader, problems = context.leaders_named[text]
    errors.extend(RowError(row, "lead_leader", code, message) for code, message in problems)
    return leader


def _named_leader(text: str, context: _Context) -> tuple[User | None, list[tuple[str, str]]]:
    names = split_units(text)
    if not names:
        return None, []
    key = compact(names[0])
    found = context.leaders.get(key, [])
    if len(found) == 1:
        return found[0], []
    if found:
        return None, [("ambiguous_leader", f"有多位人员名为“{names[0]}”。")]
    if key in context.not_leaders:
        message = f"“{names[0]}”不是{context.level.name}或其上级的领导，不能担任牵头领导。"
        return None, [("leader_not_of_level", message)]
    close = difflib.get_close_matches(key, list(context.leaders), n=3, cutoff=0.4)
    hint = f"相近的有：{'、'.join(context.leaders[name][0].full_name for name in close)}。" if close else ""
    return None, [("unknown_leader", f"找不到领导“{names[0]}”。{hint}")]


def _deadline(text: str, year: int, context: _Context) -> Deadline | DeadlineError:
    key = (text, year)
    if key not in context.deadlines:
        try:
            context.deadlines[key] = parse_deadline(text, year)
        except DeadlineError as error:
            context.deadlines[key] = error
    return context.deadlines[key]


def _is_heading(row: SourceRow) -> bool:
    return not any(row.values[column] for column in ASSIGNMENT_COLUMNS)


def build_plan(
    rows: list[SourceRow],
    campaign: Campaign,
    *,
    unit_map: dict[str, str] | None = None,
    default_deadline: datetime.date | None = None,
) -> Plan:
    """The tasks ``rows`` describe, with every error. ``unit_map`` says which units a name
    the directory does not know stands for ("各主要经济指标牵头单位" → "市发改委、市统计局");
    tasks without a 完成时限 take ``default_deadline``, else the campaign's end."""
    plan = Plan()
    context = _context(campaign, rows, unit_map or {}, default_deadline)
    numbering = _Numbering()
    heading_specs: dict[str, TaskSpec] = {}
    if not context.has_lead_column and any(row.values["responsible_units"] for row in rows):
        plan.notes.append(LEAD_FROM_RESPONSIBLE)

    for row in rows:
        plan.errors.extend(row.errors)
        mark, title = _mark_and_title(row.values)
        heading = _is_heading(row)
        parent, number = numbering.place(mark, heading)
        if _refused(row, number, title, numbering, plan.errors):
            continue
        _check_lengths(row, title, plan.errors)
        planned = PlannedRow(row.row, number, title, heading)
        plan.rows.append(planned)
        if heading:
            spec = _heading_spec(row, mark, number, parent, title, context, plan.errors)
            if spec is not None:
                numbering.open(mark, number)
                heading_specs[number] = spec
        else:
            planned.deadline_defaulted = not compact(row.values["deadline"])
            spec = _task_spec(row, number, parent, title, context, plan.errors)
        if spec is not None:
            plan.specs.append(spec)

    if numbering.by_position:
        plan.notes.append(NUMBERED_BY_POSITION)
    plan.defaulted = sum(1 for planned in plan.rows if planned.deadline_defaulted)
    if plan.defaulted:
        plan.default_deadline = context.default_deadline
        plan.notes.append(
            _("有 %(count)d 项任务表中没有完成时限，将以 %(date)s 为完成时限，确认后导入。")
            % {"count": plan.defaulted, "date": context.default_deadline}
        )
    plan.notes.extend(
        _("“%(name)s”在表中没有出现，其对应关系未使用。") % {"name": name}
        for name in (unit_map or {})
        if normalize_name(name) not in context.mapped
    )
    _date_headings(plan.specs, heading_specs)
    plan.errors = _unmasked(plan.errors, rows)
    return plan


def _mark_and_title(values: dict[str, str]) -> tuple[NumberMark | None, str]:
    """A row's numbering mark, from the 序号 column or else the start of the task, and its title."""
    mark = parse_number(values["number"]) if values["number"] else parse_number(values["task"])
    title = values["task"] if values["number"] or mark is None else mark.rest
    title = title.strip() or (mark.rest.strip() if mark else "")
    return mark, title


@dataclass
class _Numbering:
    """Number paths ("一.（一）.1") from the marks of the rows, in table order."""

    open_headings: list[tuple[int, str]] = field(default_factory=list)  # (level, number path)
    children: dict[str | None, int] = field(default_factory=dict)
    row_of: dict[str, int] = field(default_factory=dict)  # number path → the row that has it
    by_position: bool = False  # some row had no mark and was numbered by its position

    def place(self, mark: NumberMark | None, heading: bool) -> tuple[str | None, str]:
        """The parent's number path and the row's own."""
        # A task numbered like an open heading is that heading's sibling ("二、" with its own
        # units after 一's tasks), so it closes it as a heading would; a task numbered
        # otherwise belongs to the open heading, whatever style its numbers are in.
        if mark is not None and (heading or any(level == mark.level for level, _ in self.open_headings)):
            while self.open_headings and self.open_headings[-1][0] >= mark.level:
                self.open_headings.pop()
        parent = self.open_headings[-1][1] if self.open_headings else None
        self.children[parent] = self.children.get(parent, 0) + 1
        segment = clean_mark(mark.mark) if mark is not None else ""
        if not segment:
            segment = str(self.children[parent])
            self.by_position = True
        return parent, f"{parent}.{segment}" if parent else segment

    def open(self, mark: NumberMark, number: str) -> None:
        self.open_headings.append((mark.level, number))


def _refused(row: SourceRow, number: str, title: str, numbering: _Numbering, errors: list[RowError]) -> bool:
    """Whether the row is left out of the plan: its number repeats an earlier row's, or it has
    no task."""
    if number in numbering.row_of:
        message = f"序号“{number}”与第{numbering.row_of[number]}行重复。"
        errors.append(RowError(row.row, "number", "duplicate_number", message))
        return True
    numbering.row_of[number] = row.row
    if not title:
        errors.append(RowError(row.row, "task", "task_missing", "任务内容为空。"))
        return True
    return False


def _check_lengths(row: SourceRow, title: str, errors: list[RowError]) -> None:
    values = row.values
    for column, text in (("task", title), ("remarks", values["remarks"]), ("source", values["source"])):
        if len(text) > MAX_LENGTHS[column]:
            message = f"内容有 {len(text)} 字，超过 {MAX_LENGTHS[column]} 字的上限，请精简。"
            errors.append(RowError(row.row, column, "too_long", message))


def _heading_spec(
    row: SourceRow,
    mark: NumberMark | None,
    number: str,
    parent: str | None,
    title: str,
    context: _Context,
    errors: list[RowError],
) -> TaskSpec | None:
    """A heading groups the tasks under it: the issuing unit leads it, and it is due at the
    campaign's end until ``_date_headings`` dates it by its tasks."""
    if mark is None:
        message = "该行既不是标题，也没有牵头单位或责任单位。"
        errors.append(RowError(row.row, "lead_unit", "unit_missing", message))
        return None
    campaign = context.campaign
    return TaskSpec(
        number,
        parent,
        title,
        campaign.issuing_unit,
        campaign.ends_on,
        notes=row.values["remarks"],
        source_text=row.values["source"].strip(),
    )


def _unmasked(errors: list[RowError], rows: list[SourceRow]) -> list[RowError]:
    """A cell the reader refused (a formula, an error value) was read as empty: its own error
    says what to fix, "完成时限为空" or "任务内容为空" on the same cell would mislead."""
    reader_errors = {id(error) for row in rows for error in row.errors}
    refused = {(error.row, error.column) for row in rows for error in row.errors}
    return [
        error for error in errors if id(error) in reader_errors or (error.row, error.column) not in refused
    ]


def _task_spec(row, number, parent, title, context, errors) -> TaskSpec | None:
    values = row.values
    before = len(errors)
    lead_units = _units(values["lead_unit"], row.row, "lead_unit", context, errors)
    responsible = _units(values["responsible_units"], row.row, "responsible_units", context, errors)
    cooperating = _units(values["cooperating_units"], row.row, "cooperating_units", context, errors)
    leader = _leader(values["lead_leader"], row.row, context, errors)
    lead = (lead_units or responsible or [None])[0]
    if lead is None and len(errors) == before:
        errors.append(RowError(row.row, "lead_unit", "unit_missing", "没有牵头单位或责任单位。"))
    deadline_text = ""
    due_date: datetime.date | None = None
    ongoing, schedule = False, None
    deadline = (
        _deadline(values["deadline"], context.campaign.starts_on.year, context)
        if compact(values["deadline"])
        else Deadline(context.default_deadline)
    )
    if isinstance(deadline, DeadlineError):
        errors.append(RowError(row.row, "deadline", deadline.code, deadline.message))
    else:
        due_date, ongoing = deadline.due_date, deadline.ongoing
        if deadline.cadence:
            schedule = (deadline.cadence, deadline.day, deadline.wording)
        if due_date is None or schedule:
            # 长期坚持 or a report schedule: the cell kept as written, for the export.
            deadline_text = values["deadline"].strip()
        if due_date is None:
            # Work without a date of its own falls due at the campaign's end.
            due_date = context.campaign.ends_on
        earliest, latest = context.due_bounds
        if not earliest <= due_date <= latest:
            message = f"完成时限 {due_date} 不在 {earliest} 至 {latest} 之间（攻坚行动所在年度及其后一年）。"
            errors.append(RowError(row.row, "deadline", "deadline_outside_campaign", message))
    if len(errors) > before:
        return None
    return TaskSpec(
        number=number,
        parent_number=parent,
        title=title,
        lead_unit=lead,
        due_date=due_date,
        responsible_units=[unit for unit in [*lead_units[1:], *responsible] if unit != lead],
        cooperating_units=[unit for unit in cooperating if unit != lead],
        lead_leader=leader,
        deadline_text=deadline_text,
        ongoing=ongoing,
        report_schedule=schedule,
        notes=values["remarks"],
        source_text=values["source"].strip(),
        words=TaskWords(**{column: values[column].strip() for column in ASSIGNMENT_COLUMNS}),
    )


def _date_headings(specs: list[TaskSpec], headings: dict[str, TaskSpec]) -> None:
    """A heading is due when its last task is (deepest first, so nesting carries up); a
    heading without tasks keeps the campaign's end."""
    latest: dict[str, datetime.date] = {}
    for spec in sorted(specs, key=lambda s: -s.number.count(".")):
        if spec.number in headings and spec.number in latest:
            spec.due_date = latest[spec.number]
        if spec.parent_number in headings:
            latest[spec.parent_number] = max(latest.get(spec.parent_number, spec.due_date), spec.due_date)

"""Ledgers (台账): tasks as the .xlsx workbook an office files, prints and hands upward.

Tasks are read in chunks, with the same few queries for every chunk, and written through
openpyxl's write-only worksheet, which streams rows to disk. The finished workbook is
spooled to a temporary file, so an export of any size holds neither all tasks nor the
whole workbook in memory.
"""

import datetime
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tasks.rungs import level_of_rank

from .lateness import closed_on, days_overdue, today
from .models import Campaign, ProgressReport, SourceKind, Task, TaskKind, TaskState, TaskUnit, TaskUnitRole
from .schedules import periods_of, report_periods

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 500
# The finished file stays in memory up to this size and moves to disk beyond it.
SPOOL_BYTES = 2 * 1024 * 1024
# Excel refuses a workbook with a longer cell.
MAX_CELL_CHARS = 32767
# Text starting with one of these would become a formula when someone edits the cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

TITLE, HEADER, TEXT, CENTER, DATE = "台账标题", "台账表头", "台账正文", "台账居中", "台账日期"


def _styles() -> list[NamedStyle]:
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    return [
        NamedStyle(
            name=TITLE,
            font=Font(name="宋体", size=16, bold=True),
            alignment=Alignment(horizontal="center", vertical="center"),
        ),
        NamedStyle(
            name=HEADER,
            font=Font(name="宋体", size=11, bold=True),
            fill=PatternFill("solid", fgColor="D9D9D9"),
            border=border,
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        ),
        NamedStyle(
            name=TEXT,
            font=Font(name="宋体", size=11),
            border=border,
            alignment=Alignment(vertical="top", wrap_text=True),
        ),
        NamedStyle(
            name=CENTER,
            font=Font(name="宋体", size=11),
            border=border,
            alignment=Alignment(horizontal="center", vertical="top", wrap_text=True),
        ),
        NamedStyle(
            name=DATE,
            font=Font(name="宋体", size=11),
            border=border,
            alignment=Alignment(horizontal="center", vertical="top"),
            number_format="yyyy-mm-dd",
        ),
    ]


@dataclass(frozen=True)
class Row:
    """One task with what its row needs besides the task's own fields."""

    task: Task
    on: datetime.date

    def units(self, role: str, *, lead_first: bool = False) -> str:
        """Units in this role other than the lead unit (or with the lead unit first)."""
        task = self.task
        names = [
            link.unit.name
            for link in task.task_units.all()
            if link.role == role and link.unit_id != task.lead_unit_id
        ]
        return "、".join([task.lead_unit.name, *names] if lead_first else names)

    @property
    def content(self) -> str:
        return "\n".join(part for part in (self.task.title, self.task.description.strip()) if part)

    @property
    def changed_due_date(self) -> datetime.date | None:
        task = self.task
        return task.original_due_date if task.original_due_date != task.due_date else None

    @property
    def days_overdue(self) -> int | None:
        # Counted as the lights count it: from the earliest date owed past, the work's or an
        # obligation's (an item never signed for is red, and overdue, with its due date
        # months away). A closed item shows the day it was closed (销号日期) instead.
        return days_overdue(self.task, self.on)

    @property
    def reports_missed(self) -> int:
        # The periods the lead unit let pass without a report (漏报), still owed, and those it
        # reported late (补报): a late report meets the missed period but does not unmake the
        # lateness (``tasks.schedules``).
        return periods_of(self.task.report_periods)[0]

    @property
    def reports_met_late(self) -> int:
        return periods_of(self.task.report_periods)[1]

    @property
    def escalation(self) -> str:
        level = level_of_rank(self.task.escalation_rank)
        return str(level.label) if level else ""

    @property
    def closed_on(self) -> datetime.date | None:
        return closed_on(self.task)


def _person(user) -> str:
    return str(user) if user else ""


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    value: Callable[[Row], object]
    style: str = TEXT


def _state_labels() -> Callable[[Row], str]:
    labels = {value: str(label) for value, label in TaskState.choices}
    return lambda r: labels.get(r.task.state, r.task.state)


def _source(attribute: str) -> Callable[[Row], object]:
    return lambda r: getattr(r.task.source, attribute) if r.task.source_id else None


def source_columns() -> list[Column]:
    """Where the work came from (``Task.source``): after a ledger's own columns, so that a
    ledger filed before sources were kept lines up with a new one column by column."""
    labels = {value: str(label) for value, label in SourceKind.choices}
    return [
        Column(_("来源"), 10, lambda r: labels[r.task.source.kind] if r.task.source_id else "", CENTER),
        Column(_("来源文号"), 20, _source("document_number"), CENTER),
        Column(_("来源文件"), 30, _source("title")),
        Column(_("来文单位"), 16, _source("issued_by")),
        Column(_("成文日期"), 12, _source("document_date"), DATE),
    ]


def report_columns() -> list[Column]:
    """The report periods (按期反馈) missed and met late, last: a ledger filed before they were
    counted still lines up with a new one column by column."""
    return [
        Column(_("漏报期数"), 9, lambda r: r.reports_missed, CENTER),
        Column(_("补报期数"), 9, lambda r: r.reports_met_late, CENTER),
    ]


def task_columns() -> list[Column]:
    return [
        Column(_("序号"), 8, lambda r: r.task.number, CENTER),
        Column(_("任务内容"), 48, lambda r: r.content),
        Column(_("牵头领导"), 10, lambda r: _person(r.task.lead_leader), CENTER),
        Column(_("牵头单位"), 16, lambda r: r.task.lead_unit.name),
        Column(_("责任单位"), 20, lambda r: r.units(TaskUnitRole.RESPONSIBLE)),
        Column(_("配合单位"), 20, lambda r: r.units(TaskUnitRole.COOPERATING)),
        Column(_("责任人"), 10, lambda r: _person(r.task.responsible_person), CENTER),
        Column(_("完成时限"), 12, lambda r: r.task.due_date, DATE),
        Column(_("原定时限"), 12, lambda r: r.changed_due_date, DATE),
        Column(_("状态"), 10, _state_labels(), CENTER),
        Column(_("进展"), 40, lambda r: r.task.latest_report or ""),
        Column(_("逾期天数"), 9, lambda r: r.days_overdue, CENTER),
        Column(_("督办级别"), 10, lambda r: r.escalation, CENTER),
        *source_columns(),
        *report_columns(),
    ]


def rectification_columns() -> list[Column]:
    return [
        Column(_("序号"), 8, lambda r: r.task.number, CENTER),
        Column(_("问题"), 48, lambda r: r.content),
        Column(_("整改责任单位"), 22, lambda r: r.units(TaskUnitRole.RESPONSIBLE, lead_first=True)),
        Column(_("责任人"), 10, lambda r: _person(r.task.responsible_person), CENTER),
        Column(_("整改时限"), 12, lambda r: r.task.due_date, DATE),
        Column(_("状态"), 10, _state_labels(), CENTER),
        Column(_("重新整改次数"), 10, lambda r: r.task.reopen_count, CENTER),
        Column(_("整改进展"), 40, lambda r: r.task.latest_report or ""),
        Column(_("逾期天数"), 9, lambda r: r.days_overdue, CENTER),
        Column(_("销号日期"), 12, lambda r: r.closed_on, DATE),
        *source_columns(),
        *report_columns(),
    ]


@dataclass
class Ledger:
    file: IO[bytes]
    filename: str
    ascii_filename: str


def ledger_tasks(tasks: QuerySet[Task], on: datetime.date) -> QuerySet[Task]:
    """What a row reads, fetched per chunk: the lead unit and the people, the units, the
    source, the latest progress report's text and the report periods missed and met late
    as of ``on``."""
    latest_report = (
        ProgressReport.objects.filter(task=OuterRef("pk")).order_by("-created_at", "-pk").values("text")[:1]
    )
    return (
        tasks.select_related("lead_unit", "lead_leader", "responsible_person", "source")
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit").order_by("pk"))
        )
        .annotate(latest_report=Subquery(latest_report), report_periods=report_periods(on))
    )


def task_ledger(
    tasks: QuerySet[Task], *, campaign: Campaign | None = None, on: datetime.date | None = None
) -> Ledger:
    """The task ledger (任务台账) of these tasks, in their order."""
    on = on or today()
    return _ledger(ledger_tasks(tasks, on), _("任务台账"), "task-ledger", task_columns(), campaign, on)


def rectification_ledger(
    tasks: QuerySet[Task], *, campaign: Campaign | None = None, on: datetime.date | None = None
) -> Ledger:
    """The rectification ledger (整改台账): only the rectification items among these tasks."""
    on = on or today()
    tasks = ledger_tasks(tasks.filter(kind=TaskKind.RECTIFICATION), on)
    return _ledger(tasks, _("整改台账"), "rectification-ledger", rectification_columns(), campaign, on)


def _ledger(
    tasks: QuerySet[Task],
    name: str,
    ascii_name: str,
    columns: list[Column],
    campaign: Campaign | None,
    on: datetime.date,
) -> Ledger:
    # A campaign's name may hold characters no file system accepts in a file name.
    prefix = re.sub(r'[\\/:*?"<>|\s]+', "", campaign.short_name or campaign.name) if campaign else ""
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, suffix=".xlsx")
    try:
        title = f"{campaign.name if campaign else ''}{name}"
        _write(file, tasks, columns, sheet_name=name, title=title, on=on)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return Ledger(
        file=file,
        filename=f"{prefix}{name}{on:%Y%m%d}.xlsx",
        ascii_filename=f"{ascii_name}-{on:%Y%m%d}.xlsx",
    )


def _write(
    file: IO[bytes], tasks: QuerySet[Task], columns: list[Column], *, sheet_name: str, title: str, on
) -> None:
    workbook = Workbook(write_only=True)
    for style in _styles():
        workbook.add_named_style(style)
    sheet = workbook.create_sheet(title=sheet_name)
    last = get_column_letter(len(columns))
    # Layout is written ahead of the rows in write-only mode, so it is all set first.
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[1].height = 32
    sheet.row_dimensions[2].height = 30
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.center.text = _("第 &P 页，共 &N 页")

    heading = _("%(title)s（截至%(date)s）") % {"title": title, "date": f"{on.year}年{on.month}月{on.day}日"}
    sheet.merged_cells.add(f"A1:{last}1")
    sheet.append([_cell(sheet, heading, TITLE)])
    sheet.append([_cell(sheet, column.header, HEADER) for column in columns])
    rows = 2
    for task in tasks.iterator(chunk_size=CHUNK_SIZE):
        row = Row(task, on)
        sheet.append([_cell(sheet, column.value(row), column.style) for column in columns])
        rows += 1
    sheet.auto_filter.ref = f"A2:{last}{rows}"
    workbook.save(file)


def _cell(sheet, value, style: str) -> WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_CHARS]
    cell = WriteOnlyCell(sheet, value if value != "" else None)
    cell.style = style
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # Stored as text exactly as written, with Excel's own quote prefix (the "'" typed
        # before text), so neither opening nor editing the cell turns it into a formula.
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell

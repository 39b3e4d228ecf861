"""A campaign's imported tasks written back as the decomposition table they came from."""

import tempfile

from openpyxl import Workbook

from tasks.models import Campaign, ReportSchedule, Task, TaskUnitRole
from tasks.schedules import schedule_wording
from tasks.sources import source_text

from .models import TaskWording
from .plan import mark_for_export
from .table import COLUMN_LABELS, COLUMNS


def _deadline(task: Task) -> str:
    """The cell: the office's words while they still say what the task owes, else the date
    (or 长期坚持) and the report schedule as set since ("长期坚持，每周五前")."""
    day = f"{task.due_date.year}年{task.due_date.month}月{task.due_date.day}日"
    words = task.deadline_text or day
    schedule = _schedule(task)
    if schedule and schedule_wording(schedule) not in words:
        return f"{'长期坚持' if task.ongoing else day}，{schedule_wording(schedule)}"
    return words


def _schedule(task: Task) -> ReportSchedule | None:
    try:
        return task.report_schedule
    except ReportSchedule.DoesNotExist:
        return None


def _row(task: Task, heading: bool) -> list[str]:
    segment = mark_for_export(task.number.rsplit(".", 1)[-1])
    # The source as one cell that an import reads back as the same source.
    source = source_text(task.source) if task.source else ""
    if heading:
        return [segment, task.title, "", "", "", "", "", source, task.notes]
    links = list(task.task_units.all())
    names = {
        role: "、".join(
            link.unit.name for link in links if link.role == role and link.unit_id != task.lead_unit_id
        )
        for role in (TaskUnitRole.RESPONSIBLE, TaskUnitRole.COOPERATING)
    }
    cells = {
        "lead_leader": task.lead_leader.full_name if task.lead_leader else "",
        "lead_unit": task.lead_unit.name,
        "responsible_units": names[TaskUnitRole.RESPONSIBLE],
        "cooperating_units": names[TaskUnitRole.COOPERATING],
        "deadline": _deadline(task),
    }
    cells.update(_office_words(task, links))
    return [segment, task.title, *cells.values(), source, task.notes]


def _office_words(task: Task, links) -> dict[str, str]:
    """The cells whose words still say what the task has: the office's own, as it wrote them."""
    wording: TaskWording | None = getattr(task, "wording", None)
    if wording is None:
        return {}
    resolved = wording.resolved
    words = {}
    if resolved.get("lead_leader") == task.lead_leader_id:
        words["lead_leader"] = wording.lead_leader
    units = sorted([link.unit_id, link.role] for link in links)
    if resolved.get("lead_unit") == task.lead_unit_id and resolved.get("units") == units:
        words.update(
            lead_unit=wording.lead_unit,
            responsible_units=wording.responsible_units,
            cooperating_units=wording.cooperating_units,
        )
    schedule = _schedule(task)
    same_schedule = schedule is None or schedule_wording(schedule) in wording.deadline
    if resolved.get("due_date") == task.due_date.isoformat() and same_schedule:
        words["deadline"] = wording.deadline
    return words


def table_export(campaign: Campaign) -> tempfile.SpooledTemporaryFile:
    """The imported tasks in table order, headings as their own rows, as .xlsx."""
    tasks = list(
        Task.objects.filter(campaign=campaign, imported=True)
        .select_related("lead_unit", "lead_leader", "wording", "report_schedule", "source")
        .prefetch_related("task_units__unit")
        .order_by("pk")
    )
    children: dict[int | None, list[Task]] = {}
    for task in tasks:
        children.setdefault(task.parent_id, []).append(task)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("任务分解表")
    sheet.append([f"{campaign.name}任务分解和责任分工"])
    sheet.append([COLUMN_LABELS[column] for column in COLUMNS])

    def walk(parent_id: int | None) -> None:
        for task in sorted(children.get(parent_id, []), key=lambda t: t.pk):
            sheet.append(_row(task, heading=task.pk in children))
            walk(task.pk)

    walk(None)
    output = tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024)
    workbook.save(output)
    output.seek(0)
    return output

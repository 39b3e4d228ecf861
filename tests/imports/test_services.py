"""Importing a decomposition table into the test world's campaign, and back out again."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from core.errors import Forbidden
from imports.export import table_export
from imports.services import ImportInvalid, table_import
from tasks.models import Task, TaskState, TaskUnitRole

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

HEADER = ["序号", "重点任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "备注"]
ROWS = [
    ["一、", "住房安全保障", "", "", "", "", "", ""],
    ["1", "完成D级危房改造950户", "蒋副市长", "义县", "", "市住建委", "10月底前", ""],
    ["2", "完成D级危房改造938户", "蒋副市长", "黑山县", "", "市住建委", "10月31日前", ""],
    ["二、", "问题整改", "", "", "", "", "", ""],
    ["1", "贫困户信息“三上墙”", "", "市住建委", "各县(市)区", "", "长期坚持", "每月报送"],
]


def xlsx(rows, header=HEADER, title="锦州市精准脱贫百日攻坚行动任务分解表") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(world, data, *, dry_run, actor="city_head", filename="分解表.xlsx"):
    return table_import(
        actor=world.person(actor), campaign=world.campaign, data=data, filename=filename, dry_run=dry_run
    )


def test_a_dry_run_shows_each_row_and_writes_nothing(world):
    result = run(world, xlsx(ROWS), dry_run=True)

    assert result.errors == []
    assert [(r["number"], r["action"]) for r in result.rows] == [
        ("一", "created"),
        ("一.1", "created"),
        ("一.2", "created"),
        ("二", "created"),
        ("二.1", "created"),
    ]
    assert result.counts == {"created": 5, "updated": 0, "unchanged": 0, "missing": 0}
    assert not Task.objects.exists()


def test_an_import_creates_the_tree_with_units_leaders_and_deadlines(world):
    run(world, xlsx(ROWS), dry_run=False)

    heading = Task.objects.get(number="一")
    yi, heishan = Task.objects.get(number="一.1"), Task.objects.get(number="一.2")
    assert yi.parent == heading and heishan.parent == heading
    assert heading.due_date == yi.due_date == heishan.due_date  # 10月底 = 10月31日, 2018
    assert str(yi.due_date) == "2018-10-31"
    assert yi.lead_unit == world.unit("义县")
    assert yi.lead_leader == world.person("leader")
    assert list(yi.task_units.filter(role=TaskUnitRole.COOPERATING).values_list("unit__name", flat=True)) == [
        "市住建委"
    ]
    ongoing = Task.objects.get(number="二.1")
    assert ongoing.deadline_text == "长期坚持" and ongoing.due_date == world.campaign.ends_on
    assert set(ongoing.task_units.values_list("unit__name", flat=True)) == {"市住建委", "义县", "黑山县"}
    assert all(task.state == TaskState.DRAFT and task.imported for task in Task.objects.all())
    created = yi.events.get()
    assert (created.action, created.from_state, created.to_state) == ("created", "", TaskState.DRAFT)
    assert created.actor == world.person("city_head") and created.at is not None
    cooperating = [world.unit("市住建委").pk, TaskUnitRole.COOPERATING]
    assert created.data == {
        "imported": True,
        "after": {
            "lead_unit": world.unit("义县").pk,
            "units": sorted([[world.unit("义县").pk, TaskUnitRole.RESPONSIBLE], cooperating]),
        },
    }


def test_any_row_error_imports_nothing_and_names_row_and_column(world):
    rows = [*ROWS, ["2", "扶贫小额信贷", "", "市金融办", "", "", "下个月", ""]]
    dry = run(world, xlsx(rows), dry_run=True)
    assert {(e["row"], e["column"]) for e in dry.errors} == {(8, "lead_unit"), (8, "deadline")}
    unknown = next(e for e in dry.errors if e["column"] == "lead_unit")
    assert "市金融办" in unknown["message"]

    with pytest.raises(ImportInvalid) as refused:
        run(world, xlsx(rows), dry_run=False)
    assert "8:deadline" in refused.value.fields
    assert not Task.objects.exists()


def test_reimporting_updates_by_number_and_a_round_trip_changes_nothing(world):
    run(world, xlsx(ROWS), dry_run=False)
    changed = [list(row) for row in ROWS]
    changed[2][6] = "10月20日前"
    second = run(world, xlsx(changed), dry_run=False)
    assert second.counts == {"created": 0, "updated": 1, "unchanged": 4, "missing": 0}
    assert str(Task.objects.get(number="一.2").due_date) == "2018-10-20"
    assert Task.objects.count() == 5

    exported = table_export(world.campaign).read()
    again = run(world, exported, dry_run=False)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 5, "missing": 0}, again.rows
    sheet = load_workbook(io.BytesIO(exported)).active
    assert [cell.value for cell in sheet[2]] == HEADER[:1] + ["任务"] + HEADER[2:7] + ["来源", "备注"]


def test_a_reimported_due_date_starts_the_ladder_again(world):
    run(world, xlsx(ROWS), dry_run=False)
    Task.objects.filter(number__in=["一.1", "一.2"]).update(escalation_rank=3)  # 挂牌督办 reached
    changed = [list(row) for row in ROWS]
    changed[2][6] = "11月20日前"
    run(world, xlsx(changed), dry_run=False)
    ranks = dict(Task.objects.filter(number__in=["一.1", "一.2"]).values_list("number", "escalation_rank"))
    assert ranks == {"一.1": 3, "一.2": None}


def test_only_the_issuing_side_imports(world):
    with pytest.raises(Forbidden):
        run(world, xlsx(ROWS), dry_run=True, actor="yi_head")


def test_rows_dropped_from_the_table_are_reported_and_kept(world):
    run(world, xlsx(ROWS), dry_run=False)
    result = run(world, xlsx(ROWS[:3]), dry_run=False)

    assert result.missing == ["二", "二.1"]
    assert result.counts["missing"] == 2
    assert Task.objects.filter(number__in=["二", "二.1"]).count() == 2


SCHEDULED = [
    ["一、", "产业扶贫", "", "", "", "", "", ""],
    ["1", "扶贫产业项目建设", "蒋副市长", "义县", "", "", "每月28日前", ""],
    ["2", "贫困户信息“三上墙”", "", "市住建委", "", "", "长期坚持，每月28日前报送", ""],
    ["3", "产业项目季度形象进度", "", "黑山县", "", "", "每季度末", ""],
    ["4", "危房改造周报", "", "义县", "", "", "每周五前", ""],
    ["5", "金融扶贫小额信贷", "", "黑山县", "", "", "12月10日前完成，每季度最后一个月20日前报送", ""],
]


def test_report_schedules_are_imported_and_exported_as_the_office_wrote_them(world):
    from tasks.models import ReportSchedule

    run(world, xlsx(SCHEDULED), dry_run=False)
    schedules = {
        s.task.number: (s.cadence, s.day, s.wording) for s in ReportSchedule.objects.select_related("task")
    }
    assert schedules == {
        "一.1": ("monthly", 28, "每月28日前"),
        "一.2": ("monthly", 28, "每月28日前报送"),
        "一.3": ("quarterly", None, "每季度末"),
        "一.4": ("weekly", 5, "每周五前"),
        "一.5": ("quarterly", 20, "每季度最后一个月20日前报送"),
    }
    ongoing = Task.objects.get(number="一.2")
    assert ongoing.ongoing and ongoing.due_date == world.campaign.ends_on
    dated = Task.objects.get(number="一.5")
    assert not dated.ongoing and str(dated.due_date) == "2018-12-10"

    exported = table_export(world.campaign).read()
    cells = [row[6].value for row in load_workbook(io.BytesIO(exported)).active.iter_rows(min_row=3)]
    assert cells[1:] == [row[6] for row in SCHEDULED[1:]]
    again = run(world, exported, dry_run=False)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 6, "missing": 0}, again.rows


def test_a_schedule_changed_since_the_import_is_exported_as_it_is_now(world):
    from tasks.services import report_schedule_set

    run(world, xlsx(SCHEDULED), dry_run=False)
    task = Task.objects.get(number="一.2")
    report_schedule_set(task_id=task.pk, actor=world.person("city_head"), cadence="weekly", day=5)
    exported = table_export(world.campaign).read()
    cells = [row[6].value for row in load_workbook(io.BytesIO(exported)).active.iter_rows(min_row=3)]
    assert cells[2] == "长期坚持，每周五前"


def test_a_reimported_schedule_rewrites_the_periods_not_yet_due_of_an_issued_task(world):
    import datetime

    import time_machine

    from tasks.models import Obligation, ReportSchedule, TaskEvent
    from tasks.services import progress_report_create, task_transition

    def nine(day):
        return datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=datetime.UTC)

    def periods(number):
        rows = Obligation.objects.filter(task__number=number, kind="report").order_by("due_date")
        return [(str(row.due_date), row.met_at is not None) for row in rows]

    with time_machine.travel(nine(datetime.date(2018, 10, 1)), tick=False):
        run(world, xlsx(SCHEDULED), dry_run=False)
        issued = Task.objects.get(number="一.1")
        task_transition(task_id=issued.pk, actor=world.person("city_head"), name="assign")
        task_transition(task_id=issued.pk, actor=world.person("yi_head"), name="accept")
    with time_machine.travel(nine(datetime.date(2018, 10, 10)), tick=False):
        progress_report_create(task_id=issued.pk, actor=world.person("yi_head"), text="十月进展")
    assert periods("一.1") == [("2018-10-26", True), ("2018-11-28", False)]

    # 5 November: the table now asks 义县 for a weekly report by Friday, and the draft 一.4
    # for a monthly one.
    rows = [list(row) for row in SCHEDULED]
    rows[1][6], rows[4][6] = "每周五前", "每月底"
    with time_machine.travel(nine(datetime.date(2018, 11, 5)), tick=False):
        result = run(world, xlsx(rows), dry_run=False)
    changed = {row["number"]: row["changed"] for row in result.rows if row["action"] == "updated"}
    assert changed == {
        "一.1": ["deadline_text", "report_schedule"],
        "一.4": ["deadline_text", "report_schedule"],
    }
    assert (ReportSchedule.objects.get(task=issued).cadence, ReportSchedule.objects.get(task=issued).day) == (
        "weekly",
        5,
    )
    # October's period, met, stays; November's monthly one is owed no more; the weeks from
    # today to the due date (10 December, the campaign's end) are.
    assert periods("一.1") == [
        ("2018-10-26", True),
        ("2018-11-09", False),
        ("2018-11-16", False),
        ("2018-11-23", False),
        ("2018-11-30", False),
        ("2018-12-07", False),
    ]
    issued.refresh_from_db()
    assert issued.next_warned_date == datetime.date(2018, 11, 9)
    assert TaskEvent.objects.filter(task=issued).latest("pk").data["changed"] == [
        "deadline_text",
        "report_schedule",
    ]
    # The draft owes nothing until it is issued.
    assert periods("一.4") == []

    # 长期坚持 is the deadline too: an issued task does not become ongoing by a re-import.
    rows[1][6] = "长期坚持，每周五前"
    with time_machine.travel(nine(datetime.date(2018, 11, 6)), tick=False):
        dry = run(world, xlsx(rows), dry_run=True)
    locked = next(row for row in dry.rows if row["number"] == "一.1")
    assert locked["action"] == "locked" and "ongoing" in locked["changed"]


def test_a_reimport_costs_the_same_queries_however_many_issued_schedules_change(world):
    import datetime

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tasks.services import task_transition

    counts = []
    with time_machine.travel(datetime.datetime(2018, 10, 1, 1, tzinfo=datetime.UTC), tick=False):
        run(world, xlsx(SCHEDULED), dry_run=False)
        for number in ("一.1", "一.3", "一.4"):
            task_transition(
                task_id=Task.objects.get(number=number).pk, actor=world.person("city_head"), name="assign"
            )
        rows = [list(row) for row in SCHEDULED]
        for changed in ((1,), (3, 4)):
            for index in changed:
                rows[index][6] = "每月20日前"
            with CaptureQueriesContext(connection) as queries:
                result = run(world, xlsx(rows), dry_run=False)
            assert result.counts["updated"] == len(changed)
            counts.append(len(queries))
    assert counts[0] == counts[1]

"""The 来源 column: a task table's and a problem list's 来源 cells become the tasks' sources
(TaskSource), one per document, found again when the same table is imported again, and the
task table's export writes them back.

The cells are the words offices print: "市委常委会议定（2018年第5次）" (a meeting's decision),
"省委督查发现问题" (an inspection's finding), a 批示 with its document number.
"""

import io

import pytest
from openpyxl import Workbook, load_workbook

from imports.export import table_export
from imports.services import table_import
from tasks.models import SourceKind, Task, TaskSource
from tasks.services import task_transition, transfer_request_create

from .test_problems import csv_bytes as problem_csv
from .test_problems import problem_rows
from .test_problems import run as run_problems

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

HEADER = ["序号", "重点任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "来源", "备注"]
MEETING = "市委常委会议定（2018年第5次）"
INSTRUCTION = "市委书记批示（锦市委办发〔2018〕12号）"
ROWS = [
    ["一、", "住房安全保障", "", "", "", "", "", MEETING, ""],
    ["1", "完成D级危房改造950户", "蒋副市长", "义县", "", "市住建委", "10月底前", MEETING, ""],
    ["2", "完成D级危房改造938户", "蒋副市长", "黑山县", "", "市住建委", "10月31日前", "省委督查发现问题", ""],
    ["3", "贫困户信息“三上墙”", "", "市住建委", "各县(市)区", "", "长期坚持", INSTRUCTION, ""],
    ["4", "村级会议记录规范", "", "义县", "", "", "11月30日前", "", ""],
]


def xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["锦州市精准脱贫百日攻坚行动任务分解表"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(world, data, *, dry_run=False, actor="city_head"):
    return table_import(
        actor=world.person(actor), campaign=world.campaign, data=data, filename="分解表.xlsx", dry_run=dry_run
    )


def sources_of_tasks() -> dict[str, tuple]:
    return {
        task.number: (task.source.kind, task.source.document_number, task.source.title)
        if task.source
        else None
        for task in Task.objects.select_related("source")
    }


def test_the_column_gives_each_task_its_source_once_per_document(world):
    dry = run(world, xlsx(ROWS), dry_run=True)
    assert dry.errors == []
    assert not TaskSource.objects.exists()

    run(world, xlsx(ROWS))

    assert sources_of_tasks() == {
        "一": (SourceKind.MEETING, "", MEETING),
        "一.1": (SourceKind.MEETING, "", MEETING),
        "一.2": (SourceKind.INSPECTION, "", "省委督查发现问题"),
        "一.3": (SourceKind.INSTRUCTION, "锦市委办发〔2018〕12号", INSTRUCTION),
        "一.4": None,
    }
    # One document, one source, registered by the campaign's issuing unit and the importer.
    assert TaskSource.objects.count() == 3
    assert set(TaskSource.objects.values_list("registered_by__name", "created_by__username")) == {
        ("锦州市", "city_head")
    }
    # The task's detail shows it, as for a source registered by hand.
    task = Task.objects.get(number="一.1")
    assert task.source.get_kind_display() == "会议议定"


def test_importing_the_table_again_or_its_export_changes_nothing(world):
    run(world, xlsx(ROWS))
    sources = set(TaskSource.objects.values_list("pk", flat=True))

    again = run(world, xlsx(ROWS))
    assert again.counts["updated"] == 0 and again.counts["created"] == 0
    assert set(TaskSource.objects.values_list("pk", flat=True)) == sources

    exported = table_export(world.campaign).read()
    sheet = load_workbook(io.BytesIO(exported)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[1]) == ["序号", "任务", *HEADER[2:]]
    column = HEADER.index("来源")
    assert [row[column] or "" for row in rows[2:]] == [MEETING, MEETING, "省委督查发现问题", INSTRUCTION, ""]
    round_trip = run(world, exported)
    assert round_trip.errors == [] and round_trip.counts["updated"] == 0
    assert set(TaskSource.objects.values_list("pk", flat=True)) == sources


def test_a_changed_cell_gives_the_task_another_source_and_an_empty_one_keeps_it(world):
    run(world, xlsx(ROWS))
    changed = [list(row) for row in ROWS]
    changed[1][7] = "市政府常务会议定（2018年第9次）"
    changed[2][7] = ""
    # The same document number written otherwise is the same document.
    changed[3][7] = "锦市委办发〔2018〕 12号"
    dry = run(world, xlsx(changed), dry_run=True)
    assert [(row["number"], row["action"]) for row in dry.rows if row["action"] == "updated"] == [
        ("一.1", "updated")
    ]
    assert TaskSource.objects.count() == 3

    run(world, xlsx(changed))
    found = sources_of_tasks()
    assert found["一.1"] == (SourceKind.MEETING, "", "市政府常务会议定（2018年第9次）")
    assert found["一.2"] == (SourceKind.INSPECTION, "", "省委督查发现问题")
    assert found["一.3"][1] == "锦市委办发〔2018〕12号"
    assert TaskSource.objects.count() == 4
    event = Task.objects.get(number="一.1").events.latest("pk")
    assert event.data["changed"] == ["source"]


def test_an_import_reuses_a_source_the_issuing_unit_registered_by_hand(world):
    registered = TaskSource.objects.create(
        kind=SourceKind.INSTRUCTION,
        document_number="锦市委办发〔2018〕12号",
        title="关于百日攻坚的批示",
        registered_by=world.unit("锦州市"),
    )
    run(world, xlsx(ROWS))
    assert Task.objects.get(number="一.3").source == registered
    assert TaskSource.objects.count() == 3


def test_a_re_import_that_moves_the_lead_unit_closes_its_pending_transfer(world):
    run(world, xlsx(ROWS))
    task = Task.objects.get(number="一.1")
    task_transition(task_id=task.pk, actor=world.person("city_head"), name="assign")
    asked = transfer_request_create(
        task_id=task.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    moved = [list(row) for row in ROWS]
    moved[1][3] = "市住建委"
    moved[1][5] = ""
    run(world, xlsx(moved))
    asked.refresh_from_db()
    assert (asked.state, asked.closed_because) == ("superseded", "import")


def test_a_problem_lists_sources_are_sources_of_their_kind(world):
    data = problem_csv(problem_rows(9))
    run_problems(world, data, filename="问题清单.csv")

    items = Task.objects.select_related("source").order_by("pk")
    assert [(item.source.kind, item.source.title) for item in items[:3]] == [
        (SourceKind.INSPECTION, "脱贫质量“回头看”"),
        (SourceKind.INSPECTION, "抽查暗访"),
        (SourceKind.INSPECTION, "中省第三方评估"),
    ]
    assert TaskSource.objects.count() == 3
    # The item carries its source; its description no longer repeats it.
    assert "问题来源" not in items[0].description
    assert items[0].problem.source == "脱贫质量“回头看”"

    again = run_problems(world, data, filename="问题清单.csv")
    assert again.counts["unchanged"] == 9
    assert TaskSource.objects.count() == 3

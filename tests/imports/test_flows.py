"""Whole tables through ``table_import`` into the test world's campaign: every header variant,
grouping style, unit-list form and deadline form, malformed files, re-imports and round trips."""

import datetime
import io
import math
import os
import zipfile

import pytest
from django.db import connection
from openpyxl import Workbook

from imports import readers
from imports.export import table_export
from imports.plan import LEAD_FROM_RESPONSIBLE
from imports.readers import grid
from imports.services import ImportInvalid, table_import
from imports.table import TableError
from responsibility.models import Role
from responsibility.services import membership_create
from tasks.models import Campaign, EventAction, Task, TaskEvent, TaskState, TaskUnit, TaskUnitRole
from tasks.services import task_transition

from .word import docx, paragraph, table

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

TITLE = "锦州市精准脱贫百日攻坚行动任务分解表"
HEADER = ["序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "备注"]


def xlsx(rows, *, header=HEADER, title=TITLE, merges=()) -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, *, header=HEADER, encoding="utf-8") -> bytes:
    def cell(value: str) -> str:
        return f'"{value}"' if any(char in value for char in ',"\n') else value

    lines = [",".join(cell(value) for value in row) for row in [header, *rows]]
    return "\r\n".join(lines).encode(encoding)


def run(world, data, *, dry_run=False, filename="分解表.xlsx", actor="city_head"):
    return table_import(
        actor=world.person(actor), campaign=world.campaign, data=data, filename=filename, dry_run=dry_run
    )


def task(number: str) -> Task:
    return Task.objects.select_related("parent", "lead_unit", "lead_leader").get(number=number)


def unit_names(number: str, role: str = TaskUnitRole.RESPONSIBLE) -> set[str]:
    return set(TaskUnit.objects.filter(task__number=number, role=role).values_list("unit__name", flat=True))


def errors_of(result) -> set[tuple[int, str, str]]:
    return {(error["row"], error["column"], error["code"]) for error in result.errors}


# Header variants --------------------------------------------------------------------------

HEADER_SETS = {
    "canonical": ["序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "备注"],
    "content": ["编号", "任务内容", "责任领导", "牵头部门", "责任部门", "协办单位", "时间节点", "备注"],
    "work": ["序号", "工作任务", "牵头领导", "牵头单位", "责任单位", "配合部门", "完成时间", "备注"],
    "key": ["序号", "重点任务", "责任领导", "牵头单位", "责任单位", "协办单位", "完成期限", "备注"],
    "main": ["序号", "主要任务", "牵头领导", "牵头部门", "责任部门", "配合单位", "时限", "备注"],
}
HOUSING = ["1", "完成D级危房改造950户", "蒋副市长", "市住建委", "义县", "黑山县", "10月底前", "按季度验收"]


@pytest.mark.parametrize("header", HEADER_SETS.values(), ids=HEADER_SETS.keys())
@pytest.mark.parametrize("shuffled", [False, True], ids=["in-order", "shuffled"])
def test_each_header_variant_under_a_title_row_in_any_column_order(world, header, shuffled):
    order = [6, 3, 1, 0, 4, 2, 7, 5] if shuffled else list(range(8))
    data = xlsx([[HOUSING[i] for i in order]], header=[header[i] for i in order])

    result = run(world, data)

    assert result.errors == []
    assert [(row["row"], row["number"], row["action"]) for row in result.rows] == [(3, "1", "created")]
    created = task("1")
    assert created.title == "完成D级危房改造950户"
    assert created.lead_leader == world.person("leader")
    assert created.lead_unit == world.unit("市住建委")
    assert unit_names("1") == {"市住建委", "义县"}
    assert unit_names("1", TaskUnitRole.COOPERATING) == {"黑山县"}
    assert created.due_date == datetime.date(2018, 10, 31)
    assert created.notes == "按季度验收"
    assert created.parent is None and created.imported and created.state == TaskState.DRAFT


# Grouping styles --------------------------------------------------------------------------


def test_top_level_headings_with_numbering_restarting_under_each(world):
    rows = [
        ["一、", "住房安全保障", "", "", "", "", "", ""],
        ["1", "完成D级危房改造950户", "", "义县", "", "", "10月底前", ""],
        ["2", "完成D级危房改造938户", "", "黑山县", "", "", "11月30日前", ""],
        ["二、", "问题整改", "", "", "", "", "", ""],
        ["1", "贫困户信息“三上墙”", "", "市住建委", "", "", "6月底前", ""],
    ]

    result = run(world, xlsx(rows))

    assert [(row["number"], row["title"], row["heading"]) for row in result.rows] == [
        ("一", "住房安全保障", True),
        ("一.1", "完成D级危房改造950户", False),
        ("一.2", "完成D级危房改造938户", False),
        ("二", "问题整改", True),
        ("二.1", "贫困户信息“三上墙”", False),
    ]
    first, second = task("一"), task("二")
    assert first.parent is None and second.parent is None
    assert task("一.1").parent == first and task("一.2").parent == first
    assert task("二.1").parent == second
    assert first.due_date == datetime.date(2018, 11, 30)  # its latest task's
    assert second.due_date == datetime.date(2018, 6, 30)
    assert first.lead_unit == world.unit("锦州市")  # a heading is the issuing unit's own
    assert Task.objects.count() == 5


def test_three_levels_of_headings_nest_and_carry_the_latest_date_up(world):
    rows = [
        ["一、", "产业扶贫"],
        ["（一）", "扶贫车间"],
        ["1.", "建设扶贫车间", "", "义县", "", "", "10月底前"],
        ["2.", "扶贫车间吸纳就业", "", "黑山县", "", "", "三季度末"],
        ["（二）", "特色种养"],
        ["1.", "发展设施农业", "", "黑山县", "", "", "11月30日前"],
        ["二、", "住房安全保障"],
        ["（一）", "危房改造"],
        ["1.", "完成D级危房改造", "", "市住建委", "", "", "6月底前"],
    ]

    result = run(world, xlsx(rows))

    assert result.errors == []
    assert [row["number"] for row in result.rows] == [
        "一",
        "一.（一）",
        "一.（一）.1",
        "一.（一）.2",
        "一.（二）",
        "一.（二）.1",
        "二",
        "二.（一）",
        "二.（一）.1",
    ]
    assert task("一.（一）.2").parent == task("一.（一）")
    assert task("一.（二）").parent == task("一")
    assert task("二.（一）.1").parent.parent == task("二")
    assert task("一.（一）").due_date == datetime.date(2018, 10, 31)
    assert task("一.（二）").due_date == datetime.date(2018, 11, 30)
    assert task("一").due_date == datetime.date(2018, 11, 30)
    assert task("二").due_date == task("二.（一）").due_date == datetime.date(2018, 6, 30)


def test_headings_written_inside_the_task_text(world):
    rows = [
        ["", "一、产业扶贫"],
        ["1", "建设扶贫车间", "", "义县", "", "", "10月底前"],
        ["", "二、住房安全保障"],
        ["1", "完成D级危房改造", "", "市住建委", "", "", "11月30日前"],
    ]

    run(world, xlsx(rows))

    assert task("一").title == "产业扶贫"
    assert task("二").title == "住房安全保障"
    assert task("一.1").parent == task("一") and task("二.1").parent == task("二")


def test_headings_merged_across_the_table_in_the_number_column(world):
    rows = [
        ["一、产业扶贫"],
        ["1", "建设扶贫车间", "", "义县", "", "", "10月底前"],
        ["二、住房安全保障"],
        ["1", "完成D级危房改造", "", "市住建委", "", "", "11月30日前"],
    ]

    run(world, xlsx(rows, merges=["A3:H3", "A5:H5"]))

    assert [(t.number, t.title, t.parent_id is None) for t in Task.objects.order_by("pk")] == [
        ("一", "产业扶贫", True),
        ("二", "住房安全保障", True),
        ("一.1", "建设扶贫车间", False),
        ("二.1", "完成D级危房改造", False),
    ]


def test_a_numbered_task_between_headings_is_their_sibling(world):
    rows = [
        ["一、", "住房安全保障"],
        ["1", "完成D级危房改造", "", "义县", "", "", "10月底前"],
        ["二、", "开展问题整改“回头看”", "", "市住建委", "", "", "11月30日前"],
        ["三、", "产业扶贫"],
        ["1", "建设扶贫车间", "", "黑山县", "", "", "10月底前"],
    ]

    result = run(world, xlsx(rows))

    assert [row["number"] for row in result.rows] == ["一", "一.1", "二", "三", "三.1"]
    assert task("二").parent is None and not task("二").children.exists()


def test_tasks_without_numbers_are_numbered_in_order_under_their_heading(world):
    rows = [
        ["一、", "住房安全保障"],
        ["", "完成D级危房改造950户", "", "义县", "", "", "10月底前"],
        ["", "完成D级危房改造938户", "", "黑山县", "", "", "10月底前"],
    ]

    result = run(world, xlsx(rows))

    assert [row["number"] for row in result.rows] == ["一", "一.1", "一.2"]
    assert any("顺序编号" in note for note in result.notes)
    assert task("一.2").title == "完成D级危房改造938户"


def test_a_bare_chinese_numeral_in_the_number_column_is_a_heading(world):
    rows = [
        ["一", "住房安全保障"],
        ["1", "完成D级危房改造", "", "义县", "", "", "10月底前"],
        ["二", "产业扶贫"],
        ["1", "建设扶贫车间", "", "黑山县", "", "", "11月30日前"],
    ]

    result = run(world, xlsx(rows))

    assert result.errors == []
    assert [row["number"] for row in result.rows] == ["一", "一.1", "二", "二.1"]
    assert task("二.1").parent == task("二")


# Units ------------------------------------------------------------------------------------

RESPONSIBLE_ONLY = ["序号", "工作任务", "责任单位", "完成时限"]


def test_with_only_a_responsible_column_the_first_unit_leads_as_the_dry_run_says(world):
    rows = [
        ["1", "完成D级危房改造", "义县、黑山县、市住建委", "10月底前"],
        ["2", "建设扶贫车间", "市住建委", "11月30日前"],
    ]
    data = xlsx(rows, header=RESPONSIBLE_ONLY)

    dry = run(world, data, dry_run=True)
    assert LEAD_FROM_RESPONSIBLE in dry.notes
    assert not Task.objects.exists()

    result = run(world, data)

    assert LEAD_FROM_RESPONSIBLE in result.notes
    assert task("1").lead_unit == world.unit("义县")
    assert unit_names("1") == {"义县", "黑山县", "市住建委"}
    assert task("2").lead_unit == world.unit("市住建委")
    assert unit_names("2") == {"市住建委"}


def test_a_lead_column_means_no_lead_is_taken_from_the_responsible_units(world):
    result = run(world, xlsx([HOUSING]), dry_run=True)

    assert LEAD_FROM_RESPONSIBLE not in result.notes


@pytest.mark.parametrize("separator", ["、", "，", ",", ";", "；", "\n", " 、 "])
def test_each_unit_list_separator(world, separator):
    row = ["1", "完成D级危房改造", "", "市住建委", f"义县{separator}黑山县", "", "10月底前"]

    run(world, xlsx([row]))

    assert unit_names("1") == {"市住建委", "义县", "黑山县"}


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("各县(市)区", {"义县", "黑山县"}),
        ("各县（市）区", {"义县", "黑山县"}),
        ("各县（市、区）", {"义县", "黑山县"}),
        ("各县区", {"义县", "黑山县"}),
        ("市直各部门", {"市住建委"}),
        ("各有关部门", {"市住建委"}),
        ("各县（市）区、市直各部门", {"义县", "黑山县", "市住建委"}),
    ],
)
def test_set_phrases_stand_for_every_unit_of_their_kind_under_the_issuer(world, phrase, expected):
    row = ["1", "贫困户信息“三上墙”", "", "", phrase, "", "长期坚持"]

    run(world, xlsx([row]))

    assert unit_names("1") == expected


def test_set_phrases_in_the_cooperating_column(world):
    row = ["1", "农村危房改造", "", "市住建委", "", "各县(市)区", "10月底前"]

    run(world, xlsx([row]))

    assert unit_names("1") == {"市住建委"}
    assert unit_names("1", TaskUnitRole.COOPERATING) == {"义县", "黑山县"}


@pytest.mark.parametrize("alias", ["住建委", "市住建局", "市 住建委"])
def test_units_are_matched_by_alias(world, alias):
    row = ["1", "完成D级危房改造", "", alias, "", "", "10月底前"]

    run(world, xlsx([row]))

    assert task("1").lead_unit == world.unit("市住建委")


def test_an_unknown_unit_is_a_row_error_naming_the_closest_units(world):
    rows = [
        ["1", "完成D级危房改造", "", "市住建", "", "", "10月底前"],
        ["2", "建设扶贫车间", "", "义县", "黑县", "", "10月底前"],
    ]

    result = run(world, xlsx(rows), dry_run=True)

    assert errors_of(result) == {(3, "lead_unit", "unknown_unit"), (4, "responsible_units", "unknown_unit")}
    first, second = sorted(result.errors, key=lambda error: error["row"])
    assert "市住建" in first["message"] and "市住建委" in first["message"]
    assert "黑山县" in second["message"]
    assert first["column_label"] == "牵头单位"
    with pytest.raises(ImportInvalid):
        run(world, xlsx(rows))
    assert not Task.objects.exists()


def test_an_unknown_leader_is_a_row_error_naming_the_closest_leaders(world):
    membership_create(user=world.person("leader"), unit=world.unit("锦州市"), role=Role.LEADER)
    row = ["1", "完成D级危房改造", "蒋市长", "市住建委", "", "", "10月底前"]

    result = run(world, xlsx([row]), dry_run=True)

    assert errors_of(result) == {(3, "lead_leader", "unknown_leader")}
    assert "蒋副市长" in result.errors[0]["message"]


def test_a_row_without_any_unit_is_a_row_error(world):
    row = ["1", "完成D级危房改造", "", "", "", "", "10月底前"]

    result = run(world, xlsx([row]), dry_run=True)

    assert errors_of(result) == {(3, "lead_unit", "unit_missing")}


# Deadlines --------------------------------------------------------------------------------

ENDS_ON = datetime.date(2018, 12, 10)


@pytest.mark.parametrize(
    ("text", "due_date", "deadline_text"),
    [
        ("6月底前", datetime.date(2018, 6, 30), ""),
        ("10月底前", datetime.date(2018, 10, 31), ""),
        ("11月30日前", datetime.date(2018, 11, 30), ""),
        ("年底前", datetime.date(2018, 12, 31), ""),
        ("2019年12月31日", datetime.date(2019, 12, 31), ""),
        ("三季度末", datetime.date(2018, 9, 30), ""),
        ("长期坚持", ENDS_ON, "长期坚持"),
        ("每月28日前", ENDS_ON, "每月28日前"),
    ],
)
def test_each_deadline_form_in_the_campaign_year(world, text, due_date, deadline_text):
    rows = [["一、", "住房安全保障"], ["1", "完成D级危房改造", "", "义县", "", "", text]]

    run(world, xlsx(rows))

    assert (task("一.1").due_date, task("一.1").deadline_text) == (due_date, deadline_text)
    assert task("一.1").original_due_date == due_date
    assert task("一").due_date == due_date


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("下个月", "unrecognised_deadline"),
        ("2月30日", "invalid_date"),
        ("2025年12月31日", "deadline_outside_campaign"),
        ("2017年12月31日", "deadline_outside_campaign"),
    ],
)
def test_a_deadline_not_understood_is_a_row_error(world, text, code):
    rows = [HOUSING, ["2", "建设扶贫车间", "", "义县", "", "", text]]

    result = run(world, xlsx(rows), dry_run=True)

    assert errors_of(result) == {(4, "deadline", code)}
    assert result.errors[0]["column_label"] == "完成时限"
    with pytest.raises(ImportInvalid) as refused:
        run(world, xlsx(rows))
    assert set(refused.value.fields) == {"4:deadline"}
    assert not Task.objects.exists()


def test_an_empty_deadline_takes_the_default_offered(world):
    row = ["1", "完成D级危房改造", "", "义县", "", "", ""]

    result = run(world, xlsx([row]), dry_run=True)

    assert result.errors == []
    assert result.rows[0]["deadline_defaulted"] is True
    assert result.default_deadline == {"date": "2018-12-10", "rows": 1, "accepted": False}


# Other formats ----------------------------------------------------------------------------

CSV_ROWS = [
    ["一、", "住房安全保障", "", "", "", "", "", ""],
    ["1", "完成D级危房改造", "蒋副市长", "住建委", "义县，黑山县", "", "10月底前", "分两批验收"],
    ["二、", "问题整改", "", "", "", "", "", ""],
    ["1", "贫困户信息“三上墙”", "", "市住建委", "各县(市)区", "", "每月28日前", ""],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding(world, encoding):
    result = run(world, csv_bytes(CSV_ROWS, encoding=encoding), filename="分解表.csv")

    assert any("GB18030" in note for note in result.notes) == (encoding == "gb18030")
    assert result.counts["created"] == 4
    housing = task("一.1")
    assert (housing.title, housing.lead_unit.name, housing.lead_leader.full_name) == (
        "完成D级危房改造",
        "市住建委",
        "蒋副市长",
    )
    assert unit_names("一.1") == {"市住建委", "义县", "黑山县"}
    assert housing.notes == "分两批验收"
    assert task("二.1").deadline_text == "每月28日前"
    assert unit_names("二.1") == {"市住建委", "义县", "黑山县"}


def test_a_csv_with_a_comma_list_inside_a_quoted_cell(world):
    row = ["1", "完成D级危房改造", "", "市住建委", "义县,黑山县", "", "10月底前", ""]

    run(world, csv_bytes([row]), filename="t.csv")

    assert unit_names("1") == {"市住建委", "义县", "黑山县"}


TEXT_FORM = """锦州市精准脱贫百日攻坚行动任务分解方案

一、住房安全保障
1. 完成D级危房改造950户
牵头领导：蒋副市长
牵头单位：市住建委
责任单位：义县、黑山县
完成时限：10月底前
2. 贫困户信息“三上墙”（牵头单位：住建委；完成时限：长期坚持）
二、产业扶贫
1. 建设扶贫车间
牵头单位：黑山县；配合单位：义县
完成时限：11月30日前
"""


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_the_text_form(world, encoding):
    result = run(world, TEXT_FORM.encode(encoding), filename="方案.txt")

    assert [(row["row"], row["number"]) for row in result.rows] == [
        (3, "一"),
        (4, "一.1"),
        (9, "一.2"),
        (10, "二"),
        (11, "二.1"),
    ]
    assert task("一.1").lead_leader == world.person("leader")
    assert unit_names("一.1") == {"市住建委", "义县", "黑山县"}
    assert task("一.2").title == "贫困户信息“三上墙”"
    assert task("一.2").deadline_text == "长期坚持"
    assert task("二.1").lead_unit == world.unit("黑山县")
    assert unit_names("二.1", TaskUnitRole.COOPERATING) == {"义县"}
    assert task("二").due_date == datetime.date(2018, 11, 30)


def test_a_table(world):
    body = paragraph(TITLE) + table(
        [
            ["序号", "重点任务", "责任领导", "牵头部门", "协办单位", "时间节点"],
            ["一、", "住房安全保障", "", "", "", ""],
            ["1", "完成D级危房改造950户", "蒋副市长", "义县", "市住建委", "10月底前"],
            ["2", "完成D级危房改造938户", "^", "黑山县", "^", "11月30日前"],
        ]
    )

    result = run(world, docx(body), filename="分解表.docx")

    assert [row["number"] for row in result.rows] == ["一", "一.1", "一.2"]
    second = task("一.2")
    assert second.lead_leader == world.person("leader")
    assert second.lead_unit == world.unit("黑山县")
    assert unit_names("一.2", TaskUnitRole.COOPERATING) == {"市住建委"}
    assert task("一").due_date == datetime.date(2018, 11, 30)


def test_a_word_document_in_the_text_form(world):
    body = "".join(paragraph(line) for line in TEXT_FORM.splitlines())

    result = run(world, docx(body), filename="方案.docx")

    assert result.errors == []
    assert [row["number"] for row in result.rows] == ["一", "一.1", "一.2", "二", "二.1"]
    assert task("一.2").deadline_text == "长期坚持"


# Malformed files --------------------------------------------------------------------------


def zip_of_zeros(megabytes: int, name: str = "xl/worksheets/sheet1.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(name, "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(bytes(1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (os.urandom(4096), "分解表.xlsx", "not_spreadsheet"),
        (b"", "分解表.xlsx", "empty_file"),
        (docx(paragraph("1. 任务")), "分解表.xlsx", "not_spreadsheet"),
        (os.urandom(4096), "分解表.docx", "not_docx"),
        (bytes(range(256)) * 16, "分解表.csv", "not_text"),
        (b"whatever", "分解表.xls", "unsupported_format"),
        (zip_of_zeros(5), "分解表.xlsx", "zip_bomb"),
        (zip_of_zeros(5, "word/document.xml"), "分解表.docx", "zip_bomb"),
        ("关于做好脱贫攻坚工作的通知\n请认真落实。".encode(), "通知.txt", "no_tasks"),
        (xlsx([["说明"]] * 12, header=None), "分解表.xlsx", "no_header"),
    ],
    ids=[
        "random-bytes",
        "empty",
        "docx-named-xlsx",
        "random-docx",
        "binary-csv",
        "old-excel",
        "xlsx-zip-bomb",
        "docx-zip-bomb",
        "text-without-tasks",
        "no-header",
    ],
)
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "import"])
def test_a_malformed_file_is_refused_whole_and_nothing_is_written(world, data, filename, code, dry_run):
    with pytest.raises(TableError) as refused:
        run(world, data, filename=filename, dry_run=dry_run)

    assert refused.value.code == code
    assert str(refused.value.message)
    assert not Task.objects.exists() and not TaskEvent.objects.exists()


def test_a_zip_bomb_beyond_the_total_size_is_refused(world):
    with pytest.raises(TableError) as refused:
        run(world, zip_of_zeros(250))

    assert refused.value.code == "zip_bomb"
    assert not Task.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(world):
    with pytest.raises(TableError) as refused:
        run(world, b"PK\x03\x04" + bytes(readers.MAX_FILE_BYTES))

    assert refused.value.code == "file_too_large"
    assert not Task.objects.exists()


def test_a_sheet_with_too_many_rows_is_refused(world, monkeypatch):
    monkeypatch.setattr(grid, "MAX_DATA_ROWS", 3)
    rows = [[str(n), f"任务{n}", "", "义县", "", "", "10月底前"] for n in range(1, 5)]

    with pytest.raises(TableError) as refused:
        run(world, xlsx(rows))

    assert refused.value.code == "too_many_rows"
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("index", "column"), [(6, "deadline"), (1, "task"), (3, "lead_unit")], ids=["deadline", "task", "unit"]
)
def test_a_formula_is_one_row_error_and_nothing_is_imported(world, index, column):
    row = ["2", "建设扶贫车间", "", "义县", "", "", "10月底前"]
    row[index] = '=TEXT(DATE(2018,10,31),"m月d日")'
    rows = [HOUSING, row]

    dry = run(world, xlsx(rows), dry_run=True)
    assert errors_of(dry) == {(4, column, "formula")}

    with pytest.raises(ImportInvalid) as refused:
        run(world, xlsx(rows))
    assert set(refused.value.fields) == {f"4:{column}"}
    assert not Task.objects.exists()


def test_merged_cells_are_filled_down_and_empty_rows_skipped(world):
    rows = [
        ["一、住房安全保障"],
        [],
        ["1", "完成D级危房改造950户", "蒋副市长", "市住建委", "义县", "", "10月底前"],
        ["2", "完成D级危房改造938户", None, None, "黑山县", "", None],
        ["3", "村级道路硬化", None, "黑山县", "", "", "11月30日前"],
        [],
        [None] * 8,
    ]

    result = run(world, xlsx(rows, merges=["A3:H3", "C5:C7", "D5:D6", "G5:G6"]))

    assert result.errors == []
    assert [row["number"] for row in result.rows] == ["一", "一.1", "一.2", "一.3"]
    merged = task("一.2")
    assert (merged.lead_leader.full_name, merged.lead_unit.name, merged.due_date) == (
        "蒋副市长",
        "市住建委",
        datetime.date(2018, 10, 31),
    )
    assert task("一.3").lead_leader == world.person("leader")
    assert task("一").due_date == datetime.date(2018, 11, 30)


def test_a_row_error_anywhere_imports_nothing(world):
    rows = [[str(n), f"第{n}项任务", "", "义县", "", "", "10月底前"] for n in range(1, 51)]
    rows[-1][3] = "市金融办"

    with pytest.raises(ImportInvalid) as refused:
        run(world, xlsx(rows))

    assert set(refused.value.fields) == {"52:lead_unit"}
    assert not Task.objects.exists() and not TaskUnit.objects.exists() and not TaskEvent.objects.exists()


def test_text_longer_than_a_task_holds_is_a_row_error(world):
    row = ["1", "完成D级危房改造" * 70, "", "义县", "", "", "10月底前", "分批验收" * 126]

    result = run(world, xlsx([row]), dry_run=True)

    assert errors_of(result) == {(3, "task", "too_long"), (3, "remarks", "too_long")}
    with pytest.raises(ImportInvalid):
        run(world, xlsx([row]))
    assert not Task.objects.exists()


def test_two_rows_with_the_same_number_are_a_row_error(world):
    rows = [HOUSING, ["1", "建设扶贫车间", "", "义县", "", "", "10月底前"]]

    result = run(world, xlsx(rows), dry_run=True)

    assert errors_of(result) == {(4, "number", "duplicate_number")}


# Re-importing -----------------------------------------------------------------------------

TABLE = [
    ["一、", "住房安全保障", "", "", "", "", "", ""],
    ["1", "完成D级危房改造950户", "蒋副市长", "义县", "", "市住建委", "10月底前", ""],
    ["2", "完成D级危房改造938户", "蒋副市长", "黑山县", "", "市住建委", "11月30日前", ""],
    ["二、", "问题整改", "", "", "", "", "", ""],
    ["1", "贫困户信息“三上墙”", "", "市住建委", "各县(市)区", "", "长期坚持", "每月报送"],
]


def changed(table=TABLE, **cells):
    """The table with cells replaced: ``changed(r2c6="10月20日前")`` sets row 2, column 6."""
    rows = [list(row) for row in table]
    for key, value in cells.items():
        row, column = key[1:].split("c")
        rows[int(row)][int(column)] = value
    return rows


def test_reimporting_updates_by_number_and_lists_what_changed(world):
    run(world, xlsx(TABLE))
    before = {t.number: t.pk for t in Task.objects.all()}

    rows = changed(r1c1="完成D级危房改造950户（含C级）", r2c6="10月20日前", r4c4="义县", r4c7="")
    dry = run(world, xlsx(rows), dry_run=True)
    assert {row["number"]: (row["action"], row["changed"]) for row in dry.rows} == {
        "一": ("updated", ["due_date"]),
        "一.1": ("updated", ["title"]),
        "一.2": ("updated", ["due_date"]),
        "二": ("unchanged", []),
        "二.1": ("updated", ["notes", "units"]),
    }
    assert not Task.objects.filter(title__contains="C级").exists()

    result = run(world, xlsx(rows))

    assert result.counts == {"created": 0, "updated": 4, "unchanged": 1, "missing": 0}
    assert {t.number: t.pk for t in Task.objects.all()} == before
    assert task("一.1").title == "完成D级危房改造950户（含C级）"
    assert task("一.2").due_date == task("一.2").original_due_date == datetime.date(2018, 10, 20)
    assert task("一").due_date == datetime.date(2018, 10, 31)
    assert unit_names("二.1") == {"市住建委", "义县"}
    assert task("二.1").notes == ""
    events = {event.task.number: event for event in TaskEvent.objects.exclude(action=EventAction.CREATED)}
    assert {number: event.action for number, event in events.items()} == {
        "一": EventAction.EDITED,
        "一.1": EventAction.EDITED,
        "一.2": EventAction.EDITED,
        "二.1": EventAction.REASSIGNED,
    }
    assert events["二.1"].data == {"imported": True, "changed": ["notes", "units"]}
    assert events["二.1"].actor == world.person("city_head")


def test_reimporting_a_new_lead_unit_is_a_reassignment(world):
    run(world, xlsx(TABLE))

    result = run(world, xlsx(changed(r1c3="住建委", r1c5="义县")))

    row = next(row for row in result.rows if row["number"] == "一.1")
    assert (row["action"], row["changed"]) == ("updated", ["lead_unit_id", "units"])
    assert task("一.1").lead_unit == world.unit("市住建委")
    assert unit_names("一.1", TaskUnitRole.COOPERATING) == {"义县"}
    assert task("一.1").events.latest("pk").action == EventAction.REASSIGNED


def test_reimporting_adds_new_rows_under_existing_headings(world):
    run(world, xlsx(TABLE))
    rows = [*TABLE[:3], ["3", "完成危房改造验收", "", "市住建委", "", "", "11月30日前", ""], *TABLE[3:]]

    result = run(world, xlsx(rows))

    assert result.counts == {"created": 1, "updated": 0, "unchanged": 5, "missing": 0}
    assert task("一.3").parent == task("一")


def assign(number: str, world) -> Task:
    return task_transition(task_id=(task(number)).pk, actor=world.person("city_head"), name="assign")


def test_the_due_date_of_an_assigned_task_cannot_change_by_reimport(world):
    run(world, xlsx(TABLE))
    assign("一.2", world)
    rows = changed(r1c1="新标题", r2c6="10月20日前")

    dry = run(world, xlsx(rows), dry_run=True)

    assert errors_of(dry) == {(5, "deadline", "field_locked")}
    locked = next(row for row in dry.rows if row["number"] == "一.2")
    assert locked["action"] == "locked" and "due_date" in locked["changed"]
    with pytest.raises(ImportInvalid) as refused:
        run(world, xlsx(rows))
    assert set(refused.value.fields) == {"5:deadline"}
    assert task("一.2").due_date == datetime.date(2018, 11, 30)
    assert task("一.1").title == "完成D级危房改造950户"
    assert not TaskEvent.objects.filter(action__in=[EventAction.EDITED, EventAction.REASSIGNED]).exists()


def test_an_assigned_task_takes_other_changes_and_keeps_its_state(world):
    run(world, xlsx(TABLE))
    assign("一.2", world)

    result = run(world, xlsx(changed(r2c1="完成D级危房改造938户并验收", r2c5="义县")))

    row = next(row for row in result.rows if row["number"] == "一.2")
    assert (row["action"], row["changed"]) == ("updated", ["title", "units"])
    updated = task("一.2")
    assert updated.state == TaskState.ASSIGNED and updated.title == "完成D级危房改造938户并验收"
    assert updated.events.latest("pk").action == EventAction.REASSIGNED


# Round trip -------------------------------------------------------------------------------

RICH = [
    ["一、", "产业扶贫", "", "", "", "", "", "重点"],
    ["（一）", "扶贫车间", "", "", "", "", "", ""],
    ["1.", "建设扶贫车间", "蒋副市长", "义县", "七里河镇", "市住建委", "三季度末", ""],
    ["2.", "扶贫车间吸纳就业", "", "黑山县", "", "", "2019年12月31日", "跨年度"],
    ["（二）", "特色种养"],
    ["1.", "发展设施农业", "", "市住建委", "各县(市)区", "", "每月28日前", "每月报送"],
    ["二、", "住房安全保障", "", "", "", "", "", ""],
    ["", "完成D级危房改造", "蒋副市长", "住建委", "义县；黑山县", "", "6月底前", ""],
    ["", "危房改造“回头看”", "", "义县", "", "市直各部门", "长期坚持", ""],
    ["三、", "问题整改", "", "市住建委", "", "", "年底前", ""],
]


def snapshot(campaign) -> dict[str, tuple]:
    """Every imported task of the campaign by number, with its fields and unit links."""
    tasks = Task.objects.filter(campaign=campaign).select_related("parent", "lead_leader")
    return {
        t.number: (
            t.title,
            t.parent.number if t.parent else None,
            t.lead_unit_id,
            t.lead_leader and t.lead_leader.full_name,
            t.due_date,
            t.deadline_text,
            t.notes,
            sorted(t.task_units.values_list("unit_id", "role")),
        )
        for t in tasks
    }


def test_a_rich_table_round_trips_unchanged(world):
    first = run(world, xlsx(RICH))
    assert first.errors == [] and first.counts["created"] == 10
    before = snapshot(world.campaign)

    exported = table_export(world.campaign).read()
    dry = run(world, exported, dry_run=True, filename="导出.xlsx")
    again = run(world, exported, filename="导出.xlsx")

    assert dry.errors == [] and [row["action"] for row in dry.rows] == ["unchanged"] * 10
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 10, "missing": 0}
    assert [row["number"] for row in again.rows] == [row["number"] for row in first.rows]
    assert snapshot(world.campaign) == before
    assert not TaskEvent.objects.exclude(action=EventAction.CREATED).exists()


def test_a_table_with_only_responsible_units_round_trips(world):
    rows = [
        ["1", "完成D级危房改造", "义县、黑山县、市住建委", "10月底前"],
        ["2", "贫困户信息“三上墙”", "各县(市)区", "每月28日前"],
    ]
    run(world, csv_bytes(rows, header=RESPONSIBLE_ONLY), filename="t.csv")
    before = snapshot(world.campaign)

    again = run(world, table_export(world.campaign).read())

    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "missing": 0}
    assert snapshot(world.campaign) == before


def test_an_exported_table_imports_into_another_campaign_alike(world):
    run(world, xlsx(RICH))
    exported = table_export(world.campaign).read()
    original = world.campaign
    world.campaign = Campaign.objects.create(
        name="巩固提升",
        issuing_unit=world.unit("锦州市"),
        starts_on=original.starts_on,
        ends_on=original.ends_on,
    )

    result = run(world, exported)

    assert result.counts["created"] == 10
    assert snapshot(world.campaign) == snapshot(original)


# Size -------------------------------------------------------------------------------------


def large_table(count: int) -> list[list[str]]:
    """``count`` tasks in sections of 100 under headings (1) (2) …, each with three units."""
    rows = []
    for index in range(count):
        if index % 100 == 0:
            rows.append([f"（{index // 100 + 1}）", f"第{index // 100 + 1}批任务", "", "", "", "", "", ""])
        rows.append(
            [str(index % 100 + 1), f"任务{index}", "蒋副市长", "义县", "黑山县", "市住建委", "10月底前", ""]
        )
    return rows


def write_bound(count: int) -> int:
    """Queries an import of ``count`` tasks may make: a fixed cost and one insert per batch
    for tasks, unit links and history. SQLite takes 999 parameters a statement, so its batches
    hold about 45 tasks; PostgreSQL's hold 500."""
    per_batch = 500 if connection.vendor == "postgresql" else 45
    return 15 + 3 * math.ceil(count / per_batch)


@pytest.mark.parametrize("count", [200, 2_000])
def test_a_dry_run_costs_the_same_few_queries_at_any_size(world, count, django_assert_max_num_queries):
    data = csv_bytes(large_table(count))

    with django_assert_max_num_queries(10):
        result = run(world, data, dry_run=True, filename="t.csv")

    assert result.errors == [] and result.counts["created"] == count + count // 100


@pytest.mark.parametrize("count", [200, 2_000])
def test_an_import_writes_in_batches_not_per_row(world, count, django_assert_max_num_queries):
    data = csv_bytes(large_table(count))

    with django_assert_max_num_queries(write_bound(count)):
        run(world, data, filename="t.csv")

    assert Task.objects.count() == count + count // 100
    assert TaskUnit.objects.count() == 3 * count + count // 100  # a heading is the issuer's
    assert TaskEvent.objects.count() == count + count // 100


def test_ten_thousand_rows_import_in_one_pass(world, django_assert_max_num_queries):
    data = csv_bytes(large_table(10_000))

    with django_assert_max_num_queries(write_bound(10_000)):
        result = run(world, data, filename="分解表.csv")

    assert result.counts == {"created": 10_100, "updated": 0, "unchanged": 0, "missing": 0}
    assert Task.objects.filter(imported=True).count() == 10_100
    last = task("（100）.100")
    assert (last.title, last.parent.number, last.lead_unit.name) == ("任务9999", "（100）", "义县")
    assert unit_names("（100）.100") == {"义县", "黑山县"}
    assert unit_names("（100）.100", TaskUnitRole.COOPERATING) == {"市住建委"}

import datetime
import io
import os
import zipfile

import openpyxl
import pytest

from imports.readers import grid, read_rows
from imports.table import COLUMNS, HEADER_VARIANTS, TableError, header_column, parse_number

from .word import docx, paragraph, table

HEADER = ["序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "来源", "备注"]
HOUSING = [
    "1",
    "完成950户D级危房改造",
    "王副市长",
    "市住建委",
    "义县、黑山县",
    "市财政局",
    "10月底前",
    "市委常委会议定（2018年第5次）",
    "",
]
CLINICS = [
    "2",
    "村卫生室标准化建设",
    "李副市长",
    "市卫计委",
    "各县（市）区",
    "",
    "11月30日前",
    "",
    "医管局协助",
]
EXIT = [
    "3",
    "完成贫困村退出程序并录入数据",
    "张副市长",
    "市扶贫办",
    "凌海市、北镇市",
    "市农委",
    "11月30日前",
    "",
    "",
]


def xlsx(rows, merges=(), *, sheets=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "任务分解"
    for row in rows:
        sheet.append(list(row))
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    for title, extra_rows in (sheets or {}).items():
        extra = workbook.create_sheet(title, 0)
        for row in extra_rows:
            extra.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def values(row, *columns):
    return tuple(row.values[column] for column in columns)


def test_xlsx_rows_keep_source_row_numbers_and_every_column():
    rows, notes = read_rows(xlsx([HEADER, HOUSING, CLINICS]), "分解表.xlsx")

    assert [row.row for row in rows] == [2, 3]
    assert set(rows[0].values) == set(COLUMNS)
    assert rows[0].values == dict(zip(COLUMNS, HOUSING, strict=True))
    assert rows[1].values["responsible_units"] == "各县（市）区"
    assert rows[1].values["remarks"] == "医管局协助"
    assert all(row.errors == [] for row in rows)
    assert notes == []


VARIANTS = [(column, variant) for column, variants in HEADER_VARIANTS.items() for variant in variants]


@pytest.mark.parametrize(("column", "variant"), VARIANTS)
def test_every_header_variant_is_recognised(column, variant):
    canonical = dict(zip(COLUMNS, HEADER, strict=True))
    header = [variant if name == column else canonical[name] for name in COLUMNS]

    rows, _notes = read_rows(xlsx([header, HOUSING]), "t.xlsx")

    assert rows[0].values[column] == dict(zip(COLUMNS, HOUSING, strict=True))[column]


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("序 号", "number"),
        ("牵头\n单位", "lead_unit"),
        ("*任务内容", "task"),
        ("完成时限：", "deadline"),
        ("完成时限（截止日期）", "deadline"),
        ("配合单位(协办)", "cooperating_units"),
        ("进展情况", None),
        ("", None),
    ],
)
def test_header_cells_ignore_spacing_marks_and_notes(text, column):
    assert header_column(text) == column


def test_title_rows_above_the_header_are_skipped():
    title = ["锦州市2018年脱贫攻坚重点任务分解表"]
    issued = ["", "", "", "", "", "", "印发日期：2018年3月"]
    rows, _notes = read_rows(xlsx([title, issued, [], HEADER, HOUSING]), "t.xlsx")

    assert [row.row for row in rows] == [5]
    assert rows[0].values["task"] == "完成950户D级危房改造"


def test_columns_in_any_order():
    order = [6, 3, 1, 0, 8, 4, 2, 7, 5]
    rows, _notes = read_rows(xlsx([[HEADER[i] for i in order], [HOUSING[i] for i in order]]), "t.xlsx")

    assert rows[0].values == dict(zip(COLUMNS, HOUSING, strict=True))


def test_unknown_and_missing_columns_are_noted():
    header = ["序号", "工作任务", "责任单位", "完成时间", "进展情况"]
    rows, notes = read_rows(xlsx([header, ["1", "危房改造", "市住建委", "10月底前", "已完成60%"]]), "t.xlsx")

    assert values(rows[0], "task", "responsible_units", "deadline") == ("危房改造", "市住建委", "10月底前")
    assert rows[0].values["lead_unit"] == ""
    assert any("进展情况" in note for note in notes)
    assert any("牵头单位" in note and "备注" in note for note in notes)


def test_no_header_in_the_first_rows_is_a_table_error():
    filler = [[f"说明第{i}行"] for i in range(10)]
    with pytest.raises(TableError) as error:
        read_rows(xlsx([*filler, HEADER, HOUSING]), "t.xlsx")

    assert error.value.code == "no_header"


def test_a_row_with_two_few_known_headers_is_not_a_header():
    with pytest.raises(TableError) as error:
        read_rows(xlsx([["序号", "任务", "进展"], ["1", "危房改造", "60%"]]), "t.xlsx")

    assert error.value.code == "no_header"


def test_two_columns_for_the_same_field_are_refused():
    header = ["序号", "重点任务", "工作任务", "牵头单位", "完成时限"]
    with pytest.raises(TableError) as error:
        read_rows(xlsx([header, ["1", "产业扶贫", "建设扶贫车间", "市农委", "10月底前"]]), "t.xlsx")

    assert error.value.code == "duplicate_header"
    assert "重点任务" in str(error.value.message) and "工作任务" in str(error.value.message)


def test_empty_rows_and_a_repeated_header_are_skipped():
    rows, _notes = read_rows(xlsx([HEADER, HOUSING, [], [None, "  ", None], HEADER, CLINICS]), "t.xlsx")

    assert [row.row for row in rows] == [2, 6]


def test_numbers_and_dates_in_cells_become_text():
    row = [
        1,
        "完成950户D级危房改造",
        "王副市长",
        "市住建委",
        "义县",
        "",
        datetime.datetime(2018, 10, 31),
        "",
        2.5,
    ]
    rows, _notes = read_rows(xlsx([HEADER, row]), "t.xlsx")

    assert values(rows[0], "number", "deadline", "remarks") == ("1", "2018-10-31", "2.5")


def test_the_sheet_with_a_header_is_read_when_another_comes_first():
    data = xlsx([HEADER, HOUSING], sheets={"说明": [["本表由市扶贫办汇总"]]})

    rows, notes = read_rows(data, "t.xlsx")

    assert rows[0].values["task"] == "完成950户D级危房改造"
    assert any("任务分解" in note for note in notes)


def test_grouping_headings_are_kept_as_rows_with_their_number():
    table = [
        HEADER,
        ["一、产业扶贫"],
        ["（一）", "危房改造"],
        ["1.", "完成950户D级危房改造", "王副市长", "市住建委", "义县", "", "10月底前"],
        ["1、", "完成938户D级危房改造", "王副市长", "市住建委", "黑山县", "", "10月底前"],
        ["(二)", "医疗救助"],
        ["二", "就业扶贫"],
    ]
    rows, _notes = read_rows(xlsx(table, merges=["A2:H2"]), "t.xlsx")

    assert [values(row, "number", "task") for row in rows] == [
        ("一、产业扶贫", ""),
        ("（一）", "危房改造"),
        ("1.", "完成950户D级危房改造"),
        ("1、", "完成938户D级危房改造"),
        ("(二)", "医疗救助"),
        ("二", "就业扶贫"),
    ]
    assert rows[0].values["lead_unit"] == ""


@pytest.mark.parametrize(
    ("text", "level", "mark", "rest"),
    [
        ("一、产业扶贫", 1, "一、", "产业扶贫"),
        ("十一、其他", 1, "十一、", "其他"),
        ("（一）危房改造", 2, "（一）", "危房改造"),
        ("(二) 医疗救助", 2, "(二)", "医疗救助"),
        ("1. 完成改造", 3, "1.", "完成改造"),
        ("12、建设车间", 3, "12、", "建设车间"),
        ("3", 3, "3", ""),
        ("（1）入户核查", 4, "（1）", "入户核查"),
        ("①民主评议", 5, "①", "民主评议"),
        ("2018年完成", None, None, None),
        ("1.5万户", None, None, None),
        ("完成改造", None, None, None),
    ],
)
def test_numbering_marks(text, level, mark, rest):
    parsed = parse_number(text)
    if level is None:
        assert parsed is None
    else:
        assert (parsed.level, parsed.mark, parsed.rest) == (level, mark, rest)


def test_vertical_merges_are_filled_down():
    table = [
        HEADER,
        ["1", "完成950户D级危房改造", "王副市长", "市住建委", "义县", "", "10月底前"],
        ["2", "完成938户D级危房改造", None, None, "黑山县", "", None],
        ["3", "村级道路硬化", None, "市交通局", "凌海市", "", "11月30日前"],
    ]
    rows, notes = read_rows(xlsx(table, merges=["C2:C4", "D2:D3", "G2:G3"]), "t.xlsx")

    assert [values(row, "lead_leader", "lead_unit", "deadline") for row in rows] == [
        ("王副市长", "市住建委", "10月底前"),
        ("王副市长", "市住建委", "10月底前"),
        ("王副市长", "市交通局", "11月30日前"),
    ]
    assert any("合并" in note for note in notes)


def test_a_two_level_header_under_a_merged_group():
    table = [
        ["序号", "任务", "完成时限", "责任单位", None],
        [None, None, None, "牵头单位", "配合单位"],
        ["1", "完成950户D级危房改造", "10月底前", "市住建委", "市财政局"],
    ]
    rows, _notes = read_rows(xlsx(table, merges=["A1:A2", "B1:B2", "C1:C2", "D1:E1"]), "t.xlsx")

    assert len(rows) == 1
    assert values(rows[0], "number", "lead_unit", "cooperating_units", "responsible_units") == (
        "1",
        "市住建委",
        "市财政局",
        "",
    )


def test_a_formula_is_a_row_error_not_a_value():
    table = [
        HEADER,
        ["1", "危房改造", "王副市长", "市住建委", "义县", "", '=TEXT(DATE(2018,10,31),"m月d日")'],
    ]
    rows, _notes = read_rows(xlsx(table), "t.xlsx")

    [error] = rows[0].errors
    assert (error.row, error.column, error.code) == (2, "deadline", "formula")
    assert "公式" in error.message
    assert rows[0].values["deadline"] == ""
    assert rows[0].values["task"] == "危房改造"


def test_a_row_holding_only_a_formula_is_kept_for_its_error():
    rows, _notes = read_rows(xlsx([HEADER, HOUSING, [None, "=B2"]]), "t.xlsx")

    assert len(rows) == 2
    assert rows[1].errors[0].column == "task"


def test_an_excel_error_value_is_a_row_error():
    rows, _notes = read_rows(xlsx([HEADER, ["1", "危房改造", "", "#REF!", "义县", "", "10月底前"]]), "t.xlsx")

    assert [(error.column, error.code) for error in rows[0].errors] == [("lead_unit", "cell_error")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(encoding):
    text = "\n".join(",".join(row) for row in [HEADER, HOUSING, CLINICS])
    rows, notes = read_rows(text.encode(encoding), "分解表.csv")

    assert [row.values["lead_unit"] for row in rows] == ["市住建委", "市卫计委"]
    assert rows[0].values["number"] == "1"
    assert [row.row for row in rows] == [2, 3]
    assert any("GB18030" in note for note in notes) == (encoding == "gb18030")


def test_csv_with_quotes_tabs_and_a_title_line():
    text = (
        '锦州市脱贫攻坚任务\n序号\t任务\t牵头单位\t完成时限\n1\t"完成950户\n危房改造"\t市住建委\t10月底前\n'
    )
    rows, _notes = read_rows(text.encode(), "t.csv")

    assert values(rows[0], "task", "lead_unit", "deadline") == ("完成950户\n危房改造", "市住建委", "10月底前")
    assert rows[0].row == 3


def test_csv_utf16_as_excel_exports_unicode_text():
    text = "\n".join("\t".join(row) for row in [HEADER, HOUSING])
    rows, _notes = read_rows(text.encode("utf-16"), "t.csv")

    assert rows[0].values["task"] == "完成950户D级危房改造"


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02binary\x00" * 10,
        b"PK\x03\x04" + os.urandom(200),
        bytes(range(1, 32)) * 20,
    ],
)
def test_csv_that_is_not_text(data):
    with pytest.raises(TableError) as error:
        read_rows(data, "t.csv")

    assert error.value.code == "not_text"


TEXT_FORM = """锦州市2018年脱贫攻坚重点任务分解方案

为确保全年脱贫目标如期实现，现将重点任务分解如下。
一、住房安全保障
（一）危房改造
1. 完成950户D级危房改造任务。
牵头领导：王副市长
牵头单位：市住建委
责任单位：义县、黑山县
配合单位：市财政局
完成时限：10月底前
2、完成贫困村退出程序，
确保数据录入准确。
牵头领导:张副市长；牵头单位：市扶贫办
责任单位：各县（市）区
完成时限：11月30日前
备注：每月28日前报送进展
(二)医疗救助
3．村卫生室标准化建设（牵头单位：市卫计委；责任单位：各县（市）区；完成时限：11月30日前）
二、产业扶贫
4. 发展扶贫车间
牵头单位：市农委
牵头单位：市扶贫办
完成时限：长期坚持
以上任务请各单位认真落实。
"""


def test_text_form_rows():
    rows, notes = read_rows(TEXT_FORM.encode(), "方案.txt")

    assert [values(row, "number", "task") for row in rows] == [
        ("一、", "住房安全保障"),
        ("（一）", "危房改造"),
        ("1.", "完成950户D级危房改造任务。"),
        ("2、", "完成贫困村退出程序，\n确保数据录入准确。"),
        ("(二)", "医疗救助"),
        ("3．", "村卫生室标准化建设"),
        ("二、", "产业扶贫"),
        ("4.", "发展扶贫车间"),
    ]
    by_number = {row.values["number"]: row for row in rows}
    assert by_number["1."].values == {
        "number": "1.",
        "task": "完成950户D级危房改造任务。",
        "lead_leader": "王副市长",
        "lead_unit": "市住建委",
        "responsible_units": "义县、黑山县",
        "cooperating_units": "市财政局",
        "deadline": "10月底前",
        "source": "",
        "remarks": "",
    }
    assert by_number["1."].row == 6
    assert values(by_number["2、"], "lead_leader", "lead_unit", "remarks") == (
        "张副市长",
        "市扶贫办",
        "每月28日前报送进展",
    )
    assert values(by_number["3．"], "lead_unit", "responsible_units", "deadline") == (
        "市卫计委",
        "各县（市）区",
        "11月30日前",
    )
    assert by_number["一、"].values["lead_unit"] == ""
    assert notes == ["开头的 2 段标题或说明文字已忽略。", "第 25 行无法识别为任务或字段，已忽略。"]


def test_text_form_field_given_twice_is_a_row_error():
    rows, _notes = read_rows(TEXT_FORM.encode(), "方案.txt")
    task = next(row for row in rows if row.values["number"] == "4.")

    assert task.values["lead_unit"] == "市农委"
    assert [(error.column, error.code, error.row) for error in task.errors] == [
        ("lead_unit", "duplicate_field", task.row)
    ]


def test_text_form_in_gb18030():
    rows, notes = read_rows(TEXT_FORM.encode("gb18030"), "方案.txt")

    assert len(rows) == 8
    assert any("GB18030" in note for note in notes)


def test_text_without_tasks_is_a_table_error():
    with pytest.raises(TableError) as error:
        read_rows("关于做好脱贫攻坚工作的通知\n各县（市）区：\n请认真落实。".encode(), "t.txt")

    assert error.value.code == "no_tasks"


def test_docx_text_form_reads_paragraphs_and_line_breaks():
    body = "".join(
        paragraph(text)
        for text in [
            "锦州市脱贫攻坚重点任务分解方案",
            "一、住房安全保障",
            "1. 完成950户D级危房改造任务",
            "牵头领导：王副市长\n牵头单位：市住建委",
            "责任单位：义县、黑山县",
            "完成时限：10月底前",
            "2. 完成贫困村退出程序",
            "牵头单位：市扶贫办",
            "完成时限：11月30日前",
        ]
    )
    rows, notes = read_rows(docx(body), "方案.docx")

    assert [values(row, "number", "task", "lead_unit", "deadline") for row in rows] == [
        ("一、", "住房安全保障", "", ""),
        ("1.", "完成950户D级危房改造任务", "市住建委", "10月底前"),
        ("2.", "完成贫困村退出程序", "市扶贫办", "11月30日前"),
    ]
    assert rows[1].values["lead_leader"] == "王副市长"
    assert [row.row for row in rows] == [2, 3, 7]
    assert any("段落" in note for note in notes)


def test_docx_auto_numbered_tasks_are_read_without_a_number():
    body = "".join(
        [
            paragraph("一、住房安全保障"),
            paragraph("完成950户D级危房改造任务", numbered=True),
            paragraph("牵头单位：市住建委"),
            paragraph("完成时限：10月底前"),
            paragraph("村级道路硬化", numbered=True),
            paragraph("牵头单位：市交通局"),
        ]
    )
    rows, notes = read_rows(docx(body), "方案.docx")

    assert [values(row, "number", "task", "lead_unit") for row in rows] == [
        ("一、", "住房安全保障", ""),
        ("", "完成950户D级危房改造任务", "市住建委"),
        ("", "村级道路硬化", "市交通局"),
    ]
    assert any("自动编号" in note for note in notes)


def test_docx_tables_are_read_as_tables_with_merges():
    first = table(
        [
            ["序号", "任务", "牵头领导", "牵头单位", "完成时限"],
            [("span", 5, "一、住房安全保障")],
            ["1", "完成950户D级危房改造", "王副市长", "市住建委", "10月底前"],
            ["2", "完成938户D级危房改造", "^", "^", "^"],
        ]
    )
    second = table(
        [
            ["序号", "任务", "牵头领导", "牵头单位", "完成时限"],
            ["3", "村卫生室标准化建设", "李副市长", "市卫计委", "11月30日前"],
        ]
    )
    rows, notes = read_rows(docx(paragraph("任务分解表") + first + paragraph("续表") + second), "表.docx")

    assert [values(row, "number", "task", "lead_leader", "lead_unit", "deadline") for row in rows] == [
        ("一、住房安全保障", "", "", "", ""),
        ("1", "完成950户D级危房改造", "王副市长", "市住建委", "10月底前"),
        ("2", "完成938户D级危房改造", "王副市长", "市住建委", "10月底前"),
        ("3", "村卫生室标准化建设", "李副市长", "市卫计委", "11月30日前"),
    ]
    assert [row.row for row in rows] == [2, 3, 4, 6]
    assert any("2 个表格" in note for note in notes)


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ({"word/other.xml": "<x/>"}, "not_docx"),
        ({"word/document.xml": "<w:document"}, "not_docx"),
    ],
)
def test_broken_docx(entries, code):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)

    with pytest.raises(TableError) as error:
        read_rows(buffer.getvalue(), "t.docx")

    assert error.value.code == code


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (os.urandom(4096), "t.xlsx", "not_spreadsheet"),
        (b"", "t.xlsx", "empty_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(512), "t.xlsx", "unsupported_format"),
        (b"whatever", "t.xls", "unsupported_format"),
        (b"whatever", "t.doc", "unsupported_format"),
        (b"%PDF-1.7", "t.pdf", "unsupported_format"),
        (docx(paragraph("1. 任务")), "t.xlsx", "not_spreadsheet"),
        (os.urandom(4096), "t.docx", "not_docx"),
    ],
)
def test_files_that_are_not_what_they_claim(data, filename, code):
    with pytest.raises(TableError) as error:
        read_rows(data, filename)

    assert error.value.code == code
    assert str(error.value.message)


def test_a_file_over_the_size_limit_is_refused_before_reading():
    with pytest.raises(TableError) as error:
        read_rows(b"x" * (20 * 1024 * 1024 + 1), "t.csv")

    assert error.value.code == "file_too_large"


def zip_of_zeros(megabytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            chunk = bytes(1024 * 1024)
            for _ in range(megabytes):
                entry.write(chunk)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    return zip_of_zeros(300)


@pytest.mark.parametrize("filename", ["bomb.xlsx", "bomb.docx"])
def test_a_zip_bomb_is_refused(zip_bomb, filename):
    assert len(zip_bomb) < 20 * 1024 * 1024

    with pytest.raises(TableError) as error:
        read_rows(zip_bomb, filename)

    assert error.value.code == "zip_bomb"


def test_an_entry_compressed_beyond_the_ratio_is_refused():
    with pytest.raises(TableError) as error:
        read_rows(zip_of_zeros(5), "t.xlsx")

    assert error.value.code == "zip_bomb"


def test_too_many_rows_in_csv():
    lines = [",".join(HEADER)] + [f"{i},任务{i},王副市长,市住建委,义县,,10月底前," for i in range(20_001)]
    with pytest.raises(TableError) as error:
        read_rows("\n".join(lines).encode(), "t.csv")

    assert error.value.code == "too_many_rows"


def test_the_row_limit_itself_is_allowed():
    lines = [",".join(HEADER)] + [f"{i},任务{i},王副市长,市住建委,义县,,10月底前," for i in range(20_000)]
    rows, _notes = read_rows("\n".join(lines).encode(), "t.csv")

    assert len(rows) == 20_000


def test_too_many_rows_in_xlsx_and_text(monkeypatch):
    monkeypatch.setattr(grid, "MAX_DATA_ROWS", 3)
    with pytest.raises(TableError) as error:
        read_rows(xlsx([HEADER, HOUSING, CLINICS, EXIT, HOUSING]), "t.xlsx")
    assert error.value.code == "too_many_rows"

    text = "\n".join(f"{i}. 任务{i}\n牵头单位：市住建委" for i in range(1, 5))
    with pytest.raises(TableError) as error:
        read_rows(text.encode(), "t.txt")
    assert error.value.code == "too_many_rows"


def test_a_tab_separated_table_saved_as_txt():
    text = "\n".join("\t".join(row) for row in [HEADER, HOUSING, CLINICS])
    rows, _notes = read_rows(text.encode("gb18030"), "分解表.txt")

    assert [row.values["lead_unit"] for row in rows] == ["市住建委", "市卫计委"]


def test_a_wrong_sheet_dimension_does_not_hide_rows():
    data = xlsx([HEADER, HOUSING, CLINICS, EXIT])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b'<dimension ref="A1:I4" />', b'<dimension ref="A1:B2" />')
                assert b'ref="A1:B2"' in content
            target.writestr(info, content)

    rows, _notes = read_rows(buffer.getvalue(), "t.xlsx")

    assert [row.values["lead_unit"] for row in rows] == ["市住建委", "市卫计委", "市扶贫办"]

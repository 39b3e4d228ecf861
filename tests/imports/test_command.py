"""``manage.py import_table``: a dry run that prints each row, an import, and refusals."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from tasks.models import Task, TaskEvent

pytestmark = pytest.mark.django_db

HEADER = ["序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "备注"]
ROWS = [
    ["一、", "住房安全保障", "", "", "", "", "", ""],
    ["1", "完成D级危房改造950户", "蒋副市长", "义县", "", "市住建委", "10月底前", ""],
    ["2", "完成D级危房改造938户", "蒋副市长", "黑山县", "", "市住建委", "11月30日前", ""],
]
UNKNOWN_UNIT = ["3", "扶贫小额信贷", "", "市金融办", "", "", "10月底前", ""]


@pytest.fixture
def table(tmp_path):
    def write(rows=ROWS, name="分解表.xlsx") -> str:
        book = Workbook()
        sheet = book.active
        sheet.append(["锦州市精准脱贫百日攻坚行动任务分解表"])
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        path = tmp_path / name
        book.save(path)
        return str(path)

    return write


def import_table(world, path, *, username="city_head", campaign=None, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_table",
        path,
        campaign=campaign or world.campaign.pk,
        username=username,
        stdout=out,
        stderr=err,
        **options,
    )
    return out.getvalue(), err.getvalue()


def test_a_dry_run_prints_each_row_and_writes_nothing(world, table):
    out, _err = import_table(world, table(), dry_run=True)

    lines = out.splitlines()
    assert "第3行 一 住房安全保障：新建" in lines
    assert "第4行 一.1 完成D级危房改造950户：新建" in lines
    assert "第5行 一.2 完成D级危房改造938户：新建" in lines
    assert lines[-1] == "试导入：新建 3 项，更新 0 项，不变 0 项。"
    assert "{" not in out and "created" not in out
    assert not Task.objects.exists()


def test_an_import_writes_the_tasks(world, table):
    out, _err = import_table(world, table())

    assert out.splitlines()[-1] == "已导入：新建 3 项，更新 0 项，不变 0 项。"
    assert Task.objects.filter(campaign=world.campaign, imported=True).count() == 3
    assert Task.objects.get(number="一.2").parent.number == "一"
    assert TaskEvent.objects.filter(actor=world.person("city_head")).count() == 3


def test_importing_again_prints_what_is_unchanged(world, table):
    import_table(world, table())

    out, _err = import_table(world, table(), dry_run=True)

    assert "第4行 一.1 完成D级危房改造950户：不变" in out.splitlines()
    assert Task.objects.count() == 3


def test_a_dry_run_prints_every_row_error_and_fails(world, table):
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_table",
            table([*ROWS, UNKNOWN_UNIT]),
            campaign=world.campaign.pk,
            username="city_head",
            dry_run=True,
            stdout=out,
        )

    lines = out.getvalue().splitlines()
    assert any(line.startswith("第6行 牵头单位：") and "市金融办" in line for line in lines)
    assert lines[-1] == "试导入：有 1 处错误，未导入。"
    assert "1 处错误" in str(refused.value)
    assert not Task.objects.exists()


def test_row_errors_refuse_the_import_and_list_each_cell(world, table):
    with pytest.raises(CommandError) as refused:
        import_table(world, table([*ROWS, UNKNOWN_UNIT]))

    assert "未导入任何内容" in str(refused.value)
    assert not Task.objects.exists()


def test_the_cells_in_error_go_to_stderr(world, table):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_table",
            table([*ROWS, UNKNOWN_UNIT]),
            campaign=world.campaign.pk,
            username="city_head",
            stderr=err,
        )

    assert "第6行 牵头单位：" in err.getvalue() and "市金融办" in err.getvalue()


def test_a_malformed_file_is_a_command_error(world, tmp_path):
    path = tmp_path / "分解表.xlsx"
    path.write_bytes(b"not a spreadsheet at all")

    with pytest.raises(CommandError) as refused:
        import_table(world, str(path), dry_run=True)

    assert "Excel" in str(refused.value)
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"username": "nobody"}, "没有用户名为“nobody”的人员"),
        ({"campaign": 999_999}, "没有编号为 999999 的攻坚行动"),
        ({"username": "yi_head"}, "权"),
    ],
    ids=["unknown-user", "unknown-campaign", "not-the-issuer"],
)
def test_who_and_into_what_must_be_right(world, table, override, expected):
    with pytest.raises(CommandError) as refused:
        import_table(world, table(), **override)

    assert expected in str(refused.value)
    assert not Task.objects.exists()


def test_a_missing_file_is_a_command_error(world, tmp_path):
    with pytest.raises(CommandError):
        import_table(world, str(tmp_path / "没有这个文件.xlsx"))

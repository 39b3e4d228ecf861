"""``manage.py import_problems`` with the example in the repository: the directory, a
campaign, then the problem list, a dry run, an import and an import again."""

import datetime
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from imports.models import ProblemRecord
from responsibility.models import Unit, User
from tasks.models import Campaign, Task, TaskKind

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def campaign(db) -> Campaign:
    admin = User.objects.create_superuser("admin", password="x")
    directory = str(EXAMPLES / "通讯录.csv")
    call_command("import_directory", directory, "--as", admin.username, stdout=io.StringIO())
    return Campaign.objects.create(
        name="精准脱贫百日攻坚行动",
        issuing_unit=Unit.objects.get(name="锦州市"),
        starts_on=datetime.date(2018, 9, 1),
        ends_on=datetime.date(2018, 12, 10),
    )


def import_problems(campaign, path, *options) -> str:
    out = io.StringIO()
    with time_machine.travel(datetime.datetime(2018, 10, 8, 9, tzinfo=datetime.UTC), tick=False):
        call_command(
            "import_problems",
            str(path),
            "--campaign",
            str(campaign.pk),
            "--as",
            "13904160001",
            *options,
            stdout=out,
            stderr=io.StringIO(),
        )
    return out.getvalue()


def test_the_example_list_imports_once(campaign):
    dry = import_problems(campaign, EXAMPLES / "问题清单.csv", "--dry-run")

    assert "第2行 贫困户脱贫档案填写不完整、不规范（七里河镇，2018-10-31）：新建" in dry.splitlines()
    assert dry.splitlines()[-1] == "试导入：新建整改事项 10 项，更新 0 项，已导入而不变 0 项。"
    assert not Task.objects.exists()

    done = import_problems(campaign, EXAMPLES / "问题清单.csv")

    assert done.splitlines()[-1] == "已导入：新建整改事项 10 项，更新 0 项，已导入而不变 0 项。"
    assert Task.objects.filter(kind=TaskKind.RECTIFICATION).count() == 10 == ProblemRecord.objects.count()
    houses = Task.objects.get(number="8")
    assert sorted(houses.units.values_list("name", flat=True)) == ["凌海市", "市住建委"]
    assert houses.problem.location_unit.name == "凌海市"

    again = import_problems(campaign, EXAMPLES / "问题清单.csv")

    assert again.splitlines()[-1] == "已导入：新建整改事项 0 项，更新 0 项，已导入而不变 10 项。"
    assert Task.objects.count() == 10


def test_a_list_with_errors_exits_1_naming_each_cell(campaign, tmp_path):
    bad = tmp_path / "问题清单.csv"
    text = (EXAMPLES / "问题清单.csv").read_text().replace("10月底前", "尽快", 1)
    bad.write_text(text)

    with pytest.raises(CommandError) as failed:
        import_problems(campaign, bad, "--dry-run")

    assert failed.value.returncode == 1
    assert "问题清单有 1 处错误" in str(failed.value)
